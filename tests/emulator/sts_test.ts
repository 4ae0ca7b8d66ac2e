/**
 * The emulator's STS GetCallerIdentity: a request signed (SigV4) with issued credentials gets the
 * session's ARN, account and user id; a tampered, mis-scoped, stale or unknown one gets the STS
 * error XML.
 */
import assert from "node:assert/strict";
import { sha256Hex } from "../../lib/emulator/sigv4.ts";
import { signIn, startEmulator } from "./flow.ts";
import { amzDate, assertStsError, type Creds, QUERY_BODY, sts, xmlValue } from "./sts_client.ts";

const ARN = "arn:aws:iam::123456789012:user/Alice";
const ROLE_ARN = "arn:aws:sts::210987654321:assumed-role/Admin/alice-laptop";

async function setup(arn = ARN) {
  const emulator = await startEmulator({ autoApprove: arn });
  const session = await signIn(emulator.url);
  const creds = session.reply.accessToken as Creds;
  return Object.assign(emulator, { creds });
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
  const other = await sts(t.url, t.creds, { body: "Action=GetSessionToken&Version=2011-06-15" });
  assertStsError(other, 400, "InvalidAction");
});
