/**
 * The locked refresh sequence every cache of short-lived credentials shares (login sessions, the
 * role cache): take the cache file's lock → read it again (another process may have refreshed) →
 * fetch new credentials → read once more (a program that takes no lock, the AWS CLI or an SDK, may
 * have written newer ones meanwhile) → write. Waiters use the holder's result as soon as it lets
 * go; still-valid credentials beat an error when the fetch fails transiently or the lock is held
 * for too long (unless the caller is strict).
 *
 * On the credential hot path only when a refresh is due; `Deno.*` only.
 *
 * @module
 */
import { CacheError, isTransient } from "../errors.ts";
import { LOCK_TIMEOUT_MS, withCacheLock } from "./cache_lock.ts";

/** What the sequence needs to know about one cache of credentials of type `T`. */
export interface LockedRefresh<T> {
  /** The cache file; its lock is `<path>.lock`. */
  readonly path: string;
  now(): number;
  debug(message: string): void;
  /** Refresh even when the credentials are fresh (a refresh another process made counts). */
  readonly force?: boolean;
  /** Throw instead of falling back on still-valid credentials. */
  readonly strict?: boolean;
  /** Longest wait for the lock (default {@link LOCK_TIMEOUT_MS}). */
  readonly lockTimeoutMs?: number;
  /** Reads the cache file. */
  read(): Promise<T>;
  /** Whether the credentials last long enough to be handed out without a refresh. */
  isFresh(value: T, now: number): boolean;
  /** Whether `latest` holds other credentials than `before` (another process refreshed). */
  refreshedSince(before: T, latest: T): boolean;
  /**
   * Whether the file on disk was written by someone else since `before` was read (default
   * {@link refreshedSince}).
   */
  writtenSince?(before: T, disk: T): boolean;
  /** When the credentials expire, epoch ms (0 when there are none). */
  expiresAtMs(value: T): number;
  /** Checks, under the lock and before fetching, that the result can be stored. */
  prepare?(current: T): void;
  /** Gets new credentials; `stillValid` says a transient failure may fall back on `current`. */
  fetch(current: T, stillValid: boolean): Promise<T>;
  /** Stores them. */
  write(next: T): void;
  /** Says that still-valid credentials are used after a failure (`reason`). */
  warnStale(current: T, reason: string): void;
  /** Says that `next` could not be stored; they are used all the same. */
  writeFailed(next: T, err: unknown): void;
}

/** The credentials to hand out, and whether this process fetched them. */
export interface RefreshOutcome<T> {
  readonly value: T;
  readonly refreshed: boolean;
}

/**
 * Runs the sequence for credentials that are not fresh (or when `force`).
 *
 * @param first What the caller read before deciding to refresh.
 * @param r The cache's hooks.
 * @throws Whatever `read`, `prepare`, `fetch` throw when no still-valid credentials may be used;
 *   {@link CacheError} `ERR_CACHE_LOCK` when the lock is held too long and nothing valid is left.
 */
export async function refreshUnderLock<T>(
  first: T,
  r: LockedRefresh<T>,
): Promise<RefreshOutcome<T>> {
  try {
    return await withCacheLock(r.path, () => refreshLocked(first, r), {
      timeoutMs: r.lockTimeoutMs ?? LOCK_TIMEOUT_MS,
      // Another process is refreshing: once it is done, use its result without queueing for
      // the lock behind every other waiter.
      whenReleased: async () => {
        const latest = await r.read();
        if (!(r.refreshedSince(first, latest) && r.isFresh(latest, r.now()))) return undefined;
        r.debug(`another process refreshed "${r.path}"; using its credentials`);
        return { value: latest, refreshed: false };
      },
    });
  } catch (err) {
    // Another process holds the lock for too long: still-valid credentials beat an error.
    if (err instanceof CacheError && err.code === "ERR_CACHE_LOCK" && !r.strict) {
      const latest = await r.read();
      if (r.expiresAtMs(latest) > r.now()) {
        r.warnStale(latest, err.message);
        return { value: latest, refreshed: false };
      }
    }
    throw err;
  }
}

async function refreshLocked<T>(before: T, r: LockedRefresh<T>): Promise<RefreshOutcome<T>> {
  // Re-read: another process may have refreshed while we waited for the lock.
  const current = await r.read();
  const now = r.now();
  const done = r.force
    ? r.refreshedSince(before, current) && r.isFresh(current, now)
    : r.isFresh(current, now);
  if (done) {
    r.debug(`another process refreshed "${r.path}"; using its credentials`);
    return { value: current, refreshed: false };
  }
  r.prepare?.(current);
  const stillValid = !r.strict && r.expiresAtMs(current) > r.now();
  let next: T;
  try {
    next = await r.fetch(current, stillValid);
  } catch (err) {
    if (isTransient(err) && stillValid) {
      r.warnStale(current, (err as Error).message);
      return { value: current, refreshed: false };
    }
    throw err;
  }
  const newer = await writtenElsewhere(r, current, next);
  if (newer !== undefined) {
    r.debug(`another program refreshed "${r.path}" meanwhile; keeping its newer credentials`);
    return { value: newer, refreshed: false };
  }
  try {
    r.write(next);
  } catch (err) {
    r.writeFailed(next, err);
    return { value: next, refreshed: true };
  }
  r.debug(`wrote refreshed credentials to "${r.path}"`);
  return { value: next, refreshed: true };
}

/**
 * The file on disk when a program that takes no lock (the AWS CLI, an SDK) wrote it since `before`
 * was read and its credentials last at least as long as `ours`: then it is kept, as writing ours
 * would replace newer credentials with older ones. Undefined when ours should be written (also
 * when the file cannot be read: ours repair it).
 */
async function writtenElsewhere<T>(
  r: LockedRefresh<T>,
  before: T,
  ours: T,
): Promise<T | undefined> {
  let disk: T;
  try {
    disk = await r.read();
  } catch (err) {
    if (err instanceof CacheError) return undefined;
    throw err;
  }
  const changed = (r.writtenSince ?? r.refreshedSince)(before, disk);
  return changed && r.expiresAtMs(disk) >= r.expiresAtMs(ours) ? disk : undefined;
}
