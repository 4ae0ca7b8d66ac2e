/**
 * The emulator's test controls: injected token-call failures (error values, 500, 429 with
 * Retry-After, delays, connection resets), counters that include injected calls, the clock offset,
 * and the same controls over the loopback admin endpoint.
 */
import assert from "node:assert/strict";
import { ARN, refreshCall, signIn, startEmulator } from "./flow.ts";
import { until } from "../helpers/bounded.ts";

for (
  const [error, status, type] of [
    ["TOKEN_EXPIRED", 401, "AccessDeniedException"],
    ["AUTHCODE_EXPIRED", 401, "AccessDeniedException"],
    ["USER_CREDENTIALS_CHANGED", 403, "AccessDeniedException"],
    ["INSUFFICIENT_PERMISSIONS", 403, "AccessDeniedException"],
    ["INVALID_REQUEST", 400, "ValidationException"],
    ["server_error", 500, "InternalServerException"],
  ] as const
) {
  Deno.test(`an injected ${error} is ${status} ${type} and spends nothing`, async () => {
    await using emulator = await startEmulator({ autoApprove: ARN });
    const session = await signIn(emulator.url);
    emulator.controls.failNextTokenCalls(1, { error });
    const r = await refreshCall(emulator.url, session.key, session.refreshToken);
    assert.equal(r.status, status);
    assert.equal(r.headers.get("x-amzn-errortype"), type);
    assert.equal(r.body.__type, `com.amazonaws.signin#${type}`);
    assert.equal(r.body.error, error);
    // The refresh token was not rotated by the failed call.
    assert.equal((await refreshCall(emulator.url, session.key, session.refreshToken)).status, 200);
    assert.equal(emulator.controls.counters().refresh_token, 2);
  });
}

Deno.test("an injected 500 is InternalServerException server_error", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const session = await signIn(emulator.url);
  emulator.controls.failNextTokenCalls(1, { status: 500 });
  const r = await refreshCall(emulator.url, session.key, session.refreshToken);
  assert.equal(r.status, 500);
  assert.equal(r.headers.get("x-amzn-errortype"), "InternalServerException");
  assert.equal(r.body.error, "server_error");
});

Deno.test("an injected 429 is TooManyRequestsError with Retry-After", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const session = await signIn(emulator.url);
  emulator.controls.failNextTokenCalls(1, { status: 429, retryAfterSeconds: 2 });
  const r = await refreshCall(emulator.url, session.key, session.refreshToken);
  assert.equal(r.status, 429);
  assert.equal(r.headers.get("x-amzn-errortype"), "TooManyRequestsError");
  assert.equal(r.headers.get("retry-after"), "2");
});

Deno.test("failNextTokenCalls(3) fails exactly 3 calls, all counted", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const session = await signIn(emulator.url);
  emulator.controls.failNextTokenCalls(3, { status: 500 });
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    statuses.push((await refreshCall(emulator.url, session.key, session.refreshToken)).status);
  }
  assert.deepEqual(statuses, [500, 500, 500, 200]);
  assert.equal(emulator.controls.counters().refresh_token, 4);
  assert.equal(emulator.controls.counters().authorization_code, 1);
});

Deno.test("an injected delay alone holds the reply, then answers normally", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const session = await signIn(emulator.url);
  emulator.controls.failNextTokenCalls(1, { delayMs: 1000 });
  // A client that waits less than the delay gets no reply.
  await assert.rejects(
    () =>
      fetch(`${emulator.url}/v1/token`, {
        method: "POST",
        body: "{}",
        signal: AbortSignal.timeout(50),
      }),
    (err: Error) => err.name === "TimeoutError",
  );
  emulator.controls.failNextTokenCalls(1, { delayMs: 100 });
  const r = await refreshCall(emulator.url, session.key, session.refreshToken);
  assert.equal(r.status, 200);
});

Deno.test("an injected delay with a status waits, then fails", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const session = await signIn(emulator.url);
  emulator.controls.failNextTokenCalls(1, { delayMs: 100, status: 500 });
  assert.equal((await refreshCall(emulator.url, session.key, session.refreshToken)).status, 500);
});

Deno.test("an injected reset drops the connection without a response", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const session = await signIn(emulator.url);
  emulator.controls.failNextTokenCalls(1, { reset: true });
  // A fresh connection: on a reused keep-alive one, fetch silently retries a dropped request.
  using client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  await assert.rejects(
    () => refreshCall(emulator.url, session.key, session.refreshToken, { client }),
    TypeError,
  );
  assert.equal(emulator.controls.counters().refresh_token, 1);
  assert.equal((await refreshCall(emulator.url, session.key, session.refreshToken)).status, 200);
});

Deno.test("close() ends a call still waiting on an injected delay", async () => {
  const emulator = await startEmulator({ autoApprove: ARN });
  const session = await signIn(emulator.url);
  emulator.controls.failNextTokenCalls(1, { delayMs: 600_000 });
  const pending = refreshCall(emulator.url, session.key, session.refreshToken).catch((e) => e);
  await until(() => emulator.controls.counters().refresh_token > 0, "the delayed call");
  await emulator.close();
  assert.ok(await pending, "the pending call settled");
});

Deno.test("the admin endpoint sets failures and the clock, and reports counters", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const session = await signIn(emulator.url);
  const admin = async (path: string, body?: unknown, type = "application/json") => {
    const reply = await fetch(`${emulator.url}/__admin/${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: body === undefined ? {} : { "content-type": type },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: reply.status, headers: reply.headers, body: await reply.json() };
  };
  assert.equal((await admin("fail", { count: 1, error: "TOKEN_EXPIRED" })).status, 200);
  const failed = await refreshCall(emulator.url, session.key, session.refreshToken);
  assert.equal(failed.status, 401);
  assert.equal(failed.body.error, "TOKEN_EXPIRED");

  const clock = await admin("clock", { offsetMs: 600_000 });
  assert.equal(clock.status, 200);
  assert.ok(Math.abs(Date.parse(clock.headers.get("date")!) - Date.now() - 600_000) < 5_000);
  const late = await refreshCall(emulator.url, session.key, session.refreshToken, {
    iatOffsetMs: 600_000,
  });
  assert.equal(late.status, 200);

  const counters = await admin("counters");
  assert.deepEqual(counters.body, {
    authorize: 1,
    authorization_code: 1,
    refresh_token: 2,
    other_grant: 0,
    sts: 0,
    assume_role: 0,
    revoke: 0,
    introspect: 0,
    signin_token: 0,
  });
  assert.equal((await admin("fail", { count: 1 }, "text/plain")).status, 415);
  assert.equal((await admin("fail", { count: -1 })).status, 400);
  assert.equal((await admin("clock", { offsetMs: "soon" })).status, 400);
  assert.equal((await admin("nothing", {})).status, 404);
});

/** A raw HTTP/1.1 request, so the test controls the Host header; returns the status. */
async function rawStatus(port: number, request: string): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(request));
    const text = await new Response(conn.readable).text();
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  } catch (err) {
    conn.close();
    throw err;
  }
}

Deno.test("the admin endpoint cannot be driven by a web page: exact media type, own Host only", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  const fail = (type: string) =>
    fetch(`${emulator.url}/__admin/fail`, {
      method: "POST",
      headers: { "content-type": type },
      body: JSON.stringify({ count: 5, status: 500 }),
    }).then(async (r) => (await r.body?.cancel(), r.status));
  // What a cross-site form or a no-preflight fetch can send, dressed up as JSON.
  for (
    const type of [
      "text/plain;application/json",
      "text/plain; charset=application/json",
      "application/x-www-form-urlencoded; x=application/json",
      "multipart/form-data; boundary=application/json",
      "application/jsonp",
    ]
  ) {
    assert.equal(await fail(type), 415, type);
  }
  // A DNS-rebinding page reaches 127.0.0.1 under its own name.
  const body = JSON.stringify({ count: 5, status: 500 });
  for (const host of ["evil.example", `evil.example:${emulator.port}`, "127.0.0.1:1"]) {
    const status = await rawStatus(
      emulator.port,
      `POST /__admin/fail HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    assert.equal(status, 403, host);
    assert.equal(
      await rawStatus(
        emulator.port,
        `GET /__admin/counters HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
      403,
      host,
    );
  }
  // Nothing was armed: a sign-in and a refresh still work.
  const session = await signIn(emulator.url);
  const refreshed = await refreshCall(emulator.url, session.key, session.refreshToken);
  assert.equal(refreshed.status, 200);
  // The emulator's own names, with media type parameters, are accepted.
  assert.equal(await fail("Application/JSON; charset=utf-8"), 200);
  const local = emulator.url.replace("127.0.0.1", "localhost");
  const counters = await fetch(`${local}/__admin/counters`);
  assert.equal(counters.status, 200, await counters.text());
});
