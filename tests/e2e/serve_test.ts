import assert from "node:assert/strict";
import { EXIT } from "../../lib/errors.ts";
import { spawnBounded } from "../helpers/bounded.ts";
import { ROOT, runCli } from "../helpers/cli.ts";
import { addProfile, expireIn, sessionFixture } from "../helpers/session.ts";
import { listenablePort } from "../helpers/free_port.ts";

/** A clean stop on a signal: Windows cannot send a child SIGTERM or SIGINT (kill() ends it). */
const posix = { test: Deno.build.os === "windows" ? Deno.test.ignore : Deno.test };

const ARN = "arn:aws:iam::123456789012:user/Alice";
const MAIN = `${ROOT}main.ts`;

/** `aws-login serve …` as a subprocess, read until it has printed both variables. */
async function startServe(env: Record<string, string>, args: string[] = [], profile = "dev") {
  // A stuck server is killed at the deadline (with all it started) instead of hanging the suite.
  const child = spawnBounded(Deno.execPath(), {
    args: ["run", "-q", "-P", "--no-prompt", MAIN, "serve", "--profile", profile, ...args],
    env,
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    deadlineMs: 60_000,
  });
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stdout = "";
  while (stdout.split("\n").length < 3) {
    const { value, done } = await reader.read();
    if (done) break;
    stdout += value;
  }
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      stdout += value;
    }
  })();
  return {
    child,
    printed: stdout,
    /** Waits for the end; returns the status and all output. */
    async finish() {
      const status = await child.status;
      await rest;
      return { code: status.code, stdout, stderr: await stderr };
    },
    /** A test that failed before `finish` must not leave the server (or what it ran) running. */
    async [Symbol.asyncDispose]() {
      await child[Symbol.asyncDispose]();
      await rest;
      await stderr;
    },
  };
}

/** The `export NAME=value` lines of the env format. */
function exported(text: string): Record<string, string> {
  return Object.fromEntries(
    text.trim().split("\n").map((line) => {
      const match = /^export ([A-Z_]+)=(\S+)$/.exec(line);
      assert.ok(match, `not an export line: ${line}`);
      return [match[1]!, match[2]!];
    }),
  );
}

posix.test("serve prints the endpoint's variables and answers until SIGTERM", async () => {
  await using t = await sessionFixture({ arn: ARN });
  await using serve = await startServe(t.session.env);
  const vars = exported(serve.printed);
  assert.deepEqual(Object.keys(vars), [
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  ]);
  const url = vars.AWS_CONTAINER_CREDENTIALS_FULL_URI!;
  const token = vars.AWS_CONTAINER_AUTHORIZATION_TOKEN!;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{22}$/);
  const reply = await fetch(url, { headers: { Authorization: token } });
  assert.equal(reply.status, 200);
  assert.equal((await reply.json()).AccessKeyId, t.session.token.accessToken.accessKeyId);
  const refused = await fetch(url);
  assert.equal(refused.status, 401);
  await refused.body?.cancel();

  serve.child.kill("SIGTERM");
  const { code, stdout, stderr } = await serve.finish();
  assert.equal(code, 0, stderr);
  assert.equal(stdout, serve.printed, "nothing else on stdout");
  assert.match(stderr, /serving the credentials of profile "dev" on 127\.0\.0\.1:\d+/);
  assert.ok(!stderr.includes(token));
  await assert.rejects(
    async () =>
      (await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(url).port) })).close(),
    Deno.errors.ConnectionRefused,
  );
});

Deno.test("serve stops, saying to log in again, when the session has ended", async () => {
  await using t = await sessionFixture({ arn: ARN });
  await using serve = await startServe(t.session.env);
  const vars = exported(serve.printed);
  await expireIn(t.session.cachePath, -1000);
  t.emulator.controls.failNextTokenCalls(1, { error: "TOKEN_EXPIRED" });
  const reply = await fetch(vars.AWS_CONTAINER_CREDENTIALS_FULL_URI!, {
    headers: { Authorization: vars.AWS_CONTAINER_AUTHORIZATION_TOKEN! },
  });
  assert.equal(reply.status, 403);
  assert.match((await reply.json()).Message, /Run "aws-login login --profile dev"/);
  const { code, stderr } = await serve.finish();
  assert.equal(code, EXIT.signin);
  assert.match(stderr, /stopped serving credentials: the login session of profile "dev" is over/);
  assert.match(stderr, /TOKEN_EXPIRED.*Run "aws-login login --profile dev"/);
});

posix.test("serve --port listens there, prints other formats, stops on SIGINT", async () => {
  await using t = await sessionFixture({ arn: ARN });
  const port = listenablePort();
  await using serve = await startServe(t.session.env, [
    "--port",
    String(port),
    "--format",
    "env-no-export",
  ]);
  const lines = serve.printed.trim().split("\n");
  assert.match(
    lines[0]!,
    new RegExp(`^AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127\\.0\\.0\\.1:${port}/`),
  );
  assert.match(lines[1]!, /^AWS_CONTAINER_AUTHORIZATION_TOKEN=[A-Za-z0-9_-]{43}$/);

  // A second server cannot have the same port: not a usage error (the command line is right), the
  // listener's failure.
  const taken = await runCli(["serve", "--profile", "dev", "--port", String(port)], {
    env: t.session.env,
  });
  assert.equal(taken.code, EXIT.network);
  assert.match(
    taken.stderr,
    new RegExp(`Cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`),
  );
  assert.equal(taken.stdout, "");

  serve.child.kill("SIGINT");
  assert.equal((await serve.finish()).code, 0);
});

Deno.test("serve binds loopback only: there is no option to bind elsewhere", async () => {
  await using t = await sessionFixture({ arn: ARN });
  for (const args of [["--host", "0.0.0.0"], ["--bind", "0.0.0.0"], ["--format", "json"]]) {
    const { code, stdout, stderr } = await runCli(["serve", "--profile", "dev", ...args], {
      env: t.session.env,
    });
    assert.equal(code, EXIT.usage, args.join(" "));
    assert.equal(stdout, "");
    assert.match(stderr, /Unknown option|takes one of/);
  }
});

Deno.test("serve without a session fails before printing anything", async () => {
  await using t = await sessionFixture({ arn: ARN });
  await Deno.remove(t.session.cachePath);
  const { code, stdout, stderr } = await runCli(["serve", "--profile", "dev"], {
    env: t.session.env,
  });
  assert.equal(code, EXIT.cache);
  assert.equal(stdout, "");
  assert.match(stderr, /No cached login session/);
});

posix.test("serve on a role profile serves the role's credentials (its account, not the session's)", async () => {
  await using t = await sessionFixture({ arn: ARN });
  await addProfile(t.home.home, "admin", {
    role_arn: "arn:aws:iam::222222222222:role/Admin",
    source_profile: "dev",
  });
  const env = { ...t.session.env, AWS_ENDPOINT_URL_STS: t.emulator.url };
  await using serve = await startServe(env, [], "admin");
  const vars = exported(serve.printed);
  const reply = await fetch(vars.AWS_CONTAINER_CREDENTIALS_FULL_URI!, {
    headers: { Authorization: vars.AWS_CONTAINER_AUTHORIZATION_TOKEN! },
  });
  assert.equal(reply.status, 200);
  const creds = await reply.json();
  assert.equal(creds.AccountId, "222222222222");
  assert.notEqual(creds.AccessKeyId, t.session.token.accessToken.accessKeyId);
  assert.equal(t.emulator.controls.counters().assume_role, 1);
  serve.child.kill("SIGTERM");
  const { code, stderr } = await serve.finish();
  assert.equal(code, 0, stderr);
  assert.match(stderr, /serving the credentials of profile "admin"/);
});
