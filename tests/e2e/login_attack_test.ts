/**
 * `aws-login login` (same-device) against another local user: the CLI as a subprocess under `-P`,
 * the emulator in-process, the attacker played by the test. An attacker who reads the browser's
 * command line (`/proc/<pid>/cmdline`) or even learns the authorize request cannot slip their own
 * sign-in into the login; a flood of idle connections to the listener, under a lowered descriptor
 * limit, neither crashes it nor keeps the user's browser out.
 */
import assert from "node:assert/strict";
import { EXIT } from "../../lib/errors.ts";
import { spawnBounded } from "../helpers/bounded.ts";
import { closeAll, flood, limitDescriptors, openDescriptors } from "../helpers/flood.ts";
import { type CliResult, ROOT, tempHome } from "../helpers/cli.ts";
import { denoDir, startEmulator } from "../helpers/session.ts";
import { browse, type Browsed, CookieJar } from "../../tools/browser.ts";

/** Descriptor limits are read from /proc and set with util-linux `prlimit`: Linux only. */
const linux = { test: Deno.build.os === "linux" ? Deno.test : Deno.test.ignore };

const ARN = "arn:aws:iam::123456789012:user/Alice";
const ATTACKER_ARN = "arn:aws:iam::666666666666:user/Mallory";
const MAIN = `${ROOT}main.ts`;
const LINK_RE = /(http:\/\/127\.0\.0\.1:\d+\/[\w-]{43})\s/;
const BROWSER_STAND_IN = `${ROOT}tools/browser.ts`;

/**
 * A login subprocess; `link` resolves with the sign-in link once stderr shows it. It and what it
 * started are killed at scope end.
 */
function startLogin(args: string[], env: Record<string, string>) {
  const child = spawnBounded(Deno.execPath(), {
    args: ["run", "-q", "-P", "--no-prompt", MAIN, "login", "--region", "us-east-1", ...args],
    env,
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  let resolveLink!: (link: string | undefined) => void;
  const link = new Promise<string | undefined>((r) => resolveLink = r);
  const result: Promise<CliResult> = (async () => {
    let stderr = "";
    try {
      const [stdout] = await Promise.all([
        new Response(child.stdout).text(),
        (async () => {
          for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
            stderr += chunk;
            const found = LINK_RE.exec(stderr)?.[1];
            if (found) resolveLink(found);
          }
        })(),
      ]);
      return { code: (await child.status).code, stdout, stderr };
    } finally {
      resolveLink(undefined);
    }
  })();
  return {
    pid: child.pid,
    link,
    result,
    kill: () => child.kill(),
    async [Symbol.asyncDispose]() {
      await child[Symbol.asyncDispose]();
      await result.catch(() => {});
    },
  };
}

async function setup() {
  const home = await tempHome();
  // No auto-approval: each party picks their identity on the sign-in page.
  const emulator = await startEmulator({ accounts: [{ arn: ARN }, { arn: ATTACKER_ARN }] });
  const env = { ...home.env, AWS_ENDPOINT_URL_SIGNIN: emulator.url, DENO_DIR: await denoDir() };
  return {
    home: home.home,
    env,
    emulator,
    async assertNothingWritten() {
      const cache = await Array.fromAsync(Deno.readDir(`${home.home}/.aws/login/cache`)).catch(
        () => [],
      );
      assert.deepEqual(cache, [], "a cache file was written");
      await assert.rejects(() => Deno.stat(`${home.home}/.aws/config`), Deno.errors.NotFound);
    },
    async [Symbol.asyncDispose]() {
      await emulator.close();
      await home[Symbol.asyncDispose]();
    },
  };
}

/** Picks `arn` on the emulator's sign-in page `page`; returns where the emulator redirects. */
async function signInAs(base: string, page: Browsed, arn: string): Promise<string> {
  const requestId = /name="request_id" value="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(requestId, `no sign-in page:\n${page.body.slice(0, 300)}`);
  const reply = await fetch(`${base}/v1/authorize`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ request_id: requestId, arn }),
    redirect: "manual",
  });
  await reply.body?.cancel();
  assert.equal(reply.status, 302);
  return reply.headers.get("location")!;
}

/** Waits for the BROWSER stand-in's record (it writes it once it has run). */
async function browserRecord(path: string): Promise<{ argv: string[] }> {
  for (let i = 0; i < 300; i++) {
    try {
      return JSON.parse(await Deno.readTextFile(path));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error("the BROWSER stand-in never ran");
}

Deno.test("login: another user who opens the link from the browser's argv stops the login (exit 7)", async () => {
  await using t = await setup();
  const log = `${t.home}/browser.json`;
  // A browser that has been started but has not fetched the link yet.
  const browser =
    `'${Deno.execPath()}' run -q -A '${BROWSER_STAND_IN}' --log '${log}' --no-open %s`;
  await using run = startLogin(["--timeout", "60"], { ...t.env, BROWSER: browser });
  // What `ps` shows another user: the browser's command line.
  const link = (await browserRecord(log)).argv.at(-1)!;
  assert.equal(link, await run.link);
  // The attacker opens it first and starts signing in as themselves...
  const attacker = new CookieJar();
  const page = await browse(link, { jar: attacker });
  assert.equal(page.status, 200);
  // ...then the user's browser opens it: the listener sees the link used twice and stops.
  const victim = await browse(link);
  assert.equal(victim.status, 409);
  assert.match(victim.body, /someone else opened the sign-in link/);
  const { code, stderr } = await run.result;
  assert.equal(code, EXIT.login);
  assert.match(stderr, /someone else opened the sign-in link/);
  // The attacker's sign-in comes too late: nobody is listening any more.
  const callback = await signInAs(t.emulator.url, page, ATTACKER_ARN);
  await assert.rejects(() => browse(callback, { jar: attacker }));
  assert.equal(t.emulator.controls.counters().authorization_code, 0);
  await t.assertNothingWritten();
});

Deno.test("login: a code for the right state but without the link's cookie is refused (login CSRF)", async () => {
  await using t = await setup();
  await using run = startLogin(["--no-browser", "--timeout", "60"], t.env);
  const link = await run.link;
  assert.ok(link, "no sign-in link was printed");
  const victim = new CookieJar();
  const page = await browse(link, { jar: victim });
  // Suppose the attacker learnt the whole authorize request (state, challenge, port) and signs in
  // as themselves with it: the emulator, like AWS, hands them a code for this login's state.
  const authorize = page.visits.at(-1)!.url;
  const attackerPage = await browse(authorize);
  const forged = await signInAs(t.emulator.url, attackerPage, ATTACKER_ARN);
  const state = new URL(authorize).searchParams.get("state");
  assert.equal(new URL(forged).searchParams.get("state"), state);
  const delivered = await browse(forged);
  assert.equal(delivered.status, 400);
  assert.match(delivered.body, /did not open the sign-in link/);
  // The user's own sign-in, from the browser that opened the link, still completes.
  const callback = await signInAs(t.emulator.url, page, ARN);
  const done = await browse(callback, { jar: victim });
  assert.equal(done.status, 200);
  const { code, stdout, stderr } = await run.result;
  assert.equal(code, EXIT.ok, stderr);
  assert.match(stdout, new RegExp(`Updated profile default to use ${ARN} credentials`));
  assert.equal(
    await Deno.readTextFile(`${t.home}/.aws/config`),
    `[default]\nlogin_session = ${ARN}\nregion = us-east-1\n`,
  );
  assert.equal(t.emulator.controls.counters().authorization_code, 1);
});

/** Stops the login if it still runs, and waits for it. */
async function stop(run: ReturnType<typeof startLogin>): Promise<void> {
  try {
    run.kill();
  } catch { /* it has ended */ }
  await run.result;
}

linux.test("login survives 300 idle connections to its listener under a low descriptor limit", async () => {
  await using t = await setup();
  await using run = startLogin(["--no-browser", "--timeout", "60"], t.env);
  let idle: Deno.Conn[] = [];
  try {
    const link = await run.link;
    assert.ok(link, "no sign-in link was printed");
    // Room for the listener's few dozen connections and the code exchange; not for 300 more.
    await limitDescriptors(run.pid, (await openDescriptors(run.pid)) + 60);
    idle = await flood(Number(new URL(link).port), 300);
    // With the idle connections still open, the user's browser gets through.
    const jar = new CookieJar();
    const page = await browse(link, { jar });
    const done = await browse(await signInAs(t.emulator.url, page, ARN), { jar });
    assert.equal(done.status, 200);
    const { code, stderr } = await run.result;
    assert.equal(code, EXIT.ok, stderr);
  } finally {
    closeAll(idle);
    await stop(run);
  }
});

linux.test("login ends cleanly (exit 7) when its listener runs out of descriptors", async () => {
  await using t = await setup();
  await using run = startLogin(["--no-browser", "--timeout", "30"], t.env);
  let idle: Deno.Conn[] = [];
  try {
    const link = await run.link;
    assert.ok(link, "no sign-in link was printed");
    // Not a single descriptor to spare: the listener cannot accept anything.
    await limitDescriptors(run.pid, await openDescriptors(run.pid));
    idle = await flood(Number(new URL(link).port), 5);
    const { code, stderr } = await run.result;
    assert.equal(code, EXIT.login, stderr);
    assert.match(
      stderr,
      /aws-login: The sign-in callback listener on 127\.0\.0\.1:\d+ stopped: Too many open files/,
    );
    assert.doesNotMatch(stderr, /Uncaught|panicked/);
    await t.assertNothingWritten();
  } finally {
    closeAll(idle);
    await stop(run);
  }
});
