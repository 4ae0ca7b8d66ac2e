/**
 * `aws-login logout [--profile NAME] [--all]`, as `aws logout` does it: local only (no API call),
 * the config file untouched. One profile: delete its cache file (and lock file), naming the other
 * profiles with the same identity, which share that file. `--all`: delete every file in the cache
 * directory that is a login token — a JSON object whose `accessToken` is an object with an
 * `accessKeyId` — with its lock file, and nothing else.
 *
 * @see PROTOCOL.md §9
 * @module
 */
import { parseArgs } from "../cli/args.ts";
import type { Deps } from "../cli/deps.ts";
import { CacheError, EXIT } from "../errors.ts";
import { joinPath } from "../files.ts";
import { loginCacheDir } from "../aws/paths.ts";
import {
  findLoginSession,
  listLoginSessions,
  missingProfileHint,
} from "../session/profile_session.ts";
import { cacheFilePath, removeCachedToken } from "../session/token_cache.ts";

export const help = `Usage: aws-login logout [--profile NAME] [--all]

Remove the cached login credentials of a profile (its file in ~/.aws/login/cache), or with --all
every cached login session. Nothing is sent to AWS and the config file is not changed: run
"aws-login login" to sign in again. Tools that already hold the access credentials can use them
until they expire (at most 15 minutes).

Options:
  --profile NAME  Profile to log out (default: AWS_PROFILE, AWS_DEFAULT_PROFILE, then "default")
  --all           Remove the cached credentials of every login session
  --debug         Log what happens to stderr
  -h, --help      Show this help
`;

/** Options of `logout`. */
export interface LogoutOptions {
  readonly profile?: string;
  readonly all: boolean;
}

/** @throws {UsageError} On an unknown option. With `--all`, `--profile` is ignored (as the CLI). */
export function parse(argv: readonly string[]): LogoutOptions {
  const args = parseArgs(argv, { boolean: ["all"], string: ["profile"] });
  return { profile: args.values.profile, all: args.flags.all };
}

/** Removes the cached credentials and says so, with the AWS CLI's messages. */
export async function run(options: LogoutOptions, deps: Deps): Promise<number> {
  if (options.all) return await logoutAll(deps);
  const { profile, loginSession } = await findLoginSession(deps.env, options.profile);
  if (loginSession === undefined) {
    deps.stderr.write(`warning: no login session found for profile '${profile}'\n`);
    const hint = await missingProfileHint(deps.env, profile);
    if (hint) deps.stderr.write(`${hint.trim()}\n`);
    return EXIT.ok;
  }
  const path = await cacheFilePath(deps.env, loginSession);
  const removed = await removeCachedToken(path);
  deps.debug(removed ? `removed "${path}"` : `"${path}" did not exist`);
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

/** The lock file of a cache file: `<sha256 hex>.json.lock`. */
const LOCK_NAME = /^([0-9a-f]{64}\.json)\.lock$/;

async function logoutAll(deps: Deps): Promise<number> {
  const dir = loginCacheDir(deps.env);
  let count = 0;
  const names = await listFiles(dir);
  for (const name of names) {
    const path = joinPath(dir, name);
    if (!(await isLoginToken(path))) continue;
    if (await removeCachedToken(path)) count++;
    deps.debug(`removed "${path}"`);
  }
  // Lock files whose cache file is gone (an older logout left them), when no one holds them.
  for (const name of names) {
    const cacheName = LOCK_NAME.exec(name)?.[1];
    if (cacheName === undefined || names.includes(cacheName)) continue;
    await removeCachedToken(joinPath(dir, cacheName));
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
  return EXIT.ok;
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

/** Whether `path` holds a login token: a JSON object whose `accessToken` has `accessKeyId`. */
export async function isLoginToken(path: string): Promise<boolean> {
  let data: unknown;
  try {
    data = JSON.parse(await Deno.readTextFile(path));
  } catch {
    return false; // unreadable or not JSON: not ours to delete
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return false;
  const accessToken = (data as Record<string, unknown>).accessToken;
  return typeof accessToken === "object" && accessToken !== null && !Array.isArray(accessToken) &&
    "accessKeyId" in accessToken;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
