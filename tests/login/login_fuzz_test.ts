/**
 * Seeded, bounded property tests for the two parsers that read what comes back from the browser:
 * the pasted verification code and the loopback callback's query. Whatever the input, they return a
 * valid result or throw the typed LoginError with a one-line message, never anything else.
 */
import assert from "node:assert/strict";
import { LoginError } from "../../lib/errors.ts";
import { decodeVerificationCode } from "../../lib/login/verification_code.ts";
import { parseCallbackQuery } from "../../lib/login/callback_server.ts";

const SEED = 0x5eed_2026;
const RUNS = 3000;
const STATE = "0b8a5b1e-2f7c-4d0a-9c1e-5a6b7c8d9e0f";

/** mulberry32: a small deterministic PRNG, so a failure replays. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABETS = [
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_",
  "=&%;?#+ \t\r\nstatecodeerror_description",
  "\u0000\u0001\u001b\u007f\u0085\u00ff\u2028\u202e\ud800\udfff\uffff€é漢🙂",
];

function randomString(next: () => number, maxLength: number): string {
  const alphabet = ALPHABETS[Math.floor(next() * ALPHABETS.length)]!;
  const chars = Array.from(alphabet);
  const length = Math.floor(next() * maxLength);
  let out = "";
  for (let i = 0; i < length; i++) out += chars[Math.floor(next() * chars.length)];
  return out;
}

function randomBytes(next: () => number, maxLength: number): Uint8Array {
  return Uint8Array.from(
    { length: Math.floor(next() * maxLength) },
    () => Math.floor(next() * 256),
  );
}

function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

/** Random query strings: mostly well-formed pairs with random keys and values. */
function randomQuery(next: () => number): string {
  const keys = ["state", "code", "error", "error_description", "x", ""];
  const pairs: string[] = [];
  const count = Math.floor(next() * 5);
  for (let i = 0; i < count; i++) {
    const key = keys[Math.floor(next() * keys.length)]!;
    const value = next() < 0.3 ? STATE : randomString(next, 20);
    pairs.push(next() < 0.5 ? `${key}=${encodeURIComponent(value)}` : `${key}=${value}`);
  }
  return pairs.join(next() < 0.9 ? "&" : ";");
}

function assertOneLine(err: LoginError): void {
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(err.message, /[\u0000-\u001f\u007f]/, err.message);
}

Deno.test("decodeVerificationCode() on random text: a result or ERR_LOGIN_CODE", () => {
  const next = rng(SEED);
  for (let i = 0; i < RUNS; i++) {
    const input = next() < 0.5
      ? randomString(next, 80)
      : next() < 0.5
      ? base64(randomBytes(next, 60))
      : base64(new TextEncoder().encode(randomQuery(next)));
    try {
      const result = decodeVerificationCode(input);
      assert.ok(result.state.length > 0 && result.code.length > 0, JSON.stringify(input));
    } catch (err) {
      assert.ok(err instanceof LoginError, `run ${i}: ${JSON.stringify(input)} threw ${err}`);
      assert.equal(err.code, "ERR_LOGIN_CODE");
      assertOneLine(err);
    }
  }
});

Deno.test("decodeVerificationCode() round-trips random state and code in every base64 form", () => {
  const next = rng(SEED + 1);
  for (let i = 0; i < RUNS; i++) {
    const state = randomString(next, 40) || "s";
    const code = randomString(next, 60) || "c";
    // Lone surrogates cannot survive UTF-8; the service never sends them.
    if (/[\ud800-\udfff]/.test(state + code)) continue;
    const query = `state=${encodeURIComponent(state)}&code=${encodeURIComponent(code)}`;
    const standard = base64(new TextEncoder().encode(query));
    const forms = [
      standard,
      standard.replace(/=+$/, ""),
      standard.replace(/\+/g, "-").replace(/\//g, "_"),
      ` ${standard}\n`,
    ];
    for (const form of forms) {
      assert.deepEqual(decodeVerificationCode(form), { state, code }, `run ${i}: ${form}`);
    }
  }
});

Deno.test("parseCallbackQuery() on random queries: a code or a typed LoginError", () => {
  const next = rng(SEED + 2);
  const allowed = new Set(["ERR_LOGIN_STATE", "ERR_LOGIN_CODE", "ERR_LOGIN_DENIED"]);
  for (let i = 0; i < RUNS; i++) {
    const query = next() < 0.7 ? randomQuery(next) : randomString(next, 120);
    try {
      const code = parseCallbackQuery(query, STATE);
      assert.ok(code.length > 0);
      assert.equal(new URLSearchParams(query).get("state"), STATE);
    } catch (err) {
      assert.ok(err instanceof LoginError, `run ${i}: ${JSON.stringify(query)} threw ${err}`);
      assert.ok(allowed.has(err.code), err.code);
      assertOneLine(err);
    }
  }
});
