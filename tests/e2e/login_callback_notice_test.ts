/**
 * `aws-login login` (same-device) with a browser that does not keep cookies, or a callback from
 * another sign-in: the CLI says on stderr, at once and without --debug, that it refused the
 * callback and why — never the code or the state — and keeps waiting for the right one. The CLI
 * runs as a subprocess under `-P`; the test plays the browser with plain `fetch`.
 */
import assert from "node:assert/strict";
import { spawnBounded, until } from "../helpers/bounded.ts";
import { ROOT, tempHome } from "../helpers/cli.ts";
import { denoDir, startEmulator } from "../helpers/session.ts";

const ARN = "arn:aws:iam::123456789012:user/Alice";
const LINK_RE = /(http:\/\/127\.0\.0\.1:\d+\/[\w-]{43})\s/;

/** GET without following redirects; returns the status, Location and Set-Cookie. */
async function get(url: string, cookie?: string) {
  const reply = await fetch(url, {
    redirect: "manual",
    headers: cookie === undefined ? {} : { cookie },
  });
  await reply.body?.cancel();
  return {
    status: reply.status,
    location: reply.headers.get("location") ?? "",
    setCookie: reply.headers.get("set-cookie") ?? "",
  };
}

Deno.test("login says at once when it refuses a callback (no cookie, wrong state), then completes", async () => {
  await using home = await tempHome();
  await using emulator = await startEmulator({ autoApprove: ARN });
  await using child = spawnBounded(Deno.execPath(), {
    args: [
      "run",
      "-q",
      "-P",
      "--no-prompt",
      `${ROOT}main.ts`,
      "login",
      "--profile",
      "dev",
      "--region",
      "us-east-1",
      "--no-browser",
    ],
    env: { ...home.env, AWS_ENDPOINT_URL_SIGNIN: emulator.url, DENO_DIR: await denoDir() },
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  let stderr = "";
  const reading = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
  })();
  const stdout = new Response(child.stdout).text();
  await until(() => LINK_RE.test(stderr), "the sign-in link on stderr");
  const link = LINK_RE.exec(stderr)![1]!;

  // The one-time link sets the cookie and sends the browser to the (auto-approving) emulator.
  const opened = await get(link);
  assert.equal(opened.status, 302);
  const cookie = opened.setCookie.split(";")[0]!;
  const approved = await get(opened.location);
  assert.equal(approved.status, 302);
  const callback = new URL(approved.location);
  const code = callback.searchParams.get("code")!;
  const state = callback.searchParams.get("state")!;

  // A browser that dropped the cookie: refused, and the terminal says so while login waits.
  assert.equal((await get(callback.href)).status, 400);
  await until(() => stderr.includes("no sign-in cookie"), "the refusal on stderr");
  assert.match(
    stderr,
    /aws-login refused a sign-in callback: it came from a browser that did not open the sign-in link printed above \(no sign-in cookie\)\. .*use --remote\. Still waiting\./,
  );

  // A callback of another sign-in (another state), from the right browser.
  const stray = new URL(callback.href);
  stray.searchParams.set("state", "another-login");
  assert.equal((await get(stray.href, cookie)).status, 400);
  await until(() => stderr.includes("not from this login"), "the second refusal on stderr");

  // The right callback still completes the login.
  assert.equal((await get(callback.href, cookie)).status, 200);
  const status = await child.status;
  await reading;
  assert.equal(status.code, 0, stderr);
  assert.match(await stdout, /^Updated profile dev to use arn:aws:iam::123456789012:user\/Alice/);
  for (const secret of [code, state]) assert.ok(!stderr.includes(secret), "a secret was printed");
});
