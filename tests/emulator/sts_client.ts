/**
 * Test helper: STS requests signed with SigV4 the way the AWS SDKs sign them, with ways to spoil the
 * signature after signing, and checks of STS's reply XML.
 *
 * @module
 */
import assert from "node:assert/strict";
import { computeSignature, sha256Hex } from "../../lib/emulator/sigv4.ts";

/** The GetCallerIdentity request body (awsQuery). */
export const QUERY_BODY = "Action=GetCallerIdentity&Version=2011-06-15";

export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** Signs and sends an STS request (default: GetCallerIdentity); `tamper` changes things after signing. */
export async function sts(
  base: string,
  creds: Creds,
  options: {
    body?: string;
    headers?: Record<string, string>;
    atMs?: number;
    service?: string;
    /** The credential scope date (default: the day of X-Amz-Date). */
    scopeDate?: string;
    /** Headers sent but left out of SignedHeaders. */
    unsigned?: readonly string[];
    tamper?: { body?: string; signature?: (s: string) => string; token?: string | null };
  } = {},
) {
  const body = options.body ?? QUERY_BODY;
  const date = amzDate(options.atMs ?? Date.now());
  const headers = new Headers({
    "content-type": "application/x-www-form-urlencoded; charset=utf-8",
    host: new URL(base).host,
    "x-amz-date": date,
    "x-amz-security-token": creds.sessionToken,
    ...options.headers,
  });
  const signedHeaders = [...headers.keys()].sort().filter((h) => !options.unsigned?.includes(h));
  const scope = {
    date: options.scopeDate ?? date.slice(0, 8),
    region: "eu-west-1",
    service: options.service ?? "sts",
  };
  let signature = await computeSignature(
    {
      method: "POST",
      rawPath: "/",
      rawQuery: "",
      headers,
      payloadHash: await sha256Hex(body),
      amzDate: date,
    },
    { ...scope, signedHeaders },
    creds.secretAccessKey,
  );
  if (options.tamper?.signature) signature = options.tamper.signature(signature);
  headers.set(
    "authorization",
    `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope.date}/${scope.region}/` +
      `${scope.service}/aws4_request, SignedHeaders=${signedHeaders.join(";")}, ` +
      `Signature=${signature}`,
  );
  if (options.tamper?.token === null) headers.delete("x-amz-security-token");
  else if (options.tamper?.token) headers.set("x-amz-security-token", options.tamper.token);
  headers.delete("host");
  const reply = await fetch(`${base}/`, {
    method: "POST",
    headers,
    body: options.tamper?.body ?? body,
  });
  return {
    status: reply.status,
    type: reply.headers.get("content-type"),
    text: await reply.text(),
  };
}

export function xmlValue(xml: string, tag: string): string | undefined {
  return new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];
}

/** Asserts an STS error reply (query protocol): status, code, a message and a request id. */
export function assertStsError(r: { status: number; text: string }, status: number, code: string) {
  assert.equal(r.status, status, r.text);
  assert.match(r.text, /^<ErrorResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/">/);
  assert.equal(xmlValue(r.text, "Type"), "Sender");
  assert.equal(xmlValue(r.text, "Code"), code);
  assert.ok(xmlValue(r.text, "Message"));
  assert.match(xmlValue(r.text, "RequestId")!, /^[0-9a-f-]{36}$/);
}
