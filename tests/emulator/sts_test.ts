/**
 * The emulator's STS GetCallerIdentity: a request signed (SigV4) with issued credentials gets the
 * session's ARN, account and user id; a tampered, mis-scoped, stale or unknown one gets the STS
 * error XML.
 */
import assert from "node:assert/strict";
import { computeSignature, sha256Hex } from "../../lib/emulator/sigv4.ts";
import { signIn, startEmulator } from "./flow.ts";

const ARN = "arn:aws:iam::123456789012:user/Alice";
const ROLE_ARN = "arn:aws:sts::210987654321:assumed-role/Admin/alice-laptop";
const QUERY_BODY = "Action=GetCallerIdentity&Version=2011-06-15";

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** Signs and sends an STS request; `tamper` changes things after signing. */
async function sts(
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

function xmlValue(xml: string, tag: string): string | undefined {
  return new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];
}

async function setup(arn = ARN) {
  const emulator = await startEmulator({ autoApprove: arn });
  const session = await signIn(emulator.url);
  const creds = session.reply.accessToken as Creds;
  return Object.assign(emulator, { creds });
}

function assertStsError(r: { status: number; text: string }, status: number, code: string) {
  assert.equal(r.status, status, r.text);
  assert.match(r.text, /^<ErrorResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/">/);
  assert.equal(xmlValue(r.text, "Type"), "Sender");
  assert.equal(xmlValue(r.text, "Code"), code);
  assert.ok(xmlValue(r.text, "Message"));
  assert.match(xmlValue(r.text, "RequestId")!, /^[0-9a-f-]{36}$/);
}

Deno.test("GetCallerIdentity signed with issued credentials returns the session's identity", async () => {
  await using t = await setup();
  const r = await sts(t.url, t.creds);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.type, "text/xml");
  assert.match(
    r.text,
    /^<GetCallerIdentityResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/">/,
  );
  assert.equal(xmlValue(r.text, "Arn"), ARN);
  assert.equal(xmlValue(r.text, "Account"), "123456789012");
  assert.match(xmlValue(r.text, "UserId")!, /^AIDA[A-Z2-7]{17}$/);
  assert.match(xmlValue(r.text, "RequestId")!, /^[0-9a-f-]{36}$/);
  assert.equal(t.controls.counters().sts, 1);
});

Deno.test("GetCallerIdentity of an assumed-role session names the role session", async () => {
  await using t = await setup(ROLE_ARN);
  const r = await sts(t.url, t.creds);
  assert.equal(xmlValue(r.text, "Arn"), ROLE_ARN);
  assert.equal(xmlValue(r.text, "Account"), "210987654321");
  assert.match(xmlValue(r.text, "UserId")!, /^AROA[A-Z2-7]{17}:alice-laptop$/);
});

Deno.test("GetCallerIdentity over the AWS JSON 1.0 protocol answers in JSON", async () => {
  await using t = await setup();
  const r = await sts(t.url, t.creds, {
    body: "{}",
    headers: {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": "AWSSecurityTokenServiceV20110615.GetCallerIdentity",
    },
  });
  assert.equal(r.status, 200, r.text);
  const body = JSON.parse(r.text);
  assert.equal(body.Arn, ARN);
  assert.equal(body.Account, "123456789012");
});

for (
  const [what, options] of [
    ["a tampered signature", {
      tamper: { signature: (s: string) => s.replace(/^./, (c) => c === "0" ? "1" : "0") },
    }],
    ["a body changed after signing", { tamper: { body: `${QUERY_BODY}&Extra=1` } }],
    ["a signature scoped to another service", { service: "s3" }],
    ["an X-Amz-Date 16 minutes old", { atMs: Date.now() - 16 * 60_000 }],
    ["a credential scope dated another day", {
      scopeDate: amzDate(Date.now() - 86_400_000).slice(0, 8),
    }],
    ["the host header left unsigned", { unsigned: ["host"] }],
    ["a body changed after signing, under a signed x-amz-content-sha256", {
      headers: { "x-amz-content-sha256": await sha256Hex(QUERY_BODY) },
      tamper: { body: `${QUERY_BODY}&Extra=1` },
    }],
  ] as const
) {
  Deno.test(`GetCallerIdentity with ${what} is SignatureDoesNotMatch`, async () => {
    await using t = await setup();
    assertStsError(await sts(t.url, t.creds, options), 403, "SignatureDoesNotMatch");
  });
}

Deno.test("GetCallerIdentity signed with the wrong secret is SignatureDoesNotMatch", async () => {
  await using t = await setup();
  const r = await sts(t.url, { ...t.creds, secretAccessKey: "x".repeat(40) });
  assertStsError(r, 403, "SignatureDoesNotMatch");
});

Deno.test("GetCallerIdentity with an unknown key or another session token is InvalidClientTokenId", async () => {
  await using t = await setup();
  assertStsError(
    await sts(t.url, { ...t.creds, accessKeyId: "ASIAAAAAAAAAAAAAAAAA" }),
    403,
    "InvalidClientTokenId",
  );
  assertStsError(
    await sts(t.url, t.creds, { tamper: { token: null } }),
    403,
    "InvalidClientTokenId",
  );
  assertStsError(
    await sts(t.url, t.creds, { tamper: { token: `${t.creds.sessionToken}x` } }),
    403,
    "InvalidClientTokenId",
  );
});

Deno.test("GetCallerIdentity with expired credentials is ExpiredToken", async () => {
  await using t = await setup();
  t.controls.setClockOffset(901_000);
  const r = await sts(t.url, t.creds, { atMs: Date.now() + 901_000 });
  assertStsError(r, 400, "ExpiredToken");
});

Deno.test("STS without a signature, or for another action, is refused", async () => {
  await using t = await setup();
  const unsigned = await fetch(`${t.url}/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: QUERY_BODY,
  });
  assertStsError(
    { status: unsigned.status, text: await unsigned.text() },
    403,
    "MissingAuthenticationToken",
  );
  const other = await sts(t.url, t.creds, { body: "Action=AssumeRole&Version=2011-06-15" });
  assertStsError(other, 400, "InvalidAction");
});
