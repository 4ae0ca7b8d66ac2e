import assert from "node:assert/strict";
import { SigninError } from "../../lib/errors.ts";
import { retryDelayMs } from "../../lib/signin/retry.ts";

Deno.test("retryDelayMs() doubles from 250 ms and caps", () => {
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => retryDelayMs(new Error(), n, 3000)), [
    250,
    500,
    1000,
    2000,
    3000,
  ]);
});

Deno.test("retryDelayMs() honours the server's Retry-After up to the cap", () => {
  const throttled = (seconds: number) =>
    new SigninError("ERR_SIGNIN_THROTTLED", "slow down", {
      status: 429,
      retryAfterSeconds: seconds,
    });
  assert.equal(retryDelayMs(throttled(2), 1, 3000), 2000);
  assert.equal(retryDelayMs(throttled(0), 3, 3000), 0);
  assert.equal(retryDelayMs(throttled(60), 1, 3000), 3000);
});
