import assert from "node:assert/strict";
import { formatUtcSeconds, parseRfc3339, pythonIsoformat } from "../../lib/session/utc_time.ts";

/** mulberry32, seeded: the same times every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("utc_time: formatting and parsing agree with Date over years 0 to 9999", () => {
  const next = random(0x7157);
  const from = new Date(0).setUTCFullYear(0, 0, 1); // Date.UTC would read year 0 as 1900
  const to = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
  for (let i = 0; i < 20_000; i++) {
    const ms = Math.floor(from + next() * (to - from));
    const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
    assert.equal(formatUtcSeconds(ms), `${iso.slice(0, 19)}Z`, iso);
    const millis = iso.slice(20, 23);
    assert.equal(
      pythonIsoformat(ms),
      `${iso.slice(0, 19)}${millis === "000" ? "" : `.${millis}000`}+00:00`,
    );
    assert.equal(parseRfc3339(iso), ms, iso);
    assert.equal(
      parseRfc3339(`${iso.slice(0, 19)}+05:30`),
      Math.floor(ms / 1000) * 1000 - 19_800_000,
    );
  }
});

Deno.test("parseRfc3339() refuses dates that do not exist and shapes RFC 3339 does not have", () => {
  assert.equal(parseRfc3339("2024-02-29T00:00:00Z"), Date.UTC(2024, 1, 29));
  assert.equal(parseRfc3339("2000-02-29T00:00:00Z"), Date.UTC(2000, 1, 29));
  assert.equal(parseRfc3339("2016-12-31T23:59:60Z"), Date.UTC(2017, 0, 1)); // a leap second
  for (
    const bad of [
      "2023-02-29T00:00:00Z",
      "1900-02-29T00:00:00Z",
      "2025-04-31T00:00:00Z",
      "2025-13-01T00:00:00Z",
      "2025-01-01T24:00:00Z",
      "2025-01-01T00:00:00+24:00",
      "2025-01-01T00:00:00",
      "2025-01-01",
      "Wed, 01 Jan 2025 00:00:00 GMT",
    ]
  ) assert.ok(Number.isNaN(parseRfc3339(bad)), bad);
  assert.throws(() => formatUtcSeconds(Date.UTC(10_000, 0, 1)), RangeError);
});
