import assert from "node:assert/strict";
import { describeRemaining, mask } from "../../lib/commands/status.ts";

Deno.test("mask() shows 16 asterisks and the last 4 characters, like aws configure list", () => {
  assert.equal(mask("ASIAEXAMPLEKEYABCD"), "****************ABCD");
  assert.equal(mask("abc"), "****************");
  assert.equal(mask("abcd"), "****************");
});

Deno.test("describeRemaining() says how long until or since expiry", () => {
  assert.equal(describeRemaining(720), "in 12 min");
  assert.equal(describeRemaining(40), "in 40 s");
  assert.equal(describeRemaining(-180), "expired 3 min ago");
  assert.equal(describeRemaining(7 * 3600 + 12 * 60 + 59), "in 7 h 12 min");
  assert.equal(describeRemaining(3600), "in 1 h 0 min");
});
