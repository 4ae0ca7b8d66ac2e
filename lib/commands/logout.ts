/**
 * `aws-login logout [--profile NAME] [--all] [--no-revoke]`: ends the session at AWS Sign-In
 * (`RevokeOAuth2TokenWithIAM`, so a copy of the refresh token is useless from then on), then deletes
 * the cache file as `aws logout` does; the config file is untouched. One profile: its cache file
 * (and lock file), naming the other profiles with the same identity, which share that file.
 * `--all`: every file in the cache directory that is a login token — a JSON object whose
 * `accessToken` is an object with an `accessKeyId` — with its lock file, and nothing else, each
 * revoked first.
 *
 * A revocation that fails (network, no `signin:RevokeOAuth2TokenWithIAM` permission) never keeps
 * the file: it is deleted all the same, with a warning that the token stays usable until the
 * session ends. `--no-revoke` is the AWS CLI's local-only logout.
 *
 * @see docs/PROTOCOL.md §9, §14
 * @module
 */
import { parseArgs } from "../cli/args.ts";
import type { Deps } from "../cli/deps.ts";
import { CacheError, EXIT, isPermissionFailure } from "../errors.ts";
import { joinPath } from "../files.ts";
import { loginCacheDir } from "../aws/paths.ts";
import { readProfileFiles } from "../aws/profile_reader.ts";
import {
  credentialProcessSource,
  findLoginSession,
  listLoginSessions,
  loadProfileSession,
  missingProfileHint,
  type ProfileSession,
  sessionWithoutProfile,
} from "../session/profile_session.ts";
import { cacheFilePath, removeCachedToken } from "../session/token_cache.ts";
import { readCacheFile } from "../session/cache_read.ts";

export const help = `Usage: aws-login logout [--profile NAME] [--all] [--no-revoke]

End a profile's login session: revoke its refresh token at AWS Sign-In, then remove its cached
login credentials (its file in ~/.aws/login/cache) and the cached role credentials
(~/.aws/cli/cache) of every role profile that comes from it. For a role profile, the login session
it comes from is logged out. With --all, every cached login session (and every role profile's
cached role credentials). The config file is not changed: run "aws-login login" to sign in again.
Tools that already hold the access credentials can use them until they expire (at most 15 minutes).

Revoking needs the permission signin:RevokeOAuth2TokenWithIAM and is signed with the session's own
credentials (refreshed first when they have expired). Each session is revoked at the Sign-In
endpoint recorded in its cache file (where it was made), whatever the endpoint settings say now.
When it fails, the file is removed all the same and a warning says the refresh token stays usable
until the session ends; a session that had already ended or been revoked is said to be so.

Options:
  --profile NAME  Profile to log out (default: AWS_PROFILE, AWS_DEFAULT_PROFILE, then "default")
  --all           Log out of every cached login session (not with --profile)
  --no-revoke     Only remove the local files, as "aws logout" does (nothing is sent to AWS)
  --debug         Log what happens to stderr
  -h, --help      Show this help
`;

/** Options of `logout`. */
export interface LogoutOptions {
  readonly profile?: string;
  readonly all: boolean;
  /** Revoke at AWS Sign-In before deleting (default; `--no-revoke` turns it off). */
  readonly revoke: boolean;
}

/**
 * @throws {UsageError} On an unknown option, or `--all` with `--profile`: which one was meant is a
 *   guess, and a wrong guess logs out of every session.
 */
export function parse(argv: readonly string[]): LogoutOptions {
  const args = parseArgs(argv, {
    boolean: ["all", "no-revoke"],
    string: ["profile"],
    conflicts: [["all", "profile", "--all logs out of every profile's session"]],
  });
  return { profile: args.values.profile, all: args.flags.all, revoke: !args.flags["no-revoke"] };
}

/** Revokes and removes the cached credentials and says so, with the AWS CLI's messages. */
export async function run(options: LogoutOptions, deps: Deps): Promise<number> {
  if (options.all) return await logoutAll(options, deps);
  let { profile, loginSession } = await findLoginSession(deps.env, options.profile);
  if (loginSession === undefined) {
    const role = await roleSource(deps, profile);
    if (role !== undefined) {
      deps.stdout.write(
        `Profile '${profile}' assumes a role with the login session of profile '${role}': ` +
          `logging out '${role}'.\n`,
      );
      ({ profile, loginSession } = await findLoginSession(deps.env, role));
    }
  }
  if (loginSession === undefined) {
    deps.stderr.write(`warning: no login session found for profile '${profile}'\n`);
    const hint = await missingProfileHint(deps.env, profile);
    if (hint) deps.stderr.write(`${hint.trim()}\n`);
    // A profile that hands out another profile's session: name that one, which can be logged out.
    const other = hint ? undefined : await credentialProcessSource(
      readProfileFiles(deps.env).shared(),
      profile,
    );
    if (other !== undefined) deps.stderr.write(`${other.message}\n`);
    return EXIT.ok;
  }
  const path = await cacheFilePath(deps.env, loginSession);
  if (options.revoke && await isLoginToken(path)) {
    const session = await loadProfileSession(deps.env, profile);
    if (await revoke(path, session, `profile '${profile}'`, deps)) {
      deps.stdout.write(`Revoked the login session of profile '${profile}' at AWS Sign-In.\n`);
    }
  }
  const removed = await removeCachedToken(path);
  deps.debug(removed ? `removed "${path}"` : `"${path}" did not exist`);
  await removeRoleCaches(deps, profile);
  if (!removed) {
    deps.stdout.write(
      `Profile '${profile}' is already logged out: there was no cached login session to remove.\n`,
    );
    return EXIT.ok;
  }
  deps.stdout.write(
    `Removed cached login credentials for profile '${profile}'. Note, any local developer tools ` +
      `that have already loaded the access token may continue to use it until its expiration. ` +
      `Access tokens expire in 15 minutes.\n`,
  );
  // Profiles with the same identity share one cache file (as in the AWS CLI): say who else is out.
  const others = (await listLoginSessions(deps.env))
    .filter((s) => s.loginSession === loginSession && s.profile !== profile)
    .map((s) => `'${s.profile}'`);
  if (others.length > 0) {
    deps.stdout.write(
      `${others.length === 1 ? "Profile" : "Profiles"} ${others.join(", ")} ` +
        `${others.length === 1 ? "uses" : "use"} the same login session (${loginSession}) and ` +
        `${others.length === 1 ? "is" : "are"} logged out too.\n`,
    );
  }
  return EXIT.ok;
}

/** The login profile a role profile's chain ends in, when `profile` is a role profile. */
async function roleSource(deps: Deps, profile: string): Promise<string | undefined> {
  const { readProfile } = await import("../aws/profile_reader.ts");
  const { isRoleProfile } = await import("../session/profile_credentials.ts");
  const config = await readProfile(deps.env, profile);
  if (!config.exists || !isRoleProfile(config.keys)) return undefined;
  const { resolveRoleChain, profileLookup } = await import("../session/role_credentials.ts");
  const chain = await resolveRoleChain(
    config,
    profileLookup(deps.env),
    (name) => missingProfileHint(deps.env, name),
  );
  return chain.login.name;
}

/**
 * Removes the AWS CLI role cache entries of every role profile whose chain ends in the login
 * session of `loginProfile` (undefined: any login session; they would be refused anyway, this
 * leaves no credentials behind).
 */
async function removeRoleCaches(deps: Deps, loginProfile: string | undefined): Promise<void> {
  const { roleCacheFilesOf } = await import("../session/role_status.ts");
  let count = 0;
  for (const file of await roleCacheFilesOf(deps.env, loginProfile)) {
    // Under the entry's lock, as a login cache file: an AssumeRole in progress writes first (not
    // after the removal), and the lock file goes too, leaving nothing in the AWS CLI's folder.
    try {
      if (await removeCachedToken(file)) {
        count++;
        deps.debug(`removed "${file}"`);
      }
    } catch (err) {
      // A CacheError names the file already.
      const why = err instanceof CacheError
        ? err.message
        : `cannot remove "${file}": ${message(err)}`;
      deps.stderr.write(`aws-login: warning: ${why}\n`);
    }
  }
  if (count > 0) {
    deps.stdout.write(
      `Removed ${count} cached role ${count === 1 ? "credential" : "credentials"} of role ` +
        `profiles that come from ${
          loginProfile === undefined ? "these login sessions" : `profile '${loginProfile}'`
        }.\n`,
    );
  }
}

/** The lock file of a cache file: `<sha256 hex>.json.lock`. */
const LOCK_NAME = /^([0-9a-f]{64}\.json)\.lock$/;

async function logoutAll(options: LogoutOptions, deps: Deps): Promise<number> {
  const dir = loginCacheDir(deps.env);
  const profiles = options.revoke ? await profilesByCacheFile(deps) : new Map();
  let count = 0;
  let revoked = 0;
  const names = await listFiles(dir);
  for (const name of names) {
    const path = joinPath(dir, name);
    if (!(await isLoginToken(path))) continue;
    if (options.revoke) {
      const session: ProfileSession = profiles.get(path) ??
        sessionWithoutProfile(deps.env, `cache file ${name}`);
      const label = profiles.has(path) ? `profile '${session.profile}'` : `"${path}"`;
      if (await revoke(path, session, label, deps)) revoked++;
    }
    if (await removeCachedToken(path)) count++;
    deps.debug(`removed "${path}"`);
  }
  // Lock files whose cache file is gone (an older logout left them), when no one holds them.
  for (const name of names) {
    const cacheName = LOCK_NAME.exec(name)?.[1];
    if (cacheName === undefined || names.includes(cacheName)) continue;
    await removeCachedToken(joinPath(dir, cacheName));
  }
  if (revoked > 0) {
    deps.stdout.write(
      `Revoked ${revoked} login session${revoked === 1 ? "" : "s"} at AWS Sign-In.\n`,
    );
  }
  if (count === 0) {
    deps.stdout.write("No cached login session tokens found.\n");
  } else {
    deps.stdout.write(
      `Removed ${count} cached login credential${count === 1 ? "" : "s"}. Note, any local ` +
        `developer tools that have already loaded access tokens may continue to use them until ` +
        `their expiration. Access tokens expire in 15 minutes.\n`,
    );
  }
  await removeRoleCaches(deps, undefined);
  return EXIT.ok;
}

/** Each cache file a profile names, with that profile's session (the first profile wins). */
async function profilesByCacheFile(deps: Deps): Promise<Map<string, ProfileSession>> {
  const byPath = new Map<string, ProfileSession>();
  for (const session of await listLoginSessions(deps.env)) {
    const path = await cacheFilePath(deps.env, session.loginSession);
    if (!byPath.has(path)) byPath.set(path, session);
  }
  return byPath;
}

/**
 * Revokes the session in `path`, warning (never failing) when that is not possible, except for a
 * missing Deno permission: that stops the logout before the file is removed.
 *
 * @returns Whether AWS Sign-In revoked it.
 * @throws What `isPermissionFailure` recognizes.
 */
async function revoke(
  path: string,
  session: ProfileSession,
  label: string,
  deps: Deps,
): Promise<boolean> {
  try {
    const { revokeCachedSession } = await import("../session/session_control.ts");
    if (await revokeCachedSession(path, session, deps) === "revoked") return true;
    // Its refresh was refused as a session that is over: a copy of the file is worthless too.
    deps.stderr.write(
      `aws-login: the login session of ${label} had already ended or been revoked\n`,
    );
    return false;
  } catch (err) {
    // Not a failure to warn about and delete anyway: the fix is how aws-login is run (exit 3).
    if (isPermissionFailure(err)) throw err;
    if (err instanceof CacheError && err.code === "ERR_CACHE_MISSING") return false;
    const reason = err instanceof Error ? err.message : String(err);
    deps.stderr.write(
      `aws-login: warning: the login session of ${label} was not revoked at AWS Sign-In: ` +
        `${reason.replace(/\.$/, "")}. Its refresh token stays usable until the session ends ` +
        `(at most 12 hours after sign-in)\n`,
    );
    return false;
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) if (entry.isFile) names.push(entry.name);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw new CacheError("ERR_CACHE_IO", `Cannot list the login cache "${dir}": ${message(err)}`, {
      cause: err,
    });
  }
  return names.sort();
}

/**
 * Whether `path` holds a login token: the user's own file, a JSON object whose `accessToken` has
 * `accessKeyId`. A `.json` file that does not parse is read again for a moment, as every cache read
 * is (another program may be rewriting it); other files (the empty `.lock` files) are read once.
 */
export async function isLoginToken(path: string): Promise<boolean> {
  try {
    return await readCacheFile(path, (text) => {
      const data: unknown = JSON.parse(text);
      if (typeof data !== "object" || data === null || Array.isArray(data)) return false;
      const accessToken = (data as Record<string, unknown>).accessToken;
      return typeof accessToken === "object" && accessToken !== null &&
        !Array.isArray(accessToken) && "accessKeyId" in accessToken;
    }, { reread: path.endsWith(".json") });
  } catch {
    return false; // unreadable, not the user's, or not JSON: not ours to delete
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
