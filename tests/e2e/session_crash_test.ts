import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { readCachedToken } from "../../lib/session/token_cache.ts";
import { withCacheLock } from "../../lib/session/cache_lock.ts";
import { type BoundedChild, spawnBounded, until } from "../helpers/bounded.ts";
import { ROOT, runCli, tempHome } from "../helpers/cli.ts";
import { createSession, expireIn, startEmulator } from "../helpers/session.ts";

/** SIGKILL as on POSIX: the status names the signal and the flock is free at once
 * (Windows frees a dead process's LockFileEx lock only "eventually"). */
const posix = { test: Deno.build.os === "windows" ? Deno.test.ignore : Deno.test };

const ARN = "arn:aws:iam::123456789012:user/Alice";
const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

function spawnCredentialProcess(env: Record<string, string>): BoundedChild {
  return spawnBounded(Deno.execPath(), {
    args: ["run", "-q", "-P", "--no-prompt", MAIN, "credential-process", "--profile", "dev"],
    env,
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  });
}

/** The lock is free when this process can take it at once. */
async function assertLockFree(cachePath: string): Promise<void> {
  await withCacheLock(cachePath, () => Promise.resolve(), { timeoutMs: 500 });
}

posix.test("SIGKILL while holding the lock, waiting on Sign-In, leaves the old cache and a free lock", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  await using home = await tempHome();
  const session = await createSession({ url: emulator.url, home, profile: "dev" });
  await expireIn(session.cachePath, 60_000);
  const before = await Deno.readTextFile(session.cachePath);
  emulator.controls.failNextTokenCalls(1, { delayMs: 2_000, status: 500 });
  await using child = spawnCredentialProcess(session.env);
  // The request has reached the emulator: the child holds the lock and waits for the reply.
  await until(() => emulator.controls.counters().refresh_token >= 1, "the refresh request");
  child.kill("SIGKILL");
  assert.equal((await child.status).signal, "SIGKILL");
  assert.equal(await Deno.readTextFile(session.cachePath), before);
  await assertLockFree(session.cachePath);
  const next = await runCli(["credential-process", "--profile", "dev"], { env: session.env });
  assert.equal(next.code, 0, next.stderr);
  assert.equal(next.stderr, "");
  const cache = await readCachedToken(session.cachePath);
  assert.equal(JSON.parse(next.stdout).AccessKeyId, cache.accessToken.accessKeyId);
});

posix.test("SIGKILL at any point of a refresh leaves a valid cache file and no stuck lock", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  await using home = await tempHome();
  const session = await createSession({ url: emulator.url, home, profile: "dev" });
  // Kill points spread over start-up, the lock, the request and the write-back.
  for (const delay of [0, 20, 40, 60, 80, 100, 130, 160, 200, 250, 300, 400]) {
    await expireIn(session.cachePath, 60_000);
    await using child = spawnCredentialProcess(session.env);
    await new Promise((r) => setTimeout(r, delay));
    child.kill("SIGKILL"); // when it finished first, that is a kill point too
    await child.status;
    await readCachedToken(session.cachePath); // throws on a torn or half-written file
    await assertLockFree(session.cachePath);
  }
  // A later run is not stuck. A kill between the reply and the write loses the rotated refresh
  // token, but the refresh is idempotent (docs/PROTOCOL.md §4): repeating it with the token still in
  // the file gets the same answer while those credentials are valid, so the session survives.
  await expireIn(session.cachePath, 60_000);
  const next = await runCli(["credential-process", "--profile", "dev"], { env: session.env });
  assert.equal(next.code, 0, next.stderr);
  await readCachedToken(session.cachePath);
});
