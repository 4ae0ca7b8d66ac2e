/**
 * DPoP (RFC 9449) for the AWS Sign-In token calls: a P-256 key pair made with WebCrypto, its SEC1
 * PEM form in the token cache (the `dpopKey` the AWS CLI writes; PKCS#8 accepted on import too),
 * proofs as compact ES256 JWS signed with WebCrypto directly, and the RFC 7638 thumbprint the
 * refresh token is bound to.
 *
 * No JOSE library: a proof is one fixed header, four claims and one ECDSA signature, and WebCrypto
 * already returns the JWS form of that signature (raw `r || s`, RFC 7518 §3.4). Keeping a
 * dependency off this path keeps the refresh fast and the product's code small enough to review;
 * the tests verify the proofs with jose.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449
 * @module
 */
import { base64UrlDecode, base64UrlEncode } from "./pkce.ts";

/** The public half of a DPoP key as a JWK: exactly the members a proof header carries. */
export interface PublicJwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
}

/** A DPoP key pair. The private key never leaves WebCrypto except through {@link exportDpopKeyPem}. */
export interface DpopKey {
  readonly privateKey: CryptoKey;
  readonly publicJwk: PublicJwk;
}

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
// DER of the OID 1.2.840.10045.3.1.7 (prime256v1 / P-256) and 1.2.840.10045.2.1 (id-ecPublicKey).
const P256_OID = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const EC_PUBLIC_KEY_OID = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/** Makes a new P-256 key pair for one login session. */
export async function generateDpopKey(): Promise<DpopKey> {
  const pair = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  return await fromPrivateJwk(await crypto.subtle.exportKey("jwk", pair.privateKey));
}

async function fromPrivateJwk(jwk: JsonWebKey): Promise<DpopKey> {
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || !jwk.d || !jwk.x || !jwk.y) {
    throw new SyntaxError("Cannot use the DPoP key: not an EC P-256 private key");
  }
  const privateKey = await crypto.subtle.importKey(
    "jwk",
    { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, d: jwk.d },
    ALGORITHM,
    true, // extractable: the cache must hold it for later refreshes
    ["sign"],
  );
  return { privateKey, publicJwk: { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y } };
}

// --- DER, just enough for SEC1 / PKCS#8 EC keys -------------------------------------------------

function derLength(n: number): number[] {
  return n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
}

function der(tag: number, content: number[]): number[] {
  return [tag, ...derLength(content.length), ...content];
}

interface Tlv {
  tag: number;
  content: Uint8Array;
  end: number;
}

function readTlv(bytes: Uint8Array, offset: number): Tlv {
  const tag = bytes[offset];
  let len = bytes[offset + 1];
  let start = offset + 2;
  if (tag === undefined || len === undefined) throw new SyntaxError("Truncated DER");
  if (len & 0x80) {
    const count = len & 0x7f;
    if (count < 1 || count > 2) throw new SyntaxError("Unsupported DER length");
    len = 0;
    for (let i = 0; i < count; i++) {
      const b = bytes[start + i];
      if (b === undefined) throw new SyntaxError("Truncated DER");
      len = (len << 8) | b;
    }
    start += count;
  }
  const end = start + len;
  if (end > bytes.length) throw new SyntaxError("Truncated DER");
  return { tag, content: bytes.subarray(start, end), end };
}

function children(content: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  for (let offset = 0; offset < content.length;) {
    const tlv = readTlv(content, offset);
    out.push(tlv);
    offset = tlv.end;
  }
  return out;
}

const sameBytes = (a: Uint8Array, b: number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/** An RFC 5915 ECPrivateKey: the private scalar, and the public point when the key carries it. */
interface Sec1Key {
  d: Uint8Array;
  /** The uncompressed point's coordinates (32 bytes each), from the optional `publicKey` field. */
  x?: Uint8Array;
  y?: Uint8Array;
}

/** Reads an RFC 5915 ECPrivateKey (SEC1), checking the curve. */
function parseSec1(bytes: Uint8Array): Sec1Key {
  const outer = readTlv(bytes, 0);
  if (outer.tag !== 0x30) throw new SyntaxError("not a DER SEQUENCE");
  const [version, privateKey, ...rest] = children(outer.content);
  if (version?.tag !== 0x02 || version.content[0] !== 1 || privateKey?.tag !== 0x04) {
    throw new SyntaxError("not an ECPrivateKey");
  }
  const key: Sec1Key = { d: new Uint8Array(32) };
  for (const field of rest) {
    if (field.tag === 0xa0) {
      const oid = readTlv(field.content, 0);
      if (!sameBytes(field.content.subarray(0, oid.end), P256_OID)) {
        throw new SyntaxError("the key is not on the P-256 curve");
      }
    } else if (field.tag === 0xa1) {
      // BIT STRING: 0 unused bits, then the uncompressed point 04 || x || y.
      const bits = readTlv(field.content, 0);
      const point = bits.content;
      if (bits.tag === 0x03 && point.length === 66 && point[0] === 0 && point[1] === 4) {
        key.x = point.slice(2, 34);
        key.y = point.slice(34);
      }
    }
  }
  if (privateKey.content.length > 32) throw new SyntaxError("the key is not on the P-256 curve");
  key.d.set(privateKey.content, 32 - privateKey.content.length);
  return key;
}

/** Wraps a private scalar into the PKCS#8 form WebCrypto imports (it derives the public key). */
function pkcs8FromScalar(d: Uint8Array): Uint8Array<ArrayBuffer> {
  const ecPrivateKey = der(0x30, [...der(0x02, [1]), ...der(0x04, [...d])]);
  return new Uint8Array(
    der(0x30, [
      ...der(0x02, [0]),
      ...der(0x30, [...EC_PUBLIC_KEY_OID, ...P256_OID]),
      ...der(0x04, ecPrivateKey),
    ]),
  );
}

// --- PEM -----------------------------------------------------------------------------------------

function pemBody(pem: string, label: string): Uint8Array<ArrayBuffer> | undefined {
  const match = pem.match(
    new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]*)-----END ${label}-----`),
  );
  if (!match) return undefined;
  const base64 = match[1]!.replace(/\s+/g, "");
  if (base64.length === 0 || base64.length % 4 !== 0) {
    throw new SyntaxError("Cannot read the DPoP key: the PEM body is truncated");
  }
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function toPem(label: string, bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * The private key as the AWS CLI stores it in the cache's `dpopKey`: SEC1 / RFC 5915
 * `EC PRIVATE KEY` PEM with the curve and public key, base64 wrapped at 64, trailing newline — the
 * same bytes OpenSSL writes. This is the one place the private key leaves WebCrypto.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5915
 */
export async function exportDpopKeyPem(key: DpopKey): Promise<string> {
  const jwk = await crypto.subtle.exportKey("jwk", key.privateKey);
  const d = base64UrlDecode(jwk.d!);
  const x = base64UrlDecode(key.publicJwk.x);
  const y = base64UrlDecode(key.publicJwk.y);
  const sec1 = der(0x30, [
    ...der(0x02, [1]),
    ...der(0x04, [...d]),
    ...der(0xa0, P256_OID),
    ...der(0xa1, der(0x03, [0x00, 0x04, ...x, ...y])),
  ]);
  return toPem("EC PRIVATE KEY", new Uint8Array(sec1));
}

/**
 * Reads a cached `dpopKey`: SEC1 `EC PRIVATE KEY` (what the AWS CLI writes) or PKCS#8 `PRIVATE KEY`
 * (the CLI's cross-SDK fixture). The key is imported into WebCrypto once: as a JWK when the SEC1 key
 * carries its public point (OpenSSL and the AWS CLI always write it), else as PKCS#8, with the
 * public point read back from WebCrypto, which derives it from the private scalar.
 *
 * @throws {SyntaxError} When the text is not a P-256 private key in either form; the message never
 *   contains key material.
 */
export async function importDpopKeyPem(pem: string): Promise<DpopKey> {
  let sec1: Sec1Key | undefined;
  let pkcs8: Uint8Array<ArrayBuffer>;
  try {
    const sec1Der = pemBody(pem, "EC PRIVATE KEY");
    const wrapped = sec1Der ? undefined : pemBody(pem, "PRIVATE KEY");
    if (sec1Der) {
      sec1 = parseSec1(sec1Der);
      pkcs8 = pkcs8FromScalar(sec1.d);
    } else if (wrapped) pkcs8 = wrapped;
    else throw new SyntaxError("no EC PRIVATE KEY or PRIVATE KEY block");
  } catch (err) {
    throw new SyntaxError(`Cannot read the DPoP key: ${(err as Error).message}`);
  }
  try {
    if (sec1?.x && sec1.y) {
      return await fromPrivateJwk({
        kty: "EC",
        crv: "P-256",
        x: base64UrlEncode(sec1.x),
        y: base64UrlEncode(sec1.y),
        d: base64UrlEncode(sec1.d),
      });
    }
    const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, ALGORITHM, true, ["sign"]);
    const { x, y } = await crypto.subtle.exportKey("jwk", privateKey);
    if (!x || !y) throw new SyntaxError("no public point");
    return { privateKey, publicJwk: { kty: "EC", crv: "P-256", x, y } };
  } catch {
    throw new SyntaxError("Cannot read the DPoP key: not an EC P-256 private key");
  }
}

/** The claims of one proof. */
export interface DpopClaims {
  /** HTTP method, e.g. `POST`. */
  htm: string;
  /** Request URL; query and fragment are dropped. */
  htu: string | URL;
  /** Issued-at, Unix seconds (default: now). */
  iat?: number;
  /** Server-provided nonce, when one was asked for. */
  nonce?: string;
  /** Unique id (default: a new UUIDv4). */
  jti?: string;
}

/**
 * Signs a DPoP proof, a compact JWS (RFC 7515 §7.1): header `{typ: "dpop+jwt", alg: "ES256", jwk}`
 * with the public key only; claims `jti`, `htm`, `htu`, `iat` and `nonce` when given. A new proof
 * for every request.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 */
export async function createDpopProof(key: DpopKey, claims: DpopClaims): Promise<string> {
  const { kty, crv, x, y } = key.publicJwk; // exactly the public members, never `d`
  const header = { typ: "dpop+jwt", alg: "ES256", jwk: { kty, crv, x, y } };
  const payload: Record<string, unknown> = {
    jti: claims.jti ?? crypto.randomUUID(),
    htm: claims.htm,
    htu: htuOf(claims.htu),
    iat: claims.iat ?? Math.floor(Date.now() / 1000),
  };
  if (claims.nonce !== undefined) payload.nonce = claims.nonce;
  const signingInput = `${base64UrlJson(header)}.${base64UrlJson(payload)}`;
  // ECDSA in WebCrypto signs SHA-256 of the input and returns r || s, 32 bytes each: the ES256
  // signature format of RFC 7518 §3.4 (not DER).
  const signature = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    key.privateKey,
    encoder.encode(signingInput),
  );
  return `${signingInput}.${base64UrlEncode(new Uint8Array(signature))}`;
}

const encoder = new TextEncoder();

function base64UrlJson(value: unknown): string {
  return base64UrlEncode(encoder.encode(JSON.stringify(value)));
}

const THUMBPRINT_MEMBERS: Record<string, string[]> = {
  EC: ["crv", "kty", "x", "y"],
  RSA: ["e", "kty", "n"],
  OKP: ["crv", "kty", "x"],
  oct: ["k", "kty"],
};

/**
 * The RFC 7638 JWK thumbprint: base64url(SHA-256) of the required members in lexicographic order,
 * no whitespace. For a DPoP key this is the `jkt` its refresh token is bound to.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7638#section-3
 */
export async function jwkThumbprint(
  jwk: PublicJwk | Record<string, string | undefined>,
): Promise<string> {
  const members = THUMBPRINT_MEMBERS[(jwk as Record<string, string>).kty ?? ""];
  if (!members) throw new TypeError("Cannot compute a thumbprint: unsupported kty");
  const canonical = `{${
    members.map((m) => `${JSON.stringify(m)}:${JSON.stringify((jwk as Record<string, string>)[m])}`)
      .join(",")
  }}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  return base64UrlEncode(new Uint8Array(digest));
}

/**
 * The `htu` of a request URL: scheme, host, explicit port and path — no query, no fragment.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 */
export function htuOf(url: string | URL): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
