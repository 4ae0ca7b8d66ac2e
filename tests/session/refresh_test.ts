import assert from "node:assert/strict";
import { CacheError, NetworkError, SigninError } from "../../lib/errors.ts";
import { exportDpopKeyPem, generateDpopKey } from "../../lib/signin/dpop.ts";
import { refreshCachedToken, type RefreshContext } from "../../lib/session/refresh.ts";
import type { CachedLoginToken } from "../../lib/session/token_cache.ts";

const NOW = Date.UTC(2025, 10, 19, 0, 0, 0);

async function token(): Promise<CachedLoginToken> {
  return {
    accessToken: {
      accessKeyId: "ASIAOLDEXAMPLE001",
      secretAccessKey: "old-secret",
      sessionToken: "old-session",
      accountId: "123456789012",
      expiresAt: "2025-11-19T00:03:00Z",
    },
    tokenType: "aws_sigv4",
    clientId: "arn:aws:signin:::devtools/same-device",
    refreshToken: "old-refresh",
    idToken: "a.b.c",
    dpopKey: await exportDpopKeyPem(await generateDpopKey()),
    signInRegion: "eu-west-1",
    futureField: { kept: true },
  };
}

const OK_BODY = {
  accessToken: {
    accessKeyId: "ASIANEWEXAMPLE001",
    secretAccessKey: "new-secret",
    sessionToken: "new-ses",
  },
  tokenType: "aws_sigv4",
  expiresIn: 900,
  refreshToken: "new-refresh",
};

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function error(status: number, type: string, value: string, headers = {}): Response {
  return json(status, { error: value, message: `${type} happened` }, {
    "x-amzn-errortype": type,
    ...headers,
  });
}

/** A context whose fetch answers from `replies` in order and records what was asked. */
function context(replies: (Response | Error)[], extra: Partial<RefreshContext> = {}) {
  const requests: { url: string; body: Record<string, string>; dpop: string | null }[] = [];
  const sleeps: number[] = [];
  const ctx: RefreshContext = {
    profile: "dev",
    region: "eu-west-1",
    tokenUrl: "https://eu-west-1.signin.aws.amazon.com/v1/token",
    fetch: async (input) => {
      const request = input as Request;
      requests.push({
        url: request.url,
        body: await request.json(),
        dpop: request.headers.get("dpop"),
      });
      const next = replies.shift();
      if (next === undefined) throw new Error("no more replies");
      if (next instanceof Error) throw next;
      return next;
    },
    now: () => NOW,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    debug: () => {},
    ...extra,
  };
  return { ctx, requests, sleeps };
}

Deno.test("refreshCachedToken() replaces the keys, expiry and refresh token, keeping the rest", async () => {
  const old = await token();
  const { ctx, requests } = context([json(200, OK_BODY)]);
  const next = await refreshCachedToken(old, ctx, false);
  assert.deepEqual(next, {
    ...old,
    accessToken: {
      accessKeyId: "ASIANEWEXAMPLE001",
      secretAccessKey: "new-secret",
      sessionToken: "new-ses",
      accountId: "123456789012",
      expiresAt: "2025-11-19T00:15:00Z",
    },
    refreshToken: "new-refresh",
  });
  assert.equal(requests.length, 1);
  assert.deepEqual(requests[0]!.body, {
    clientId: "arn:aws:signin:::devtools/same-device",
    grantType: "refresh_token",
    refreshToken: "old-refresh",
  });
  assert.ok(requests[0]!.dpop);
});

Deno.test("refreshCachedToken() takes the refresh of AWS's cross-SDK login-provider data (NEWREFRESHEDKEY)", async () => {
  // A 15-character access key id: shorter than AWS issues today, accepted by every AWS SDK.
  const body = {
    ...OK_BODY,
    accessToken: { ...OK_BODY.accessToken, accessKeyId: "NEWREFRESHEDKEY" },
  };
  const { ctx } = context([json(200, body)]);
  const next = await refreshCachedToken(await token(), ctx, false);
  assert.equal(next.accessToken.accessKeyId, "NEWREFRESHEDKEY");
});

Deno.test("refreshCachedToken() retries 5xx with backoff when the credentials expired", async () => {
  const { ctx, requests, sleeps } = context([
    error(500, "InternalServerException", "server_error"),
    error(503, "InternalServerException", "server_error"),
    json(200, OK_BODY),
  ]);
  const next = await refreshCachedToken(await token(), ctx, false);
  assert.equal(next.accessToken.accessKeyId, "ASIANEWEXAMPLE001");
  assert.equal(requests.length, 3);
  assert.deepEqual(sleeps, [250, 500]);
});

Deno.test("refreshCachedToken() honours Retry-After up to the cap", async () => {
  const { ctx, sleeps } = context([
    error(429, "TooManyRequestsError", "INVALID_REQUEST", { "retry-after": "2" }),
    error(429, "TooManyRequestsError", "INVALID_REQUEST", { "retry-after": "120" }),
    json(200, OK_BODY),
  ]);
  await refreshCachedToken(await token(), ctx, false);
  assert.deepEqual(sleeps, [2000, 3000]);
});

Deno.test("refreshCachedToken() gives up after maxAttempts with the last transient error", async () => {
  const { ctx, requests } = context([
    new TypeError("connection reset by peer"),
    new TypeError("connection reset by peer"),
    new TypeError("connection reset by peer"),
  ]);
  const old = await token();
  await assert.rejects(
    () => refreshCachedToken(old, ctx, false),
    (err) => err instanceof NetworkError && err.code === "ERR_NETWORK",
  );
  assert.equal(requests.length, 3);
});
Deno.test("refreshCachedToken() tries once and throws when the credentials are still valid", async () => {
  const { ctx, requests, sleeps } = context([error(500, "InternalServerException", "x")]);
  const old = await token();
  await assert.rejects(
    () => refreshCachedToken(old, ctx, true),
    (err) => err instanceof SigninError && err.code === "ERR_SIGNIN_SERVER",
  );
  assert.equal(requests.length, 1);
  assert.deepEqual(sleeps, []);
});

for (
  const [status, value, expected] of [
    [
      401,
      "TOKEN_EXPIRED",
      'Cannot refresh the login session of profile "dev": the session has ended (TOKEN_EXPIRED; ' +
      'sessions last up to 12 hours). Run "aws-login login --profile dev" to sign in again',
    ],
    [
      403,
      "USER_CREDENTIALS_CHANGED",
      'Cannot refresh the login session of profile "dev": your password changed since you signed ' +
      'in (USER_CREDENTIALS_CHANGED). Run "aws-login login --profile dev" to sign in again with ' +
      "your new password",
    ],
    [
      403,
      "INSUFFICIENT_PERMISSIONS",
      'Cannot refresh the login session of profile "dev": your identity lacks permission for ' +
      '"signin:CreateOAuth2Token" (INSUFFICIENT_PERMISSIONS). Ask your administrator for the ' +
      'SignInLocalDevelopmentAccess policy, then run "aws-login login --profile dev"',
    ],
  ] as const
) {
  Deno.test(`refreshCachedToken() explains AccessDenied ${value} and does not retry`, async () => {
    const { ctx, requests } = context([error(status, "AccessDeniedException", value)]);
    await assert.rejects(
      async () => refreshCachedToken(await token(), ctx, false),
      (err) =>
        err instanceof SigninError && err.code === "ERR_SIGNIN_ACCESS_DENIED" &&
        err.error === value && err.exitCode === 5 && err.message === expected,
    );
    assert.equal(requests.length, 1);
  });
}

Deno.test("refreshCachedToken() names the region too when a session without one is rejected", async () => {
  const { ctx } = context([error(400, "ValidationException", "INVALID_REQUEST")]);
  // A session the AWS CLI made records no region: the profile's may not be the login's.
  const { signInRegion: _, ...cliSession } = await token();
  await assert.rejects(
    () => refreshCachedToken(cliSession, ctx, false),
    (err) =>
      err instanceof SigninError && err.code === "ERR_SIGNIN_VALIDATION" &&
      err.message.includes('AWS Sign-In in "eu-west-1" rejected the refresh token') &&
      err.message.includes("revoked or has ended") &&
      err.message.includes("only be refreshed in the region it was created in"),
  );
});

Deno.test("refreshCachedToken() blames no region when the session's own region rejects it", async () => {
  const { ctx } = context([error(400, "ValidationException", "INVALID_REQUEST")]);
  await assert.rejects(
    async () => refreshCachedToken(await token(), ctx, false),
    (err) =>
      err instanceof SigninError && err.code === "ERR_SIGNIN_VALIDATION" &&
      err.message ===
        'Cannot refresh the login session of profile "dev": the session was revoked (a logout) ' +
          "or has ended: AWS Sign-In no longer accepts its refresh token (INVALID_REQUEST). " +
          'Run "aws-login login --profile dev" to sign in again',
  );
});

Deno.test("refreshCachedToken() reports an unusable dpopKey as a corrupt cache", async () => {
  const { ctx, requests } = context([]);
  const bad = { ...(await token()), dpopKey: "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END" };
  await assert.rejects(
    () => refreshCachedToken(bad, ctx, false),
    (err) =>
      err instanceof CacheError && err.code === "ERR_CACHE_CORRUPT" &&
      err.message.includes("the cached dpopKey is not a P-256 private key"),
  );
  assert.equal(requests.length, 0);
});

Deno.test("refreshCachedToken() names the profile in every refusal's hint, once, where it is known", async () => {
  // A refusal the refresh has no wording of its own for: the Sign-In client's hint, for "dev".
  const { ctx } = context([error(400, "ValidationException", "CONFLICT")]);
  await assert.rejects(
    async () => refreshCachedToken(await token(), ctx, false),
    (err) =>
      err instanceof SigninError &&
      err.message.endsWith('Run "aws-login login --profile dev" to sign in again.') &&
      !err.message.includes('"aws-login login"'),
  );
  // A clock-skew note survives the profile's hint (both are the refusal's).
  const later = new Date(NOW + 10 * 60_000).toUTCString();
  const skewed = context([
    error(401, "AccessDeniedException", "TOKEN_EXPIRED", { date: later }),
    error(401, "AccessDeniedException", "TOKEN_EXPIRED", { date: later }),
  ]);
  await assert.rejects(
    async () => refreshCachedToken(await token(), skewed.ctx, false),
    (err) =>
      err instanceof SigninError &&
      err.message.startsWith('Cannot refresh the login session of profile "dev": the session ') &&
      err.message.includes('Run "aws-login login --profile dev" to sign in again') &&
      err.message.includes("clock is 10 min behind AWS Sign-In's (clock skew)"),
  );
});
