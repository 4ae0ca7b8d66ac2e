/**
 * Options that contradict each other are refused as a usage error (exit 2) before anything happens,
 * through `deno run -P main.ts` as a person runs it: one of them is never silently ignored.
 */
import assert from "node:assert/strict";
import { EXIT } from "../../lib/errors.ts";
import { runCli, tempHome } from "../helpers/cli.ts";
import { sessionFixture } from "../helpers/session.ts";

Deno.test("logout --profile dev --all is refused and removes and revokes nothing", async () => {
  await using t = await sessionFixture({ arn: "arn:aws:iam::123456789012:user/Alice" });
  const before = await Deno.readTextFile(t.session.cachePath);
  for (const args of [["--profile", "dev", "--all"], ["--all", "--profile=dev", "--no-revoke"]]) {
    const { code, stdout, stderr } = await runCli(["logout", ...args], { env: t.session.env });
    assert.equal(code, EXIT.usage, stderr);
    assert.equal(stdout, "");
    assert.equal(
      stderr,
      `aws-login: Options "--all" and "--profile" cannot be used together: --all logs out of ` +
        `every profile's session\nRun "aws-login logout --help" for usage.\n`,
    );
  }
  assert.equal(await Deno.readTextFile(t.session.cachePath), before, "the session is untouched");
  assert.equal(t.emulator.controls.counters().revoke, 0, "nothing was revoked");
});

Deno.test("every pair of conflicting options of every command is a usage error", async () => {
  await using home = await tempHome();
  const cases: [string[], string][] = [
    [["logout", "--all", "--profile", "dev"], '"--all" and "--profile"'],
    [["status", "--refresh", "--offline"], '"--refresh" and "--offline"'],
    [["login", "--remote", "--redirect-port", "8080"], '"--remote" and "--redirect-port"'],
    [["login", "--remote", "--timeout", "60"], '"--remote" and "--timeout"'],
    [
      ["emulator", "--auto-approve", "arn:aws:iam::123456789012:user/demo", "--accounts", "a.json"],
      '"--auto-approve" and "--accounts"',
    ],
    [["emulator", "--fail-next", "1", "--fail-reset", "--fail-error", "X"], '"--fail-reset" and'],
    [["emulator", "--fail-next", "1", "--fail-reset", "--fail-status", "500"], '"--fail-reset"'],
    [["emulator", "--fail-next", "1", "--fail-reset", "--fail-retry-after", "2"], '"--fail-reset"'],
  ];
  for (const [args, pair] of cases) {
    const { code, stdout, stderr } = await runCli(args, { env: home.env });
    assert.equal(code, EXIT.usage, `${args.join(" ")}: ${stderr}`);
    assert.equal(stdout, "", args.join(" "));
    assert.ok(stderr.includes(`Options ${pair}`), `${args.join(" ")}: ${stderr}`);
    assert.ok(stderr.includes("cannot be used together"), stderr);
  }
  // Nothing was created: no config, no cache (Deno's own cache aside).
  const made = [...Deno.readDirSync(home.home)].map((entry) => entry.name);
  assert.ok(!made.includes(".aws"), made.join(", "));
});
