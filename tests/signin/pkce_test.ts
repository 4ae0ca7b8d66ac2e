import assert from "node:assert/strict";
import {
  base64UrlDecode,
  base64UrlEncode,
  codeChallengeS256,
  createCodeVerifier,
  createState,
  VERIFIER_ALPHABET,
} from "../../lib/signin/pkce.ts";
import vectors from "../vectors/rfc7636_pkce.json" with { type: "json" };

for (const vector of vectors) {
  Deno.test(`codeChallengeS256() matches ${vector.title}`, async () => {
    assert.equal(await codeChallengeS256(vector.input.verifier), vector.output.challenge);
  });
}

Deno.test("createCodeVerifier() makes 64 unreserved characters, every symbol reachable", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const verifier = createCodeVerifier();
    assert.equal(verifier.length, 64);
    assert.match(verifier, /^[A-Za-z0-9._~-]{64}$/);
    for (const c of verifier) seen.add(c);
  }
  assert.equal(seen.size, VERIFIER_ALPHABET.length);
  assert.notEqual(createCodeVerifier(), createCodeVerifier());
});

Deno.test("createCodeVerifier() draws every symbol about equally often (no modulo bias)", () => {
  // 640,000 symbols, ~9,700 of each: a fair draw stays near a max/min ratio of 1.05; reducing
  // bytes modulo 66 without rejection favours the first 58 symbols 4:3, a ratio near 1.33.
  const counts = new Map<string, number>();
  for (let i = 0; i < 10_000; i++) {
    for (const c of createCodeVerifier()) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  assert.equal(counts.size, VERIFIER_ALPHABET.length);
  const ratio = Math.max(...counts.values()) / Math.min(...counts.values());
  assert.ok(ratio < 1.15, `max/min symbol frequency ${ratio.toFixed(3)}`);
});

Deno.test("createState() makes a lowercase UUIDv4", () => {
  assert.match(
    createState(),
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
});

Deno.test("base64UrlEncode() and base64UrlDecode() round-trip without padding", () => {
  for (let n = 0; n < 40; n++) {
    const bytes = crypto.getRandomValues(new Uint8Array(n));
    const text = base64UrlEncode(bytes);
    assert.doesNotMatch(text, /[+/=]/);
    assert.deepEqual(base64UrlDecode(text), bytes);
  }
  assert.deepEqual(base64UrlDecode("AQ=="), new Uint8Array([1]));
});

Deno.test("base64UrlDecode() refuses characters outside base64url and impossible lengths", () => {
  for (const bad of ["a+b", "a/b", "ab c", "a", "abcde", "é"]) {
    assert.throws(() => base64UrlDecode(bad), SyntaxError, bad);
  }
});
