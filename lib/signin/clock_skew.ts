/**
 * Clock-skew correction for DPoP proofs. A proof's `iat` must fall within a few minutes of the
 * server's clock (RFC 9449 §11.1), so a machine whose clock is off has every token call refused.
 * When a call is refused (4xx) and the reply's `Date` header shows that our clock differs from the
 * server's, the call is made once more with a clock corrected by that difference; when that fails
 * too, the error says that the clock is off, so the user knows what to fix.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 * @module
 */
import { SigninError } from "../errors.ts";

/** Smaller differences are left alone: the HTTP date has one-second resolution and replies take time. */
export const SKEW_THRESHOLD_MS = 30_000;

/**
 * The difference between the server's clock and ours (positive: the server is ahead), when a
 * refused reply shows one worth correcting.
 */
export function skewOf(err: unknown, localNow: number): number | undefined {
  if (!(err instanceof SigninError) || err.serverDate === undefined) return undefined;
  if (err.status < 400 || err.status >= 500 || err.status === 429) return undefined;
  const skew = err.serverDate - localNow;
  return Math.abs(skew) >= SKEW_THRESHOLD_MS ? skew : undefined;
}

/**
 * Runs `fn` with the local clock; when the server refuses it and its `Date` shows our clock is off,
 * runs it once more with the clock corrected by the difference.
 *
 * @param now The local clock, epoch milliseconds.
 * @param fn The token call; it takes the clock to put in the proof's `iat`.
 * @returns What `fn` returns.
 * @throws {SigninError} The retry's refusal, its message naming the clock skew; any other error of
 *   `fn` as it came.
 */
export async function withClockSkewCorrection<T>(
  now: () => number,
  fn: (now: () => number) => Promise<T>,
): Promise<T> {
  try {
    return await fn(now);
  } catch (err) {
    const skew = skewOf(err, now());
    if (skew === undefined) throw err;
    try {
      return await fn(() => now() + skew);
    } catch (retryErr) {
      throw nameSkew(retryErr, skew);
    }
  }
}

/** Adds to a refusal that the local clock is off, and by how much. */
function nameSkew(err: unknown, skew: number): unknown {
  if (!(err instanceof SigninError)) return err;
  const minutes = Math.round(Math.abs(skew) / 60_000);
  const amount = minutes >= 1 ? `${minutes} min` : `${Math.round(Math.abs(skew) / 1000)} s`;
  const direction = skew > 0 ? "behind" : "ahead of";
  return new SigninError(
    err.code,
    `${err.message} Note: this computer's clock is ${amount} ${direction} AWS Sign-In's ` +
      `(clock skew); correct the system time and try again.`,
    {
      status: err.status,
      errorType: err.errorType,
      error: err.error,
      retryAfterSeconds: err.retryAfterSeconds,
      serverDate: err.serverDate,
    },
    { cause: err },
  );
}
