import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { pythonIsoformat } from "../../lib/session/export_formats.ts";
import { expiresAtMs } from "../../lib/session/token_cache.ts";
import { ROOT, runCli, tempHome } from "../helpers/cli.ts";
import { sessionFixture } from "../helpers/session.ts";

const ARN = "arn:aws:iam::123456789012:user/Alice";
const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

function setup() {
  return sessionFixture({ arn: ARN, region: "eu-central-1" });
}

Deno.test("exec gives the command the credentials and region, without AWS_PROFILE or AWS_SECURITY_TOKEN", async () => {
  await using t = await setup();
  // Only the AWS_* variables this test sets, whatever the host has.
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(t.session.env)) {
    if (!name.startsWith("AWS_")) env[name] = value;
  }
  env.AWS_ENDPOINT_URL_SIGNIN = t.session.env.AWS_ENDPOINT_URL_SIGNIN!;
  env.AWS_PROFILE = "dev";
  env.AWS_DEFAULT_PROFILE = "dev";
  env.AWS_SECURITY_TOKEN = "stale-token-of-another-session";
  const { code, stdout, stderr } = await runCli(
    ["exec", "--profile", "dev", "--", "sh", "-c", "env | grep '^AWS_' | sort"],
    { env },
  );
  assert.equal(code, 0, stderr);
  const a = t.session.token.accessToken;
  const expected = {
    AWS_ACCESS_KEY_ID: a.accessKeyId,
    AWS_ACCOUNT_ID: "123456789012",
    AWS_CREDENTIAL_EXPIRATION: pythonIsoformat(expiresAtMs(t.session.token)),
    AWS_DEFAULT_REGION: "eu-central-1",
    AWS_ENDPOINT_URL_SIGNIN: t.session.env.AWS_ENDPOINT_URL_SIGNIN!,
    AWS_LOGIN_PROFILE: "dev",
    AWS_REGION: "eu-central-1",
    AWS_SECRET_ACCESS_KEY: a.secretAccessKey,
    AWS_SESSION_TOKEN: a.sessionToken,
  };
  assert.equal(
    stdout,
    Object.entries(expected).map(([k, v]) => `${k}=${v}\n`).join(""),
  );
});

Deno.test("exec passes the exit code, stdin, stdout and stderr through", async () => {
  await using t = await setup();
  const { code, stdout, stderr } = await runCli(
    [
      "exec",
      "--profile",
      "dev",
      "--",
      "sh",
      "-c",
      'read line; echo "out:$line"; echo err >&2; exit 42',
    ],
    { env: t.session.env, stdin: "hello\n" },
  );
  assert.equal(code, 42);
  assert.equal(stdout, "out:hello\n");
  assert.equal(stderr, "err\n");
});

Deno.test("exec exits 127 for a command that does not exist", async () => {
  await using t = await setup();
  const { code, stderr } = await runCli(
    ["exec", "--profile", "dev", "--", "no-such-command-aws-login"],
    { env: t.session.env },
  );
  assert.equal(code, 127);
  assert.equal(stderr, 'aws-login: Cannot run "no-such-command-aws-login": command not found\n');
});

Deno.test("exec forwards SIGTERM to the command and exits with its status", async () => {
  await using t = await setup();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      "-P",
      "--no-prompt",
      MAIN,
      "exec",
      "--profile",
      "dev",
      "--",
      "sh",
      "-c",
      'trap "echo got TERM; exit 9" TERM; echo ready; while :; do sleep 0.05; done',
    ],
    env: t.session.env,
    clearEnv: true,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  child.kill("SIGTERM");
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  const status = await child.status;
  await child.stderr.cancel();
  assert.equal(out, "ready\ngot TERM\n");
  assert.equal(status.code, 9);
});

Deno.test("exec inside exec warns and still runs", async () => {
  await using t = await setup();
  const { code, stdout, stderr } = await runCli(
    ["exec", "--profile", "dev", "--", "sh", "-c", "echo $AWS_LOGIN_PROFILE"],
    { env: { ...t.session.env, AWS_LOGIN_PROFILE: "outer" } },
  );
  assert.equal(code, 0);
  assert.equal(stdout, "dev\n");
  assert.match(stderr, /warning: already inside "aws-login exec" for profile "outer"/);
});

Deno.test("exec without a command is a usage error", async () => {
  await using home = await tempHome();
  const { code, stderr } = await runCli(["exec", "--profile", "dev"], { env: home.env });
  assert.equal(code, 2);
  assert.match(stderr, /Missing the command to run/);
});
