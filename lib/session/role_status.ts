/**
 * What `status` and `logout` need to know of role profiles: every role profile whose chain ends in
 * a login session, and what the AWS CLI's role cache holds for it (read only; nothing is assumed).
 *
 * @see docs/PROTOCOL.md §16
 * @module
 */
import type { EnvLike } from "../aws/paths.ts";
import { ConfigError } from "../errors.ts";
import { loadSharedFiles, profileFromFiles } from "../aws/profile.ts";
import { profileNames } from "./profile_session.ts";
import { isRoleProfile } from "./profile_credentials.ts";
import {
  cacheArgsOf,
  readRoleCacheEntry,
  resolveRoleChain,
  roleCachePath,
  type RoleChain,
} from "./role_credentials.ts";

/** A role profile and its chain. */
export interface RoleProfile {
  readonly profile: string;
  readonly chain: RoleChain;
}

/**
 * Every role profile whose chain resolves (ends in a login session), in config-file order. Role
 * profiles aws-login cannot serve are left out (using one says why).
 *
 * @throws {ConfigError} When a shared file cannot be read or parsed.
 */
export async function listRoleProfiles(env: EnvLike): Promise<RoleProfile[]> {
  const files = await loadSharedFiles(env);
  const out: RoleProfile[] = [];
  for (const name of profileNames(files)) {
    const config = profileFromFiles(files, name);
    if (!isRoleProfile(config.keys)) continue;
    try {
      const chain = await resolveRoleChain(
        config,
        (n) => Promise.resolve(profileFromFiles(files, n)),
        () => Promise.resolve(""),
      );
      out.push({ profile: name, chain });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
    }
  }
  return out;
}

/** What the role cache holds for a role profile's top role. */
export interface RoleCacheStatus {
  readonly cacheFile: string;
  /** When cached credentials exist: their expiry and account. */
  readonly expiresAtMs?: number;
  readonly accountId?: string;
  readonly assumedRoleArn?: string;
}

/**
 * The cache entry of a role profile's own role (not its parents').
 *
 * @throws {CacheError} When the file is unsafe or unreadable.
 */
export async function roleCacheStatus(env: EnvLike, chain: RoleChain): Promise<RoleCacheStatus> {
  const cacheFile = await roleCachePath(env, cacheArgsOf(chain.hops[0]!));
  const entry = await readRoleCacheEntry(cacheFile);
  if (entry === undefined) return { cacheFile };
  return {
    cacheFile,
    expiresAtMs: entry.expiresAtMs,
    accountId: entry.accountId,
    assumedRoleArn: entry.assumedRoleArn,
  };
}

/**
 * The role cache files of every hop of every role profile whose chain ends in `loginProfile`
 * (undefined: in any login profile).
 */
export async function roleCacheFilesOf(
  env: EnvLike,
  loginProfile: string | undefined,
): Promise<string[]> {
  const files = new Set<string>();
  for (const { chain } of await listRoleProfiles(env)) {
    if (loginProfile !== undefined && chain.login.name !== loginProfile) continue;
    for (const hop of chain.hops) files.add(await roleCachePath(env, cacheArgsOf(hop)));
  }
  return [...files];
}
