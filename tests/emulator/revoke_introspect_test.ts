/**
 * The emulator's RevokeOAuth2TokenWithIAM and IntrospectOAuth2TokenWithIAM: strict SigV4 for the
 * service `signin` with issued credentials, the restJson refusals of the AWS front end, the
 * revoked chain refused at refresh as an invalid grant, RFC 7662 answers, denied IAM actions.
 * Requests are signed here with aws4fetch directly, so each one can be bent in one way.
 */
import assert from "node:assert/strict";
import { AwsClient } from "aws4fetch";
import { importDpopKeyPem } from "../../lib/signin/dpop.ts";
import { createSession, sessionFixture } from "../helpers/session.ts";
import { refreshCall } from "./flow.ts";

const ARN = "arn:aws:iam::123456789012:user/Alice";

/** `YYYYMMDDTHHMMSSZ`. */
function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, "");
}

async function setup(options: Pick<Parameters<typeof sessionFixture>[0], "emulator"> = {}) {
  const t = await sessionFixture({ arn: ARN, region: "eu-west-1", ...options });
  const key = await importDpopKeyPem(t.session.token.dpopKey);
  return Object.assign(t, {
    /** Refreshes with the session's current token, as the client would. */
    refresh: () => refreshCall(t.emulator.url, key, t.session.token.refreshToken),
  });
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** A signed call; `bend` changes one thing about how it is signed or sent. */
async function call(
  t: Setup,
  operation: "revoke" | "introspect",
  body: unknown,
  bend: {
    service?: string;
    credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
    datetime?: string;
    query?: string;
    sendBody?: string;
    unsigned?: boolean;
    contentType?: string;
  } = {},
): Promise<{ status: number; type: string | null; text: string; json: Record<string, unknown> }> {
  const a = t.session.token.accessToken;
  const client = new AwsClient({
    ...(bend.credentials ?? a),
    service: bend.service ?? "signin",
    region: "eu-west-1",
    retries: 0,
  });
  const url = `${t.emulator.url}/v1/${operation}${bend.query ?? "?x-amz-client-auth-method=iam"}`;
  const init = {
    method: "POST",
    headers: { "Content-Type": bend.contentType ?? "application/json" },
    body: JSON.stringify(body),
  };
  let request = bend.unsigned
    ? new Request(url, init)
    : await client.sign(url, { ...init, aws: { datetime: bend.datetime } });
  if (bend.sendBody !== undefined) {
    request = new Request(request.url, {
      method: "POST",
      headers: request.headers,
      body: bend.sendBody,
    });
  }
  const reply = await fetch(request);
  const text = await reply.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch { /* empty or not JSON */ }
  return { status: reply.status, type: reply.headers.get("x-amzn-errortype"), text, json };
}

Deno.test("revoke answers 200 and the chain is refused at refresh as an invalid grant", async () => {
  await using t = await setup();
  const token = t.session.token.refreshToken;
  const revoked = await call(t, "revoke", { token });
  assert.equal(revoked.status, 200);
  assert.equal(revoked.text, "");
  assert.equal(t.emulator.controls.counters().revoke, 1);
  const refused = await t.refresh();
  assert.equal(refused.status, 400);
  assert.equal(refused.headers.get("x-amzn-errortype"), "ValidationException");
  assert.equal(refused.body.error, "INVALID_REQUEST");
  // Idempotent, and silent about tokens it does not know.
  assert.equal((await call(t, "revoke", { token })).status, 200);
  assert.equal((await call(t, "revoke", { token: "rt.unknown" })).status, 200);
  // The credentials already issued stay valid until they expire: they still sign.
  assert.deepEqual((await call(t, "introspect", { token })).json, { active: false });
});

Deno.test("after a revocation even a repeated refresh of the previous token is refused", async () => {
  await using t = await setup();
  const key = await importDpopKeyPem(t.session.token.dpopKey);
  const previous = t.session.token.refreshToken;
  const rotated = await t.refresh();
  assert.equal(rotated.status, 200);
  // Repeating a refresh is idempotent while its credentials last...
  assert.equal((await refreshCall(t.emulator.url, key, previous)).status, 200);
  assert.equal((await call(t, "revoke", { token: rotated.body.refreshToken })).status, 200);
  // ...but not once the chain is revoked.
  const repeated = await refreshCall(t.emulator.url, key, previous);
  assert.equal(repeated.status, 400);
  assert.equal(repeated.body.error, "INVALID_REQUEST");
});

Deno.test("revoke with a superseded token leaves the session alone", async () => {
  await using t = await setup();
  const rotated = await t.refresh();
  assert.equal(rotated.status, 200);
  assert.equal((await call(t, "revoke", { token: t.session.token.refreshToken })).status, 200);
  const key = await importDpopKeyPem(t.session.token.dpopKey);
  const next = await refreshCall(t.emulator.url, key, rotated.body.refreshToken as string);
  assert.equal(next.status, 200);
});

Deno.test("introspect answers RFC 7662 claims for an active refresh token", async () => {
  await using t = await setup();
  const before = Math.floor(Date.now() / 1000);
  const token = t.session.token.refreshToken;
  const { status, json, text } = await call(t, "introspect", {
    token,
    token_type_hint: "refresh_token",
  });
  assert.equal(status, 200, text);
  assert.ok(!text.includes(token), "the answer does not repeat the token");
  const { exp, iat, nbf, jti, user_id, signin_session, ...rest } = json;
  assert.deepEqual(rest, {
    active: true,
    client_id: "arn:aws:signin:::devtools/same-device",
    token_type: "refresh_token",
    sub: ARN,
    iss: "signin.amazonaws.com",
    account_id: "123456789012",
  });
  // The session was created moments ago and lasts 12 hours.
  assert.ok(Math.abs((exp as number) - (before + 43_200)) <= 5, String(exp));
  assert.ok(Math.abs((iat as number) - before) <= 5);
  assert.equal(nbf, iat);
  assert.match(jti as string, /^[0-9a-f]{32}$/);
  assert.match(user_id as string, /^AIDA[A-Z2-7]{17}$/);
  assert.match(
    signin_session as string,
    /^arn:aws:signin:eu-west-1:123456789012:session\/[0-9a-f-]{36}$/,
  );
  assert.equal(t.emulator.controls.counters().introspect, 1);
  assert.deepEqual((await call(t, "introspect", { token: "rt.unknown" })).json, { active: false });
});

Deno.test("introspect says inactive once the session has ended", async () => {
  // Sessions of 60 s. A session's credentials never outlive it, so the ended session's token is
  // checked with the credentials of a second session, signed in 30 s later.
  await using t = await setup({ emulator: { sessionTtlSeconds: 60 } });
  t.emulator.controls.setClockOffset(30_000);
  const second = await createSession({ url: t.emulator.url, home: t.home, profile: "second" });
  t.emulator.controls.setClockOffset(61_000);
  const datetime = amzDate(Date.now() + 61_000);
  const credentials = second.token.accessToken;
  const ended = await call(t, "introspect", { token: t.session.token.refreshToken }, {
    credentials,
    datetime,
  });
  assert.equal(ended.status, 200, ended.text);
  assert.deepEqual(ended.json, { active: false });
  const alive = await call(t, "introspect", { token: second.token.refreshToken }, {
    credentials,
    datetime,
  });
  assert.equal(alive.json.active, true);
});

Deno.test("revoke and introspect refuse requests the AWS front end would refuse", async () => {
  await using t = await setup();
  const token = t.session.token.refreshToken;
  const a = t.session.token.accessToken;
  const hourAgo = amzDate(Date.now() - 3_600_000);
  const cases: [string, Parameters<typeof call>[3], number, string][] = [
    ["unsigned", { unsigned: true }, 403, "MissingAuthenticationTokenException"],
    ["scoped to sts", { service: "sts" }, 403, "InvalidSignatureException"],
    [
      "another body",
      { sendBody: JSON.stringify({ token: "rt.other" }) },
      403,
      "InvalidSignatureException",
    ],
    [
      "a wrong secret",
      {
        credentials: { ...a, secretAccessKey: "x".repeat(40) },
      },
      403,
      "InvalidSignatureException",
    ],
    [
      "an unknown key",
      {
        credentials: { ...a, accessKeyId: "ASIAUNKNOWNKEY000000" },
      },
      403,
      "UnrecognizedClientException",
    ],
    [
      "no session token",
      {
        credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey },
      },
      403,
      "UnrecognizedClientException",
    ],
    ["an hour-old date", { datetime: hourAgo }, 403, "InvalidSignatureException"],
  ];
  for (const operation of ["revoke", "introspect"] as const) {
    for (const [label, bend, status, type] of cases) {
      const reply = await call(t, operation, { token }, bend);
      assert.equal(reply.status, status, `${operation} with ${label}: ${reply.text}`);
      assert.equal(reply.type, type, `${operation} with ${label}`);
      assert.equal(typeof reply.json.message, "string");
    }
  }
  assert.equal(t.emulator.controls.counters().revoke, cases.length);
  assert.equal((await t.refresh()).status, 200, "nothing was revoked");
});

Deno.test("revoke and introspect refuse expired credentials", async () => {
  await using t = await setup();
  t.emulator.controls.setClockOffset(16 * 60_000);
  const datetime = amzDate(Date.now() + 16 * 60_000);
  const reply = await call(t, "revoke", { token: t.session.token.refreshToken }, { datetime });
  assert.equal(reply.status, 403);
  assert.equal(reply.type, "ExpiredTokenException");
  assert.equal(reply.json.message, "The security token included in the request is expired");
});

Deno.test("revoke and introspect validate their input", async () => {
  await using t = await setup();
  const token = t.session.token.refreshToken;
  for (
    const [operation, body] of [
      ["revoke", {}],
      ["revoke", { token: "" }],
      ["revoke", { token: 42 }],
      ["introspect", {}],
      ["introspect", { token, token_type_hint: "id_token" }],
    ] as const
  ) {
    const reply = await call(t, operation, body);
    assert.equal(reply.status, 400, JSON.stringify(body));
    assert.equal(reply.type, "ValidationException");
    assert.equal(reply.json.error, "INVALID_REQUEST");
  }
  const notJson = await call(t, "revoke", { token }, { contentType: "text/plain" });
  assert.equal(notJson.status, 400);
  // Without the query the URI names no operation.
  const noQuery = await call(t, "revoke", { token }, { query: "" });
  assert.equal(noQuery.status, 404);
  assert.equal((await t.refresh()).status, 200, "nothing was revoked");
});

Deno.test("a denied signin:RevokeOAuth2TokenWithIAM is refused with AccessDeniedException", async () => {
  await using t = await setup();
  const token = t.session.token.refreshToken;
  const admin = await fetch(`${t.emulator.url}/__admin/deny`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ actions: ["signin:RevokeOAuth2TokenWithIAM"] }),
  });
  assert.equal(admin.status, 200);
  await admin.body?.cancel();
  const denied = await call(t, "revoke", { token });
  assert.equal(denied.status, 403);
  assert.equal(denied.type, "AccessDeniedException");
  assert.equal(
    denied.json.message,
    `User: ${ARN} is not authorized to perform: signin:RevokeOAuth2TokenWithIAM`,
  );
  // Introspection is another action: still allowed, and the session is still active.
  assert.equal((await call(t, "introspect", { token })).json.active, true);
  t.emulator.controls.denyActions([]);
  assert.equal((await call(t, "revoke", { token })).status, 200);
  const bad = await fetch(`${t.emulator.url}/__admin/deny`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ actions: "signin:*" }),
  });
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
});
