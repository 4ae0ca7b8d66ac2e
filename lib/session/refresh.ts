/**
 * Refreshing a login session: the `refresh_token` grant with retries, clock-skew correction and
 * messages a user can act on. Loaded lazily by `credentials.ts` (it pulls in the DPoP signer and
 * the Sign-In client), only when the cached credentials are about to expire.
 *
 * Policy:
 * - transient failures (network, timeout, 5xx, 429) are retried with exponential backoff, honouring
 *   `Retry-After` up to a cap, for at most `maxAttempts` attempts in all;
 * - while the current credentials are still valid, one attempt only: the caller then warns and
 *   keeps using them (as the AWS SDK for JavaScript does), instead of making every caller wait out
 *   the retries;
 * - `AccessDeniedException` and `ValidationException` are final, with the Sign-In client's message
 *   naming the next step, for this profile; the cache is left untouched.
 *
 * @see docs/PROTOCOL.md §4.1, §4.2
 * @module
 */
import { AwsLoginError, CacheError, isTransient } from "../errors.ts";
import { importDpopKeyPem } from "../signin/dpop.ts";
import { refreshToken } from "../signin/signin_client.ts";
import { sleep, withRetries } from "../aws/retry.ts";
import { type CachedLoginToken, tokenAfterReply } from "./token_cache.ts";

/** How the refresh talks to the world. */
export interface RefreshContext {
  /** The profile, for messages. */
  readonly profile: string;
  /** The Sign-In region the refresh goes to, for messages. */
  readonly region: string;
  /** `{base}/v1/token`. */
  readonly tokenUrl: string;
  readonly fetch: typeof fetch;
  now(): number;
  /** Waits between attempts (default: a timer). */
  sleep?(ms: number): Promise<void>;
  debug(message: string): void;
  /** Attempts in all when the credentials have expired (default 3). */
  readonly maxAttempts?: number;
  /** Per-request timeout (default 10 s). */
  readonly timeoutMs?: number;
  /** Longest wait between attempts, whatever Retry-After says (default 3 s). */
  readonly maxDelayMs?: number;
}

/** Default per-request timeout. */
export const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Refreshes `token`, returning the token to write back.
 *
 * @param token The current cache contents (re-read under the lock).
 * @param ctx Endpoint, clock, fetch, sleep and limits.
 * @param stillValid Whether `token`'s credentials are still valid: then a transient failure is
 *   thrown at once, for the caller to fall back on them.
 * @returns The new token: the three keys, `expiresAt` = now + expiresIn, the new refresh token,
 *   every other field (known or not) kept.
 * @throws {SigninError} On a final refusal, with a message naming the next step.
 * @throws {NetworkError} When every attempt failed on the network (or the first, when
 *   `stillValid`).
 */
export async function refreshCachedToken(
  token: CachedLoginToken,
  ctx: RefreshContext,
  stillValid: boolean,
): Promise<CachedLoginToken> {
  const dpopKey = await importDpopKeyPem(token.dpopKey).catch((err) => {
    throw new CacheError(
      "ERR_CACHE_CORRUPT",
      `Cannot refresh the login session of profile "${ctx.profile}": the cached dpopKey is not ` +
        `a P-256 private key. Run "aws-login login --profile ${ctx.profile}"`,
      { cause: err },
    );
  });
  const attempts = stillValid ? 1 : Math.max(1, ctx.maxAttempts ?? 3);
  const regionRecorded = token.signInRegion === ctx.region;
  try {
    const reply = await withRetries((now) =>
      refreshToken({
        tokenUrl: ctx.tokenUrl,
        clientId: token.clientId,
        refreshToken: token.refreshToken,
        dpopKey,
        fetch: ctx.fetch,
        now,
        timeoutMs: ctx.timeoutMs ?? REQUEST_TIMEOUT_MS,
        site: { region: ctx.region, regionRecorded },
      }), {
      attempts,
      maxDelayMs: ctx.maxDelayMs ?? 3_000,
      now: ctx.now,
      sleep: (ms) => ctx.sleep ? ctx.sleep(ms) : sleep(ms),
      onRetry: (err, attempt) =>
        ctx.debug(`refresh attempt ${attempt} of ${attempts} failed: ${err.message}`),
    });
    // A refresh that works shows the session is on: drop any note that it had ended.
    const { sessionEndedAt: _at, sessionEndedBy: _by, ...kept } = token;
    return tokenAfterReply(kept, reply, ctx.now());
  } catch (err) {
    // A refusal's "what to do next" names the profile; a transient failure is left as it came.
    throw !isTransient(err) && err instanceof AwsLoginError ? err.forProfile(ctx.profile) : err;
  }
}
