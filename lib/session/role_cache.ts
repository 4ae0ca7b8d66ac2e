/**
 * The AWS CLI's role cache, shared both ways: `~/.aws/cli/cache/<key>.json`, where the key is the
 * SHA-1 of the AssumeRole arguments as Python's `json.dumps(args, sort_keys=True)` writes them
 * (botocore `BaseAssumeRoleCredentialFetcher._create_cache_key`), and the content is the
 * AssumeRole reply as JSON with `Credentials.AccountId` added and `Expiration` in the CLI's
 * `strftime('%Y-%m-%dT%H:%M:%S%Z')` form (`2026-12-06T21:00:00UTC`). A role assumed by the AWS CLI
 * is so used by aws-login without a new AssumeRole, and the other way round.
 *
 * Files are read as carefully as the login cache (the user's own regular file, a size cap, re-read
 * while torn) and written atomically, 0600 in a 0700 directory when we create it.
 *
 * On the credential hot path: `Deno.*` and WebCrypto only. Messages name files and fields, never
 * values.
 *
 * @see docs/PROTOCOL.md §16
 * @module
 */
import { CacheError } from "../errors.ts";
import { DIR_MODE, FILE_MODE, joinPath, writeFileAtomic } from "../files.ts";
import { type EnvLike, roleCacheDir } from "../aws/paths.ts";
import { cacheFileError, readCacheFile } from "./cache_read.ts";
import { isObject, pythonJson } from "./python_json.ts";
import { parseRfc3339 } from "./utc_time.ts";
import type { Credentials } from "./credential_types.ts";

/** The AssumeRole arguments that name a cache entry (only those that are set). */
export interface RoleCacheArgs {
  readonly RoleArn: string;
  /** Only when configured: a generated default name is not part of the key. */
  readonly RoleSessionName?: string;
  readonly ExternalId?: string;
  readonly SerialNumber?: string;
  readonly DurationSeconds?: number;
}

/** A cached AssumeRole result. */
export interface RoleCacheEntry extends Credentials {
  /** The assumed-role ARN, when the entry has it. */
  readonly assumedRoleArn: string | undefined;
}

/**
 * The cache key of a set of AssumeRole arguments: lowercase hex SHA-1 of
 * `json.dumps(args, sort_keys=True)` (UTF-8), as the AWS CLI derives it.
 */
export async function roleCacheKey(args: RoleCacheArgs): Promise<string> {
  const text = pythonJson(args, { sortKeys: true });
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text)),
  );
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** `~/.aws/cli/cache/<key>.json`. */
export async function roleCachePath(env: EnvLike, args: RoleCacheArgs): Promise<string> {
  return joinPath(roleCacheDir(env), `${await roleCacheKey(args)}.json`);
}

/**
 * A time as the AWS CLI writes and reads it: `…UTC` (its own form), RFC 3339 `…Z` or an offset.
 * NaN when it is none of these.
 */
export function parseRoleExpiration(text: string): number {
  const utc = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?:UTC|GMT)$/.exec(text);
  return parseRfc3339(utc ? `${utc[1]}Z` : text);
}

/** `YYYY-MM-DDTHH:MM:SSUTC`, as the AWS CLI writes `Expiration` (strftime `%Z` of UTC). */
export function formatRoleExpiration(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "UTC");
}

const CRED_FIELDS = ["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"] as const;

/**
 * Parses a role cache file.
 *
 * @throws {CacheError} `ERR_CACHE_CORRUPT` naming the missing or invalid fields (never values).
 */
export function parseRoleCacheEntry(text: string, path: string): RoleCacheEntry {
  const head = `Cannot read the role cache "${path}"`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // No cause: the parser's message quotes the text, which holds secrets.
    throw new CacheError("ERR_CACHE_CORRUPT", `${head}: it is not valid JSON`);
  }
  const creds = isObject(value) ? value.Credentials : undefined;
  if (!isObject(creds)) {
    throw new CacheError("ERR_CACHE_CORRUPT", `${head}: it has no Credentials object`);
  }
  const bad = CRED_FIELDS.filter((k) => typeof creds[k] !== "string" || creds[k] === "");
  const expiresAtMs = typeof creds.Expiration === "string"
    ? parseRoleExpiration(creds.Expiration)
    : NaN;
  if (bad.length === 0 && Number.isNaN(expiresAtMs)) bad.push("Expiration");
  if (bad.length > 0) {
    throw new CacheError(
      "ERR_CACHE_CORRUPT",
      `${head}: missing or invalid ${bad.map((k) => `Credentials.${k}`).join(", ")}`,
    );
  }
  const user = isObject(value) && isObject(value.AssumedRoleUser) ? value.AssumedRoleUser : {};
  const assumedRoleArn = typeof user.Arn === "string" ? user.Arn : undefined;
  const accountId = typeof creds.AccountId === "string" && /^\d{12}$/.test(creds.AccountId)
    ? creds.AccountId
    : accountOf(assumedRoleArn);
  return {
    accessKeyId: creds.AccessKeyId as string,
    secretAccessKey: creds.SecretAccessKey as string,
    sessionToken: creds.SessionToken as string,
    accountId: accountId ?? "",
    expiresAtMs,
    assumedRoleArn,
  };
}

function accountOf(arn: string | undefined): string | undefined {
  const account = arn?.split(":")[4];
  return account !== undefined && /^\d{12}$/.test(account) ? account : undefined;
}

/**
 * Reads a role cache entry; undefined when there is none, or when it is damaged (it is then
 * replaced by the next AssumeRole, as the AWS CLI does).
 *
 * @throws {CacheError} `ERR_CACHE_UNSAFE` when the file is not the user's own regular file,
 *   `ERR_CACHE_IO` when it cannot be read.
 */
export async function readRoleCacheEntry(path: string): Promise<RoleCacheEntry | undefined> {
  try {
    return await readCacheFile(path, (text) => parseRoleCacheEntry(text, path), {
      // Not a login token: removing it is enough, the role is assumed again when next used.
      describe: {
        action: "Cannot read the role cache",
        unsafeHint: "Remove it: the role is assumed again when next used.",
      },
    });
  } catch (err) {
    if (
      err instanceof CacheError &&
      (err.code === "ERR_CACHE_MISSING" || err.code === "ERR_CACHE_CORRUPT")
    ) return undefined;
    throw err;
  }
}

/** What an AssumeRole answered, as the role cache stores it. */
export interface AssumedRole extends Credentials {
  readonly assumedRoleArn: string;
  readonly assumedRoleId: string;
  readonly requestId: string | undefined;
}

/**
 * The file the AWS CLI writes for an AssumeRole reply: `Credentials` (with `AccountId`),
 * `AssumedRoleUser`, `ResponseMetadata`, Python `json.dumps` spacing.
 */
export function serializeRoleCacheEntry(role: AssumedRole): string {
  return pythonJson({
    Credentials: {
      AccessKeyId: role.accessKeyId,
      SecretAccessKey: role.secretAccessKey,
      SessionToken: role.sessionToken,
      Expiration: formatRoleExpiration(role.expiresAtMs),
      AccountId: role.accountId,
    },
    AssumedRoleUser: { AssumedRoleId: role.assumedRoleId, Arn: role.assumedRoleArn },
    ResponseMetadata: {
      RequestId: role.requestId ?? "",
      HTTPStatusCode: 200,
      HTTPHeaders: {},
      RetryAttempts: 0,
    },
  });
}

/**
 * Writes a role cache entry atomically (file 0600, new directories 0700).
 *
 * @throws {CacheError} `ERR_CACHE_UNSAFE` for a planted symlink, `ERR_CACHE_IO` otherwise.
 */
export function writeRoleCacheEntry(path: string, role: AssumedRole): void {
  try {
    writeFileAtomic(path, serializeRoleCacheEntry(role), { mode: FILE_MODE, dirMode: DIR_MODE });
  } catch (err) {
    throw cacheFileError(path, err, "Cannot write the role cache", "Remove it and try again.");
  }
}
