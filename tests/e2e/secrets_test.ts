/**
 * Secrets never leak: the full flows (login, status, refresh, export, exec, failures, logout) run
 * with `--debug` against the emulator running as its own process, and every byte they print — the
 * CLI's stderr, the stdout of commands that are not meant to print credentials, and the emulator's
 * request log — is searched for every secret issued: secret access keys, session tokens, refresh
 * tokens, the authorization code and the DPoP key.
 */
import assert from "node:assert/strict";
import { type CliResult, ROOT, runCli, tempHome } from "../helpers/cli.ts";
import { denoDir, expireIn } from "../helpers/session.ts";
import { browse } from "../helpers/browser.ts";
import { readCachedToken } from "../../lib/session/token_cache.ts";

const ARN = "arn:aws:iam::123456789012:user/Alice";
const MAIN = `${ROOT}main.ts`;

/** The emulator as a subprocess (its log is output too), with its admin endpoint. */
async function startEmulatorProcess(env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-P", MAIN, "emulator", "--port", "0", "--auto-approve", ARN],
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  while (!log.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`the emulator ended early: ${log}`);
    log += value;
  }
  const url = /^listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(log)?.[1];
  if (url === undefined) throw new Error(`unexpected first line: ${log}`);
  const rest = (async () => {
    for (;;) {
      const { value, done } = await lines.read();
      if (done) return;
      log += value;
    }
  })();
  const stderr = new Response(child.stderr).text();
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
  };
}

/**
 * Runs `login --no-browser`, playing the browser; returns the output, the code it carried and the
 * sign-in link's cookie (as secret as the code: it must never be printed either).
 */
async function loginPlayingBrowser(
  env: Record<string, string>,
): Promise<{ result: CliResult; code: string | undefined; cookie: string | undefined }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-P", MAIN, "login", "--profile", "dev", "--no-browser", "--debug"],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
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

Deno.test("no secret issued appears in any output of the full flows, with --debug", async () => {
  await using home = await tempHome();
  const base = { ...home.env, DENO_DIR: await denoDir() };
  const emulator = await startEmulatorProcess(base);
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
  /** Everything printed that must not hold a secret, with a label for the failure message. */
  const outputs: [string, string][] = [];
  const run = async (args: string[], options: { stdoutHasCredentials?: boolean } = {}) => {
    const result = await runCli([...args, "--debug"], { env });
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
    assert.equal((await run(["exec", "--", "true"])).code, 0);

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

    assert.equal((await run(["logout"])).code, 0);
  } finally {
    outputs.push(["emulator log", await emulator.stop()]);
  }

  assert.ok(secrets.size >= 12, `collected ${secrets.size} secrets`);
  for (const [label, text] of outputs) {
    for (const secret of secrets) {
      assert.ok(secret.length >= 16, "only long values count as secrets here");
      assert.ok(!text.includes(secret), `${label} contains a secret:\n${text}`);
    }
  }
});
