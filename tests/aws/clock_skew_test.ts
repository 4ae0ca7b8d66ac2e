import assert from "node:assert/strict";
import { SigninError } from "../../lib/errors.ts";
import { skewOf, withClockSkewCorrection } from "../../lib/aws/retry.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

/** A refusal as processTokenResponse makes it, with the server's Date. */
function refusal(serverDate: number | undefined, status = 400): SigninError {
  return new SigninError(
    "ERR_SIGNIN_VALIDATION",
    "Cannot refresh the login session: Invalid DPoP proof: iat is outside the accepted window.",
    { status, errorType: "ValidationException", error: "INVALID_REQUEST", serverDate },
  );
}

Deno.test("withClockSkewCorrection() retries once with the server's clock when a 4xx shows skew", async () => {
  for (const offset of [600_000, -600_000]) {
    const clocks: number[] = [];
    const result = await withClockSkewCorrection(() => NOW, (now) => {
      clocks.push(now());
      // The "server" accepts only proofs within 5 minutes of its own clock.
      if (Math.abs(now() - (NOW + offset)) > 300_000) throw refusal(NOW + offset);
      return Promise.resolve("ok");
    });
    assert.equal(result, "ok");
    assert.deepEqual(clocks, [NOW, NOW + offset]);
  }
});

Deno.test("withClockSkewCorrection() names the clock skew when the corrected call fails too", async () => {
  let calls = 0;
  await assert.rejects(
    () =>
      withClockSkewCorrection(() => NOW, () => {
        calls++;
        return Promise.reject(refusal(NOW - 720_000));
      }),
    (err) =>
      err instanceof SigninError && err.code === "ERR_SIGNIN_VALIDATION" &&
      err.message.includes("this computer's clock is 12 min ahead of AWS Sign-In's (clock skew)"),
  );
  assert.equal(calls, 2);
});

Deno.test("withClockSkewCorrection() does not retry without skew, on 5xx or 429, or without Date", async () => {
  for (
    const err of [
      refusal(NOW + 5_000),
      refusal(NOW + 600_000, 500),
      refusal(NOW + 600_000, 429),
      refusal(undefined),
      new TypeError("not a Sign-In error"),
    ]
  ) {
    let calls = 0;
    await assert.rejects(
      () =>
        withClockSkewCorrection(() => NOW, () => {
          calls++;
          return Promise.reject(err);
        }),
      (thrown) => thrown === err,
    );
    assert.equal(calls, 1);
  }
});

Deno.test("skewOf() is the server's clock minus ours, from 30 s on", () => {
  assert.equal(skewOf(refusal(NOW + 31_000), NOW), 31_000);
  assert.equal(skewOf(refusal(NOW - 31_000), NOW), -31_000);
  assert.equal(skewOf(refusal(NOW + 29_000), NOW), undefined);
});
