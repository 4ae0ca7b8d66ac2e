/**
 * Asking AWS Sign-In about a cached session, or ending it there: revocation for `logout` and
 * introspection for `status`. Both calls carry the refresh token, signed with the session's own
 * credentials, so they go only where the session was made: its own region, at the endpoint the
 * session was made with. Introspection goes where a refresh would (`sessionEndpoint` refuses an
 * endpoint setting that is not the session's); a revocation goes straight to the endpoint recorded
 * in the session's own cache file (`signInEndpoint`), whatever the settings say now, so that
 * `logout` with an endpoint variable set still ends every session and a copy of the file is
 * worthless afterwards. Loaded only by those two commands (it pulls in the SigV4 signer).
 *
 * @see docs/PROTOCOL.md §14
 * @module
 */
import type { Deps } from "../cli/deps.ts";
import { isLoopbackHost, signinTokenUrl } from "../aws/endpoints.ts";
import {
  type Introspection,
  introspectRefreshToken,
  revokeRefreshToken,
} from "../signin/revoke_introspect.ts";
import type { ProfileSession } from "./profile_session.ts";
import { endsSession, sessionEndpoint } from "./credentials.ts";
import { LOCK_TIMEOUT_MS, withCacheLock } from "./cache_lock.ts";
import {
  type CachedLoginToken,
  expiresAtMs,
  readCachedToken,
  writeCachedToken,
} from "./token_cache.ts";

export type { Introspection };

/** Credentials closer than this to their expiry are refreshed before they sign. */
export const SIGNING_MARGIN_MS = 60_000;

/** What the calls need from {@link Deps}. */
export type ControlDeps = Pick<Deps, "fetch" | "now" | "debug">;

/** Where a session's Sign-In calls go: its region, base URL and token URL. */
async function target(session: ProfileSession, token: CachedLoginToken) {
  const { region, endpoint } = await sessionEndpoint(session, token);
  const baseUrl = endpoint.url.replace(/\/+$/, "");
  return { region, baseUrl, tokenUrl: signinTokenUrl(baseUrl) };
}

/**
 * Where a revocation goes: the endpoint the cache file records (the one that issued the refresh
 * token, so sending the token back there discloses nothing), in the session's region; a session
 * without a recorded endpoint (the AWS CLI's) goes where the settings point, as its refreshes do.
 */
async function revokeTarget(session: ProfileSession, token: CachedLoginToken) {
  const pinned = issuingEndpoint(token);
  const region = token.signInRegion || session.profileRegion || session.region;
  if (pinned === undefined || !region) return await target(session, token);
  return { region, baseUrl: pinned, tokenUrl: signinTokenUrl(pinned) };
}

/**
 * The cache file's `signInEndpoint` as a base URL, when it is one `login` could have used: https,
 * or http on a loopback host (the rule of every endpoint setting).
 */
function issuingEndpoint(token: CachedLoginToken): string | undefined {
  const text = token.signInEndpoint?.trim();
  if (!text) return undefined;
  try {
    const url = new URL(text);
    const secure = url.protocol === "https:" ||
      (url.protocol === "http:" && isLoopbackHost(url.hostname));
    if (!secure) return undefined;
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
  } catch {
    return undefined;
  }
}

/**
 * Revokes the session in `path` at AWS Sign-In, under the cache file's lock so no refresh rotates
 * the token meanwhile. Credentials that have expired (or expire within a minute) are refreshed
 * first and written back, since they sign the call.
 *
 * @param path The cache file.
 * @param session The profile (or stand-in) that names the region, and the endpoint when the file
 *   records none.
 * @param deps Fetch, clock, debug log.
 * @throws {CacheError} When the file cannot be read or locked.
 * @throws {ConfigError} When no region is known, or (for a file that records no endpoint) the
 *   settings name no usable endpoint.
 * @returns "revoked", or "ended" when the refresh that signs the revocation shows the session is
 *   already over (nothing left to revoke).
 * @throws {SigninError} When the refresh or the revocation is refused otherwise.
 * @throws {NetworkError} When Sign-In cannot be reached.
 */
export async function revokeCachedSession(
  path: string,
  session: ProfileSession,
  deps: ControlDeps,
): Promise<"revoked" | "ended"> {
  return await withCacheLock(path, async () => {
    let token = await readCachedToken(path, { loginSession: session.loginSession });
    const endpoint = await revokeTarget(session, token);
    if (expiresAtMs(token) - deps.now() < SIGNING_MARGIN_MS) {
      deps.debug(`refreshing the login session first: its credentials sign the revocation`);
      const { refreshCachedToken } = await import("./refresh.ts");
      try {
        token = await refreshCachedToken(token, {
          profile: session.profile,
          region: endpoint.region,
          tokenUrl: endpoint.tokenUrl,
          fetch: deps.fetch,
          now: deps.now,
          debug: deps.debug,
        }, expiresAtMs(token) > deps.now());
      } catch (err) {
        // Nothing left to revoke: the session is over.
        if (endsSession(err, token, endpoint.region)) return "ended";
        throw err;
      }
      writeCachedToken(path, token);
    }
    deps.debug(`revoking the login session at ${endpoint.baseUrl}/v1/revoke`);
    await revokeRefreshToken(
      { ...endpoint, credentials: token.accessToken, now: deps.now },
      token.refreshToken,
      { fetch: deps.fetch },
    );
    return "revoked";
  }, { timeoutMs: LOCK_TIMEOUT_MS });
}

/**
 * Asks AWS Sign-In whether a cached session is still active and when it ends. Never refreshes:
 * the caller checks that the cached credentials are still valid.
 *
 * @throws {ConfigError} When no region is known, or the endpoint is not the session's.
 * @throws {SigninError} When Sign-In refuses the call.
 * @throws {NetworkError} When Sign-In cannot be reached.
 */
export async function introspectCachedSession(
  token: CachedLoginToken,
  session: ProfileSession,
  deps: ControlDeps & { timeoutMs?: number },
): Promise<Introspection> {
  const endpoint = await target(session, token);
  deps.debug(`checking the login session at ${endpoint.baseUrl}/v1/introspect`);
  return await introspectRefreshToken(
    { ...endpoint, credentials: token.accessToken, now: deps.now },
    token.refreshToken,
    { fetch: deps.fetch, timeoutMs: deps.timeoutMs },
  );
}
