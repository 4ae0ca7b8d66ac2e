/**
 * Server-side DPoP proof checks (RFC 9449 §4.3) for the emulator's token endpoint, with WebCrypto
 * only: one `DPoP` header holding a compact JWS; `typ` `dpop+jwt`; `alg` ES256 (the only algorithm
 * AWS clients use); a public EC P-256 `jwk` with no private part; a signature that verifies with that
 * key; `jti`, `htm`, `htu`, `iat` present; `htm` and `htu` matching the request; `iat` within 5
 * minutes of the server clock; `jti` never seen before. No nonces: AWS clients ignore them.
 *
 * Each failure names the rule it broke and never echoes the proof.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.3
 * @module
 */
import { htuOf, jwkThumbprint, type PublicJwk } from "../signin/dpop.ts";
import { base64UrlDecode } from "../signin/pkce.ts";

/** How far `iat` may be from the server clock, either way (RFC 9449 §11.1 leaves it to policy). */
export const IAT_WINDOW_SECONDS = 300;

/** A proof was refused; `message` names the rule, e.g. `htm must be "POST"`. */
export class DpopProofError extends Error {
  constructor(rule: string) {
    super(rule);
    this.name = "DpopProofError";
  }
}

/** What a valid proof tells the server. */
export interface VerifiedProof {
  jwk: PublicJwk;
  /** RFC 7638 thumbprint of `jwk`: what a session is bound to. */
  jkt: string;
}

/** Remembers `jti` values long enough that a replay falls inside the `iat` window. */
export class JtiCache {
  readonly #seen = new Map<string, number>();

  /** Records `jti` at `nowMs`; false when it was already there. */
  remember(jti: string, nowMs: number): boolean {
    for (const [key, at] of this.#seen) {
      if (nowMs - at > 2 * IAT_WINDOW_SECONDS * 1000) this.#seen.delete(key);
    }
    if (this.#seen.has(jti)) return false;
    this.#seen.set(jti, nowMs);
    return true;
  }
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(base64UrlDecode(part)),
    );
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The `htu` comparison form: RFC 3986 §6.2.2–3 normalisation as the URL parser does it. */
function normalisedHtu(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (u.search !== "" || u.hash !== "" || url.includes("?") || url.includes("#")) {
      return undefined;
    }
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return undefined;
  }
}

/**
 * Verifies the `DPoP` header of one request.
 *
 * @param header The header value (`Headers.get` joins repeated headers with ", ", and a compact JWS
 *   has no comma, so a comma means more than one header).
 * @param expected.method The request method.
 * @param expected.url The URL the client used: scheme, host (and port) from `Host`, path.
 * @param expected.nowMs The emulator clock.
 * @param expected.jtis The replay cache; the `jti` is recorded once everything else holds.
 * @returns The proof's key and thumbprint.
 * @throws {DpopProofError} Naming the first rule the proof breaks.
 */
export async function verifyDpopProof(
  header: string | null,
  expected: { method: string; url: string; nowMs: number; jtis: JtiCache },
): Promise<VerifiedProof> {
  if (header === null || header.trim() === "") throw new DpopProofError("no DPoP header");
  if (header.includes(",")) throw new DpopProofError("more than one DPoP header");
  const parts = header.trim().split(".");
  if (parts.length !== 3) throw new DpopProofError("not a compact JWS (three dot-separated parts)");
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const head = decodeJson(headerPart);
  const claims = decodeJson(payloadPart);
  if (!head || !claims) throw new DpopProofError("header or payload is not base64url JSON");

  if (head.typ !== "dpop+jwt") throw new DpopProofError('typ must be "dpop+jwt"');
  if (head.alg !== "ES256") throw new DpopProofError('alg must be "ES256"');
  const jwk = head.jwk;
  if (
    typeof jwk !== "object" || jwk === null || Array.isArray(jwk) ||
    (jwk as Record<string, unknown>).kty !== "EC" ||
    (jwk as Record<string, unknown>).crv !== "P-256" ||
    typeof (jwk as Record<string, unknown>).x !== "string" ||
    typeof (jwk as Record<string, unknown>).y !== "string"
  ) {
    throw new DpopProofError("jwk must be an EC P-256 public key");
  }
  if ("d" in jwk) throw new DpopProofError("jwk must not contain a private key");
  const { x, y } = jwk as { x: string; y: string };
  const publicJwk: PublicJwk = { kty: "EC", crv: "P-256", x, y };

  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey(
      "jwk",
      publicJwk,
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["verify"],
    );
  } catch {
    throw new DpopProofError("jwk is not a valid P-256 public key");
  }
  let signature: Uint8Array;
  try {
    signature = base64UrlDecode(signaturePart);
  } catch {
    signature = new Uint8Array(0);
  }
  const signed = new TextEncoder().encode(`${headerPart}.${payloadPart}`);
  const valid = signature.length === 64 &&
    await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      key,
      signature as Uint8Array<ArrayBuffer>,
      signed,
    );
  if (!valid) throw new DpopProofError("the signature does not verify with the header jwk");

  if (typeof claims.jti !== "string" || claims.jti === "") {
    throw new DpopProofError('the "jti" claim is missing');
  }
  if (typeof claims.htm !== "string") throw new DpopProofError('the "htm" claim is missing');
  if (typeof claims.htu !== "string") throw new DpopProofError('the "htu" claim is missing');
  if (typeof claims.iat !== "number" || !Number.isFinite(claims.iat)) {
    throw new DpopProofError('the "iat" claim is missing');
  }
  if (claims.htm !== expected.method) {
    throw new DpopProofError(`htm must be "${expected.method}"`);
  }
  if (normalisedHtu(claims.htu) !== htuOf(expected.url)) {
    throw new DpopProofError("htu does not match the request URL");
  }
  if (Math.abs(claims.iat - expected.nowMs / 1000) > IAT_WINDOW_SECONDS) {
    throw new DpopProofError("iat is more than 5 minutes away from the server clock");
  }
  if (!expected.jtis.remember(claims.jti, expected.nowMs)) {
    throw new DpopProofError("jti was already used (replayed proof)");
  }
  return { jwk: publicJwk, jkt: await jwkThumbprint(publicJwk) };
}
