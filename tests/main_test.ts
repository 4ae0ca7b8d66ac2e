import assert from "node:assert/strict";
import { EXIT } from "../lib/errors.ts";
import { outputBounded } from "./helpers/bounded.ts";
import { ROOT, runCli, tempHome } from "./helpers/cli.ts";
import { addProfile } from "./helpers/session.ts";

const COMMANDS = [
  "login",
  "export-env",
  "credential-process",
  "exec",
  "serve",
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
      [
        ["--frobnicate"],
        'aws-login: Unknown option "--frobnicate" (options go after the command: ' +
        '"aws-login <command> [options]")',
      ],
      [["status", "--frobnicate"], 'aws-login: Unknown option "--frobnicate"'],
      [["stauts"], 'aws-login: Unknown command "stauts". Did you mean "status"?'],
      [
        ["status", "--profle", "x"],
        'aws-login: Unknown option "--profle". Did you mean "--profile"?',
      ],
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

Deno.test("a usage error points to the command's own --help", async () => {
  await using home = await tempHome();
  const inCommand = await runCli(["status", "--frobnicate"], { env: home.env });
  assert.equal(inCommand.stderr.split("\n")[1], 'Run "aws-login status --help" for usage.');
  const outside = await runCli(["frobnicate"], { env: home.env });
  assert.equal(outside.stderr.split("\n")[1], 'Run "aws-login --help" for usage.');
});

Deno.test("options before the command work as after it, as in the AWS CLI", async () => {
  await using home = await tempHome();
  await addProfile(home.home, "dev", { region: "eu-west-1" });
  const before = await runCli(["--profile", "dev", "status"], { env: home.env });
  const after = await runCli(["status", "--profile", "dev"], { env: home.env });
  assert.equal(before.code, EXIT.config);
  assert.match(before.stderr, /^aws-login: Profile "dev" has no login session\./);
  assert.deepEqual(before, after);
  // An option whose value cannot be told from the command: say where options go.
  const unclear = await runCli(["--json", "status"], { env: home.env });
  assert.equal(unclear.code, EXIT.usage);
  assert.match(
    unclear.stderr,
    /^aws-login: Options go after the command: "aws-login status --json"/,
  );
});

Deno.test("a missing profile gets a suggestion and the list of profiles that exist", async () => {
  await using home = await tempHome();
  await addProfile(home.home, "dev", { region: "eu-west-1" });
  await addProfile(home.home, "prod", { region: "eu-west-1" });
  for (const command of ["credential-process", "export-env", "status"]) {
    const { code, stderr } = await runCli([command, "--profile", "dve"], { env: home.env });
    assert.equal(code, EXIT.config, command);
    assert.match(
      stderr,
      /Profile "dve" does not exist.* Did you mean "dev"\? Profiles: dev, prod\./,
    );
  }
  const logout = await runCli(["logout", "--profile", "dve"], { env: home.env });
  assert.equal(logout.code, 0);
  assert.equal(
    logout.stderr,
    "warning: no login session found for profile 'dve'\nDid you mean \"dev\"? Profiles: dev, prod.\n",
  );
});

Deno.test("run by deno task in the checkout, hints name deno task instead of aws-login", async () => {
  await using home = await tempHome();
  const task = { ...home.env, npm_config_user_agent: "deno/2.9.6 npm/? deno/2.9.6 linux x86_64" };
  const args = ["credential-process", "--profile", "dev"];
  const inCheckout = await runCli(args, { env: task, cwd: ROOT });
  assert.match(inCheckout.stderr, /Run "deno task login --profile dev" to sign in/);
  const usage = await runCli(["status", "--bogus"], { env: task, cwd: ROOT });
  assert.match(usage.stderr, /Run "deno task status --help" for usage/);
  // The same program run as an installed command, elsewhere, or without deno task.
  const elsewhere = await runCli(args, { env: task, cwd: home.home });
  assert.match(elsewhere.stderr, /Run "aws-login login --profile dev" to sign in/);
  const direct = await runCli(args, { env: home.env, cwd: ROOT });
  assert.match(direct.stderr, /Run "aws-login login --profile dev" to sign in/);
});

Deno.test("a missing Deno permission is reported as one, with how to run with -P (exit 3)", async () => {
  await using home = await tempHome();
  const out = await outputBounded(Deno.execPath(), {
    args: ["run", "-q", "--no-prompt", "--allow-read", `${ROOT}main.ts`, "status"],
    env: home.env,
    clearEnv: true,
    cwd: ROOT,
  });
  const stderr = out.stderr;
  assert.equal(out.code, EXIT.config, stderr);
  assert.match(
    stderr,
    /^aws-login: Deno does not grant the permissions aws-login needs \(--allow-write, --allow-env, /,
  );
  assert.match(stderr, /deno run -P main\.ts/);
});
