/**
 * Secrets never leak: the full flows (login, status with its session check, refresh, export, exec
 * with and without its credential endpoint, serve, failures, logout with its revocation) run with
 * `--debug` against the emulator running as its own process, and every byte they print — the CLI's
 * stderr, the stdout of commands that are not meant to print credentials, and the emulator's
 * request log — is searched for every secret issued: secret access keys, session tokens, refresh
 * tokens, the authorization code, the DPoP key and the credential endpoints' tokens (which only
 * `serve` prints, on stdout, on purpose).
 */
import assert from "node:assert/strict";
import { spawnBounded } from "../helpers/bounded.ts";
import { type CliResult, ROOT, runCli, tempHome } from "../helpers/cli.ts";
import { denoDir, expireIn } from "../helpers/session.ts";
import { browse } from "../../tools/browser.ts";
import { readCachedToken } from "../../lib/session/token_cache.ts";

/** The flows include `exec` of `sh` and `curl`: POSIX only. */
const posix = { test: Deno.build.os === "windows" ? Deno.test.ignore : Deno.test };

const ARN = "arn:aws:iam::123456789012:user/Alice";
const MAIN = `${ROOT}main.ts`;

/** The emulator as a subprocess (its log is output too), with its admin endpoint. */
async function startEmulatorProcess(env: Record<string, string>) {
  const child = spawnBounded(Deno.execPath(), {
    args: ["run", "-q", "-P", MAIN, "emulator", "--port", "0", "--auto-approve", ARN],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = new Response(child.stderr).text();
  let log = "";
  while (!log.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) {
      await child[Symbol.asyncDispose]().catch(() => {});
      throw new Error(`the emulator ended early: ${log}${await stderr}`);
    }
    log += value;
  }
  const url = /^listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(log)?.[1];
  if (url === undefined) {
    await child[Symbol.asyncDispose]();
    throw new Error(`unexpected first line: ${log}`);
  }
  const rest = (async () => {
    for (;;) {
      const { value, done } = await lines.read();
      if (done) return;
      log += value;
    }
  })();
  return {
    url,
    async fail(failure: Record<string, unknown>) {
      const reply = await fetch(`${url}/__admin/fail`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(failure),
      });
      assert.equal(reply.status, 200, await reply.text());
    },
    /** Stops it and returns everything it printed. */
    async stop(): Promise<string> {
      child.kill("SIGTERM");
      await child.status;
      await rest;
      return log + await stderr;
    },
    [Symbol.asyncDispose]: () => child[Symbol.asyncDispose](),
  };
}

/** Runs `serve --debug`, asks it for credentials once (and once without the token), stops it. */
async function serveOnce(env: Record<string, string>) {
  await using child = spawnBounded(Deno.execPath(), {
    args: ["run", "-q", "-P", MAIN, "serve", "--debug"],
    env,
    clearEnv: true,
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
    if (done) throw new Error(`serve ended early: ${stdout}`);
    stdout += value;
  }
  const url = /AWS_CONTAINER_CREDENTIALS_FULL_URI=(\S+)/.exec(stdout)![1]!;
  const token = /AWS_CONTAINER_AUTHORIZATION_TOKEN=(\S+)/.exec(stdout)![1]!;
  try {
    const ok = await fetch(url, { headers: { Authorization: token } });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    const refused = await fetch(url, { headers: { Authorization: `${token}x` } });
    assert.equal(refused.status, 403);
    await refused.body?.cancel();
  } finally {
    child.kill("SIGTERM");
  }
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    stdout += value;
  }
  assert.equal((await child.status).code, 0);
  return { token, stdout, stderr: await stderr };
}

/**
 * Runs `login --no-browser`, playing the browser; returns the output, the code it carried and the
 * sign-in link's cookie (as secret as the code: it must never be printed either).
 */
async function loginPlayingBrowser(
  env: Record<string, string>,
): Promise<{ result: CliResult; code: string | undefined; cookie: string | undefined }> {
  await using child = spawnBounded(Deno.execPath(), {
    args: ["run", "-q", "-P", MAIN, "login", "--profile", "dev", "--no-browser", "--debug"],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  let code: string | undefined;
  let cookie: string | undefined;
  let stderr = "";
  const watch = (async () => {
    let done = false;
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr += chunk;
      const url = /(http:\/\/127\.0\.0\.1:\d+\/[\w-]{43})\s/.exec(stderr)?.[1];
      if (url && !done) {
        done = true;
        const callback = (await browse(url)).visits.at(-1)!;
        code = new URL(callback.url).searchParams.get("code") ?? undefined;
        cookie = callback.cookie?.split("=")[1];
      }
    }
  })();
  const [stdout, status] = await Promise.all([new Response(child.stdout).text(), child.status]);
  await watch;
  return { result: { code: status.code, stdout, stderr }, code, cookie };
}

posix.test("no secret issued appears in any output of the full flows, with --debug", async () => {
  await using home = await tempHome();
  const base = { ...home.env, DENO_DIR: await denoDir() };
  await using emulator = await startEmulatorProcess(base);
  const env = {
    ...base,
    AWS_PROFILE: "dev",
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL_SIGNIN: emulator.url,
  };
  const cachePath = () => `${home.home}/.aws/login/cache/${fileName}`;
  let fileName = "";

  /** Every secret seen so far. */
  const secrets = new Set<string>();
  const collect = async () => {
    const token = await readCachedToken(cachePath());
    secrets.add(token.accessToken.secretAccessKey);
    secrets.add(token.accessToken.sessionToken);
    secrets.add(token.refreshToken);
    secrets.add(token.dpopKey);
    // The key's base64 body, also as its single lines, in case it is printed unwrapped or in part.
    const body = token.dpopKey.replace(/-----[^-]+-----/g, "").trim();
    secrets.add(body.replace(/\s+/g, ""));
    for (const line of body.split("\n")) secrets.add(line);
  };
  /**
   * Everything printed that must not hold a secret, with a label for the failure message and the
   * one secret it may hold on purpose (serve's own token on its stdout).
   */
  const outputs: [string, string, string?][] = [];
  const run = async (args: string[], options: { stdoutHasCredentials?: boolean } = {}) => {
    // --debug goes before "--": after it, it would be the command's argument.
    const split = args.includes("--") ? args.indexOf("--") : args.length;
    const result = await runCli([...args.slice(0, split), "--debug", ...args.slice(split)], {
      env,
    });
    outputs.push([`${args.join(" ")} (stderr)`, result.stderr]);
    if (!options.stdoutHasCredentials) outputs.push([`${args.join(" ")} (stdout)`, result.stdout]);
    return result;
  };

  try {
    const login = await loginPlayingBrowser(env);
    assert.equal(login.result.code, 0, login.result.stderr);
    assert.ok(login.code, "the authorization code was seen");
    assert.ok(login.cookie, "the sign-in link's cookie was seen");
    secrets.add(login.code!);
    secrets.add(login.cookie!);
    outputs.push(["login (stdout)", login.result.stdout], ["login (stderr)", login.result.stderr]);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(ARN));
    fileName = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("") +
      ".json";
    await collect();

    assert.equal((await run(["status"])).code, 0);
    assert.equal((await run(["status", "--json"])).code, 0);
    assert.equal((await run(["status", "--refresh"])).code, 0);
    await collect();
    assert.equal((await run(["credential-process"], { stdoutHasCredentials: true })).code, 0);
    assert.equal((await run(["export-env"], { stdoutHasCredentials: true })).code, 0);
    assert.equal((await run(["exec", "--no-server", "--", "true"])).code, 0);
    // exec's endpoint: the child keeps the token (to learn it here) and asks for credentials.
    const tokenFile = `${home.home}/container-token`;
    const exec = await run([
      "exec",
      "--",
      "sh",
      "-c",
      `printf %s "$AWS_CONTAINER_AUTHORIZATION_TOKEN" > '${tokenFile}'; ` +
      `curl -sf -o /dev/null -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" ` +
      `"$AWS_CONTAINER_CREDENTIALS_FULL_URI" && curl -s -o /dev/null "$AWS_CONTAINER_CREDENTIALS_FULL_URI"`,
    ]);
    assert.equal(exec.code, 0, exec.stderr);
    secrets.add(await Deno.readTextFile(tokenFile));
    // serve prints its token on stdout, and must print it nowhere else.
    const serve = await serveOnce(env);
    secrets.add(serve.token);
    outputs.push(["serve (stdout)", serve.stdout, serve.token], ["serve (stderr)", serve.stderr]);

    // A refresh that succeeds after a server error, then refusals of every kind.
    await expireIn(cachePath(), -1000);
    await emulator.fail({ count: 1, status: 500 });
    assert.equal((await run(["credential-process"], { stdoutHasCredentials: true })).code, 0);
    await collect();
    for (const error of ["TOKEN_EXPIRED", "USER_CREDENTIALS_CHANGED", "INVALID_REQUEST"]) {
      await expireIn(cachePath(), -1000);
      await emulator.fail({ count: 1, error });
      assert.equal((await run(["export-env"])).code, 5, error);
    }
    await emulator.fail({ count: 3, status: 500 });
    assert.equal((await run(["credential-process"])).code, 5);

    // A cache file cut off in the middle of a secret.
    const text = await Deno.readTextFile(cachePath());
    const secret = (await readCachedToken(cachePath())).accessToken.secretAccessKey;
    await Deno.writeTextFile(cachePath(), text.slice(0, text.indexOf(secret) + 10));
    assert.equal((await run(["export-env"])).code, 4);
    assert.equal((await run(["status"])).code, 4);

    // A login refused at the code exchange, and a remote login with a pasted code of another state.
    await emulator.fail({ count: 1, error: "AUTHCODE_EXPIRED" });
    const refused = await loginPlayingBrowser(env);
    assert.equal(refused.result.code, 5, refused.result.stderr);
    secrets.add(refused.code!);
    outputs.push(["refused login (stderr)", refused.result.stderr]);
    const pasted = btoa(`state=${crypto.randomUUID()}&code=${login.code}`);
    const remote = await runCli(["login", "--profile", "dev", "--remote", "--debug"], {
      env,
      stdin: `${pasted}\n`,
    });
    assert.equal(remote.code, 7, remote.stderr);
    outputs.push(["remote login (stderr)", remote.stderr]);

    // A new session, checked at Sign-In and revoked by logout, all with --debug.
    const again = await loginPlayingBrowser(env);
    assert.equal(again.result.code, 0, again.result.stderr);
    secrets.add(again.code!);
    secrets.add(again.cookie!);
    outputs.push(["second login (stderr)", again.result.stderr]);
    await collect();
    const status = await run(["status"]);
    assert.match(status.stdout, /session: +ends /);
    const logout = await run(["logout"]);
    assert.equal(logout.code, 0);
    assert.match(logout.stdout, /^Revoked the login session of profile 'dev' at AWS Sign-In\./);
  } finally {
    outputs.push(["emulator log", await emulator.stop()]);
  }

  assert.ok(secrets.size >= 14, `collected ${secrets.size} secrets`);
  for (const [label, text, allowed] of outputs) {
    for (const secret of secrets) {
      assert.ok(secret.length >= 16, "only long values count as secrets here");
      if (secret === allowed) continue;
      assert.ok(!text.includes(secret), `${label} contains a secret:\n${text}`);
    }
  }
});
