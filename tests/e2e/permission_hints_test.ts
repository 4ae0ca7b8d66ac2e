/**
 * Run without its permission set, or with only part of it, aws-login says the one thing that fixes
 * it and exits 3 — whichever permission is missing and wherever it is first needed, loading the
 * command's module included: from a checkout, run with `-P` (or `deno task …`); the command
 * `deno task install` installed says to install again. Run as a person would: `deno run` with
 * permission flags, not `-P`.
 */
import assert from "node:assert/strict";
import { EXIT, PERMISSION_HINT } from "../../lib/errors.ts";
import { INSTALLED_FLAG } from "../../lib/cli/invocation.ts";
import { outputBounded } from "../helpers/bounded.ts";
import { ROOT, tempHome } from "../helpers/cli.ts";
import { denoDir, expireIn, sessionFixture } from "../helpers/session.ts";

const MAIN = `${ROOT}main.ts`;

/** Runs `deno run --no-prompt FLAGS main.ts ARGS` (no -P) in `cwd` with exactly `env`. */
async function run(flags: string[], args: string[], env: Record<string, string>) {
  const out = await outputBounded(Deno.execPath(), {
    args: ["run", "-q", "--no-prompt", ...flags, MAIN, ...args],
    env,
    clearEnv: true,
    cwd: env.HOME,
  });
  return { code: out.code, stdout: out.stdout, stderr: out.stderr };
}

/** One line, exit 3, the hint to run with the set, and none of the hints that do not work. */
function assertSetHint(out: { code: number; stderr: string }, what: string): void {
  assert.equal(out.code, EXIT.config, `${what}: ${out.stderr}`);
  const lines = out.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `${what}: ${out.stderr}`);
  assert.ok(lines[0]!.startsWith("aws-login: "), `${what}: ${out.stderr}`);
  assert.ok(out.stderr.includes(PERMISSION_HINT), `${what}: ${out.stderr}`);
  assert.ok(!/unexpected error|run again with the --allow|to "net" in deno\.json/.test(out.stderr));
  assert.ok(!/aws-login login" again|lacks the file permission/.test(out.stderr), out.stderr);
}

const COMMANDS = [
  ["login", "--region", "us-east-1", "--no-browser", "--timeout", "5"],
  ["export-env"],
  ["credential-process"],
  ["exec", "--", "true"],
  ["serve"],
  ["status"],
  ["logout"],
  ["emulator"],
];

Deno.test("deno run main.ts COMMAND without permissions: the -P hint, exit 3, not an unexpected error", async () => {
  await using home = await tempHome();
  for (const command of COMMANDS) {
    const out = await run([], command, home.env);
    assertSetHint(out, command[0]!);
    assert.match(out.stderr, /--allow-read/, "names what is missing");
  }
});

Deno.test("every partial set of the file, env and sys permissions gets the -P hint (exit 3)", async () => {
  await using home = await tempHome();
  const all = ["--allow-read", "--allow-write", "--allow-env", "--allow-sys", "--allow-run"];
  const partial: string[][] = [
    ...all.map((left) => all.filter((flag) => flag !== left)), // each one missing
    ["--allow-read"],
    ["--allow-read", "--allow-env"],
    ["--allow-read=.", "--allow-write", "--allow-env", "--allow-sys", "--allow-run"],
    ["--allow-read", "--allow-write=.", "--allow-env", "--allow-sys", "--allow-run"],
    ["--allow-read", "--allow-write", "--allow-env=HOME", "--allow-sys", "--allow-run"],
    ["--allow-read", "--allow-write", "--allow-env", "--allow-sys=uid", "--allow-run"],
  ];
  for (const flags of partial) {
    for (
      const command of [["login", "--region", "us-east-1"], ["status"], ["exec", "--", "true"]]
    ) {
      // Commands that start no program do not need run.
      if (!flags.includes("--allow-run") && command[0] === "status") continue;
      const out = await run(flags, command, home.env);
      assertSetHint(out, `${flags.join(" ")} ${command[0]}`);
    }
  }
  const made = [...Deno.readDirSync(home.home)].map((entry) => entry.name);
  assert.ok(!made.includes(".aws"), "nothing was written");
});

Deno.test("login --remote, which starts no program, does not need run", async () => {
  await using home = await tempHome();
  const flags = ["--allow-read", "--allow-write", "--allow-env", "--allow-sys", "--allow-net"];
  const out = await run(flags, ["login", "--remote", "--region", "us-east-1"], home.env);
  // It got to reading the code, and standard input was empty.
  assert.equal(out.code, EXIT.login, out.stderr);
  assert.match(out.stderr, /No verification code was entered/);
  assert.ok(!out.stderr.includes("--allow-run"), out.stderr);
});

Deno.test("without the set's net permission, each command that calls Sign-In gets the -P hint, and logout removes nothing", async () => {
  await using t = await sessionFixture({ arn: "arn:aws:iam::123456789012:user/Alice" });
  const env = { ...t.session.env, HOME: t.home.home, DENO_DIR: await denoDir() };
  const noNet = ["--allow-read", "--allow-write", "--allow-env", "--allow-sys", "--allow-run"];
  for (
    const flags of [noNet, [...noNet, "--allow-net=localhost"], ["-P", "--allow-net=localhost"]]
  ) {
    await expireIn(t.session.cachePath, 60_000); // a refresh is due
    for (const command of [["credential-process"], ["export-env"], ["exec", "--", "true"]]) {
      const out = await run(flags, [command[0]!, "--profile", "dev", ...command.slice(1)], env);
      assertSetHint(out, `${flags.join(" ")} ${command[0]}`);
      assert.match(
        out.stderr,
        /do not allow connecting to "127\.0\.0\.1:\d+" \(the Sign-In endpoint\)/,
      );
    }
    // The endpoint is on 127.0.0.1, which the set allows: never "add it to deno.json".
    const login = await run(flags, ["login", "--profile", "dev", "--yes"], env);
    assertSetHint(login, `${flags.join(" ")} login`);
    const status = await run(flags, ["status"], env);
    assertSetHint(status, `${flags.join(" ")} status`);
    const before = await Deno.readTextFile(t.session.cachePath);
    const logout = await run(flags, ["logout", "--profile", "dev"], env);
    assertSetHint(logout, `${flags.join(" ")} logout`);
    assert.equal(await Deno.readTextFile(t.session.cachePath), before, "logout removed nothing");
  }
  assert.equal(t.emulator.controls.counters().refresh_token, 0);
  assert.equal(t.emulator.controls.counters().revoke, 0);
});

Deno.test("the installed command says to run deno task install again, whatever is missing", async () => {
  await using home = await tempHome();
  const cases = [
    [], // nothing at all
    ["--allow-env", "--allow-sys"], // not even its own code
    [`--allow-read=${ROOT}`, "--allow-env", "--allow-sys"], // the files outside
    [`--allow-read=${ROOT},${home.home}`, "--allow-env", "--allow-sys"], // write, run
  ];
  for (const flags of cases) {
    const out = await run(flags, [INSTALLED_FLAG, "login", "--region", "us-east-1"], home.env);
    assert.equal(out.code, EXIT.config, `${flags.join(" ")}: ${out.stderr}`);
    assert.match(out.stderr, /run "deno task install" again/, out.stderr);
    assert.ok(!out.stderr.includes("deno run -P"), out.stderr);
    assert.ok(!/unexpected error|run again with the --allow/.test(out.stderr), out.stderr);
  }
});
