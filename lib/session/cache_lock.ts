/**
 * The cross-process lock every cache writer takes (login sessions, the role cache): an OS file
 * lock on `<cache file>.lock`, with a timeout, and a way for waiters to use the holder's result
 * instead of queueing for the lock one by one.
 *
 * On the credential hot path: `Deno.*` only.
 *
 * @module
 */
import { CacheError } from "../errors.ts";
import { DIR_MODE, dirname, FILE_MODE, openOwnFile, stillAt } from "../files.ts";
import { cacheFileError, ioReason } from "./cache_read.ts";

/**
 * Longest wait for another process's lock: longer than a refresh or an AssumeRole with all its
 * retries, so a waiter does not give up on a holder that is still working.
 */
export const LOCK_TIMEOUT_MS = 45_000;

/**
 * Runs `fn` holding an exclusive lock on `<path>.lock`, shared by every aws-login process. The lock
 * is an OS file lock (flock / LockFileEx), which the OS releases when its holder dies, so a killed
 * process cannot leave it stuck.
 *
 * A lock on a file that no longer has the name locks nothing: logout removes the lock file (under
 * the lock, see `removeCachedToken` in token_cache.ts), and so may the user or another tool, while a process
 * waits on it; a newcomer then creates and locks a fresh file, and both would be "in". So once a
 * lock is taken, the locked file must still be the one at the path (same device and inode), else
 * it is let go and the path opened and locked again, within the same deadline.
 *
 * @param path The cache file to guard.
 * @param fn The critical section.
 * @param options.timeoutMs Longest wait for the lock (default {@link LOCK_TIMEOUT_MS}).
 * @param options.whenReleased Called, under a shared lock, each time another process's exclusive
 *   hold has ended while this one waited (its refresh may be all the caller needed): a value other
 *   than undefined ends the wait and is returned without running `fn`. All waiters can hold the
 *   shared lock at once, so they look at the holder's result together instead of queueing for the
 *   exclusive lock one by one. Its errors are ignored.
 * @returns What `fn` (or `whenReleased`) returns.
 * @throws {CacheError} `ERR_CACHE_LOCK` when the lock is not acquired in time, `ERR_CACHE_UNSAFE`
 *   or `ERR_CACHE_IO` when the lock file cannot be opened; whatever `fn` throws.
 */
export async function withCacheLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: { timeoutMs?: number; whenReleased?: () => Promise<T | undefined> } = {},
): Promise<T> {
  const lockPath = `${path}.lock`;
  const timeoutMs = options.timeoutMs ?? LOCK_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let file: Deno.FsFile;
    try {
      Deno.mkdirSync(dirname(path), { recursive: true, mode: DIR_MODE });
      file = openOwnFile(lockPath, FILE_MODE);
    } catch (err) {
      throw cacheFileError(lockPath, err, "Cannot open the lock file");
    }
    try {
      const got = await acquire(file, lockPath, deadline, timeoutMs, options.whenReleased);
      // The file was unlinked or replaced: lock the one there now.
      if (got === STALE && Date.now() < deadline) continue;
      if (got === STALE) throw lockTimeout(lockPath, timeoutMs);
      if (got !== undefined) return got.value;
      try {
        return await fn();
      } finally {
        try {
          file.unlockSync();
        } catch {
          // closing the file below releases the lock too
        }
      }
    } finally {
      file.close();
    }
  }
}

/** How often a waiting process tries the lock again. */
export const LOCK_POLL_MS = 5;

/** What {@link acquire} returns when the file it locked no longer has the lock file's name. */
const STALE = Symbol("stale lock file");

/**
 * Polls the lock at a short fixed interval until it is ours (undefined), `whenReleased` gives a
 * value ({ value }), the locked file turns out to be unlinked or replaced (STALE, unlocked), or
 * `deadline` has passed. `lock()` would wake at once but cannot time out (a blocked flock cannot be
 * cancelled, and would keep the process alive); a fixed short poll wakes a waiter within 5 ms of the
 * release, where a growing interval let the last of 32 waiters sleep up to 100 ms after the refresh
 * was done. Once it has found the lock taken, a waiter with `whenReleased` asks for the shared lock
 * first, so waiters do not take the exclusive lock from each other just to find that the refresh is
 * done.
 */
async function acquire<T>(
  file: Deno.FsFile,
  lockPath: string,
  deadline: number,
  timeoutMs: number,
  whenReleased: (() => Promise<T | undefined>) | undefined,
): Promise<{ value: T } | undefined | typeof STALE> {
  const tryLock = (exclusive: boolean) => {
    try {
      if (!file.tryLockSync(exclusive)) return false;
      if (stillAt(file, lockPath)) return true;
    } catch (err) {
      throw new CacheError("ERR_CACHE_IO", `Cannot lock "${lockPath}": ${ioReason(err)}`, {
        cause: err,
      });
    }
    try {
      file.unlockSync();
    } catch {
      // the caller closes the file, which releases the lock too
    }
    return STALE;
  };
  let got = tryLock(true);
  if (got !== false) return got === STALE ? STALE : undefined;
  for (;;) {
    if (whenReleased === undefined) {
      got = tryLock(true);
      if (got !== false) return got === STALE ? STALE : undefined;
    } else {
      got = tryLock(false);
      if (got === STALE) return STALE;
      if (got) {
        // The holder let go: look at its result together with the other waiters.
        let value: T | undefined;
        try {
          value = await whenReleased().catch(() => undefined);
        } finally {
          file.unlockSync();
        }
        if (value !== undefined) return { value };
        // Not what we need: take the lock ourselves.
        got = tryLock(true);
        if (got !== false) return got === STALE ? STALE : undefined;
      }
    }
    const left = deadline - Date.now();
    if (left <= 0) throw lockTimeout(lockPath, timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, Math.min(LOCK_POLL_MS, left)));
  }
}

function lockTimeout(lockPath: string, timeoutMs: number): CacheError {
  return new CacheError(
    "ERR_CACHE_LOCK",
    `Cannot lock "${lockPath}": another aws-login process has held it for more than ` +
      `${Math.round(timeoutMs / 1000)} s. Try again, or end that process.`,
  );
}
