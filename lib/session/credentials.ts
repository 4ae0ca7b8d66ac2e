/**
 * The login-session resolver: `login_session` → cache file → the access credentials, refreshed when
 * they expire within 5 minutes. Every command reaches it through `resolveProfileCredentials`
 * (profile_credentials.ts), directly for a login profile or at the bottom of a role chain.
 *
 * This is the hot path of `credential-process`, `export-env` and `exec`, so at top level it loads
 * only `Deno.*`, WebCrypto and small modules; the refresh machinery (DPoP signing, the Sign-In
 * client) is imported only when a refresh is due. A refresh happens under the cache file's
 * exclusive lock, after re-reading the file: when another process refreshed meanwhile, its result
 * is used and no request is made. Programs that take no lock (the AWS CLI, the SDKs) may still
 * refresh at the same time: before writing, the file is read once more, and credentials another
 * program wrote are kept when they last at least as long as ours (the sequence is
 * locked_refresh.ts, shared with the role cache). The write-back is atomic and keeps every other
 * field.
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
import { AwsLoginError, ConfigError, SigninError } from "../errors.ts";
import { dirname } from "../files.ts";
import type { ProfileSession, SigninEndpoint } from "./profile_session.ts";
import {
  type CachedLoginToken,
  cacheFilePath,
  checkCacheWritable,
  expiresAtMs,
  formatExpiresAt,
  readCachedToken,
  secureCacheDir,
  writeCachedToken,
} from "./token_cache.ts";
import { refreshUnderLock } from "./locked_refresh.ts";
import type { ResolvedCredentials } from "./credential_types.ts";

/** Refresh when the credentials expire within this window. */
export const REFRESH_WINDOW_MS = 300_000;

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
  /** Waits between retries and between re-reads of a torn cache file (default: a real timer). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Attempts in all when the credentials have expired (default 3). */
  readonly maxAttempts?: number;
  /** Per-request timeout in milliseconds (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** Longest wait between attempts, whatever Retry-After says (default 3 s). */
  readonly maxRetryDelayMs?: number;
  /** Longest wait for the cache lock (default `LOCK_TIMEOUT_MS` of cache_lock.ts, 45 s). */
  readonly lockTimeoutMs?: number;
}

/** What the resolver needs from {@link Deps}. */
export type CredentialDeps = Pick<Deps, "env" | "fetch" | "now" | "stderr" | "debug" | "reached">;

/**
 * Resolves the access credentials of a login session, refreshing them when needed.
 *
 * @param session The profile's login session.
 * @param deps Environment, fetch, clock, stderr (warnings) and debug log.
 * @param options Forced refresh, retry and timeout settings.
 * @returns The credentials and where they came from.
 * @throws {CacheError} When the cache file is missing, corrupt or unreadable, or the lock fails.
 * @throws {SigninError} When AWS Sign-In refuses the refresh.
 * @throws {NetworkError} When the refresh failed on the network and the credentials have expired.
 */
export async function resolveLoginCredentials(
  session: ProfileSession,
  deps: CredentialDeps,
  options: ResolveOptions = {},
): Promise<ResolvedCredentials> {
  const path = await cacheFilePath(deps.env, session.loginSession);
  const read = () => readToken(path, session, options.sleep);
  const first = await read();
  if (!options.forceRefresh && isFresh(first, deps.now())) {
    deps.debug(`using cached credentials from "${path}"`);
    return toCredentials(session, path, first, false);
  }
  const notice = secureCacheDir(dirname(path));
  if (notice !== undefined) deps.stderr.write(`aws-login: ${notice}\n`);
  const { value, refreshed } = await refreshUnderLock(first, {
    path,
    now: deps.now,
    debug: deps.debug,
    force: options.forceRefresh,
    strict: options.strict,
    lockTimeoutMs: options.lockTimeoutMs,
    read,
    isFresh,
    refreshedSince: (before, latest) =>
      latest.accessToken.accessKeyId !== before.accessToken.accessKeyId,
    writtenSince: (before, disk) =>
      disk.accessToken.accessKeyId !== before.accessToken.accessKeyId ||
      disk.refreshToken !== before.refreshToken,
    expiresAtMs,
    // Before the server rotates the refresh token: a write-back that cannot happen fails now.
    prepare: (current) => checkCacheWritable(path, current),
    fetch: async (current, stillValid) => {
      try {
        return await refreshToken(session, current, stillValid, deps, options);
      } catch (err) {
        await recordEnded(path, session, current, err, deps);
        throw err;
      }
    },
    write: (next) => writeCachedToken(path, next),
    warnStale: (current, reason) => warnStale(deps, session, current, reason),
    writeFailed: (next, err) => {
      // The old refresh token may already be void: the fresh credentials are all this run has.
      const why = err instanceof Error ? err.message : String(err);
      deps.stderr.write(
        `aws-login: warning: the login session of profile "${session.profile}" was refreshed, but ` +
          `the token cache could not be updated (${why}). Using the new credentials, which expire ` +
          `at ${next.accessToken.expiresAt}; if the next refresh fails, run ` +
          `"aws-login login --profile ${session.profile}"\n`,
      );
    },
  });
  return toCredentials(session, path, value, refreshed);
}

/** Reads the cache file; its errors name the profile in the `login` command they suggest. */
async function readToken(
  path: string,
  session: ProfileSession,
  sleep: ((ms: number) => Promise<void>) | undefined,
): Promise<CachedLoginToken> {
  try {
    return await readCachedToken(path, { loginSession: session.loginSession, sleep });
  } catch (err) {
    throw err instanceof AwsLoginError ? err.forProfile(session.profile) : err;
  }
}

function isFresh(token: CachedLoginToken, now: number): boolean {
  return expiresAtMs(token) - now > REFRESH_WINDOW_MS;
}

/**
 * Whether a refused refresh shows that the session is over: `TOKEN_EXPIRED`, or its refresh token
 * rejected in the region the cache file records (revoked; in an unrecorded region it may be a
 * region mistake instead). `status` and `logout` say so rather than "refreshed on next use" or
 * "stays usable".
 *
 * @param err What the refresh threw.
 * @param token The token whose refresh was refused.
 * @param region The region the refresh went to.
 */
export function endsSession(err: unknown, token: CachedLoginToken, region: string): boolean {
  if (!(err instanceof SigninError)) return false;
  if (err.code === "ERR_SIGNIN_ACCESS_DENIED") return err.error === "TOKEN_EXPIRED";
  return err.code === "ERR_SIGNIN_VALIDATION" && token.signInRegion === region &&
    (err.error === undefined || err.error === "INVALID_REQUEST" || err.error === "invalid_grant");
}

/**
 * Notes in the cache file (aws-login's own fields `sessionEndedAt`, `sessionEndedBy`) that a refresh
 * was refused because the session is over, so that `status` can say so later without a refresh.
 * Under the cache lock; only when the file still holds the refused refresh token (a program that
 * takes no lock may have rotated it meanwhile, and then the refusal says nothing about the
 * session). Best effort: the refusal itself is what the caller reports.
 */
async function recordEnded(
  path: string,
  session: ProfileSession,
  refused: CachedLoginToken,
  err: unknown,
  deps: CredentialDeps,
): Promise<void> {
  try {
    const region = refused.signInRegion || session.profileRegion || session.region || "";
    if (!endsSession(err, refused, region)) return;
    const disk = await readCachedToken(path, { loginSession: session.loginSession });
    if (disk.refreshToken !== refused.refreshToken) return;
    writeCachedToken(path, {
      ...disk,
      sessionEndedAt: formatExpiresAt(deps.now()),
      sessionEndedBy: (err as SigninError).error ?? (err as SigninError).errorType ?? "refused",
    });
    deps.debug(`noted in "${path}" that the session has ended`);
  } catch {
    // Best effort.
  }
}

/** The Sign-In refresh of `current` (the refresh machinery is loaded only now). */
async function refreshToken(
  session: ProfileSession,
  current: CachedLoginToken,
  stillValid: boolean,
  deps: CredentialDeps,
  options: ResolveOptions,
): Promise<CachedLoginToken> {
  const { region, endpoint } = await sessionEndpoint(session, current);
  const tokenUrl = await session.tokenUrlFor(region);
  deps.debug(
    `refreshing the login session at ${tokenUrl}` +
      (endpoint.source ? ` (a custom endpoint, from ${endpoint.source})` : ""),
  );
  // A variable specifier: Deno then reads the refresh machinery only when a refresh happens, not
  // on every warm run (it prepares every literal `import("…")` of a module up front).
  const refreshModule = "./refresh.ts";
  const { refreshCachedToken }: typeof import("./refresh.ts") = await import(refreshModule);
  return await refreshCachedToken(current, {
    profile: session.profile,
    region,
    tokenUrl,
    fetch: deps.fetch,
    now: deps.now,
    sleep: options.sleep,
    debug: deps.debug,
    maxAttempts: options.maxAttempts,
    timeoutMs: options.requestTimeoutMs,
    maxDelayMs: options.maxRetryDelayMs,
  }, stillValid);
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
): ResolvedCredentials {
  return {
    profile: session.profile,
    region: session.region,
    login: { profile: session.profile, loginSession: session.loginSession, cachePath: path },
    accessKeyId: token.accessToken.accessKeyId,
    secretAccessKey: token.accessToken.secretAccessKey,
    sessionToken: token.accessToken.sessionToken,
    accountId: token.accessToken.accountId,
    expiresAtMs: expiresAtMs(token),
    refreshed,
  };
}
