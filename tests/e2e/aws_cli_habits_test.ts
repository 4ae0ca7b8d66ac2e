/**
 * Habits people bring from the AWS CLI, through `deno run -P main.ts` as a person runs it:
 * `aws-login login help` and `aws-login help login` show the help, a command given to `exec`
 * without `--` gets the line that puts it in, and a busy `serve --port` is not a usage error.
 */
import assert from "node:assert/strict";
import { EXIT } from "../../lib/errors.ts";
import { runCli, tempHome } from "../helpers/cli.ts";
import { sessionFixture } from "../helpers/session.ts";

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

Deno.test("aws-login COMMAND help and aws-login help COMMAND show the command's help", async () => {
  await using home = await tempHome();
  for (const command of COMMANDS) {
    const expected = await runCli([command, "--help"], { env: home.env });
    assert.equal(expected.code, EXIT.ok, expected.stderr);
    assert.match(expected.stdout, new RegExp(`^Usage: aws-login ${command}`));
    for (const args of [[command, "help"], ["help", command]]) {
      const { code, stdout, stderr } = await runCli(args, { env: home.env });
      assert.equal(code, EXIT.ok, `${args.join(" ")}: ${stderr}`);
      assert.equal(stdout, expected.stdout, args.join(" "));
      assert.equal(stderr, "");
    }
  }
});

Deno.test("exec without -- suggests the line with --, and runs nothing", async () => {
  await using t = await sessionFixture({ arn: "arn:aws:iam::123456789012:user/Alice" });
  const marker = `${t.home.home}/ran`;
  const cases: [string[], string][] = [
    [["--profile", "dev", "sh", "-c", "true"], "aws-login exec --profile dev -- sh -c true"],
    [
      ["--profile=dev", "--no-server", "sh", "-c", `touch ${marker}`],
      `aws-login exec --profile=dev --no-server -- sh -c 'touch ${marker}'`,
    ],
    [["sh", "-c", `touch ${marker}`], `aws-login exec -- sh -c 'touch ${marker}'`],
  ];
  for (const [args, line] of cases) {
    const { code, stdout, stderr } = await runCli(["exec", ...args], { env: t.session.env });
    assert.equal(code, EXIT.usage, stderr);
    assert.equal(stdout, "");
    assert.equal(
      stderr,
      `aws-login: Put "--" before the command to run, so its options stay its own: "${line}"\n` +
        `Run "aws-login exec --help" for usage.\n`,
    );
  }
  await assert.rejects(() => Deno.stat(marker), Deno.errors.NotFound);
  // An unknown option of ours is still reported as such, not as a missing "--".
  const unknown = await runCli(["exec", "--profle", "dev", "sh"], { env: t.session.env });
  assert.equal(unknown.code, EXIT.usage);
  assert.match(unknown.stderr, /Unknown option "--profle"\. Did you mean "--profile"\?/);
  assert.equal(t.emulator.controls.counters().refresh_token, 0);
});
