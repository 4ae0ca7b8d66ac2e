/**
 * The one retry loop of every call to an AWS service (Sign-In's code exchange and refresh, STS's
 * AssumeRole): transient failures (network, timeout, 5xx, throttling) are retried with
 * exponential backoff or the server's `Retry-After`, capped; and a call the server refuses while
 * its `Date` shows our clock is off is made once more with the clock corrected. A DPoP proof's
 * `iat` must fall within a few minutes of the server's clock (RFC 9449 §11.1), a SigV4 signature's
 * date within 15 minutes, so a machine whose clock is off has every call refused; when the
 * corrected call fails too, the error says that the clock is off, so the user knows what to fix.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 * @module
 */
import { isTransient, SigninError, StsError } from "../errors.ts";

const BASE_DELAY_MS = 250;

/** Smaller differences are left alone: the HTTP date has one-second resolution and replies take time. */
export const SKEW_THRESHOLD_MS = 30_000;

/** Waits `ms` milliseconds (the default `sleep` of every retrying caller). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Exponential backoff (250 ms, 500 ms, …), or the server's Retry-After, capped at `maxMs`. */
export function retryDelayMs(err: unknown, attempt: number, maxMs: number): number {
  const retryAfter = err instanceof SigninError || err instanceof StsError
    ? err.retryAfterSeconds
    : undefined;
  const ms = retryAfter !== undefined && retryAfter >= 0
    ? retryAfter * 1000
    : BASE_DELAY_MS * 2 ** (attempt - 1);
  return Math.min(ms, maxMs);
}

/**
 * The difference between the server's clock and ours (positive: the server is ahead), when a
 * refused reply shows one worth correcting.
 */
export function skewOf(err: unknown, localNow: number): number | undefined {
  if (!(err instanceof SigninError || err instanceof StsError)) return undefined;
  if (err.serverDate === undefined) return undefined;
  if (err.status < 400 || err.status >= 500 || err.status === 429) return undefined;
  const skew = err.serverDate - localNow;
  return Math.abs(skew) >= SKEW_THRESHOLD_MS ? skew : undefined;
}

/**
 * Runs `fn` with the local clock; when the server refuses it and its `Date` shows our clock is off,
 * runs it once more with the clock corrected by the difference.
 *
 * @param now The local clock, epoch milliseconds.
 * @param fn The call; it takes the clock to sign or date the request with.
 * @returns What `fn` returns.
 * @throws The retry's refusal, its message naming the clock skew; any other error of `fn` as it
 *   came.
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

/** How a retrying call waits, counts and reports. */
export interface RetryPolicy {
  /** Attempts in all (at least 1). */
  readonly attempts: number;
  /** Longest wait between attempts, whatever Retry-After says. */
  readonly maxDelayMs: number;
  /** The local clock, epoch milliseconds. */
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Told of each transient failure that another attempt follows. */
  onRetry?(err: Error, attempt: number): void;
}

/**
 * Runs `call` with clock-skew correction, retrying transient failures with backoff.
 *
 * @param call One attempt; it takes the clock to sign or date the request with.
 * @param policy Attempts, the longest wait, the clock and sleep.
 * @throws The first failure that is not transient, or the last attempt's.
 */
export async function withRetries<T>(
  call: (now: () => number) => Promise<T>,
  policy: RetryPolicy,
): Promise<T> {
  const attempts = Math.max(1, policy.attempts);
  for (let attempt = 1;; attempt++) {
    try {
      return await withClockSkewCorrection(policy.now, call);
    } catch (err) {
      if (!isTransient(err) || attempt >= attempts) throw err;
      policy.onRetry?.(err as Error, attempt);
      await policy.sleep(retryDelayMs(err, attempt, policy.maxDelayMs));
    }
  }
}

/** Adds to a refusal that the local clock is off, and by how much. */
function nameSkew(err: unknown, skew: number): unknown {
  if (!(err instanceof SigninError || err instanceof StsError)) return err;
  const minutes = Math.round(Math.abs(skew) / 60_000);
  const amount = minutes >= 1 ? `${minutes} min` : `${Math.round(Math.abs(skew) / 1000)} s`;
  const direction = skew > 0 ? "behind" : "ahead of";
  const service = err instanceof SigninError ? "AWS Sign-In's" : "AWS STS's";
  const note = `Note: this computer's clock is ${amount} ${direction} ${service} (clock skew); ` +
    `correct the system time and try again.`;
  // The note goes after the message as it will read once a profile is named.
  const message = (profile: string | undefined) => `${err.messageFor(profile)} ${note}`;
  const details = {
    status: err.status,
    retryAfterSeconds: err.retryAfterSeconds,
    serverDate: err.serverDate,
  };
  return err instanceof SigninError
    ? new SigninError(err.code, message, {
      ...details,
      errorType: err.errorType,
      error: err.error,
    }, { cause: err })
    : new StsError(err.code, message(undefined), { ...details, stsCode: err.stsCode }, {
      cause: err,
    });
}
