/**
 * The write side of the AWS CLI's role cache (`~/.aws/cli/cache/<key>.json`; the key, the file's
 * format and its careful read are in role_credentials.ts, on the warm path): the AssumeRole reply
 * as the AWS CLI writes it — `Credentials` with `AccountId` added and `Expiration` in its
 * `strftime('%Y-%m-%dT%H:%M:%S%Z')` form (`2026-12-06T21:00:00UTC`), Python `json.dumps` spacing —
 * written atomically, 0600 in a 0700 directory when we create it.
 *
 * Loaded only when an AssumeRole is due (or by logout/tests), never on the warm path. Messages name
 * files, never values.
 *
 * @see docs/PROTOCOL.md §16
 * @module
 */
import { DIR_MODE, FILE_MODE, writeFileAtomic } from "../files.ts";
import { cacheFileError } from "./cache_read.ts";
import { pythonJson } from "./python_json.ts";
import type { Credentials } from "./credential_types.ts";

/** `YYYY-MM-DDTHH:MM:SSUTC`, as the AWS CLI writes `Expiration` (strftime `%Z` of UTC). */
export function formatRoleExpiration(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "UTC");
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
