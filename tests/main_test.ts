import assert from "node:assert/strict";
import { runCli, tempHome } from "./helpers/cli.ts";

const COMMANDS = [
  "login",
  "export-env",
  "credential-process",
  "exec",
  "status",
  "logout",
  "emulator",
];

Deno.test("--help lists every command with one line each, on stdout, exit 0", async () => {
  await using home = await tempHome();
  const { code, stdout, stderr } = await runCli(["--help"], { env: home.env });
  assert.equal(code, 0);
  assert.equal(stderr, "");
  for (const command of COMMANDS) {
    const lines = stdout.split("\n").filter((line) => line.startsWith(`  ${command} `));
    assert.equal(lines.length, 1, `one line for ${command}`);
  }
});

Deno.test("no command prints usage and exits 2", async () => {
  await using home = await tempHome();
  const { code, stdout } = await runCli([], { env: home.env });
  assert.equal(code, 2);
  assert.match(stdout, /Usage: aws-login <command>/);
});

Deno.test("--version prints the version from deno.json", async () => {
  await using home = await tempHome();
  const { version } = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const { code, stdout } = await runCli(["--version"], { env: home.env });
  assert.equal(code, 0);
  assert.equal(stdout, `aws-login ${version}\n`);
});

Deno.test("an unknown command or option is a usage error on stderr with exit 2", async () => {
  await using home = await tempHome();
  for (
    const [args, message] of [
      [["frobnicate"], 'aws-login: Unknown command "frobnicate"'],
      [["--frobnicate"], 'aws-login: Unknown option "--frobnicate"'],
      [["status", "--frobnicate"], 'aws-login: Unknown option "--frobnicate"'],
    ] as const
  ) {
    const { code, stdout, stderr } = await runCli([...args], { env: home.env });
    assert.equal(code, 2, args.join(" "));
    assert.equal(stdout, "");
    assert.equal(stderr.split("\n")[0], message);
  }
});

Deno.test("every command has --help on stdout with exit 0", async () => {
  await using home = await tempHome();
  for (const command of COMMANDS) {
    const { code, stdout } = await runCli([command, "--help"], { env: home.env });
    assert.equal(code, 0, command);
    assert.match(stdout, new RegExp(`aws-login ${command}`), command);
  }
});
