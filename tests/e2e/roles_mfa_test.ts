/**
 * MFA on a role profile, with and without a terminal, against the emulator's STS (its roles file
 * requires an MFA device and one code): the prompt goes to the terminal — here a pseudo-terminal
 * made by util-linux `script` — never to a stderr that is not one; without a terminal the command
 * fails at once saying how to fill the cache from a terminal, and after that fill the same
 * terminal-less command is served from the role cache.
 */
import assert from "node:assert/strict";
import { ROOT, runCli } from "../helpers/cli.ts";
import { outputBounded } from "../helpers/bounded.ts";
import { addProfile, sessionFixture } from "../helpers/session.ts";

const ALICE = "arn:aws:iam::111111111111:user/Alice";
const SERIAL = "arn:aws:iam::111111111111:mfa/Alice";
const hasScript = Deno.build.os === "linux" &&
  (await Deno.stat("/usr/bin/script").then(() => true, () => false)) &&
  (await Deno.stat("/usr/bin/setsid").then(() => true, () => false));

Deno.test({
  name:
    "MFA: no terminal, or a captured stderr → a clear failure; a terminal run prompts there and fills the cache",
  ignore: !hasScript,
  async fn() {
    await using t = await sessionFixture({
      arn: ALICE,
      region: "eu-west-1",
      emulator: {
        roles: [{
          arn: "arn:aws:iam::222222222222:role/Admin",
          mfaSerial: SERIAL,
          mfaCode: "123456",
        }],
      },
    });
    await addProfile(t.home.home, "admin", {
      role_arn: "arn:aws:iam::222222222222:role/Admin",
      source_profile: "dev",
      mfa_serial: SERIAL,
    });
    const env = { ...t.session.env, AWS_ENDPOINT_URL_STS: t.emulator.url };
    // Without a controlling terminal (setsid: a new session with none).
    const none = await outputBounded("setsid", {
      args: [
        "-w",
        Deno.execPath(),
        "run",
        "-q",
        "-P",
        `${ROOT}main.ts`,
        "credential-process",
        "--profile",
        "admin",
      ],
      env,
      clearEnv: true,
    });
    assert.equal(none.code, 5, none.stderr);
    assert.equal(none.stdout, "");
    assert.match(none.stderr, /no terminal.*aws-login status --refresh --profile admin/);
    assert.doesNotMatch(none.stderr, /Enter MFA code/);
    assert.equal(t.emulator.controls.counters().assume_role, 0);
    // In a terminal, but with stderr captured (as the AWS CLI runs a credential_process): the
    // prompt cannot be shown, and the message says why instead of "no terminal".
    const errFile = `${t.home.home}/captured-stderr`;
    const captured = await outputBounded("setsid", {
      args: [
        "-w",
        "script",
        "-qec",
        `${Deno.execPath()} run -q -P ${ROOT}main.ts credential-process --profile admin ` +
        `2>${errFile}`,
        "/dev/null",
      ],
      env,
      clearEnv: true,
      stdinText: "123456\n",
    });
    assert.equal(captured.code, 5, captured.stdout);
    const capturedErr = await Deno.readTextFile(errFile);
    assert.match(
      capturedErr,
      /its stderr is not the terminal.*"aws-login status --refresh --profile admin" on its own in this terminal/,
    );
    assert.doesNotMatch(captured.stdout + capturedErr, /Enter MFA code/);
    assert.equal(t.emulator.controls.counters().assume_role, 0);
    // In a terminal: the prompt is written there and the code read from it.
    // `script` in a session of its own (setsid): in the test runner's process group it waits.
    const tty = await outputBounded("setsid", {
      args: [
        "-w",
        "script",
        "-qec",
        `${Deno.execPath()} run -q -P ${ROOT}main.ts status --refresh --profile admin`,
        "/dev/null",
      ],
      env,
      clearEnv: true,
      stdinText: "123456\n",
    });
    assert.equal(tty.code, 0, tty.stdout + tty.stderr);
    assert.match(tty.stdout, /Enter MFA code for arn:aws:iam::111111111111:mfa\/Alice: /);
    assert.match(tty.stdout, /admin → dev \(login session\).*assumed now/);
    assert.equal(t.emulator.controls.counters().assume_role, 1);
    // Now the terminal-less credential_process is served from the role cache.
    const cached = await runCli(["credential-process", "--profile", "admin"], { env });
    assert.equal(cached.code, 0, cached.stderr);
    assert.equal(JSON.parse(cached.stdout).AccountId, "222222222222");
    assert.equal(t.emulator.controls.counters().assume_role, 1);
  },
});

Deno.test({
  name:
    "MFA under exec in a terminal: the endpoint re-assumes an expiring role with a prompt there, the child gets the new role",
  ignore: !hasScript,
  async fn() {
    await using t = await sessionFixture({
      arn: ALICE,
      region: "eu-west-1",
      emulator: {
        roles: [{
          arn: "arn:aws:iam::222222222222:role/Admin",
          mfaSerial: SERIAL,
          mfaCode: "123456",
        }],
      },
    });
    await addProfile(t.home.home, "admin", {
      role_arn: "arn:aws:iam::222222222222:role/Admin",
      source_profile: "dev",
      mfa_serial: SERIAL,
    });
    const env = { ...t.session.env, AWS_ENDPOINT_URL_STS: t.emulator.url };
    // The child asks the endpoint, then brings the cached role to a minute before its expiry (as
    // time would), and asks again: the endpoint must assume the role again, asking for a code.
    const child = `${t.home.home}/child.sh`;
    await Deno.writeTextFile(
      child,
      `ask() { curl -sf -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" ` +
        `"$AWS_CONTAINER_CREDENTIALS_FULL_URI" | grep -o '"AccessKeyId":"[^"]*"'; }
ask
soon=$(date -u -d @$(( $(date +%s) + 60 )) +%Y-%m-%dT%H:%M:%SUTC)
for f in "$HOME"/.aws/cli/cache/*.json; do
  sed -i "s/\\"Expiration\\": \\"[^\\"]*\\"/\\"Expiration\\": \\"$soon\\"/" "$f"
done
ask
`,
    );
    const run = await outputBounded("setsid", {
      args: [
        "-w",
        "script",
        "-qec",
        `${Deno.execPath()} run -q -P ${ROOT}main.ts exec --profile admin -- sh ${child}`,
        "/dev/null",
      ],
      env,
      clearEnv: true,
      // One code per prompt; the terminal hands them out line by line.
      stdinText: "123456\n123456\n",
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(
      run.stdout.match(/Enter MFA code for arn:aws:iam::111111111111:mfa\/Alice: /g)?.length,
      2,
      run.stdout,
    );
    const keys = [...run.stdout.matchAll(/"AccessKeyId":"([^"]+)"/g)].map((m) => m[1]);
    assert.equal(keys.length, 2, run.stdout);
    assert.notEqual(keys[0], keys[1], "the child got the role assumed again");
    assert.equal(t.emulator.controls.counters().assume_role, 2);
  },
});
