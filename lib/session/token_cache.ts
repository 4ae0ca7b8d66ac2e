/**
 * The login token cache: the files `aws login` keeps in `~/.aws/login/cache/<sha256>.json`, shared
 * with the AWS CLI and SDKs. The login-token schema: finds a session's file, reads and validates
 * it, writes it back atomically in the CLI's layout, and removes it (logout). The careful reader is
 * `cache_read.ts`, the lock `cache_lock.ts`.
 *
 * On the credential hot path: `Deno.*` and WebCrypto only. Messages name files and fields, never
 * field values (they are secrets).
 *
 * @see docs/PROTOCOL.md §7
 * @module
 */
import { CacheError, loginCommand } from "../errors.ts";
import {
  DIR_MODE,
  FILE_MODE,
  joinPath,
  removeTempFile,
  resolveWriteTarget,
  writeFileAtomic,
} from "../files.ts";
import { type EnvLike, loginCacheDir } from "../aws/paths.ts";
import { cacheFileError, ioReason, readCacheFile } from "./cache_read.ts";
import { withCacheLock } from "./cache_lock.ts";
import { isObject, orderKeys, pythonJson } from "./python_json.ts";
import { formatUtcSeconds, parseRfc3339 } from "./utc_time.ts";
import type { TokenResult } from "../signin/signin_client.ts";

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

/** A cache entry without its credentials yet: what a token reply is applied to. */
export interface TokenBase {
  accessToken: { accountId: string; [key: string]: unknown };
  clientId: string;
  dpopKey: string;
  [key: string]: unknown;
}

/**
 * A token reply applied to a cache entry: the three keys, `expiresAt` = now + expiresIn and the new
 * refresh token; every other field (known or not) kept. The one place that turns a Sign-In reply
 * (login's code exchange, a refresh) into what the cache holds.
 *
 * @param base The entry before (a refresh) or what login knows of the new session.
 * @param reply The token reply.
 * @param now When the reply came, epoch milliseconds.
 */
export function tokenAfterReply(
  base: TokenBase,
  reply: TokenResult,
  now: number,
): CachedLoginToken {
  return {
    ...base,
    accessToken: {
      ...base.accessToken,
      accessKeyId: reply.accessKeyId,
      secretAccessKey: reply.secretAccessKey,
      sessionToken: reply.sessionToken,
      expiresAt: formatExpiresAt(now + reply.expiresIn * 1000),
    },
    refreshToken: reply.refreshToken,
  };
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

/** What to do about a damaged cache file, naming the profile once it is known. */
const loginAgain = (profile: string | undefined) => `Run "${loginCommand(profile)}" again.`;
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
    throw new CacheError("ERR_CACHE_CORRUPT", (p) => `${head}: it is empty. ${loginAgain(p)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // No cause: the parser's message quotes the text, which holds secrets.
    throw new CacheError(
      "ERR_CACHE_CORRUPT",
      (p) => `${head}: it is not valid JSON (truncated or damaged). ${loginAgain(p)}`,
    );
  }
  if (!isObject(value)) {
    throw new CacheError(
      "ERR_CACHE_CORRUPT",
      (p) => `${head}: it is not a JSON object. ${loginAgain(p)}`,
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
      (p) => `${head}: missing or invalid ${bad.join(", ")}. ${loginAgain(p)}`,
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
 * @param options.sleep The pause between re-reads of a file that looks torn (a test seam).
 * @throws {CacheError} `ERR_CACHE_MISSING` when there is no file, `ERR_CACHE_CORRUPT` when it is
 *   not a valid token (still, after re-reading), `ERR_CACHE_UNSAFE` when it is not the user's own
 *   regular file, `ERR_CACHE_IO` when it cannot be read.
 */
export function readCachedToken(
  path: string,
  options: { loginSession?: string; sleep?: (ms: number) => Promise<void> } = {},
): Promise<CachedLoginToken> {
  return readCacheFile(path, (text) => parseCachedToken(text, path), {
    missing: (_, cause) => missingSession(path, options.loginSession, cause),
    sleep: options.sleep,
  });
}

function missingSession(path: string, loginSession: string | undefined, cause: Error): CacheError {
  const which = loginSession ? ` for "${loginSession}"` : "";
  return new CacheError(
    "ERR_CACHE_MISSING",
    (p) => `No cached login session${which} (file "${path}"). Run "${loginCommand(p)}" to sign in.`,
    { cause },
  );
}

/**
 * Serialises a token as the AWS CLI writes it: one line, Python `json.dumps` spacing and ASCII
 * escapes, known keys in the CLI's order, then `signInRegion` and `signInEndpoint`, then any other
 * keys as they came. Fields of any depth are written without recursion.
 */
export function serializeCachedToken(token: CachedLoginToken): string {
  const access: Record<string, unknown> = orderKeys(token.accessToken, ACCESS_FIELDS);
  return pythonJson({ ...orderKeys(token, TOP_ORDER), accessToken: access }, { order: TOP_ORDER });
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
      (p) =>
        `Cannot write token cache "${path}" back: its contents cannot be serialised ` +
        `(${err instanceof Error ? err.name : "error"}). ${loginAgain(p)}`,
    );
  }
  let probe: string | undefined;
  try {
    const target = resolveWriteTarget(path);
    probe = `${target}.${crypto.getRandomValues(new Uint32Array(2)).join("")}.tmp`;
    // createNew: never through a name someone else planted.
    Deno.writeTextFileSync(probe, text, { createNew: true, mode: FILE_MODE });
  } catch (err) {
    throw cacheFileError(path, err, "Cannot write token cache");
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
    throw cacheFileError(path, err, "Cannot write token cache");
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
    return `${open} and cannot be made private (${ioReason(err)}). Run "chmod 700 '${dir}'"`;
  }
  return `The login cache directory "${dir}" was open to other users (mode ${octal}); ` +
    `aws-login changed it to 700`;
}

/**
 * Removes a session's cache file and its lock file (logout). Both go under the lock: a refresh in
 * progress finishes first (else it would write the session back). A process that was waiting on the
 * removed lock file finds, once it gets the lock, that the file is gone, and locks the new one (see
 * {@link withCacheLock}); so no lock files are left behind.
 *
 * @param path The cache file.
 * @param options.timeoutMs Longest wait for a refresh in progress (default 45 s).
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
        throw new CacheError("ERR_CACHE_IO", `Cannot remove "${path}": ${ioReason(err)}`, {
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
      (p) =>
        `Cannot read the login token cache: invalid accessToken.expiresAt (not an RFC 3339 ` +
        `time). ${loginAgain(p)}`,
    );
  }
  return ms;
}

/** Formats epoch milliseconds as the CLI does: `YYYY-MM-DDTHH:MM:SSZ` (UTC, seconds truncated). */
export function formatExpiresAt(ms: number): string {
  return formatUtcSeconds(ms);
}
