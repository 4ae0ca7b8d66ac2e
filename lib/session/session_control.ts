/**
 * Asking AWS Sign-In about a cached session, or ending it there: revocation for `logout` and
 * introspection for `status`. Both calls are signed with the session's own credentials and go to
 * the Sign-In endpoint of the session's own region, the one its refreshes use. Loaded only by
 * those two commands (it pulls in the SigV4 signer).
 *
 * @see PROTOCOL.md §14
 * @module
 */
import type { Deps } from "../cli/deps.ts";
import { ConfigError } from "../errors.ts";
import {
  type Introspection,
  introspectRefreshToken,
  revokeRefreshToken,
} from "../signin/revoke_introspect.ts";
import type { ProfileSession } from "./profile_session.ts";
import { LOCK_TIMEOUT_MS } from "./credentials.ts";
import {
  type CachedLoginToken,
  expiresAtMs,
  readCachedToken,
  withCacheLock,
  writeCachedToken,
} from "./token_cache.ts";

export type { Introspection };

/** Credentials closer than this to their expiry are refreshed before they sign. */
export const SIGNING_MARGIN_MS = 60_000;

/** What the calls need from {@link Deps}. */
export type ControlDeps = Pick<Deps, "fetch" | "now" | "debug">;

/** Where a session's Sign-In calls go. */
export interface SessionEndpoint {
  /** The session's Sign-In region (refreshes and SigV4 scope). */
  readonly region: string;
  /** `{base}` of that region, endpoint overrides applied. */
  readonly baseUrl: string;
  /** `{base}/v1/token`. */
  readonly tokenUrl: string;
}

/**
 * The Sign-In endpoint of a cached session: its `signInRegion`, else the profile's region, as the
 * refresh chooses it.
 *
 * @throws {ConfigError} When no region is known, or the endpoint settings are wrong.
 */
export async function sessionEndpoint(
  session: ProfileSession,
  token: CachedLoginToken,
): Promise<SessionEndpoint> {
  const region = token.signInRegion || session.profileRegion || session.region;
  if (!region) {
    throw new ConfigError(
      "ERR_CONFIG_REGION",
      `The login session of profile "${session.profile}" has no Sign-In region. ` +
        `Set "region" in the profile to the region you logged in with`,
    );
  }
  const tokenUrl = await session.tokenUrlFor(region);
  return { region, tokenUrl, baseUrl: tokenUrl.replace(/\/v1\/token$/, "") };
}

/**
 * Revokes the session in `path` at AWS Sign-In, under the cache file's lock so no refresh rotates
 * the token meanwhile. Credentials that have expired (or expire within a minute) are refreshed
 * first and written back, since they sign the call.
 *
 * @param path The cache file.
 * @param session The profile (or stand-in) that names the endpoint.
 * @param deps Fetch, clock, debug log.
 * @throws {CacheError} When the file cannot be read or locked.
 * @throws {SigninError} When the refresh or the revocation is refused.
 * @throws {NetworkError} When Sign-In cannot be reached.
 */
export async function revokeCachedSession(
  path: string,
  session: ProfileSession,
  deps: ControlDeps,
): Promise<void> {
  await withCacheLock(path, async () => {
    let token = await readCachedToken(path, { loginSession: session.loginSession });
    const endpoint = await sessionEndpoint(session, token);
    if (expiresAtMs(token) - deps.now() < SIGNING_MARGIN_MS) {
      deps.debug(`refreshing the login session first: its credentials sign the revocation`);
      const { refreshCachedToken } = await import("./refresh.ts");
      token = await refreshCachedToken(token, {
        profile: session.profile,
        region: endpoint.region,
        tokenUrl: endpoint.tokenUrl,
        fetch: deps.fetch,
        now: deps.now,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        debug: deps.debug,
      }, expiresAtMs(token) > deps.now());
      await writeCachedToken(path, token);
    }
    deps.debug(`revoking the login session at ${endpoint.baseUrl}/v1/revoke`);
    await revokeRefreshToken(
      { ...endpoint, credentials: token.accessToken, now: deps.now },
      token.refreshToken,
      { fetch: deps.fetch },
    );
  }, { timeoutMs: LOCK_TIMEOUT_MS });
}

/**
 * Asks AWS Sign-In whether a cached session is still active and when it ends. Never refreshes:
 * the caller checks that the cached credentials are still valid.
 *
 * @throws {ConfigError} When no region is known.
 * @throws {SigninError} When Sign-In refuses the call.
 * @throws {NetworkError} When Sign-In cannot be reached.
 */
export async function introspectCachedSession(
  token: CachedLoginToken,
  session: ProfileSession,
  deps: ControlDeps & { timeoutMs?: number },
): Promise<Introspection> {
  const endpoint = await sessionEndpoint(session, token);
  deps.debug(`checking the login session at ${endpoint.baseUrl}/v1/introspect`);
  return await introspectRefreshToken(
    { ...endpoint, credentials: token.accessToken, now: deps.now },
    token.refreshToken,
    { fetch: deps.fetch, timeoutMs: deps.timeoutMs },
  );
}
