/**
 * The credential resolver every command uses: profile → `login_session` → cache file → the access
 * credentials, refreshed when they expire within 5 minutes.
 *
 * This is the hot path of `credential-process`, `export-env` and `exec`, so at top level it loads
 * only `Deno.*`, WebCrypto and small modules; the refresh machinery (DPoP signing, the Sign-In
 * client) is imported only when a refresh is due. A refresh happens under the cache file's
 * exclusive lock, after re-reading the file: when another process refreshed meanwhile, its result
 * is used and no request is made. Programs that take no lock (the AWS CLI, the SDKs) may still
 * refresh at the same time: before writing, the file is read once more, and credentials another
 * program wrote are kept when they last at least as long as ours. The write-back is atomic and
 * keeps every other field.
 *
 * A refresh rotates the refresh token at the server, so nothing may fail after it that loses the
 * new one: the refresh goes only to the endpoint the session was made with (`signInEndpoint`), the
 * write-back is checked before the request, and a write that still fails prints a warning and
 * returns the fresh credentials rather than an error.
 *
 * @see docs/PROTOCOL.md §4.2, §7
 * @module
 */
import type { Deps } from "../cli/deps.ts";
import { CacheError, ConfigError, isTransient } from "../errors.ts";
import { dirname } from "../files.ts";
import { loadProfileSession, type ProfileSession, type SigninEndpoint } from "./profile_session.ts";
import {
  type CachedLoginToken,
  cacheFilePath,
  checkCacheWritable,
  expiresAtMs,
  readCachedToken,
  secureCacheDir,
  withCacheLock,
  writeCachedToken,
} from "./token_cache.ts";

/** Refresh when the credentials expire within this window. */
export const REFRESH_WINDOW_MS = 300_000;
/** How long to wait for another process's refresh (longer than a refresh with all its retries). */
export const LOCK_TIMEOUT_MS = 45_000;

/** The resolved session and its access credentials. */
export interface SessionCredentials {
  readonly profile: string;
  /** The login session ARN. */
  readonly loginSession: string;
  /** The region for tools (AWS_REGION, AWS_DEFAULT_REGION, profile `region`), if any. */
  readonly region: string | undefined;
  readonly cachePath: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly accountId: string;
  readonly expiresAtMs: number;
  /** Whether this call refreshed the credentials (false when another process did). */
  readonly refreshed: boolean;
}

/** Tuning and test seams. */
export interface ResolveOptions {
  /** `--profile`; else AWS_PROFILE, AWS_DEFAULT_PROFILE, `default`. */
  readonly profile?: string;
  /** Refresh even when the credentials are fresh (status --refresh, the demo). */
  readonly forceRefresh?: boolean;
  /**
   * Throw when the refresh fails, instead of warning and using still-valid credentials (status
   * --refresh, where the user asked for a refresh and must learn that it failed).
   */
  readonly strict?: boolean;
  /** Waits between retries (default: a real timer). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Attempts in all when the credentials have expired (default 3). */
  readonly maxAttempts?: number;
  /** Per-request timeout in milliseconds (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** Longest wait between attempts, whatever Retry-After says (default 3 s). */
  readonly maxRetryDelayMs?: number;
  /** Longest wait for the cache lock (default {@link LOCK_TIMEOUT_MS}). */
  readonly lockTimeoutMs?: number;
}

/** What the resolver needs from {@link Deps}. */
export type CredentialDeps = Pick<Deps, "env" | "fetch" | "now" | "stderr" | "debug" | "reached">;

/**
 * Resolves the access credentials of a profile's login session, refreshing them when needed.
 *
 * @param deps Environment, fetch, clock, stderr (warnings) and debug log.
 * @param options Profile, forced refresh, retry and timeout settings.
 * @returns The credentials and where they came from.
 * @throws {ConfigError} When the profile does not exist or has no `login_session`.
 * @throws {CacheError} When the cache file is missing, corrupt or unreadable, or the lock fails.
 * @throws {SigninError} When AWS Sign-In refuses the refresh.
 * @throws {NetworkError} When the refresh failed on the network and the credentials have expired.
 */
export async function resolveCredentials(
  deps: CredentialDeps,
  options: ResolveOptions = {},
): Promise<SessionCredentials> {
  const session = await loadProfileSession(deps.env, options.profile);
  const path = await cacheFilePath(deps.env, session.loginSession);
  const first = await readToken(path, session);
  if (!options.forceRefresh && isFresh(first, deps.now())) {
    deps.debug(`using cached credentials from "${path}"`);
    deps.reached?.("credentials-fresh");
    return toCredentials(session, path, first, false);
  }
  const notice = secureCacheDir(dirname(path));
  if (notice !== undefined) deps.stderr.write(`aws-login: ${notice}\n`);
  try {
    return await withCacheLock(
      path,
      () => refreshLocked(session, path, first, deps, options),
      {
        timeoutMs: options.lockTimeoutMs ?? LOCK_TIMEOUT_MS,
        // Another process is refreshing: once it is done, use its result without queueing for
        // the lock behind every other waiter.
        whenReleased: async () => {
          const latest = await readToken(path, session);
          if (!refreshedSince(first, latest, deps.now())) return undefined;
          deps.debug(`another process refreshed "${path}"; using its credentials`);
          return toCredentials(session, path, latest, false);
        },
      },
    );
  } catch (err) {
    // Another process holds the lock for too long: still-valid credentials beat an error.
    if (err instanceof CacheError && err.code === "ERR_CACHE_LOCK" && !options.strict) {
      const latest = await readToken(path, session);
      if (expiresAtMs(latest) > deps.now()) {
        warnStale(deps, session, latest, err.message);
        return toCredentials(session, path, latest, false);
      }
    }
    throw err;
  }
}

/** Reads the cache file; its errors name the profile in the `login` command they suggest. */
async function readToken(path: string, session: ProfileSession): Promise<CachedLoginToken> {
  try {
    return await readCachedToken(path, { loginSession: session.loginSession });
  } catch (err) {
    throw err instanceof CacheError ? nameProfileInHint(err, session.profile) : err;
  }
}

/** The error with its `"aws-login login"` hint naming the profile (`--profile NAME`). */
export function nameProfileInHint(err: CacheError, profile: string): CacheError {
  const message = err.message.replace(
    '"aws-login login"',
    `"aws-login login --profile ${profile}"`,
  );
  if (message === err.message) return err;
  const code = err.code as ConstructorParameters<typeof CacheError>[0];
  return new CacheError(code, message, { cause: err.cause });
}

function isFresh(token: CachedLoginToken, now: number): boolean {
  return expiresAtMs(token) - now > REFRESH_WINDOW_MS;
}

/** Whether another process has refreshed the session since `before` was read. */
function refreshedSince(before: CachedLoginToken, latest: CachedLoginToken, now: number): boolean {
  return latest.accessToken.accessKeyId !== before.accessToken.accessKeyId && isFresh(latest, now);
}

async function refreshLocked(
  session: ProfileSession,
  path: string,
  before: CachedLoginToken,
  deps: CredentialDeps,
  options: ResolveOptions,
): Promise<SessionCredentials> {
  // Re-read: another process may have refreshed while we waited for the lock.
  const current = await readToken(path, session);
  const now = deps.now();
  if (options.forceRefresh ? refreshedSince(before, current, now) : isFresh(current, now)) {
    deps.debug(`another process refreshed "${path}"; using its credentials`);
    return toCredentials(session, path, current, false);
  }
  const { region, endpoint } = await sessionEndpoint(session, current);
  const tokenUrl = `${endpoint.url}/v1/token`;
  deps.debug(
    `refreshing the login session at ${tokenUrl}` +
      (endpoint.source ? ` (a custom endpoint, from ${endpoint.source})` : ""),
  );
  // Before the server rotates the refresh token: a write-back that cannot happen fails now.
  checkCacheWritable(path, current);
  // A variable specifier: Deno then reads the refresh machinery only when a refresh happens, not
  // on every warm run (it prepares every literal `import("…")` of a module up front).
  const refreshModule = "./refresh.ts";
  const { refreshCachedToken }: typeof import("./refresh.ts") = await import(refreshModule);
  const stillValid = !options.strict && expiresAtMs(current) > deps.now();
  let next: CachedLoginToken;
  try {
    next = await refreshCachedToken(current, {
      profile: session.profile,
      region,
      tokenUrl,
      fetch: deps.fetch,
      now: deps.now,
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      debug: deps.debug,
      maxAttempts: options.maxAttempts,
      timeoutMs: options.requestTimeoutMs,
      maxDelayMs: options.maxRetryDelayMs,
    }, stillValid);
  } catch (err) {
    if (isTransient(err) && stillValid) {
      warnStale(deps, session, current, (err as Error).message);
      return toCredentials(session, path, current, false);
    }
    throw err;
  }
  const newer = await refreshedElsewhere(path, session, current, next);
  if (newer !== undefined) {
    deps.debug(`another program refreshed "${path}" meanwhile; keeping its newer credentials`);
    return toCredentials(session, path, newer, false);
  }
  try {
    writeCachedToken(path, next);
  } catch (err) {
    // The old refresh token may already be void: the fresh credentials are all this run has.
    const why = err instanceof Error ? err.message : String(err);
    deps.stderr.write(
      `aws-login: warning: the login session of profile "${session.profile}" was refreshed, but ` +
        `the token cache could not be updated (${why}). Using the new credentials, which expire ` +
        `at ${next.accessToken.expiresAt}; if the next refresh fails, run ` +
        `"aws-login login --profile ${session.profile}"\n`,
    );
    return toCredentials(session, path, next, true);
  }
  deps.debug(`wrote refreshed credentials to "${path}"`);
  return toCredentials(session, path, next, true);
}

/**
 * Where a session may be refreshed: its own region (refreshing anywhere else fails, docs/PROTOCOL.md
 * §11) at the endpoint the settings resolve to, which must be the one the session was made with
 * when the cache names it (`signInEndpoint`; sessions made by the AWS CLI do not). A later
 * `AWS_ENDPOINT_URL` (a LocalStack set-up, a typo) would otherwise receive the refresh token, and
 * its reply would replace the session.
 *
 * @param session The profile's session.
 * @param token The cached token.
 * @returns The region and the endpoint to send the session's refresh token to.
 * @throws {ConfigError} `ERR_CONFIG_REGION` without a region; `ERR_CONFIG_ENDPOINT` when the
 *   endpoint differs from the session's, naming both and the way out.
 */
export async function sessionEndpoint(
  session: ProfileSession,
  token: CachedLoginToken,
): Promise<{ region: string; endpoint: SigninEndpoint }> {
  const region = token.signInRegion || session.profileRegion || session.region;
  if (!region) {
    throw new ConfigError(
      "ERR_CONFIG_REGION",
      `Cannot refresh the login session of profile "${session.profile}": no Sign-In region. ` +
        `Set "region" in the profile to the region you logged in with`,
    );
  }
  const endpoint = await session.endpointFor(region);
  const pinned = token.signInEndpoint;
  if (pinned && !sameEndpoint(pinned, endpoint.url)) {
    const { printable } = await import("../cli/output.ts");
    const now = endpoint.source
      ? `"${endpoint.url}" (from ${endpoint.source})`
      : `"${endpoint.url}" (the default for ${region})`;
    const way = endpoint.source
      ? `${endpoint.source.startsWith("AWS_") ? "Unset" : "Remove"} ${endpoint.source}`
      : `Set the endpoint the session was made with again (AWS_ENDPOINT_URL_SIGNIN, endpoint_url)`;
    throw new ConfigError(
      "ERR_CONFIG_ENDPOINT",
      `Cannot refresh the login session of profile "${session.profile}": it was made with AWS ` +
        `Sign-In at "${printable(pinned)}", but the endpoint is now ${now}. aws-login sends a ` +
        `session's refresh token only to the endpoint that issued it. ${way} to use this ` +
        `session, or run "aws-login login --profile ${session.profile}" to sign in at the new ` +
        `endpoint`,
    );
  }
  return { region, endpoint };
}

/** Whether two base URLs name the same endpoint (scheme, host, port and path; case of the host). */
function sameEndpoint(a: string, b: string): boolean {
  const key = (text: string) => {
    try {
      const url = new URL(text.trim());
      return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
    } catch {
      return undefined;
    }
  };
  const ka = key(a);
  return ka !== undefined && ka === key(b);
}

/**
 * The token on disk when a program that takes no lock (the AWS CLI, an SDK) refreshed the session
 * since `before` was read and its credentials last at least as long as `ours`: then it is kept, as
 * writing ours would replace newer credentials with older ones. Sign-In answers a repeated refresh
 * with the same token consistently (docs/PROTOCOL.md §14), so both programs hold working credentials.
 * Undefined when ours should be written (also when the file cannot be read: ours repair it).
 */
async function refreshedElsewhere(
  path: string,
  session: ProfileSession,
  before: CachedLoginToken,
  ours: CachedLoginToken,
): Promise<CachedLoginToken | undefined> {
  let disk: CachedLoginToken;
  try {
    disk = await readToken(path, session);
  } catch (err) {
    if (err instanceof CacheError) return undefined;
    throw err;
  }
  const changed = disk.accessToken.accessKeyId !== before.accessToken.accessKeyId ||
    disk.refreshToken !== before.refreshToken;
  return changed && expiresAtMs(disk) >= expiresAtMs(ours) ? disk : undefined;
}

function warnStale(
  deps: CredentialDeps,
  session: ProfileSession,
  token: CachedLoginToken,
  reason: string,
): void {
  const minutes = Math.max(0, Math.floor((expiresAtMs(token) - deps.now()) / 60_000));
  deps.stderr.write(
    `aws-login: warning: cannot refresh the login session of profile "${session.profile}" ` +
      `(${reason}); using the current credentials, which expire at ` +
      `${token.accessToken.expiresAt} (in ${minutes} min)\n`,
  );
}

function toCredentials(
  session: ProfileSession,
  path: string,
  token: CachedLoginToken,
  refreshed: boolean,
): SessionCredentials {
  return {
    profile: session.profile,
    loginSession: session.loginSession,
    region: session.region,
    cachePath: path,
    accessKeyId: token.accessToken.accessKeyId,
    secretAccessKey: token.accessToken.secretAccessKey,
    sessionToken: token.accessToken.sessionToken,
    accountId: token.accessToken.accountId,
    expiresAtMs: expiresAtMs(token),
    refreshed,
  };
}
