/**
 * The login token cache: the files `aws login` keeps in `~/.aws/login/cache/<sha256>.json`, shared
 * with the AWS CLI and SDKs. Finds a session's file, reads and validates it, writes it back
 * atomically in the CLI's layout, and serialises refreshes with an exclusive cross-process lock.
 *
 * Every read goes through {@link readCacheFile}: only the user's own regular file is read, and a
 * file that looks damaged is read again for a moment first, since the AWS CLI and the JS SDK
 * rewrite it in place (truncate, then write) and a reader can catch it half-written.
 *
 * On the credential hot path: `Deno.*` and WebCrypto only. Messages name files and fields, never
 * field values (they are secrets).
 *
 * @see docs/PROTOCOL.md §7
 * @module
 */
import { CacheError } from "../errors.ts";
import {
  DIR_MODE,
  dirname,
  FILE_MODE,
  joinPath,
  openOwnFile,
  readOwnFile,
  removeTempFile,
  resolveWriteTarget,
  stillAt,
  UnsafePathError,
  writeFileAtomic,
} from "../files.ts";
import { type EnvLike, loginCacheDir } from "../aws/paths.ts";
import { formatUtcSeconds, parseRfc3339 } from "./utc_time.ts";

export { parseRfc3339 };

/** The access credentials of a session, as cached. */
export interface AccessToken {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  accountId: string;
  /** RFC 3339 time the credentials expire. */
  expiresAt: string;
  [key: string]: unknown;
}

/** One cache file: a login session's credentials, refresh token and DPoP key. */
export interface CachedLoginToken {
  accessToken: AccessToken;
  tokenType?: string;
  clientId: string;
  refreshToken: string;
  idToken?: string;
  /** PEM private key (SEC1 or PKCS#8) that signs the DPoP proofs of refreshes. */
  dpopKey: string;
  /** The region the session was created in; refreshes must go there. */
  signInRegion?: string;
  /** The Sign-In base URL the session was created with; refreshes go nowhere else. */
  signInEndpoint?: string;
  /** Fields other tools wrote; kept on write-back. */
  [key: string]: unknown;
}

/** Default longest wait for another process's lock. */
export const LOCK_TIMEOUT_MS = 30_000;

/**
 * How long a cache file that looks damaged is re-read before it is reported. An in-place writer
 * leaves it torn for a fraction of a millisecond typically; on 2 busy cores the JS SDK's writer
 * (`fs.writeFile`) was measured torn for up to 17 ms, the AWS CLI's for up to 8 ms.
 */
export const TORN_READ_WINDOW_MS = 50;
/**
 * How long, in all, re-reading goes on while the file was modified within that time: a writer the
 * OS has paused mid-write (measured: up to 180 ms with the CPU overcommitted 4 times).
 */
export const TORN_WRITE_WAIT_MS = 1000;

const LOGIN_HINT = 'Run "aws-login login" again.';
const ACCESS_FIELDS = ["accessKeyId", "secretAccessKey", "sessionToken", "accountId", "expiresAt"];
const TOP_FIELDS = ["clientId", "refreshToken", "dpopKey"];
/** Key order of the CLI's file (docs/PROTOCOL.md §7), then ours. */
const TOP_ORDER = [
  "accessToken",
  "tokenType",
  "clientId",
  "refreshToken",
  "idToken",
  "dpopKey",
  "signInRegion",
  "signInEndpoint",
];
const OPTIONAL_STRINGS = ["tokenType", "idToken", "signInRegion", "signInEndpoint"];

/**
 * The cache file name of a login session: lowercase hex SHA-256 of the UTF-8 value (surrounding
 * whitespace trimmed, as the Go SDK does) + `.json`.
 *
 * @param loginSession The profile's `login_session` value (the session ARN).
 * @returns E.g. `4b0ba8f9….json`.
 */
export async function cacheFileName(loginSession: string): Promise<string> {
  const bytes = new TextEncoder().encode(loginSession.trim());
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return `${hex}.json`;
}

/**
 * The full cache file path of a login session, in `AWS_LOGIN_CACHE_DIRECTORY` or
 * `~/.aws/login/cache`.
 *
 * @throws {ConfigError} When no home directory is known.
 */
export async function cacheFilePath(env: EnvLike, loginSession: string): Promise<string> {
  return joinPath(loginCacheDir(env), await cacheFileName(loginSession));
}

/**
 * Parses and validates the text of a cache file. Accepts the layouts of the CLI (one line), the JS
 * SDK (2-space JSON, millisecond times) and the Go SDK (`identityToken`, offsets).
 *
 * @param text The file contents.
 * @param path The file, for messages.
 * @returns The token, every field kept; `idToken` filled from Go's `identityToken` when absent.
 * @throws {CacheError} `ERR_CACHE_CORRUPT` when the text is not a JSON object or a required field is
 *   missing or invalid.
 */
export function parseCachedToken(text: string, path: string): CachedLoginToken {
  const head = `Cannot read token cache "${path}"`;
  if (text.trim() === "") {
    throw new CacheError("ERR_CACHE_CORRUPT", `${head}: it is empty. ${LOGIN_HINT}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // No cause: the parser's message quotes the text, which holds secrets.
    throw new CacheError(
      "ERR_CACHE_CORRUPT",
      `${head}: it is not valid JSON (truncated or damaged). ${LOGIN_HINT}`,
    );
  }
  if (!isObject(value)) {
    throw new CacheError(
      "ERR_CACHE_CORRUPT",
      `${head}: it is not a JSON object. ${LOGIN_HINT}`,
    );
  }
  // Field names only: the values are secrets.
  const bad: string[] = [];
  const check = (obj: Record<string, unknown>, key: string, label: string) => {
    const v = obj[key];
    if (typeof v !== "string" || v === "") bad.push(label);
  };
  const access = value.accessToken;
  if (!isObject(access)) bad.push("accessToken");
  else {
    for (const key of ACCESS_FIELDS) {
      if (key === "expiresAt" && typeof access.expiresAt === "string" && access.expiresAt !== "") {
        if (Number.isNaN(parseRfc3339(access.expiresAt))) {
          bad.push("accessToken.expiresAt (not an RFC 3339 time)");
        }
      } else check(access, key, `accessToken.${key}`);
    }
  }
  for (const key of TOP_FIELDS) check(value, key, key);
  if (bad.length > 0) {
    throw new CacheError(
      "ERR_CACHE_CORRUPT",
      `${head}: missing or invalid ${bad.join(", ")}. ${LOGIN_HINT}`,
    );
  }
  // Optional fields of the wrong type are dropped rather than locking the user out of a session.
  for (const key of OPTIONAL_STRINGS) {
    if (key in value && typeof value[key] !== "string") delete value[key];
  }
  if (
    value.idToken === undefined && typeof value.identityToken === "string" && value.identityToken
  ) {
    value.idToken = value.identityToken; // the Go SDK's name for it
  }
  return value as CachedLoginToken;
}

/**
 * Reads and validates a cache file (see {@link readCacheFile}).
 *
 * @param path The cache file.
 * @param options.loginSession The session ARN, to name it when the file is missing.
 * @throws {CacheError} `ERR_CACHE_MISSING` when there is no file, `ERR_CACHE_CORRUPT` when it is
 *   not a valid token (still, after re-reading), `ERR_CACHE_UNSAFE` when it is not the user's own
 *   regular file, `ERR_CACHE_IO` when it cannot be read.
 */
export function readCachedToken(
  path: string,
  options: { loginSession?: string } = {},
): Promise<CachedLoginToken> {
  return readCacheFile(path, (text) => parseCachedToken(text, path), options);
}

/**
 * Reads a cache file the way every reader must: only the user's own regular file, at most 1 MiB
 * (see `readOwnFile`). When `parse` throws — the file is empty, not JSON, or lacks fields — the
 * AWS CLI or an SDK may be rewriting it in place (truncate, then write): it is read again, with
 * pauses growing to 20 ms, for {@link TORN_READ_WINDOW_MS}, and for up to
 * {@link TORN_WRITE_WAIT_MS} while it was modified that recently, before `parse`'s error is thrown.
 * No pause when the first read parses.
 *
 * @param path The cache file.
 * @param parse Turns the text into the value; throws when the text is not (yet) valid.
 * @param options.loginSession The session ARN, to name it when the file is missing.
 * @param options.reread Whether to read again when `parse` throws (default true).
 * @throws {CacheError} `ERR_CACHE_MISSING`, `ERR_CACHE_UNSAFE` or `ERR_CACHE_IO` as
 *   {@link readCachedToken}; whatever `parse` throws last.
 */
export async function readCacheFile<T>(
  path: string,
  parse: (text: string) => T,
  options: { loginSession?: string; reread?: boolean } = {},
): Promise<T> {
  const started = Date.now();
  for (let pause = 1;; pause = Math.min(pause * 2, 20)) {
    const text = readCacheText(path, options.loginSession);
    try {
      return parse(text);
    } catch (err) {
      if (options.reread === false) throw err;
      const waited = Date.now() - started;
      const writing = waited < TORN_WRITE_WAIT_MS && modifiedWithin(path, TORN_WRITE_WAIT_MS);
      if (waited >= TORN_READ_WINDOW_MS && !writing) throw err;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/** Whether `path` was modified less than `ms` ago (false when that cannot be told). */
function modifiedWithin(path: string, ms: number): boolean {
  try {
    const mtime = Deno.statSync(path).mtime;
    return mtime !== null && Date.now() - mtime.getTime() < ms;
  } catch {
    return false;
  }
}

function readCacheText(path: string, loginSession: string | undefined): string {
  try {
    return new TextDecoder().decode(readOwnFile(path));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      const which = loginSession ? ` for "${loginSession}"` : "";
      throw new CacheError(
        "ERR_CACHE_MISSING",
        `No cached login session${which} (file "${path}"). Run "aws-login login" to sign in.`,
        { cause: err },
      );
    }
    throw fileError(path, err, "Cannot read token cache");
  }
}

/**
 * Serialises a token as the AWS CLI writes it: one line, Python `json.dumps` spacing and ASCII
 * escapes, known keys in the CLI's order, then `signInRegion` and `signInEndpoint`, then any other
 * keys as they came. Fields of any depth are written without recursion.
 */
export function serializeCachedToken(token: CachedLoginToken): string {
  const access: Record<string, unknown> = orderKeys(token.accessToken, ACCESS_FIELDS);
  return pythonJson({ ...orderKeys(token, TOP_ORDER), accessToken: access }, TOP_ORDER);
}

/**
 * Checks, before a refresh rotates the session's refresh token at the server, that its write-back
 * can happen: the path is not a symlink another user could have planted, the token serialises, and
 * the directory takes a new file of that size (a full disk, a read-only mount). Whatever fails here
 * fails with the old session still intact.
 *
 * @param path The cache file.
 * @param token The token as it is now (the write-back has the same fields, new values).
 * @throws {CacheError} `ERR_CACHE_UNSAFE` for a planted symlink, `ERR_CACHE_IO` when the directory
 *   does not take the file, `ERR_CACHE_CORRUPT` when the token cannot be serialised.
 */
export function checkCacheWritable(path: string, token: CachedLoginToken): void {
  let text: string;
  try {
    text = serializeCachedToken(token);
  } catch (err) {
    throw new CacheError(
      "ERR_CACHE_CORRUPT",
      `Cannot write token cache "${path}" back: its contents cannot be serialised ` +
        `(${err instanceof Error ? err.name : "error"}). ${LOGIN_HINT}`,
    );
  }
  let probe: string | undefined;
  try {
    const target = resolveWriteTarget(path);
    probe = `${target}.${crypto.getRandomValues(new Uint32Array(2)).join("")}.tmp`;
    // createNew: never through a name someone else planted.
    Deno.writeTextFileSync(probe, text, { createNew: true, mode: FILE_MODE });
  } catch (err) {
    throw fileError(path, err, "Cannot write token cache");
  } finally {
    if (probe !== undefined) removeTempFile(probe);
  }
}

/**
 * Writes a cache file atomically (temp file + rename), file 0600 and new directories 0700. On
 * failure the old file is left as it was.
 *
 * @param path The cache file.
 * @param token The whole token to store (the caller merges in the fields to keep).
 * @throws {CacheError} `ERR_CACHE_UNSAFE` for a symlink another user could have planted,
 *   `ERR_CACHE_IO` for any other failure.
 */
export function writeCachedToken(path: string, token: CachedLoginToken): void {
  const text = serializeCachedToken(token);
  try {
    writeFileAtomic(path, text, { mode: FILE_MODE, dirMode: DIR_MODE });
  } catch (err) {
    throw fileError(path, err, "Cannot write token cache");
  }
}

/**
 * Makes an existing cache directory that is open to group or others private (0700), when it is the
 * user's: the AWS CLI creates it 0755, and in a directory others can write to they can plant or
 * swap files. One the user does not own cannot be fixed and is reported instead. POSIX only.
 *
 * @param dir The cache directory.
 * @returns A line for stderr (no trailing newline) saying what was changed, or what is wrong;
 *   undefined when nothing was (also when the directory does not exist, or on Windows). Once
 *   changed, there is nothing more to say.
 */
export function secureCacheDir(dir: string): string | undefined {
  if (Deno.build.os === "windows") return undefined;
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(dir);
  } catch {
    return undefined;
  }
  const mode = info.mode;
  if (mode === null || (mode & 0o077) === 0) return undefined;
  const octal = (mode & 0o777).toString(8).padStart(3, "0");
  const open = `The login cache directory "${dir}" is open to other users (mode ${octal})`;
  if (info.uid !== Deno.uid()) return `${open} and belongs to another user: use one of your own`;
  try {
    Deno.chmodSync(dir, DIR_MODE);
  } catch (err) {
    return `${open} and cannot be made private (${reason(err)}). Run "chmod 700 '${dir}'"`;
  }
  return `The login cache directory "${dir}" was open to other users (mode ${octal}); ` +
    `aws-login changed it to 700`;
}

/**
 * Runs `fn` holding an exclusive lock on `<path>.lock`, shared by every aws-login process. The lock
 * is an OS file lock (flock / LockFileEx), which the OS releases when its holder dies, so a killed
 * process cannot leave it stuck.
 *
 * A lock on a file that no longer has the name locks nothing: logout removes the lock file (under
 * the lock, see {@link removeCachedToken}), and so may the user or another tool, while a process
 * waits on it; a newcomer then creates and locks a fresh file, and both would be "in". So once a
 * lock is taken, the locked file must still be the one at the path (same device and inode), else
 * it is let go and the path opened and locked again, within the same deadline.
 *
 * @param path The cache file to guard.
 * @param fn The critical section.
 * @param options.timeoutMs Longest wait for the lock (default 30 s).
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
      throw fileError(lockPath, err, "Cannot open the lock file");
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

/**
 * Removes a session's cache file and its lock file (logout). Both go under the lock: a refresh in
 * progress finishes first (else it would write the session back). A process that was waiting on the
 * removed lock file finds, once it gets the lock, that the file is gone, and locks the new one (see
 * {@link withCacheLock}); so no lock files are left behind.
 *
 * @param path The cache file.
 * @param options.timeoutMs Longest wait for a refresh in progress (default 30 s).
 * @returns Whether the cache file existed.
 * @throws {CacheError} `ERR_CACHE_IO` when a file cannot be removed, `ERR_CACHE_LOCK` when another
 *   process holds the lock for too long.
 */
export async function removeCachedToken(
  path: string,
  options: { timeoutMs?: number } = {},
): Promise<boolean> {
  const lockPath = `${path}.lock`;
  const present = async (p: string) => await Deno.lstat(p).then(() => true, () => false);
  if (!(await present(path)) && !(await present(lockPath))) return false;
  return await withCacheLock(path, async () => {
    let removed = true;
    try {
      await Deno.remove(path);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) {
        throw new CacheError("ERR_CACHE_IO", `Cannot remove "${path}": ${reason(err)}`, {
          cause: err,
        });
      }
      removed = false;
    }
    // Best effort: a lock file left behind is harmless (Windows may refuse while it is open).
    await Deno.remove(lockPath).catch(() => {});
    return removed;
  }, options);
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
      throw new CacheError("ERR_CACHE_IO", `Cannot lock "${lockPath}": ${reason(err)}`, {
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

/**
 * When the credentials of `token` expire, in epoch milliseconds.
 *
 * @throws {CacheError} `ERR_CACHE_CORRUPT` when `accessToken.expiresAt` is not an RFC 3339 time
 *   (never for a token from {@link parseCachedToken}).
 */
export function expiresAtMs(token: CachedLoginToken): number {
  const ms = parseRfc3339(String(token.accessToken.expiresAt));
  if (Number.isNaN(ms)) {
    throw new CacheError(
      "ERR_CACHE_CORRUPT",
      `Cannot read the login token cache: invalid accessToken.expiresAt (not an RFC 3339 time). ` +
        LOGIN_HINT,
    );
  }
  return ms;
}

/** Formats epoch milliseconds as the CLI does: `YYYY-MM-DDTHH:MM:SSZ` (UTC, seconds truncated). */
export function formatExpiresAt(ms: number): string {
  return formatUtcSeconds(ms);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A copy of `obj` with the `order` keys first (when present), then the rest as they came. */
function orderKeys<T extends Record<string, unknown>>(obj: T, order: readonly string[]): T {
  // No prototype, so a "__proto__" key from the file stays an ordinary key.
  const out: Record<string, unknown> = Object.create(null);
  for (const key of order) if (obj[key] !== undefined) out[key] = obj[key];
  for (const [key, v] of Object.entries(obj)) if (!(key in out) && v !== undefined) out[key] = v;
  return out as T;
}

/**
 * JSON as Python's `json.dumps` writes it: `", "` and `": "` separators, non-ASCII as `\uXXXX`; keys
 * of the top-level object in `order` first. An explicit stack, not recursion, so a field nested
 * 20,000 deep (another tool's, or a hostile one) cannot overflow the call stack mid-write.
 */
function pythonJson(root: unknown, order?: readonly string[]): string {
  const out: string[] = [];
  // Work items, last first: text to emit as is, or a value to write.
  const work: ({ text: string } | { value: unknown; order?: readonly string[] })[] = [
    { value: root, order },
  ];
  for (let item = work.pop(); item !== undefined; item = work.pop()) {
    if ("text" in item) {
      out.push(item.text);
      continue;
    }
    const value = item.value;
    if (Array.isArray(value)) {
      const parts: typeof work = [{ text: "[" }];
      value.forEach((v, i) => {
        if (i > 0) parts.push({ text: ", " });
        parts.push({ value: v });
      });
      parts.push({ text: "]" });
      for (let i = parts.length - 1; i >= 0; i--) work.push(parts[i]!);
    } else if (isObject(value)) {
      const obj = item.order ? orderKeys(value, item.order) : value;
      const parts: typeof work = [{ text: "{" }];
      for (const [key, v] of Object.entries(obj)) {
        if (v === undefined || typeof v === "function") continue;
        if (parts.length > 1) parts.push({ text: ", " });
        parts.push({ text: `${pythonString(key)}: ` }, { value: v });
      }
      parts.push({ text: "}" });
      for (let i = parts.length - 1; i >= 0; i--) work.push(parts[i]!);
    } else if (typeof value === "string") out.push(pythonString(value));
    else out.push(JSON.stringify(value) ?? "null");
  }
  return out.join("");
}

function pythonString(s: string): string {
  return JSON.stringify(s).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function fileError(path: string, err: unknown, action: string): CacheError {
  if (err instanceof CacheError) return err;
  if (err instanceof UnsafePathError) {
    return new CacheError(
      "ERR_CACHE_UNSAFE",
      `${action} "${path}": ${err.reason}. Remove it, then run "aws-login login" again.`,
      { cause: err },
    );
  }
  return new CacheError("ERR_CACHE_IO", `${action} "${path}": ${reason(err)}`, { cause: err });
}

/** A short reason for a Deno I/O error (its message names the OS error, not file contents). */
function reason(err: unknown): string {
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (err instanceof Deno.errors.NotCapable) return "aws-login lacks the file permission";
  if (err instanceof Deno.errors.IsADirectory) return "it is a directory";
  if (err instanceof Error) return err.message.replace(/\s+/g, " ").trim() || err.name;
  return String(err);
}
