/**
 * The emulator's CreateOAuth2Token: the code grant (reply shape, signed ID token, single use, 5-minute
 * expiry, PKCE, client and redirect URI), form-encoded bodies, refresh rotation, the bound key, the
 * session lifetime, and the restJson error shape with a `Date` header from the emulator clock.
 */
import assert from "node:assert/strict";
import { decodeProtectedHeader, importJWK, jwtVerify } from "jose";
import { EmulatorError } from "../../lib/errors.ts";
import { generateDpopKey } from "../../lib/signin/dpop.ts";
import {
  ARN,
  authorize,
  codeBody,
  CROSS_DEVICE,
  proof,
  refreshCall,
  SAME_DEVICE,
  signIn,
  startEmulator,
  tokenCall,
} from "./flow.ts";

const BAD_GRANT = "The provided authorization grant is invalid, expired, revoked, or malformed";

/** Exchanges `body` with a new key; `iatOffsetMs` follows the emulator clock. */
async function exchange(base: string, body: Record<string, string>, iatOffsetMs = 0) {
  const key = await generateDpopKey();
  return await tokenCall(base, body, await proof(key, `${base}/v1/token`, { iatOffsetMs }));
}

function assertError(
  r: { status: number; headers: Headers; body: Record<string, unknown> },
  status: number,
  type: string,
  error: string,
) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.headers.get("x-amzn-errortype"), type);
  assert.equal(r.headers.get("content-type"), "application/json");
  assert.deepEqual(Object.keys(r.body).sort(), ["__type", "error", "message"]);
  assert.equal(r.body.__type, `com.amazonaws.signin#${type}`);
  assert.equal(r.body.error, error);
  assert.equal(typeof r.body.message, "string");
}

Deno.test("the code grant returns credentials, tokens and an ID token signed with a kid", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const a = await authorize(emulator.url);
  const r = await exchange(emulator.url, codeBody(a));
  assert.equal(r.status, 200);
  const access = r.body.accessToken as Record<string, string>;
  assert.match(access.accessKeyId!, /^ASIA[A-Z0-9]{16}$/);
  assert.ok(access.secretAccessKey && access.sessionToken);
  assert.equal(r.body.tokenType, "aws_sigv4");
  assert.equal(r.body.expiresIn, 900);
  assert.ok(typeof r.body.refreshToken === "string" && r.body.refreshToken !== "");
  const idToken = r.body.idToken as string;
  const header = decodeProtectedHeader(idToken);
  assert.equal(header.alg, "ES384");
  const jwks = await (await fetch(`${emulator.url}/.well-known/jwks.json`)).json();
  assert.equal(jwks.keys[0].kid, header.kid);
  const { payload } = await jwtVerify(idToken, await importJWK(jwks.keys[0], "ES384"), {
    issuer: `${emulator.url}/signin`,
    audience: "arn:aws:signin:::cli/same-device",
  });
  assert.equal(payload.sub, ARN);
  assert.equal(payload.session_arn, ARN);
  assert.equal(payload.exp! - payload.iat!, 900);
  assert.equal(emulator.controls.counters().authorization_code, 1);
});

Deno.test("accessTtlSeconds sets expiresIn; credentials never outlive the session", async () => {
  await using short = await startEmulator({ autoApprove: ARN, accessTtlSeconds: 60 });
  assert.equal(
    (await exchange(short.url, codeBody(await authorize(short.url)))).body.expiresIn,
    60,
  );
  await using ending = await startEmulator({ autoApprove: ARN, sessionTtlSeconds: 300 });
  const r = await exchange(ending.url, codeBody(await authorize(ending.url)));
  assert.ok((r.body.expiresIn as number) >= 299 && (r.body.expiresIn as number) <= 300);
});

Deno.test("accessTtlSeconds outside 1 to 900 (the model's expiresIn range) is refused", async () => {
  for (const accessTtlSeconds of [0, 901]) {
    await assert.rejects(
      () => startEmulator({ accessTtlSeconds }),
      new EmulatorError("Cannot start the emulator: accessTtlSeconds must be 1 to 900"),
    );
  }
});

Deno.test("an authorization code works once; the second use is AUTHCODE_EXPIRED", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const a = await authorize(emulator.url);
  assert.equal((await exchange(emulator.url, codeBody(a))).status, 200);
  assertError(
    await exchange(emulator.url, codeBody(a)),
    401,
    "AccessDeniedException",
    "AUTHCODE_EXPIRED",
  );
});

Deno.test("an authorization code older than 5 minutes is AUTHCODE_EXPIRED", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const a = await authorize(emulator.url);
  emulator.controls.setClockOffset(5 * 60_000 + 1000);
  assertError(
    await exchange(emulator.url, codeBody(a), 5 * 60_000 + 1000),
    401,
    "AccessDeniedException",
    "AUTHCODE_EXPIRED",
  );
});

Deno.test("an authorization code younger than 5 minutes still works", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const a = await authorize(emulator.url);
  emulator.controls.setClockOffset(4 * 60_000);
  assert.equal((await exchange(emulator.url, codeBody(a), 4 * 60_000)).status, 200);
});

for (
  const [what, verifier] of [
    ["of 42 characters", "A".repeat(42)],
    ["of 129 characters", "A".repeat(129)],
    ["with a character outside A-Z a-z 0-9 - . _ ~", `${"A".repeat(63)}+`],
  ] as const
) {
  Deno.test(`the code grant with a verifier ${what} is refused even when it matches`, async () => {
    await using emulator = await startEmulator({ autoApprove: ARN });
    const r = await exchange(emulator.url, codeBody(await authorize(emulator.url, verifier)));
    assertError(r, 400, "ValidationException", "INVALID_REQUEST");
    assert.equal(r.body.message, "The codeVerifier must be 43 to 128 unreserved characters");
  });
}

Deno.test("a verifier of 43 and of 128 characters is accepted", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  for (const verifier of ["a".repeat(43), "-._~".repeat(32)]) {
    const r = await exchange(emulator.url, codeBody(await authorize(emulator.url, verifier)));
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
});

Deno.test("a failed exchange spends the code: retrying it is AUTHCODE_EXPIRED", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const a = await authorize(emulator.url);
  const wrong = await exchange(emulator.url, codeBody(a, { codeVerifier: "B".repeat(64) }));
  assertError(wrong, 400, "ValidationException", "INVALID_REQUEST");
  assertError(
    await exchange(emulator.url, codeBody(a)),
    401,
    "AccessDeniedException",
    "AUTHCODE_EXPIRED",
  );
});

for (
  const [field, message] of [
    ["clientId", "Missing required parameter: clientId"],
    ["code", "Missing required parameter: code"],
    ["codeVerifier", "Missing required parameter: codeVerifier"],
    ["redirectUri", "Missing required parameter: redirectUri"],
    ["grantType", "Missing required parameter: grantType"],
  ] as const
) {
  Deno.test(`the code grant without ${field} is refused and names it`, async () => {
    await using emulator = await startEmulator({ autoApprove: ARN });
    const body: Record<string, string> = codeBody(await authorize(emulator.url));
    delete body[field];
    const r = await exchange(emulator.url, body);
    assertError(r, 400, "ValidationException", "INVALID_REQUEST");
    assert.equal(r.body.message, message);
  });
}

Deno.test("an unsupported grant type is refused and named", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const session = await signIn(emulator.url);
  const r = await exchange(emulator.url, {
    clientId: SAME_DEVICE,
    grantType: "client_credentials",
    refreshToken: session.refreshToken,
  });
  assertError(r, 400, "ValidationException", "INVALID_REQUEST");
  assert.equal(r.body.message, 'Unsupported grant type "client_credentials"');
});

for (
  const [what, contentType, body, message] of [
    ["no Content-Type", null, "{}", /Content-Type/],
    ["Content-Type text/plain", "text/plain", "{}", /Content-Type/],
    ["Content-Type application/x-amz-json-1.1", "application/x-amz-json-1.1", "{}", /Content-Type/],
    ["a JSON array", "application/json", "[]", /must be a JSON object/],
    ["a JSON string", "application/json", '"x"', /must be a JSON object/],
    ["a number member", "application/json", '{"grantType":1}', /"grantType" must be a string/],
    [
      "a repeated form parameter",
      "application/x-www-form-urlencoded",
      "grant_type=refresh_token&grant_type=refresh_token",
      /"grant_type" is repeated/,
    ],
  ] as const
) {
  Deno.test(`a token call with ${what} is refused with 400 INVALID_REQUEST`, async () => {
    await using emulator = await startEmulator({ autoApprove: ARN });
    const key = await generateDpopKey();
    const reply = await fetch(`${emulator.url}/v1/token`, {
      method: "POST",
      headers: {
        DPoP: await proof(key, `${emulator.url}/v1/token`),
        ...(contentType === null ? {} : { "content-type": contentType }),
      },
      // A Uint8Array body makes fetch send no Content-Type of its own.
      body: new TextEncoder().encode(body),
    });
    const r = { status: reply.status, headers: reply.headers, body: await reply.json() };
    assertError(r, 400, "ValidationException", "INVALID_REQUEST");
    assert.match(r.body.message as string, message);
  });
}

Deno.test("a token call with a body over 1 MiB is refused with 413", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const reply = await fetch(`${emulator.url}/v1/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ grantType: "x".repeat(1 << 20) }),
  });
  await reply.body?.cancel();
  assert.equal(reply.status, 413);
});

for (
  const [what, change] of [
    ["an unknown code", (a: { code: string }) => ({ code: `${a.code}x` })],
    ["a verifier that does not match the challenge", () => ({ codeVerifier: "A".repeat(64) })],
    ["another clientId", () => ({ clientId: CROSS_DEVICE })],
    ["an unknown clientId", () => ({ clientId: "arn:aws:signin:::devtools/other" })],
    ["another redirectUri", () => ({ redirectUri: "http://127.0.0.1:1/oauth/callback" })],
  ] as const
) {
  Deno.test(`the code grant with ${what} is refused with 400 INVALID_REQUEST`, async () => {
    await using emulator = await startEmulator({ autoApprove: ARN });
    const a = await authorize(emulator.url);
    const r = await exchange(emulator.url, codeBody(a, change(a)));
    assertError(r, 400, "ValidationException", "INVALID_REQUEST");
    assert.ok(!JSON.stringify(r.body).includes(a.code), "the code is not echoed");
    assert.ok(!JSON.stringify(r.body).includes(a.verifier), "the verifier is not echoed");
  });
}

Deno.test("the token endpoint takes form-encoded snake_case bodies", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const a = await authorize(emulator.url);
  const key = await generateDpopKey();
  const post = async (fields: Record<string, string>) => {
    const reply = await fetch(`${emulator.url}/v1/token`, {
      method: "POST",
      headers: { DPoP: await proof(key, `${emulator.url}/v1/token`) },
      body: new URLSearchParams(fields),
    });
    return { status: reply.status, body: await reply.json() };
  };
  const code = await post({
    grant_type: "authorization_code",
    client_id: SAME_DEVICE,
    code: a.code,
    code_verifier: a.verifier,
    redirect_uri: a.redirectUri,
  });
  assert.equal(code.status, 200);
  const refreshed = await post({
    grant_type: "refresh_token",
    client_id: SAME_DEVICE,
    refresh_token: code.body.refreshToken,
  });
  assert.equal(refreshed.status, 200);
  assert.equal(refreshed.body.tokenType, "aws_sigv4");
});

Deno.test("a body that is not JSON is refused with 400 INVALID_REQUEST", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const reply = await fetch(`${emulator.url}/v1/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{not json",
  });
  assert.equal(reply.status, 400);
  assert.equal((await reply.json()).error, "INVALID_REQUEST");
  assert.equal(emulator.controls.counters().other_grant, 1);
});

Deno.test("refresh rotates the refresh token and no idToken comes back", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const session = await signIn(emulator.url);
  const first = await refreshCall(emulator.url, session.key, session.refreshToken);
  assert.equal(first.status, 200);
  assert.equal(first.body.idToken, undefined, "no idToken on refresh");
  const rotated = first.body.refreshToken as string;
  assert.notEqual(rotated, session.refreshToken);
  const access = first.body.accessToken as Record<string, string>;
  const original = session.reply.accessToken as Record<string, string>;
  assert.notEqual(access.accessKeyId, original.accessKeyId);
  const next = await refreshCall(emulator.url, session.key, rotated);
  assert.equal(next.status, 200);
  assert.notEqual(next.body.refreshToken, rotated);
  assert.equal(emulator.controls.counters().refresh_token, 2);
});

// Sign-In's model: "multiple calls with the same refresh_token return consistent results within
// validity window" (docs/PROTOCOL.md §4, §14).
Deno.test("a repeated refresh gets the same answer while its credentials last, then is refused", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN, accessTtlSeconds: 600 });
  const session = await signIn(emulator.url);
  const first = await refreshCall(emulator.url, session.key, session.refreshToken);
  assert.equal(first.status, 200);
  const again = await refreshCall(emulator.url, session.key, session.refreshToken);
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.deepEqual(again.body.accessToken, first.body.accessToken);
  assert.equal(again.body.refreshToken, first.body.refreshToken);
  assert.ok((again.body.expiresIn as number) <= 600 && (again.body.expiresIn as number) >= 590);

  // Still strict: another key, another client, or an unknown token is refused.
  const otherKey = await refreshCall(emulator.url, await generateDpopKey(), session.refreshToken);
  assertError(otherKey, 400, "ValidationException", "INVALID_REQUEST");
  const otherClient = await refreshCall(emulator.url, session.key, session.refreshToken, {
    clientId: CROSS_DEVICE,
  });
  assertError(otherClient, 400, "ValidationException", "INVALID_REQUEST");

  // The newest token moves the session on; the old one still repeats the old answer.
  const newer = await refreshCall(emulator.url, session.key, first.body.refreshToken as string);
  assert.equal(newer.status, 200);
  assert.notDeepEqual(newer.body.accessToken, first.body.accessToken);
  const repeat = await refreshCall(emulator.url, session.key, session.refreshToken);
  assert.deepEqual(repeat.body.accessToken, first.body.accessToken);

  // Once the credentials that refresh issued have expired, the superseded token is refused.
  emulator.controls.setClockOffset(601_000);
  const late = await refreshCall(emulator.url, session.key, session.refreshToken, {
    iatOffsetMs: 601_000,
  });
  assertError(late, 400, "ValidationException", "INVALID_REQUEST");
  assert.equal(late.body.message, BAD_GRANT);
  const current = await refreshCall(emulator.url, session.key, newer.body.refreshToken as string, {
    iatOffsetMs: 601_000,
  });
  assert.equal(current.status, 200);
});

Deno.test("refresh refuses an unknown token and another clientId", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const session = await signIn(emulator.url);
  const unknown = await refreshCall(emulator.url, session.key, "rt.unknown");
  assertError(unknown, 400, "ValidationException", "INVALID_REQUEST");
  assert.equal(unknown.body.message, BAD_GRANT);
  const other = await refreshCall(emulator.url, session.key, session.refreshToken, {
    clientId: CROSS_DEVICE,
  });
  assertError(other, 400, "ValidationException", "INVALID_REQUEST");
  assert.equal((await refreshCall(emulator.url, session.key, session.refreshToken)).status, 200);
});

Deno.test("refresh requires a proof by the key the session is bound to", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const session = await signIn(emulator.url);
  const r = await refreshCall(emulator.url, await generateDpopKey(), session.refreshToken);
  assertError(r, 400, "ValidationException", "INVALID_REQUEST");
  assert.match(r.body.message as string, /^Invalid DPoP proof: .*bound to/);
});

Deno.test("the session ends after sessionTtlSeconds with 401 TOKEN_EXPIRED", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const session = await signIn(emulator.url);
  const almost = 43_200_000 - 60_000;
  emulator.controls.setClockOffset(almost);
  const before = await refreshCall(emulator.url, session.key, session.refreshToken, {
    iatOffsetMs: almost,
  });
  assert.equal(before.status, 200);
  const last = before.body.expiresIn as number;
  assert.ok(last >= 59 && last <= 60, `the last credentials end with the session (${last} s)`);
  emulator.controls.setClockOffset(43_200_000);
  const after = await refreshCall(emulator.url, session.key, before.body.refreshToken as string, {
    iatOffsetMs: 43_200_000,
  });
  assertError(after, 401, "AccessDeniedException", "TOKEN_EXPIRED");
});

Deno.test("every reply has a Date header from the emulator clock", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN, clockOffsetMs: -3_600_000 });
  const reply = await fetch(`${emulator.url}/v1/token`, { method: "POST", body: "{}" });
  await reply.body?.cancel();
  const skew = Date.parse(reply.headers.get("date")!) - Date.now();
  assert.ok(Math.abs(skew + 3_600_000) < 5_000, `skew ${skew} ms`);
  emulator.controls.setClockOffset(600_000);
  const page = await fetch(`${emulator.url}/v1/authorize`);
  await page.body?.cancel();
  const later = Date.parse(page.headers.get("date")!) - Date.now();
  assert.ok(Math.abs(later - 600_000) < 5_000, `skew ${later} ms`);
});
