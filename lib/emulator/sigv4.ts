/**
 * AWS Signature Version 4 verification for the emulator's STS, with WebCrypto HMAC-SHA256: parse the
 * `Authorization` header, rebuild the canonical request and the string to sign, derive the signing
 * key from the secret the emulator issued, and compare signatures in constant time.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 * @module
 */

const encoder = new TextEncoder();

/** The parts of an `AWS4-HMAC-SHA256` Authorization header. */
export interface SigV4Authorization {
  accessKeyId: string;
  /** `YYYYMMDD` of the credential scope. */
  date: string;
  region: string;
  service: string;
  /** Lowercase header names, in the order given. */
  signedHeaders: string[];
  /** Lowercase hex. */
  signature: string;
}

/**
 * Parses `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b,
 * Signature=hex`.
 *
 * @returns The parts, or undefined when the header is not a well-formed SigV4 header.
 */
export function parseAuthorization(header: string): SigV4Authorization | undefined {
  const match = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(header.trim());
  if (!match) return undefined;
  const fields: Record<string, string> = {};
  for (const part of match[1]!.split(",")) {
    const eq = part.indexOf("=");
    if (eq === -1) return undefined;
    fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const scope = fields.Credential?.split("/");
  if (scope?.length !== 5 || scope[4] !== "aws4_request") return undefined;
  const [accessKeyId, date, region, service] = scope as [string, string, string, string];
  const signedHeaders = fields.SignedHeaders?.split(";").filter(Boolean);
  const signature = fields.Signature;
  if (!signedHeaders?.length || !signature || !/^[0-9a-f]{64}$/.test(signature)) return undefined;
  if (!/^\d{8}$/.test(date) || !accessKeyId || !region || !service) return undefined;
  return { accessKeyId, date, region, service, signedHeaders, signature };
}

/** Percent-encodes all but `A-Z a-z 0-9 - . _ ~` (RFC 3986 unreserved), as SigV4 requires. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return value;
  }
}

/**
 * The canonical URI of a non-S3 service: dot segments resolved, then each segment of the path as
 * received encoded once more (SigV4 "double encoding").
 */
export function canonicalUri(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && rawPath.endsWith("/") ? "/" : "";
  return `/${segments.map(uriEncode).join("/")}${trailing}`;
}

/** The canonical query string: pairs encoded, sorted by name then value. */
export function canonicalQuery(rawQuery: string): string {
  const query = rawQuery.startsWith("?") ? rawQuery.slice(1) : rawQuery;
  if (query === "") return "";
  const pairs = query.split("&").filter(Boolean).map((pair) => {
    const eq = pair.indexOf("=");
    const key = eq === -1 ? pair : pair.slice(0, eq);
    const value = eq === -1 ? "" : pair.slice(eq + 1);
    return [uriEncode(decode(key)), uriEncode(decode(value))] as const;
  });
  pairs.sort(([ak, av], [bk, bv]) => ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0);
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

/** Lowercase hex of SHA-256. */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  return hex(
    new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)),
  );
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function hmac(key: Uint8Array, data: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey(
    "raw",
    key as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, encoder.encode(data)));
}

/** What a signature covers. */
export interface SignedRequest {
  method: string;
  /** The path as received (percent-encoded), without the query. */
  rawPath: string;
  /** The query as received, with or without `?`. */
  rawQuery: string;
  /** Header values by lowercase name. */
  headers: Headers;
  /** Hex SHA-256 of the body (or `x-amz-content-sha256`). */
  payloadHash: string;
  /** `X-Amz-Date`, `YYYYMMDDTHHMMSSZ`. */
  amzDate: string;
}

/** The canonical request for `signedHeaders`. */
export function canonicalRequest(request: SignedRequest, signedHeaders: string[]): string {
  const headerLines = signedHeaders.map((name) =>
    `${name}:${(request.headers.get(name) ?? "").trim().replace(/\s+/g, " ")}\n`
  ).join("");
  return [
    request.method.toUpperCase(),
    canonicalUri(request.rawPath),
    canonicalQuery(request.rawQuery),
    headerLines,
    signedHeaders.join(";"),
    request.payloadHash,
  ].join("\n");
}

/**
 * Computes the signature of `request` with `secretAccessKey` under the scope of `auth`.
 *
 * @returns Lowercase hex.
 */
export async function computeSignature(
  request: SignedRequest,
  auth: Pick<SigV4Authorization, "date" | "region" | "service" | "signedHeaders">,
  secretAccessKey: string,
): Promise<string> {
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    request.amzDate,
    scope,
    await sha256Hex(canonicalRequest(request, auth.signedHeaders)),
  ].join("\n");
  let key = await hmac(encoder.encode(`AWS4${secretAccessKey}`), auth.date);
  for (const part of [auth.region, auth.service, "aws4_request"]) key = await hmac(key, part);
  return hex(await hmac(key, stringToSign));
}

/** Constant-time comparison of two hex strings of the same length. */
export function sameSignature(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Parses `YYYYMMDDTHHMMSSZ` to epoch milliseconds, or undefined. */
export function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Why the AWS front end refuses a request before any service sees it. */
export type SigV4Problem =
  | "missing"
  | "malformed"
  | "wrong-service"
  | "unknown-key"
  | "expired"
  | "bad-date"
  | "stale-date"
  | "mismatch";

/** A refused signature: the problem, and the message AWS gives for it. */
export class SigV4Refusal extends Error {
  constructor(readonly problem: SigV4Problem, message: string) {
    super(message);
    this.name = "SigV4Refusal";
  }
}

/** Credentials a verifier can check a signature against. */
export interface VerifiableCredentials {
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  readonly arn: string;
}

/** How far `X-Amz-Date` may be from the server clock. */
export const SIGV4_SKEW_MS = 15 * 60_000;

/** AWS's text for a signature that does not match. */
export const SIGNATURE_MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/**
 * Verifies that `request` is SigV4-signed for `service` with credentials the emulator issued, that
 * they have not expired, that their session token came along, that `X-Amz-Date` is within 15
 * minutes of `now`, and that the signature covers `host` and the body actually received.
 *
 * @param request The request; its URL is the one the client used.
 * @param body The body as received.
 * @param p.service The signing name the credential scope must carry (`sts`, `signin`).
 * @param p.now The server clock, epoch milliseconds.
 * @param p.credentialsOf The issued credentials of an access key id.
 * @returns The credentials that signed and the parsed Authorization header.
 * @throws {SigV4Refusal} Naming what is wrong.
 */
export async function verifySignedRequest<C extends VerifiableCredentials>(
  request: Request,
  body: Uint8Array,
  p: { service: string; now: number; credentialsOf(accessKeyId: string): C | undefined },
): Promise<{ credentials: C; auth: SigV4Authorization }> {
  const header = request.headers.get("authorization");
  if (header === null) throw new SigV4Refusal("missing", "Missing Authentication Token");
  const auth = parseAuthorization(header);
  if (!auth) {
    throw new SigV4Refusal(
      "malformed",
      "The Authorization header is not a well-formed AWS4-HMAC-SHA256 signature.",
    );
  }
  if (auth.service !== p.service) {
    throw new SigV4Refusal(
      "wrong-service",
      `Credential should be scoped to correct service: '${p.service}'.`,
    );
  }
  const issued = p.credentialsOf(auth.accessKeyId);
  if (!issued || request.headers.get("x-amz-security-token") !== issued.sessionToken) {
    throw new SigV4Refusal(
      "unknown-key",
      "The security token included in the request is invalid.",
    );
  }
  if (issued.expiresAt <= p.now) {
    throw new SigV4Refusal("expired", "The security token included in the request is expired");
  }
  const amzDate = request.headers.get("x-amz-date") ?? "";
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) {
    throw new SigV4Refusal("bad-date", "The request has no valid X-Amz-Date header.");
  }
  if (Math.abs(signedAt - p.now) > SIGV4_SKEW_MS) {
    throw new SigV4Refusal(
      "stale-date",
      `Signature expired: ${amzDate} is more than 15 minutes away from the server time.`,
    );
  }
  if (auth.date !== amzDate.slice(0, 8) || !auth.signedHeaders.includes("host")) {
    throw new SigV4Refusal("mismatch", SIGNATURE_MISMATCH);
  }
  const url = new URL(request.url);
  const expected = await computeSignature(
    {
      method: request.method,
      rawPath: url.pathname,
      rawQuery: url.search,
      headers: request.headers,
      // The hash of the body actually received, never the client's x-amz-content-sha256: with the
      // claimed hash a body changed after signing would pass.
      payloadHash: await sha256Hex(body),
      amzDate,
    },
    auth,
    issued.secretAccessKey,
  );
  if (!sameSignature(expected, auth.signature)) {
    throw new SigV4Refusal("mismatch", SIGNATURE_MISMATCH);
  }
  return { credentials: issued, auth };
}
