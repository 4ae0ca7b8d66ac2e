/**
 * The retry-delay policy both Sign-In flows share: the login's code exchange and the session's
 * refresh back off the same way after a transient failure.
 *
 * @module
 */
import { SigninError } from "../errors.ts";

const BASE_DELAY_MS = 250;

/** Exponential backoff (250 ms, 500 ms, …), or the server's Retry-After, capped at `maxMs`. */
export function retryDelayMs(err: unknown, attempt: number, maxMs: number): number {
  const retryAfter = err instanceof SigninError ? err.retryAfterSeconds : undefined;
  const ms = retryAfter !== undefined && retryAfter >= 0
    ? retryAfter * 1000
    : BASE_DELAY_MS * 2 ** (attempt - 1);
  return Math.min(ms, maxMs);
}
