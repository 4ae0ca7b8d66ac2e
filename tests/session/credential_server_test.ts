import assert from "node:assert/strict";
import {
  containerExpiration,
  type CredentialServer,
  startCredentialServer,
  timingSafeEqual,
} from "../../lib/session/credential_server.ts";
import { SigninError } from "../../lib/errors.ts";
import { expiresAtMs, readCachedToken } from "../../lib/session/token_cache.ts";
import { expireIn, sessionFixture, testDeps } from "../helpers/session.ts";

const ARN = "arn:aws:iam::123456789012:user/Alice";

/** An emulator, a session for "dev" and a credential server for it; all gone at scope end. */
async function setup() {
  const t = await sessionFixture({ arn: ARN });
  const { deps, stderr } = testDeps(t.session.env);
  const server = startCredentialServer(deps, { profile: "dev" });
  return {
    ...t,
    server,
    stderr,
    async [Symbol.asyncDispose]() {
      await server.close();
      await t[Symbol.asyncDispose]();
    },
  };
}

/** GET with exactly these headers (fetch would add or refuse some), over a fresh connection. */
async function rawGet(
  server: CredentialServer,
  headers: Record<string, string>,
  options: { path?: string; method?: string } = {},
): Promise<{ status: number; body: Record<string, string> }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const path = options.path ?? new URL(server.url).pathname;
  const head = [`${options.method ?? "GET"} ${path} HTTP/1.1`, "Connection: close"];
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
  await conn.write(new TextEncoder().encode(`${head.join("\r\n")}\r\n\r\n`));
  const text = await new Response(conn.readable).text();
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  const body = text.slice(text.indexOf("\r\n\r\n") + 4);
  return { status, body: body ? JSON.parse(body) : {} };
}

function ask(server: CredentialServer): Promise<Response> {
  return fetch(server.url, { headers: { Authorization: server.authorizationToken } });
}

Deno.test("the credential server answers the JSON the SDKs read, from the cache", async () => {
  await using t = await setup();
  const url = new URL(t.server.url);
  assert.equal(url.protocol, "http:");
  assert.equal(url.host, `127.0.0.1:${t.server.port}`);
  assert.match(url.pathname, /^\/[A-Za-z0-9_-]{22}$/);
  assert.match(t.server.authorizationToken, /^[A-Za-z0-9_-]{43}$/, "256 random bits");
  assert.deepEqual(t.server.variables(), [
    ["AWS_CONTAINER_CREDENTIALS_FULL_URI", t.server.url],
    ["AWS_CONTAINER_AUTHORIZATION_TOKEN", t.server.authorizationToken],
  ]);

  const reply = await ask(t.server);
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get("cache-control"), "no-store");
  const a = t.session.token.accessToken;
  assert.deepEqual(await reply.json(), {
    AccessKeyId: a.accessKeyId,
    SecretAccessKey: a.secretAccessKey,
    Token: a.sessionToken,
    Expiration: containerExpiration(expiresAtMs(t.session.token)),
    AccountId: "123456789012",
  });
  assert.equal(t.emulator.controls.counters().refresh_token, 0);
});

Deno.test("containerExpiration() writes RFC 3339 UTC with Z and whole seconds", () => {
  assert.equal(containerExpiration(Date.UTC(2026, 10, 28, 17, 15, 0, 999)), "2026-11-28T17:15:00Z");
});

Deno.test("two servers get different paths and tokens", async () => {
  await using t = await setup();
  const { deps } = testDeps(t.session.env);
  await using other = startCredentialServer(deps, { profile: "dev" });
  assert.notEqual(other.url, t.server.url);
  assert.notEqual(other.authorizationToken, t.server.authorizationToken);
  const crossed = await fetch(t.server.url, {
    headers: { Authorization: other.authorizationToken },
  });
  assert.equal(crossed.status, 403);
  await crossed.body?.cancel();
});

Deno.test("the credential server refuses a missing or wrong token, Host, path and method", async () => {
  await using t = await setup();
  const host = `127.0.0.1:${t.server.port}`;
  const token = t.server.authorizationToken;

  const none = await rawGet(t.server, { Host: host });
  assert.equal(none.status, 401);
  assert.equal(none.body.Code, "MissingToken");
  const empty = await rawGet(t.server, { Host: host, Authorization: "" });
  assert.equal(empty.status, 401);
  for (const wrong of [token.slice(0, -1), `${token}x`, `Bearer ${token}`, token.toLowerCase()]) {
    const reply = await rawGet(t.server, { Host: host, Authorization: wrong });
    assert.equal(reply.status, 403, wrong);
    assert.equal(reply.body.Code, "InvalidToken");
  }
  // DNS rebinding: a page's own host name, even with the right token (which it cannot know).
  for (
    const other of ["evil.example:" + t.server.port, `localhost:${t.server.port}`, "127.0.0.1"]
  ) {
    const reply = await rawGet(t.server, { Host: other, Authorization: token });
    assert.equal(reply.status, 400, other);
    assert.equal(reply.body.Code, "InvalidHost");
  }
  const noHost = await rawGet(t.server, { Authorization: token });
  assert.equal(noHost.status, 400);
  // The path is checked only after the token, so probing it without the token learns nothing.
  assert.equal((await rawGet(t.server, { Host: host }, { path: "/" })).status, 401);
  assert.equal(
    (await rawGet(t.server, { Host: host, Authorization: token }, { path: "/" })).status,
    404,
  );
  const post = await rawGet(t.server, { Host: host, Authorization: token, "Content-Length": "0" }, {
    method: "POST",
  });
  assert.equal(post.status, 405);

  for (const reply of [none, noHost, post]) {
    assert.ok(!JSON.stringify(reply.body).includes(token), "no refusal repeats the token");
  }
  const ok = await rawGet(t.server, { Host: host, Authorization: token });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.AccessKeyId, t.session.token.accessToken.accessKeyId);
});

Deno.test("timingSafeEqual() is true only for the exact token", () => {
  const token = "k3Y-token_value";
  assert.equal(timingSafeEqual(token, token), true);
  assert.equal(timingSafeEqual("", token), false);
  assert.equal(timingSafeEqual(token.slice(0, -1), token), false);
  assert.equal(timingSafeEqual(`${token}${token}`, token), false);
  assert.equal(timingSafeEqual(`${token}!`, token), false);
  assert.equal(timingSafeEqual("K3Y-token_value", token), false);
  // The presented value repeated to the expected length must not pass either.
  assert.equal(timingSafeEqual("ab", "abab"), false);
});

Deno.test("the credential server is reachable on 127.0.0.1 only", async () => {
  await using t = await setup();
  const others = [
    "127.0.0.2",
    "::1",
    ...Deno.networkInterfaces()
      .map((i) => i.address)
      .filter((a) => a !== "127.0.0.1" && !a.startsWith("fe80:")),
  ];
  for (const hostname of new Set(others)) {
    await assert.rejects(
      async () => (await Deno.connect({ hostname, port: t.server.port })).close(),
      Deno.errors.ConnectionRefused,
      `reachable on ${hostname}`,
    );
  }
});

Deno.test("the credential server refreshes credentials that expire within 5 minutes", async () => {
  await using t = await setup();
  const old = await expireIn(t.session.cachePath, 120_000);
  const reply = await ask(t.server);
  assert.equal(reply.status, 200);
  const body = await reply.json();
  assert.notEqual(body.AccessKeyId, old.accessToken.accessKeyId);
  assert.equal(t.emulator.controls.counters().refresh_token, 1);
  const cache = await readCachedToken(t.session.cachePath);
  assert.equal(body.AccessKeyId, cache.accessToken.accessKeyId);
  assert.ok(Date.parse(body.Expiration) > Date.now() + 600_000);
});

Deno.test("8 requests at once on expiring credentials cause one refresh", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, 30_000);
  const replies = await Promise.all(Array.from({ length: 8 }, () => ask(t.server)));
  const bodies = await Promise.all(replies.map((r) => r.json()));
  for (const reply of replies) assert.equal(reply.status, 200);
  assert.equal(new Set(bodies.map((b) => b.AccessKeyId)).size, 1);
  assert.equal(t.emulator.controls.counters().refresh_token, 1);
});

Deno.test("an ended session gets 403 saying to log in again, and ends the server's session", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, -1000);
  t.emulator.controls.failNextTokenCalls(1, { error: "TOKEN_EXPIRED" });
  const reply = await ask(t.server);
  assert.equal(reply.status, 403);
  const body = await reply.json();
  assert.equal(body.Code, "LoginRequired");
  assert.match(body.Message, /TOKEN_EXPIRED/);
  assert.match(body.Message, /Run "aws-login login --profile dev"/);
  const over = await t.server.sessionOver;
  assert.ok(over instanceof SigninError);
  assert.equal(over.error, "TOKEN_EXPIRED");
});

Deno.test("a logged-out session gets 403; a failing Sign-In gets 503 and a retry works", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, -1000);
  t.emulator.controls.failNextTokenCalls(3, { status: 500, retryAfterSeconds: 0 });
  const failing = await ask(t.server);
  assert.equal(failing.status, 503);
  assert.equal((await failing.json()).Code, "CredentialsUnavailable");
  const retry = await ask(t.server);
  assert.equal(retry.status, 200);
  await retry.body?.cancel();

  await Deno.remove(t.session.cachePath);
  const gone = await ask(t.server);
  assert.equal(gone.status, 403);
  assert.match((await gone.json()).Message, /No cached login session/);
});

Deno.test("an MFA role that cannot prompt: 403 saying how, and the endpoint keeps serving", async () => {
  const { addProfile } = await import("../helpers/session.ts");
  const { noTerminal } = await import("../../lib/session/mfa_prompt.ts");
  await using t = await sessionFixture({ arn: ARN });
  await addProfile(t.home.home, "admin", {
    role_arn: "arn:aws:iam::222222222222:role/Admin",
    source_profile: "dev",
    mfa_serial: "arn:aws:iam::123456789012:mfa/Alice",
  });
  const { deps } = testDeps({ ...t.session.env, AWS_ENDPOINT_URL_STS: "http://127.0.0.1:9" });
  await using server = startCredentialServer(deps, {
    profile: "admin",
    mfaPrompt: (serial, profile) => Promise.reject(noTerminal(serial, profile, "admin")),
  });
  let over = false;
  server.sessionOver.then(() => (over = true));
  for (let i = 0; i < 2; i++) {
    const response = await ask(server);
    assert.equal(response.status, 403);
    const body = await response.json();
    assert.equal(body.Code, "MfaRequired");
    assert.match(body.Message, /aws-login status --refresh --profile admin/);
  }
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(over, false, "the endpoint does not end: a terminal run can fill the cache");
});
