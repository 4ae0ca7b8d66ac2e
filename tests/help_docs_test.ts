/**
 * `--help` and the README say the same as the tool does: the command summaries of `aws-login --help`
 * are the README's command table, every command's help lists `--debug` (every command takes it),
 * `-V` works after another leading option, and the install steps can be typed as they are (no
 * `<placeholder>` in a command, the PATH step after `deno task install`, and how to tell npm's
 * Node.js launcher of Deno from the real binary).
 */
import assert from "node:assert/strict";
import { ROOT, runCli, tempHome } from "./helpers/cli.ts";

/** The README's command table: command → what it does (backticks removed). */
async function readmeCommands(): Promise<Map<string, string>> {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const start = readme.indexOf("## Commands");
  assert.ok(start >= 0, "README.md has a Commands section");
  const rows = new Map<string, string>();
  for (const line of readme.slice(start).split("\n").slice(1)) {
    if (line.startsWith("## ")) break;
    const cells = /^\| `([\w-]+)` +\| (.+?) +\|$/.exec(line);
    if (cells) rows.set(cells[1]!, cells[2]!.replaceAll("`", ""));
  }
  return rows;
}

Deno.test("aws-login --help summarizes each command as the README's command table does", async () => {
  await using home = await tempHome();
  const { stdout } = await runCli(["--help"], { env: home.env });
  const help = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const match = /^ {2}([a-z][\w-]*) {2,}(.+)$/.exec(line);
    if (match) help.set(match[1]!, match[2]!);
  }
  assert.deepEqual(help, await readmeCommands());
  assert.match(help.get("exec")!, /local endpoint/, "exec serves an endpoint by default");
  assert.match(help.get("logout")!, /^Revoke/, "logout revokes first");
});

Deno.test("every command's --help lists --debug, which every command takes", async () => {
  await using home = await tempHome();
  for (const command of (await readmeCommands()).keys()) {
    const { code, stdout } = await runCli([command, "--help"], { env: home.env });
    assert.equal(code, 0, command);
    assert.match(stdout, /\n {2}--debug +\S/, `${command} --help lists --debug`);
  }
});

Deno.test("every command's --help fits 100 columns and has no template placeholder left", async () => {
  await using home = await tempHome();
  for (const command of ["", ...(await readmeCommands()).keys()]) {
    const { stdout } = await runCli(command ? [command, "--help"] : ["--help"], { env: home.env });
    for (const line of stdout.split("\n")) {
      assert.ok(
        line.length <= 100,
        `${command || "aws-login"} --help, ${line.length} columns: ${line}`,
      );
      // A `{name}` is a template's unfilled slot (JSON in help starts `{"`).
      assert.doesNotMatch(line, /\{[a-z]\w*\}/, `${command} --help: ${line}`);
    }
  }
});

Deno.test("-V and --version work after another leading option, as in the AWS CLI", async () => {
  await using home = await tempHome();
  const { version } = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  for (const args of [["--debug", "-V"], ["--debug", "--version"]]) {
    const { code, stdout, stderr } = await runCli(args, { env: home.env });
    assert.deepEqual([code, stdout, stderr], [0, `aws-login ${version}\n`, ""], args.join(" "));
  }
});

/** The README's install block for a checkout, as lines. */
async function installBlock(): Promise<string[]> {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const start = readme.indexOf("```sh\n", readme.indexOf("**From a checkout**"));
  const end = readme.indexOf("```", start + 6);
  return readme.slice(start + 6, end).split("\n").map((line) => line.trim()).filter(Boolean);
}

Deno.test("the README's install steps can be typed as they are", async () => {
  const lines = await installBlock();
  for (const line of lines) {
    const command = line.replace(/\s+#.*$/, "");
    assert.ok(!/<[^>]+>/.test(command), `a placeholder to fill in inside a command: ${line}`);
  }
  const install = lines.findIndex((line) => line.startsWith("deno task install"));
  const path = lines.findIndex((line) => /^export PATH=.*\.deno\/bin/.test(line));
  const login = lines.findIndex((line) => line.startsWith("aws-login login"));
  assert.ok(install >= 0 && install < path && path < login, "PATH is set before aws-login runs");
  // What `deno task install` itself says when that directory is not on PATH.
  const tool = await Deno.readTextFile(`${ROOT}tools/install.ts`);
  assert.match(tool, /Add \$\{bin\} to PATH/);
});

Deno.test("the README says how to tell npm's Node.js launcher of Deno from the real binary", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const check = /`(file -L "\$\(command -v deno\)")`/.exec(readme)?.[1];
  assert.ok(check, "the check to run");
  assert.ok(!readme.includes("that package's `deno` command is a Node.js script"), "no guess");
  // The check works on this machine's deno, whichever it is.
  const which = new Deno.Command("sh", { args: ["-c", check], stdout: "piped", stderr: "null" });
  const out = new TextDecoder().decode((await which.output()).stdout);
  if (out !== "") assert.match(out, /ELF|Mach-O|PE32|script/);
});

Deno.test("run by deno task in the checkout, help names no aws-login command that may not exist", async () => {
  await using home = await tempHome();
  const task = { ...home.env, npm_config_user_agent: "deno/2.9.6 npm/? deno/2.9.6 linux x86_64" };
  const commands = [...(await readmeCommands()).keys()];
  const named = new RegExp(`\\baws-login (${commands.join("|")})\\b`);
  for (const command of commands) {
    const { stdout } = await runCli([command, "--help"], { env: task, cwd: ROOT });
    assert.match(stdout, new RegExp(`^Usage: deno task ${command}`), command);
    const lines = stdout.split("\n");
    lines.forEach((line, i) => {
      if (!named.test(line)) return;
      // Only a credential_process line names the installed command, with where it comes from.
      assert.match(line, /^\s*credential_process = aws-login /, `${command}: ${line}`);
      assert.match(lines[i - 1]!, /^\s*# the aws-login command: run "deno task install" first$/);
    });
  }
});
