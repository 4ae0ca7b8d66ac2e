import assert from "node:assert/strict";
import {
  buildIntrospectRequest,
  buildRevokeRequest,
  type IamCallTarget,
  processIntrospectResponse,
  processRevokeResponse,
  revokeRefreshToken,
} from "../../lib/signin/revoke_introspect.ts";
import { NetworkError, SigninError } from "../../lib/errors.ts";
import { verifySignedRequest } from "../../lib/emulator/sigv4.ts";

const NOW = Date.UTC(2026, 10, 28, 17, 15, 30);
const CREDENTIALS = {
  accessKeyId: "ASIAEXAMPLEKEY000001",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE",
};
const TARGET: IamCallTarget = {
  baseUrl: "https://eu-west-1.signin.aws.amazon.com",
  region: "eu-west-1",
  credentials: CREDENTIALS,
  now: () => NOW,
};
const REFRESH_TOKEN = "ASORexamplerefreshtoken";

/**
 * Checks the signature the way the emulator does, with the secret it would have issued, on the
 * request as the server receives it (fetch adds `Host`).
 */
async function verify(signed: Request) {
  const headers = new Headers(signed.headers);
  headers.set("host", new URL(signed.url).host);
  const request = new Request(signed.url, {
    method: signed.method,
    headers,
    body: await signed.clone().arrayBuffer(),
  });
  return await verifySignedRequest(
    request,
    new Uint8Array(await request.clone().arrayBuffer()),
    {
      service: "signin",
      now: NOW,
      credentialsOf: (id) =>
        id === CREDENTIALS.accessKeyId
          ? { ...CREDENTIALS, expiresAt: NOW + 60_000, arn: "arn:aws:iam::123456789012:user/A" }
          : undefined,
    },
  );
}

Deno.test("buildRevokeRequest() signs POST /v1/revoke for signin with the session's credentials", async () => {
  const request = await buildRevokeRequest(TARGET, REFRESH_TOKEN);
  assert.equal(request.method, "POST");
  assert.equal(
    request.url,
    "https://eu-west-1.signin.aws.amazon.com/v1/revoke?x-amz-client-auth-method=iam",
  );
  assert.equal(request.headers.get("content-type"), "application/json");
  assert.equal(await request.clone().text(), JSON.stringify({ token: REFRESH_TOKEN }));
  assert.equal(request.headers.get("x-amz-date"), "20261128T171530Z");
  assert.equal(request.headers.get("x-amz-security-token"), CREDENTIALS.sessionToken);
  assert.match(
    request.headers.get("authorization")!,
    /^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEKEY000001\/20261128\/eu-west-1\/signin\/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
  );
  const { auth } = await verify(request);
  assert.equal(auth.service, "signin");
});

Deno.test("buildIntrospectRequest() asks about the refresh token, under a path prefix too", async () => {
  const request = await buildIntrospectRequest(
    { ...TARGET, baseUrl: "http://127.0.0.1:8123/prefix/" },
    REFRESH_TOKEN,
  );
  assert.equal(
    request.url,
    "http://127.0.0.1:8123/prefix/v1/introspect?x-amz-client-auth-method=iam",
  );
  assert.deepEqual(JSON.parse(await request.clone().text()), {
    token: REFRESH_TOKEN,
    token_type_hint: "refresh_token",
  });
  await verify(request);
});

Deno.test("processRevokeResponse() accepts any 2xx, with or without a body", async () => {
  await processRevokeResponse(new Response(null, { status: 200 }));
  await processRevokeResponse(new Response("{}", { status: 200 }));
});

Deno.test("processRevokeResponse() turns refusals into SigninErrors with the service's words", async () => {
  const reply = (status: number, type: string, message: string) =>
    new Response(JSON.stringify({ __type: `com.amazonaws.signin#${type}`, message }), {
      status,
      headers: { "x-amzn-errortype": type },
    });
  const cases: [Response, string][] = [
    [
      reply(403, "AccessDeniedException", "User: arn:x is not authorized"),
      "ERR_SIGNIN_ACCESS_DENIED",
    ],
    [reply(403, "ExpiredTokenException", "expired"), "ERR_SIGNIN_ACCESS_DENIED"],
    [reply(429, "TooManyRequestsError", "Rate exceeded"), "ERR_SIGNIN_THROTTLED"],
    [reply(400, "ValidationException", "bad"), "ERR_SIGNIN_VALIDATION"],
    [reply(500, "InternalServerException", "oops"), "ERR_SIGNIN_SERVER"],
    [new Response("<html>", { status: 302 }), "ERR_SIGNIN_RESPONSE"],
  ];
  for (const [response, code] of cases) {
    await assert.rejects(
      () => processRevokeResponse(response),
      (err: SigninError) => err instanceof SigninError && err.code === code,
      code,
    );
  }
  await assert.rejects(
    () =>
      processRevokeResponse(reply(403, "AccessDeniedException", "User: arn:x is not authorized")),
    {
      message:
        "AWS Sign-In did not revoke the refresh token (AccessDeniedException: User: arn:x is not authorized)",
    },
  );
  // A hostile message cannot drive the terminal.
  await assert.rejects(
    () => processRevokeResponse(reply(403, "AccessDeniedException", "a\u001b[2Jb\u202Ec\nd")),
    (err: Error) => /\(AccessDeniedException: a \[2Jb c d\)$/.test(err.message),
  );
});

Deno.test("processIntrospectResponse() reads RFC 7662: active with exp and sub, or inactive", async () => {
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
  assert.deepEqual(
    await processIntrospectResponse(
      json({ active: true, exp: 1_790_000_000, sub: "arn:aws:iam::1:user/A" }),
    ),
    { active: true, expiresAtMs: 1_790_000_000_000, subject: "arn:aws:iam::1:user/A" },
  );
  assert.deepEqual(await processIntrospectResponse(json({ active: true })), { active: true });
  assert.deepEqual(await processIntrospectResponse(json({ active: false })), { active: false });
  // Claims of an inactive token are not believed.
  assert.deepEqual(await processIntrospectResponse(json({ active: false, exp: 1 })), {
    active: false,
  });
  for (const bad of [json({ exp: 1 }), json({ active: "true" }), new Response("not json")]) {
    await assert.rejects(() => processIntrospectResponse(bad), { code: "ERR_SIGNIN_RESPONSE" });
  }
  await assert.rejects(
    () => processIntrospectResponse(json({ message: "denied" }, 403)),
    { code: "ERR_SIGNIN_ACCESS_DENIED" },
  );
});

Deno.test("revokeRefreshToken() reports an unreachable or silent Sign-In as a NetworkError", async () => {
  const refused: typeof fetch = () => Promise.reject(new TypeError("connection refused"));
  await assert.rejects(
    () => revokeRefreshToken(TARGET, REFRESH_TOKEN, { fetch: refused }),
    (err: NetworkError) =>
      err instanceof NetworkError && err.code === "ERR_NETWORK" &&
      err.message.includes('"eu-west-1.signin.aws.amazon.com"') &&
      !err.message.includes(REFRESH_TOKEN),
  );
  const silent: typeof fetch = (input) =>
    new Promise((_, reject) => {
      const signal = (input as Request).signal;
      signal.addEventListener("abort", () => reject(signal.reason));
    });
  await assert.rejects(
    () => revokeRefreshToken(TARGET, REFRESH_TOKEN, { fetch: silent, timeoutMs: 50 }),
    { code: "ERR_TIMEOUT" },
  );
});

Deno.test("revoke and introspect refuse a redirect, and never follow it", async () => {
  for (const process of [processRevokeResponse, processIntrospectResponse]) {
    await assert.rejects(
      () =>
        process(
          new Response(null, { status: 307, headers: { location: "https://evil.example/" } }),
        ),
      (err: SigninError) =>
        err instanceof SigninError && err.code === "ERR_SIGNIN_RESPONSE" &&
        /redirect \(HTTP 307\), which aws-login never follows/.test(err.message),
    );
  }
  // The request itself goes out with redirect: "manual".
  let mode: RequestRedirect | undefined;
  const capture: typeof fetch = (input) => {
    mode = (input as Request).redirect;
    return Promise.resolve(new Response(null, { status: 200 }));
  };
  await revokeRefreshToken(TARGET, REFRESH_TOKEN, { fetch: capture });
  assert.equal(mode, "manual");
});

Deno.test("a server that echoes the refresh token back never gets it printed", async () => {
  const echo = (message: string, type = "AccessDeniedException") =>
    Promise.resolve(
      new Response(JSON.stringify({ message, error: REFRESH_TOKEN }), {
        status: 403,
        headers: { "x-amzn-errortype": type },
      }),
    );
  for (
    const reply of [
      () => echo(`bad token ${REFRESH_TOKEN}`),
      () => echo(`bad token ${JSON.stringify(REFRESH_TOKEN)}`),
      () => echo(`session ${CREDENTIALS.sessionToken}`),
      () => echo("denied", REFRESH_TOKEN),
    ]
  ) {
    await assert.rejects(
      () => revokeRefreshToken(TARGET, REFRESH_TOKEN, { fetch: reply }),
      (err: SigninError) =>
        err instanceof SigninError && err.code === "ERR_SIGNIN_ACCESS_DENIED" &&
        !err.message.includes(REFRESH_TOKEN) && !err.message.includes(CREDENTIALS.sessionToken) &&
        err.error === undefined,
    );
  }
});
