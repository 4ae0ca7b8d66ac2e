import assert from "node:assert/strict";
import { NetworkError, SigninError, StsError } from "../../lib/errors.ts";
import { retryDelayMs, withRetries } from "../../lib/aws/retry.ts";

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

Deno.test("withRetries() retries transient failures with backoff, and only those", async () => {
  const sleeps: number[] = [];
  const retried: number[] = [];
  const policy = {
    attempts: 3,
    maxDelayMs: 3000,
    now: () => 0,
    sleep: (ms: number) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    onRetry: (_err: Error, attempt: number) => retried.push(attempt),
  };
  let calls = 0;
  const flaky = () => {
    calls++;
    return calls < 3
      ? Promise.reject(new NetworkError("ERR_NETWORK", "down"))
      : Promise.resolve("ok");
  };
  assert.equal(await withRetries(flaky, policy), "ok");
  assert.deepEqual([calls, sleeps, retried], [3, [250, 500], [1, 2]]);
  // A refusal is final: one call, no wait.
  calls = 0;
  await assert.rejects(
    () =>
      withRetries(() => {
        calls++;
        return Promise.reject(new StsError("ERR_STS_ACCESS_DENIED", "no", { status: 403 }));
      }, policy),
    (err) => err instanceof StsError,
  );
  assert.equal(calls, 1);
  // The last transient failure comes out as it is.
  await assert.rejects(
    () => withRetries(() => Promise.reject(new NetworkError("ERR_TIMEOUT", "slow")), policy),
    (err) => err instanceof NetworkError && err.code === "ERR_TIMEOUT",
  );
});

Deno.test("withRetries() corrects the clock for an STS refusal as for a Sign-In one", async () => {
  const clocks: number[] = [];
  const refused = new StsError("ERR_STS_RESPONSE", "Signature expired", {
    status: 403,
    serverDate: 600_000,
  });
  const result = await withRetries((now) => {
    clocks.push(now());
    return clocks.length === 1 ? Promise.reject(refused) : Promise.resolve("ok");
  }, { attempts: 1, maxDelayMs: 0, now: () => 0, sleep: () => Promise.resolve() });
  assert.equal(result, "ok");
  assert.deepEqual(clocks, [0, 600_000]);
  assert.equal(
    retryDelayMs(new StsError("ERR_STS_THROTTLED", "x", { retryAfterSeconds: 2 }), 1, 3000),
    2000,
  );
});
