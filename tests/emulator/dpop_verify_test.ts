/**
 * The emulator's DPoP checks (RFC 9449 §4.3): the RFC's own example proof verifies, and for every
 * rule a refresh whose proof breaks only that rule is refused with 400 ValidationException
 * INVALID_REQUEST "Invalid DPoP proof: <rule>", without echoing the proof and without spending the
 * refresh token.
 */
import assert from "node:assert/strict";
import { DpopProofError, JtiCache, verifyDpopProof } from "../../lib/emulator/dpop_verify.ts";
import { type DpopKey, generateDpopKey } from "../../lib/signin/dpop.ts";
import { base64UrlDecode, base64UrlEncode } from "../../lib/signin/pkce.ts";
import {
  ARN,
  authorize,
  codeBody,
  proof,
  refreshCall,
  SAME_DEVICE,
  signIn,
  startEmulator,
  tokenCall,
} from "./flow.ts";

const RFC9449_PROOF =
  "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19" +
  ".eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ" +
  ".2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg";

Deno.test("https://www.rfc-editor.org/rfc/rfc9449#section-4.1 example proof verifies", async () => {
  const verified = await verifyDpopProof(RFC9449_PROOF, {
    method: "POST",
    url: "https://server.example.com/token",
    nowMs: 1562262616_000,
    jtis: new JtiCache(),
  });
  assert.equal(verified.jkt, "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I");
  // The same proof, seen again, is a replay.
  const jtis = new JtiCache();
  const expected = {
    method: "POST",
    url: "https://server.example.com/token?x=1",
    nowMs: 1562262616_000,
    jtis,
  };
  await verifyDpopProof(RFC9449_PROOF, expected);
  await assert.rejects(
    () => verifyDpopProof(RFC9449_PROOF, expected),
    new DpopProofError("jti was already used (replayed proof)"),
  );
});

/** A way to break one rule: the proof(s) to send, made from the session key and token URL. */
type Breaker = (key: DpopKey, url: string, base: string) => Promise<string | string[] | undefined>;

/** A compact JWS as [signing input, signature part]. */
function splitSignature(jws: string): [string, string] {
  const at = jws.lastIndexOf(".");
  return [jws.slice(0, at), jws.slice(at + 1)];
}

/** The ASN.1 DER form of a raw 64-byte ECDSA signature (what OpenSSL-style signers emit). */
function derOf(raw: Uint8Array): Uint8Array {
  const integer = (bytes: Uint8Array) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const trimmed = bytes.slice(i);
    const body = trimmed[0]! & 0x80 ? [0, ...trimmed] : [...trimmed];
    return [0x02, body.length, ...body];
  };
  const seq = [...integer(raw.slice(0, 32)), ...integer(raw.slice(32))];
  return new Uint8Array([0x30, seq.length, ...seq]);
}

const privateD = async (key: DpopKey) =>
  (await crypto.subtle.exportKey("jwk", key.privateKey)).d as string;

const CASES: [string, string, Breaker][] = [
  ["no DPoP header", "no DPoP header", () => Promise.resolve(undefined)],
  [
    "two DPoP headers",
    "more than one DPoP header",
    async (key, url) => [await proof(key, url), await proof(key, url)],
  ],
  [
    "a proof that is not a JWS",
    "not a compact JWS (three dot-separated parts)",
    () => Promise.resolve("not-a-jwt"),
  ],
  [
    'typ "JWT"',
    'typ must be "dpop+jwt"',
    (key, url) => proof(key, url, { header: { typ: "JWT" } }),
  ],
  [
    'alg "none"',
    'alg must be "ES256"',
    (key, url) => proof(key, url, { header: { alg: "none" }, signature: "" }),
  ],
  [
    'alg "ES384"',
    'alg must be "ES256"',
    (key, url) => proof(key, url, { header: { alg: "ES384" } }),
  ],
  [
    "a header without jwk",
    "jwk must be an EC P-256 public key",
    (key, url) => proof(key, url, { header: { jwk: undefined } }),
  ],
  [
    'alg "HS256"',
    'alg must be "ES256"',
    (key, url) => proof(key, url, { header: { alg: "HS256" } }),
  ],
  [
    'a jwk with kty "OKP"',
    "jwk must be an EC P-256 public key",
    (key, url) => proof(key, url, { header: { jwk: { ...key.publicJwk, kty: "OKP" } } }),
  ],
  [
    'a jwk with crv "P-384"',
    "jwk must be an EC P-256 public key",
    (key, url) => proof(key, url, { header: { jwk: { ...key.publicJwk, crv: "P-384" } } }),
  ],
  [
    "a jwk with its private part",
    "jwk must not contain a private key",
    async (key, url) =>
      proof(key, url, { header: { jwk: { ...key.publicJwk, d: await privateD(key) } } }),
  ],
  [
    "a signature by another key",
    "the signature does not verify with the header jwk",
    async (key, url) => {
      const other = await generateDpopKey();
      const forged = await proof(other, url, { header: { jwk: key.publicJwk } });
      return forged;
    },
  ],
  [
    "a DER-encoded signature (not raw r||s)",
    "the signature does not verify with the header jwk",
    async (key, url) => {
      const [input, raw] = splitSignature(await proof(key, url));
      return `${input}.${base64UrlEncode(derOf(base64UrlDecode(raw)))}`;
    },
  ],
  ...(["jti", "htm", "htu", "iat"].map((claim): [string, string, Breaker] => [
    `no ${claim} claim`,
    `the "${claim}" claim is missing`,
    (key, url) => proof(key, url, { claims: { [claim]: undefined } }),
  ])),
  [
    'htm "GET"',
    'htm must be "POST"',
    (key, url) => proof(key, url, { claims: { htm: "GET" } }),
  ],
  [
    "htu with another path",
    "htu does not match the request URL",
    (key, _url, base) => proof(key, `${base}/v1/authorize`),
  ],
  [
    "htu with another port",
    "htu does not match the request URL",
    (key, url) => proof(key, url.replace(/:(\d+)\//, (_, p) => `:${Number(p) + 1}/`)),
  ],
  [
    "htu with the https scheme",
    "htu does not match the request URL",
    (key, url) => proof(key, url.replace(/^http:/, "https:")),
  ],
  [
    "htu with the path in upper case",
    "htu does not match the request URL",
    (key, url) => proof(key, url.replace("/v1/token", "/V1/TOKEN")),
  ],
  [
    "htu with a fragment",
    "htu does not match the request URL",
    (key, url) => proof(key, `${url}#x`),
  ],
  [
    "htu with a query",
    "htu does not match the request URL",
    (key, url) => proof(key, `${url}?x=1`),
  ],
  [
    "iat 6 minutes in the past",
    "iat is more than 5 minutes away from the server clock",
    (key, url) => proof(key, url, { iatOffsetMs: -360_000 }),
  ],
  [
    "iat 6 minutes in the future",
    "iat is more than 5 minutes away from the server clock",
    (key, url) => proof(key, url, { iatOffsetMs: 360_000 }),
  ],
  [
    "a valid proof by a key the session is not bound to",
    "the proof key is not the key the refresh token is bound to",
    async (_key, url) => proof(await generateDpopKey(), url),
  ],
];

for (const [what, rule, breaker] of CASES) {
  Deno.test(`token endpoint refuses a DPoP proof with ${what}`, async () => {
    await using emulator = await startEmulator({ autoApprove: ARN });
    const session = await signIn(emulator.url);
    const url = `${emulator.url}/v1/token`;
    const dpop = await breaker(session.key, url, emulator.url);
    const body = {
      clientId: SAME_DEVICE,
      grantType: "refresh_token",
      refreshToken: session.refreshToken,
    };
    const r = await tokenCall(emulator.url, body, dpop);
    assert.equal(r.status, 400);
    assert.equal(r.headers.get("x-amzn-errortype"), "ValidationException");
    assert.equal(r.body.error, "INVALID_REQUEST");
    assert.equal(r.body.message, `Invalid DPoP proof: ${rule}`);
    for (const sent of [dpop ?? []].flat()) {
      assert.ok(!JSON.stringify(r.body).includes(sent.split(".")[2] || sent), "proof echoed");
    }
    // The refusal spent nothing: the same refresh token still works with a good proof.
    assert.equal((await refreshCall(emulator.url, session.key, session.refreshToken)).status, 200);
  });
}

Deno.test("token endpoint refuses a replayed DPoP proof (same jti)", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const session = await signIn(emulator.url);
  const dpop = await proof(session.key, `${emulator.url}/v1/token`);
  const body = (refreshToken: string) => ({
    clientId: SAME_DEVICE,
    grantType: "refresh_token",
    refreshToken,
  });
  const first = await tokenCall(emulator.url, body(session.refreshToken), dpop);
  assert.equal(first.status, 200);
  const again = await tokenCall(emulator.url, body(first.body.refreshToken as string), dpop);
  assert.equal(again.status, 400);
  assert.equal(again.body.message, "Invalid DPoP proof: jti was already used (replayed proof)");
});

Deno.test("a DPoP proof spent on the code exchange cannot be replayed on a refresh", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const key = await generateDpopKey();
  const dpop = await proof(key, `${emulator.url}/v1/token`);
  const code = await tokenCall(emulator.url, codeBody(await authorize(emulator.url)), dpop);
  assert.equal(code.status, 200);
  const body = {
    clientId: SAME_DEVICE,
    grantType: "refresh_token",
    refreshToken: code.body.refreshToken as string,
  };
  const replay = await tokenCall(emulator.url, body, dpop);
  assert.equal(replay.status, 400);
  assert.equal(replay.body.message, "Invalid DPoP proof: jti was already used (replayed proof)");
});

Deno.test("token endpoint accepts an htu that differs only by RFC 3986 normalisation", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const session = await signIn(emulator.url);
  const htu = `${emulator.url.replace("http://", "HTTP://")}/v1/./token`;
  const r = await tokenCall(
    emulator.url,
    { clientId: SAME_DEVICE, grantType: "refresh_token", refreshToken: session.refreshToken },
    await proof(session.key, htu),
  );
  assert.equal(r.status, 200, JSON.stringify(r.body));
});

Deno.test("token endpoint checks iat against the emulator clock, not the system clock", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const session = await signIn(emulator.url);
  emulator.controls.setClockOffset(600_000);
  const onSystemClock = await refreshCall(emulator.url, session.key, session.refreshToken);
  assert.equal(onSystemClock.status, 400);
  assert.match(onSystemClock.body.message as string, /^Invalid DPoP proof: iat /);
  const onEmulatorClock = await refreshCall(emulator.url, session.key, session.refreshToken, {
    iatOffsetMs: 600_000,
  });
  assert.equal(onEmulatorClock.status, 200);
});
