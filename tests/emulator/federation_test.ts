/**
 * The emulator's federation endpoint (`aws-login console`'s counterpart): getSigninToken takes only
 * credentials it issued, refuses those of an AssumeRole made with DurationSeconds (AWS documents
 * that for temporary callers), checks SessionDuration (900–43200, not for role chaining); the login
 * page names the identity; a browser signed in as someone else must log out first.
 */
import assert from "node:assert/strict";
import { signIn, startEmulator } from "./flow.ts";
import { type Creds, sts, xmlValue } from "./sts_client.ts";

const ALICE = "arn:aws:iam::123456789012:user/Alice";
const ADMIN = "arn:aws:iam::210987654321:role/Admin";
const AUDIT = "arn:aws:iam::333333333333:role/Audit";

async function setup() {
  const emulator = await startEmulator({ autoApprove: ALICE });
  const session = await signIn(emulator.url);
  return Object.assign(emulator, { creds: session.reply.accessToken as Creds });
}

async function assume(base: string, creds: Creds, roleArn: string, duration?: number) {
  const body = new URLSearchParams({
    Action: "AssumeRole",
    Version: "2011-06-15",
    RoleArn: roleArn,
    RoleSessionName: "alice",
  });
  if (duration !== undefined) body.set("DurationSeconds", String(duration));
  const r = await sts(base, creds, { body: body.toString() });
  assert.equal(r.status, 200, r.text);
  return {
    accessKeyId: xmlValue(r.text, "AccessKeyId")!,
    secretAccessKey: xmlValue(r.text, "SecretAccessKey")!,
    sessionToken: xmlValue(r.text, "SessionToken")!,
  };
}

async function getSigninToken(base: string, creds: Creds, extra: Record<string, string> = {}) {
  const q = new URLSearchParams({
    Action: "getSigninToken",
    Session: JSON.stringify({
      sessionId: creds.accessKeyId,
      sessionKey: creds.secretAccessKey,
      sessionToken: creds.sessionToken,
    }),
    ...extra,
  });
  const r = await fetch(`${base}/federation?${q}`);
  return { status: r.status, text: await r.text() };
}

function loginUrl(base: string, token: string, destination = "https://console.aws.amazon.com/") {
  const q = new URLSearchParams({ Action: "login", SigninToken: token, Destination: destination });
  return `${base}/federation?${q}`;
}

Deno.test("federation: a role assumed without DurationSeconds signs in; the page names it", async () => {
  await using e = await setup();
  const role = await assume(e.url, e.creds, ADMIN);
  const r = await getSigninToken(e.url, role, { SessionDuration: "43200" });
  assert.equal(r.status, 200, r.text);
  const token = JSON.parse(r.text).SigninToken;
  assert.match(token, /^[\w-]{40,}$/);
  const page = await fetch(loginUrl(e.url, token, "https://eu-west-1.console.aws.amazon.com/s3/"));
  const html = await page.text();
  assert.equal(page.status, 200);
  assert.match(html, /id="identity"[^>]*>arn:aws:sts::210987654321:assumed-role\/Admin\/alice</);
  assert.match(html, /id="destination"[^>]*>https:\/\/eu-west-1\.console\.aws\.amazon\.com\/s3\/</);
  assert.match(page.headers.get("set-cookie") ?? "", /^aws-emulator-console=/);
  assert.equal(e.controls.counters().signin_token, 1);
});

Deno.test("federation: refusals of getSigninToken", async () => {
  await using e = await setup();
  const role = await assume(e.url, e.creds, ADMIN);
  const withDuration = await assume(e.url, e.creds, ADMIN, 900);
  const chained = await assume(e.url, role, AUDIT);
  const cases: [string, Creds, Record<string, string>, RegExp][] = [
    ["DurationSeconds", withDuration, {}, /AssumeRole call with DurationSeconds/],
    ["chained + SessionDuration", chained, { SessionDuration: "900" }, /role chaining/],
    ["too short", role, { SessionDuration: "899" }, /900 to 43200/],
    ["too long", role, { SessionDuration: "43201" }, /900 to 43200/],
    ["not a number", role, { SessionDuration: "1h" }, /900 to 43200/],
    ["wrong key", { ...role, secretAccessKey: "x" }, {}, /invalid or have expired/],
    ["wrong token", { ...role, sessionToken: "x" }, {}, /invalid or have expired/],
    ["unknown", { ...role, accessKeyId: "ASIAUNKNOWN" }, {}, /invalid or have expired/],
  ];
  for (const [name, creds, extra, message] of cases) {
    const r = await getSigninToken(e.url, creds, extra);
    assert.equal(r.status, 400, name);
    assert.match(r.text, message, name);
  }
  // Chained credentials without SessionDuration, and the login session's own, are taken.
  assert.equal((await getSigninToken(e.url, chained)).status, 200);
  assert.equal((await getSigninToken(e.url, e.creds)).status, 200);
  const malformed = await fetch(`${e.url}/federation?Action=getSigninToken&Session=%7B`);
  assert.equal(malformed.status, 400);
  await malformed.body?.cancel();
});

Deno.test("federation: expired credentials and tokens are refused", async () => {
  await using e = await setup();
  const role = await assume(e.url, e.creds, ADMIN);
  const token = JSON.parse((await getSigninToken(e.url, role)).text).SigninToken;
  e.controls.setClockOffset(16 * 60_000);
  const page = await fetch(loginUrl(e.url, token));
  assert.equal(page.status, 400);
  assert.match(await page.text(), /invalid or expired/);
  e.controls.setClockOffset(61 * 60_000);
  assert.equal((await getSigninToken(e.url, role)).status, 400);
});

Deno.test("federation: a browser signed in as another identity logs out first", async () => {
  await using e = await setup();
  const admin = JSON.parse((await getSigninToken(e.url, await assume(e.url, e.creds, ADMIN))).text)
    .SigninToken;
  const first = await fetch(loginUrl(e.url, admin));
  await first.body?.cancel();
  const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
  const alice = JSON.parse((await getSigninToken(e.url, e.creds)).text).SigninToken;
  const refused = await fetch(loginUrl(e.url, alice), { headers: { cookie } });
  assert.equal(refused.status, 400);
  assert.match(await refused.text(), /signed in to the console as arn:aws:sts::210987654321:/);
  // The console's logout redirects to its own federation URL and forgets the browser's session.
  const logout = await fetch(
    `${e.url}/oauth?Action=logout&redirect_uri=${encodeURIComponent(loginUrl(e.url, alice))}`,
    { headers: { cookie }, redirect: "manual" },
  );
  await logout.body?.cancel();
  assert.equal(logout.status, 302);
  assert.equal(logout.headers.get("location"), loginUrl(e.url, alice));
  assert.match(logout.headers.get("set-cookie")!, /Max-Age=0/);
  const landed = await fetch(logout.headers.get("location")!);
  assert.equal(landed.status, 200);
  assert.match(await landed.text(), /id="identity"[^>]*>arn:aws:iam::123456789012:user\/Alice</);
  // Elsewhere, logout does not redirect.
  const away = await fetch(
    `${e.url}/oauth?Action=logout&redirect_uri=${encodeURIComponent("https://example.com/")}`,
    { redirect: "manual" },
  );
  assert.equal(away.status, 200);
  await away.body?.cancel();
});
