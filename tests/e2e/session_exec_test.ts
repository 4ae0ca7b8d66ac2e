import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { pythonIsoformat } from "../../lib/session/export_formats.ts";
import { expiresAtMs } from "../../lib/session/token_cache.ts";
import { spawnBounded } from "../helpers/bounded.ts";
import { ROOT, runCli, tempHome } from "../helpers/cli.ts";
import { expireIn, sessionFixture } from "../helpers/session.ts";

/** The commands exec runs here are `sh` scripts with `curl` (and SIGTERM is POSIX): POSIX only.
 * tests/tools/install_test.ts runs exec and its endpoint on every OS. */
const posix = { test: Deno.build.os === "windows" ? Deno.test.ignore : Deno.test };

const ARN = "arn:aws:iam::123456789012:user/Alice";
const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

function setup() {
  return sessionFixture({ arn: ARN, region: "eu-central-1" });
}

/** The session's environment with only the AWS_* variables a test sets, whatever the host has. */
function ownEnv(t: { session: { env: Record<string, string> } }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(t.session.env)) {
    if (!name.startsWith("AWS_")) env[name] = value;
  }
  env.AWS_ENDPOINT_URL_SIGNIN = t.session.env.AWS_ENDPOINT_URL_SIGNIN!;
  env.AWS_PROFILE = "dev";
  env.AWS_DEFAULT_PROFILE = "dev";
  env.AWS_SECURITY_TOKEN = "stale-token-of-another-session";
  return env;
}

/** `curl` of the endpoint with the token, as a shell command in the child. */
const CURL = `curl -sf -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" ` +
  `"$AWS_CONTAINER_CREDENTIALS_FULL_URI"`;

posix.test("exec gives the command a credential endpoint and no static keys", async () => {
  await using t = await setup();
  const { code, stdout, stderr } = await runCli(
    ["exec", "--profile", "dev", "--", "sh", "-c", `env | grep '^AWS_' | sort; ${CURL}`],
    { env: ownEnv(t) },
  );
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
  const lines = stdout.split("\n");
  const variables = Object.fromEntries(
    lines.filter((l) => l.startsWith("AWS_")).map((
      l,
    ) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  const { AWS_CONTAINER_CREDENTIALS_FULL_URI: uri, AWS_CONTAINER_AUTHORIZATION_TOKEN: token } =
    variables;
  assert.match(uri!, /^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{22}$/);
  assert.match(token!, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(variables, {
    AWS_ACCOUNT_ID: "123456789012",
    AWS_CONTAINER_AUTHORIZATION_TOKEN: token,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: uri,
    AWS_DEFAULT_REGION: "eu-central-1",
    AWS_ENDPOINT_URL_SIGNIN: t.session.env.AWS_ENDPOINT_URL_SIGNIN!,
    AWS_LOGIN_PROFILE: "dev",
    AWS_REGION: "eu-central-1",
  });
  const answer = JSON.parse(lines.at(-1)!);
  const a = t.session.token.accessToken;
  assert.equal(answer.AccessKeyId, a.accessKeyId);
  assert.equal(answer.SecretAccessKey, a.secretAccessKey);
  assert.equal(answer.Token, a.sessionToken);
  assert.equal(answer.AccountId, "123456789012");
});

posix.test("the endpoint stops when the command exits", async () => {
  await using t = await setup();
  const { code, stdout } = await runCli(
    ["exec", "--profile", "dev", "--", "sh", "-c", 'echo "$AWS_CONTAINER_CREDENTIALS_FULL_URI"'],
    // A guard: an endpoint left running would keep exec alive.
    { env: t.session.env, timeoutMs: 30_000 },
  );
  assert.equal(code, 0);
  const port = Number(new URL(stdout.trim()).port);
  await assert.rejects(
    async () => (await Deno.connect({ hostname: "127.0.0.1", port })).close(),
    Deno.errors.ConnectionRefused,
  );
});

posix.test("exec --no-server gives the command the credentials and region, without AWS_PROFILE or AWS_SECURITY_TOKEN", async () => {
  await using t = await setup();
  const { code, stdout, stderr } = await runCli(
    ["exec", "--profile", "dev", "--no-server", "--", "sh", "-c", "env | grep '^AWS_' | sort"],
    { env: ownEnv(t) },
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

posix.test("exec passes the exit code, stdin, stdout and stderr through", async () => {
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

posix.test("exec forwards SIGTERM to the command and exits with its status", async () => {
  await using t = await setup();
  await using child = spawnBounded(Deno.execPath(), {
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
      // The loop ends by itself after a minute, should the signal never come.
      'trap "echo got TERM; exit 9" TERM; echo ready; i=0; while [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done',
    ],
    env: t.session.env,
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  child.kill("SIGTERM");
  const status = await child.status;
  // A command exec failed to pass the signal to would hold stdout open: end it before draining.
  child.killAll();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  assert.equal(out, "ready\ngot TERM\n", await stderr);
  assert.equal(status.code, 9);
});

posix.test("exec inside exec warns and still runs", async () => {
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

posix.test("a shell loop keeps getting new credentials with curl as the old ones expire", async () => {
  // Credentials that last 2 s: each request after one expired gets new ones.
  await using t = await sessionFixture({ arn: ARN, emulator: { accessTtlSeconds: 2 } });
  const { code, stdout, stderr } = await runCli(
    [
      "exec",
      "--profile",
      "dev",
      "--",
      "sh",
      "-c",
      `env | grep -c '^AWS_\\(ACCESS_KEY_ID\\|SECRET_ACCESS_KEY\\|SESSION_TOKEN\\)=';
       for i in 1 2 3; do date -u +%s; ${CURL}; echo; sleep 3; done`,
    ],
    { env: t.session.env },
  );
  assert.equal(code, 0, stderr);
  const [staticKeys, ...rest] = stdout.trim().split("\n");
  assert.equal(staticKeys, "0", "no static key variables");
  const answers: { at: number; AccessKeyId: string; Expiration: string }[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    answers.push({ at: Number(rest[i]) * 1000, ...JSON.parse(rest[i + 1]!) });
  }
  assert.equal(answers.length, 3);
  assert.equal(new Set(answers.map((a) => a.AccessKeyId)).size, 3, "new credentials each time");
  for (let i = 1; i < answers.length; i++) {
    // Asked after the previous credentials had expired, and got ones that had not.
    assert.ok(answers[i]!.at >= Date.parse(answers[i - 1]!.Expiration), JSON.stringify(answers));
    assert.ok(Date.parse(answers[i]!.Expiration) > answers[i]!.at, JSON.stringify(answers));
  }
  assert.ok(t.emulator.controls.counters().refresh_token >= 3);
});

posix.test("8 commands asking the endpoint at once on expiring credentials cause one refresh", async () => {
  await using t = await setup();
  // A test that fails before the end must not leave exec and its command running; a stuck child
  // is killed at the deadline instead of hanging the suite.
  await using child = spawnBounded(Deno.execPath(), {
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
      // Bounded, so a failed test cannot leave it waiting for ever.
      `echo ready; i=0; while [ ! -e "$HOME/go" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
       for i in 1 2 3 4 5 6 7 8; do ${CURL} > "$HOME/answer.$i" & done; wait`,
    ],
    env: t.session.env,
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    deadlineMs: 60_000,
  });
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  // exec started with fresh credentials; now they are due for a refresh.
  const old = await expireIn(t.session.cachePath, 30_000);
  await Deno.writeTextFile(`${t.home.home}/go`, "");
  const [status, stderr] = await Promise.all([
    child.status,
    new Response(child.stderr).text(),
    reader.cancel(),
  ]);
  assert.equal(status.code, 0, stderr);
  const answers = await Promise.all(
    Array.from(
      { length: 8 },
      async (_, i) => JSON.parse(await Deno.readTextFile(`${t.home.home}/answer.${i + 1}`)),
    ),
  );
  assert.equal(new Set(answers.map((a) => a.AccessKeyId)).size, 1, "all 8 got the same");
  assert.notEqual(answers[0].AccessKeyId, old.accessToken.accessKeyId);
  assert.equal(t.emulator.controls.counters().refresh_token, 1);
});

posix.test("when the session ends, the endpoint says to log in again and exec says so too", async () => {
  await using t = await setup();
  // exec starts with fresh credentials (no token call); the command then ages them, and the
  // refresh they need is refused as the end of the session.
  t.emulator.controls.failNextTokenCalls(1, { error: "TOKEN_EXPIRED" });
  const { code, stdout, stderr } = await runCli(
    [
      "exec",
      "--profile",
      "dev",
      "--",
      "sh",
      "-c",
      `sed -i 's/"expiresAt": "[^"]*"/"expiresAt": "2000-01-01T00:00:00Z"/' "$CACHE_FILE"; ` +
      `curl -s -w ' %{http_code}' -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" ` +
      `"$AWS_CONTAINER_CREDENTIALS_FULL_URI"`,
    ],
    { env: { ...t.session.env, CACHE_FILE: t.session.cachePath }, timeoutMs: 60_000 },
  );
  assert.equal(code, 0, stderr);
  const [body, status] = [stdout.slice(0, stdout.lastIndexOf(" ")), stdout.slice(-3)];
  assert.equal(status, "403");
  assert.equal(JSON.parse(body).Code, "LoginRequired");
  assert.match(JSON.parse(body).Message, /Run "aws-login login --profile dev"/);
  assert.match(
    stderr,
    /^aws-login: the credential endpoint can no longer answer "sh": .*TOKEN_EXPIRED.*\n$/,
  );
  assert.equal(t.emulator.controls.counters().refresh_token, 1);
});
