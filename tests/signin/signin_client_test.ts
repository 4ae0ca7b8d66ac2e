import assert from "node:assert/strict";
import { NetworkError, SigninError } from "../../lib/errors.ts";
import { type DpopKey, generateDpopKey } from "../../lib/signin/dpop.ts";
import { base64UrlDecode } from "../../lib/signin/pkce.ts";
import {
  buildAuthorizeUrl,
  buildTokenRequest,
  CROSS_DEVICE_CLIENT_ID,
  exchangeAuthorizationCode,
  idTokenSubject,
  processTokenResponse,
  refreshToken,
  SAME_DEVICE_CLIENT_ID,
  type TokenResult,
} from "../../lib/signin/signin_client.ts";
import { closeAtDeadline } from "../helpers/bounded.ts";

const TOKEN_URL = "https://us-east-1.signin.aws.amazon.com/v1/token";
const NOW = Date.UTC(2025, 10, 19, 0, 0, 0, 750);
const CLI_ID_TOKEN =
  (await Deno.readTextFile(new URL("./testdata/cli_id_token.jwt", import.meta.url)))
    .trim();
const SECRETS = [
  "SECRETkeyVALUE",
  "SESSIONtokenVALUE",
  "REFRESHtokenVALUE",
  "AUTHcodeVALUE",
] as const;

const key: DpopKey = await generateDpopKey();

function okBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    accessToken: {
      accessKeyId: "ASIAIOSFODNN7EXAMPLE",
      secretAccessKey: SECRETS[0],
      sessionToken: SECRETS[1],
    },
    tokenType: "aws_sigv4",
    expiresIn: 900,
    refreshToken: SECRETS[2],
    idToken: CLI_ID_TOKEN,
    ...extra,
  };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(typeof body === "string" ? body : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** A fetch that records each request and answers with `reply`. */
function fakeFetch(reply: () => Response | Promise<Response>) {
  const requests: Request[] = [];
  const fn = ((input: RequestInfo | URL, init?: RequestInit) => {
    requests.push(new Request(input, init));
    return Promise.resolve(reply());
  }) as typeof fetch;
  return { fn, requests };
}

function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(base64UrlDecode(part)));
}

/** Decodes a DPoP proof and checks its signature with the key's public half. */
async function decodeProof(proof: string) {
  const [h, p, s] = proof.split(".");
  assert.ok(h && p && s, "a compact JWS");
  const publicKey = await crypto.subtle.importKey(
    "jwk",
    key.publicJwk,
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["verify"],
  );
  const valid = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" },
    publicKey,
    base64UrlDecode(s) as Uint8Array<ArrayBuffer>,
    new TextEncoder().encode(`${h}.${p}`),
  );
  assert.ok(valid, "the signature verifies with the DPoP public key");
  return { header: decodePart(h), payload: decodePart(p) };
}

function assertNoSecrets(message: string): void {
  for (const secret of SECRETS) assert.ok(!message.includes(secret), `leaked ${secret}`);
}

Deno.test("buildAuthorizeUrl() matches the docs/PROTOCOL.md §12 vector byte for byte", () => {
  assert.equal(
    buildAuthorizeUrl({
      authorizeUrl: "https://us-east-1.signin.aws.amazon.com/v1/authorize",
      clientId: SAME_DEVICE_CLIENT_ID,
      state: "0b8a5b1e-2f7c-4d0a-9c1e-5a6b7c8d9e0f",
      codeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      redirectUri: "http://127.0.0.1:53682/oauth/callback",
    }),
    "https://us-east-1.signin.aws.amazon.com/v1/authorize?response_type=code&client_id=arn%3Aaws%3Asignin%3A%3A%3Adevtools%2Fsame-device&state=0b8a5b1e-2f7c-4d0a-9c1e-5a6b7c8d9e0f&code_challenge_method=SHA-256&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A53682%2Foauth%2Fcallback&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
  );
});

Deno.test("buildAuthorizeUrl() encodes all but the unreserved characters (cross-device)", () => {
  const url = buildAuthorizeUrl({
    authorizeUrl: "http://127.0.0.1:8080/v1/authorize",
    clientId: CROSS_DEVICE_CLIENT_ID,
    state: "s",
    codeChallenge: "c",
    redirectUri: "http://127.0.0.1:8080/v1/sessions/confirmation?x=(a b)!*'~._-",
  });
  assert.equal(
    url,
    "http://127.0.0.1:8080/v1/authorize?response_type=code" +
      "&client_id=arn%3Aaws%3Asignin%3A%3A%3Adevtools%2Fcross-device&state=s" +
      "&code_challenge_method=SHA-256&scope=openid" +
      "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fv1%2Fsessions%2Fconfirmation%3Fx%3D%28a%20b%29%21%2A%27~._-" +
      "&code_challenge=c",
  );
});

Deno.test("buildTokenRequest() is an unsigned JSON POST carrying the DPoP proof", async () => {
  const request = buildTokenRequest(TOKEN_URL, { b: "2", a: "1" }, "proof.jwt.sig");
  assert.equal(request.method, "POST");
  assert.equal(request.url, TOKEN_URL);
  assert.equal(request.headers.get("content-type"), "application/json");
  assert.equal(request.headers.get("dpop"), "proof.jwt.sig");
  assert.equal(request.headers.get("authorization"), null);
  assert.equal(await request.text(), '{"b":"2","a":"1"}');
});

Deno.test("exchangeAuthorizationCode() posts the camelCase code grant with a fresh DPoP proof", async () => {
  const fetch = fakeFetch(() => json(200, okBody()));
  const result = await exchangeAuthorizationCode({
    tokenUrl: TOKEN_URL,
    clientId: SAME_DEVICE_CLIENT_ID,
    code: SECRETS[3]!,
    codeVerifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    redirectUri: "http://127.0.0.1:53682/oauth/callback",
    dpopKey: key,
    fetch: fetch.fn,
    now: () => NOW,
  });
  assert.deepEqual(
    result,
    {
      accessKeyId: "ASIAIOSFODNN7EXAMPLE",
      secretAccessKey: SECRETS[0],
      sessionToken: SECRETS[1],
      expiresIn: 900,
      refreshToken: SECRETS[2],
      idToken: CLI_ID_TOKEN,
    } satisfies TokenResult,
  );
  assert.equal(fetch.requests.length, 1);
  const request = fetch.requests[0]!;
  assert.equal(request.method, "POST");
  assert.equal(request.url, TOKEN_URL);
  assert.equal(request.headers.get("content-type"), "application/json");
  assert.equal(request.headers.get("authorization"), null);
  assert.equal(
    await request.text(),
    JSON.stringify({
      clientId: "arn:aws:signin:::devtools/same-device",
      grantType: "authorization_code",
      code: SECRETS[3],
      codeVerifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
      redirectUri: "http://127.0.0.1:53682/oauth/callback",
    }),
  );
  const { header, payload } = await decodeProof(request.headers.get("dpop")!);
  assert.deepEqual(header, { typ: "dpop+jwt", alg: "ES256", jwk: { ...key.publicJwk } });
  assert.equal(payload.htm, "POST");
  assert.equal(payload.htu, TOKEN_URL);
  assert.equal(payload.iat, Math.floor(NOW / 1000));
  assert.match(
    String(payload.jti),
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  assert.deepEqual(Object.keys(payload).sort(), ["htm", "htu", "iat", "jti"]);
});

Deno.test("refreshToken() posts the refresh grant; each call signs a new proof for its own URL", async () => {
  const tokenUrl = "http://127.0.0.1:37629/pfx/v1/token";
  const fetch = fakeFetch(() => json(200, okBody({ idToken: undefined })));
  let clock = NOW;
  const call = () =>
    refreshToken({
      tokenUrl,
      clientId: CROSS_DEVICE_CLIENT_ID,
      refreshToken: SECRETS[2]!,
      dpopKey: key,
      fetch: fetch.fn,
      now: () => clock,
    });
  const first = await call();
  assert.equal(first.idToken, undefined);
  assert.equal(first.refreshToken, SECRETS[2]);
  clock += 61_000;
  await call();
  assert.equal(fetch.requests.length, 2);
  const proofs = [];
  for (const request of fetch.requests) {
    assert.equal(request.url, tokenUrl);
    assert.equal(
      await request.text(),
      `{"clientId":"arn:aws:signin:::devtools/cross-device","grantType":"refresh_token","refreshToken":"${
        SECRETS[2]
      }"}`,
    );
    proofs.push((await decodeProof(request.headers.get("dpop")!)).payload);
  }
  assert.equal(proofs[0]!.htu, tokenUrl);
  assert.equal(proofs[0]!.iat, Math.floor(NOW / 1000));
  assert.equal(proofs[1]!.iat, Math.floor(NOW / 1000) + 61);
  assert.notEqual(proofs[0]!.jti, proofs[1]!.jti);
});

Deno.test("refreshToken() makes one request only, even on a server error", async () => {
  const fetch = fakeFetch(() => json(500, { message: "boom" }));
  await assert.rejects(
    () =>
      refreshToken({
        tokenUrl: TOKEN_URL,
        clientId: SAME_DEVICE_CLIENT_ID,
        refreshToken: SECRETS[2]!,
        dpopKey: key,
        fetch: fetch.fn,
        now: () => NOW,
      }),
    (err) => err instanceof SigninError && err.code === "ERR_SIGNIN_SERVER",
  );
  assert.equal(fetch.requests.length, 1);
});

interface ErrorCase {
  name: string;
  grant?: "authorization_code" | "refresh_token";
  response: () => Response;
  code: SigninError["code"];
  status: number;
  errorType?: string;
  error?: string;
  message: string;
  retryAfterSeconds?: number;
  transient?: boolean;
}

const DATE = "Wed, 19 Nov 2025 00:00:00 GMT";
const REFRESH = "Cannot refresh the login session";
const LOGIN = "Cannot complete the sign-in";

const ERROR_CASES: ErrorCase[] = [
  {
    name: "the x-amzn-errortype header alone (any case), TOKEN_EXPIRED",
    response: () =>
      json(401, { error: "TOKEN_EXPIRED", message: "Token expired" }, {
        "X-Amzn-ErrorType": "AccessDeniedException",
      }),
    code: "ERR_SIGNIN_ACCESS_DENIED",
    status: 401,
    errorType: "AccessDeniedException",
    error: "TOKEN_EXPIRED",
    message: `${REFRESH}: the session has ended (TOKEN_EXPIRED; sessions last up to 12 hours). ` +
      `Run "aws-login login" to sign in again`,
  },
  {
    name: "__type with a namespace and a ':' suffix, USER_CREDENTIALS_CHANGED",
    response: () =>
      json(403, {
        __type: "com.amazonaws.signin#AccessDeniedException:http://internal.amazon.com/coral/x/",
        error: "USER_CREDENTIALS_CHANGED",
        message: "credentials changed",
      }),
    code: "ERR_SIGNIN_ACCESS_DENIED",
    status: 403,
    errorType: "AccessDeniedException",
    error: "USER_CREDENTIALS_CHANGED",
    message: `${REFRESH}: your password changed since you signed in (USER_CREDENTIALS_CHANGED). ` +
      `Run "aws-login login" to sign in again with your new password`,
  },
  {
    name: "a code member, INSUFFICIENT_PERMISSIONS",
    response: () =>
      json(403, {
        code: "AccessDeniedException",
        error: "INSUFFICIENT_PERMISSIONS",
        message: "no",
      }),
    code: "ERR_SIGNIN_ACCESS_DENIED",
    status: 403,
    errorType: "AccessDeniedException",
    error: "INSUFFICIENT_PERMISSIONS",
    message: `${REFRESH}: your identity lacks permission for "signin:CreateOAuth2Token" ` +
      `(INSUFFICIENT_PERMISSIONS). Ask your administrator for the SignInLocalDevelopmentAccess ` +
      `policy, then run "aws-login login"`,
  },
  {
    name: "a Code member (capitalised) and Message, AUTHCODE_EXPIRED on the code grant",
    grant: "authorization_code",
    response: () =>
      json(401, { Code: "AccessDeniedException", error: "AUTHCODE_EXPIRED", Message: "expired" }),
    code: "ERR_SIGNIN_ACCESS_DENIED",
    status: 401,
    errorType: "AccessDeniedException",
    error: "AUTHCODE_EXPIRED",
    message: `${LOGIN}: the authorization code expired before it was used (AUTHCODE_EXPIRED). ` +
      `Run "aws-login login" again.`,
  },
  {
    name: "another AccessDenied error on a refresh, naming its error value",
    response: () =>
      json(403, { error: "invalid_grant", message: "Nope" }, {
        "x-amzn-errortype": "AccessDeniedException:http://x",
      }),
    code: "ERR_SIGNIN_ACCESS_DENIED",
    status: 403,
    errorType: "AccessDeniedException",
    error: "invalid_grant",
    message: `${REFRESH}: AWS Sign-In denied access (invalid_grant). Run "aws-login login" to ` +
      `sign in again`,
  },
  {
    name: "a bare 401 to access denied",
    response: () => new Response("Unauthorized", { status: 401 }),
    code: "ERR_SIGNIN_ACCESS_DENIED",
    status: 401,
    message: `${REFRESH}: AWS Sign-In denied access (401). Run "aws-login login" to sign in again`,
  },
  {
    name: "ValidationException INVALID_REQUEST on a refresh (docs/PROTOCOL.md §11 wrong region)",
    response: () =>
      json(400, {
        error: "INVALID_REQUEST",
        message: "The provided authorization grant is invalid, expired, revoked, or malformed",
      }, { "x-amzn-errortype": "ValidationException" }),
    code: "ERR_SIGNIN_VALIDATION",
    status: 400,
    errorType: "ValidationException",
    error: "INVALID_REQUEST",
    message: `${REFRESH}: AWS Sign-In rejected the refresh token (INVALID_REQUEST). The session ` +
      `was revoked or has ended (after at most 12 hours), or it was made in another region: a ` +
      `session can only be refreshed in the region it was created in. Run "aws-login login" to ` +
      `sign in again`,
  },
  {
    name: "the header, not the body's type",
    grant: "authorization_code",
    response: () =>
      json(400, { __type: "AccessDeniedException", error: "INVALID_REQUEST" }, {
        "x-amzn-errortype": "ValidationException",
      }),
    code: "ERR_SIGNIN_VALIDATION",
    status: 400,
    errorType: "ValidationException",
    error: "INVALID_REQUEST",
    message: `${LOGIN}: AWS Sign-In rejected the request (ValidationException INVALID_REQUEST). ` +
      `Run "aws-login login" again.`,
  },
  {
    name: "429 with Retry-After seconds",
    response: () =>
      json(429, { __type: "TooManyRequestsError", error: "INVALID_REQUEST", message: "slow" }, {
        "Retry-After": "7",
      }),
    code: "ERR_SIGNIN_THROTTLED",
    status: 429,
    errorType: "TooManyRequestsError",
    error: "INVALID_REQUEST",
    retryAfterSeconds: 7,
    transient: true,
    message:
      `${REFRESH}: AWS Sign-In is throttling requests (TooManyRequestsError INVALID_REQUEST). ` +
      `Try again in 7 s.`,
  },
  {
    name: "429 with a Retry-After date, measured from the reply's Date",
    response: () =>
      new Response("", {
        status: 429,
        headers: { "Retry-After": "Wed, 19 Nov 2025 00:00:30 GMT", Date: DATE },
      }),
    code: "ERR_SIGNIN_THROTTLED",
    status: 429,
    retryAfterSeconds: 30,
    transient: true,
    message: `${REFRESH}: AWS Sign-In is throttling requests (HTTP 429). Try again in 30 s.`,
  },
  {
    name: "InternalServerException to a server error",
    response: () =>
      json(500, { error: "server_error", message: "Internal" }, {
        "x-amzn-errortype": "InternalServerException",
      }),
    code: "ERR_SIGNIN_SERVER",
    status: 500,
    errorType: "InternalServerException",
    error: "server_error",
    transient: true,
    // A server error's body is never quoted: its status line is enough.
    message: `${REFRESH}: AWS Sign-In had a server error (HTTP 500 InternalServerException). ` +
      `Try again later.`,
  },
  {
    name: "a 503 HTML page",
    response: () =>
      new Response("<html>Service Unavailable</html>", {
        status: 503,
        headers: { "content-type": "text/html", "Retry-After": "2" },
      }),
    code: "ERR_SIGNIN_SERVER",
    status: 503,
    retryAfterSeconds: 2,
    transient: true,
    message: `${REFRESH}: AWS Sign-In had a server error (HTTP 503). Try again later.`,
  },
  {
    name: "a 404 from a wrong endpoint",
    response: () => new Response("Not Found", { status: 404 }),
    code: "ERR_SIGNIN_RESPONSE",
    status: 404,
    message: `${REFRESH}: AWS Sign-In answered with an unexpected error (HTTP 404). Check the ` +
      `Sign-In endpoint (--endpoint-url, AWS_ENDPOINT_URL_SIGNIN, endpoint_url) and try again.`,
  },
  {
    name: "a 200 that is not JSON",
    response: () => new Response("<html>hello</html>", { status: 200 }),
    code: "ERR_SIGNIN_RESPONSE",
    status: 200,
    message: `${REFRESH}: AWS Sign-In returned a reply that is not a JSON object (HTTP 200). ` +
      `Try again; if it persists, check the Sign-In endpoint.`,
  },
  {
    name: "a 200 missing fields, naming each and no value",
    response: () =>
      json(200, {
        accessToken: { accessKeyId: "ASIAIOSFODNN7EXAMPLE", secretAccessKey: SECRETS[0] },
        expiresIn: 900,
        sessionToken: SECRETS[1],
      }),
    code: "ERR_SIGNIN_RESPONSE",
    status: 200,
    message: `${REFRESH}: AWS Sign-In returned a token reply with missing or invalid ` +
      `accessToken.sessionToken, refreshToken (HTTP 200). Try again; if it persists, check the ` +
      `Sign-In endpoint.`,
  },
  {
    name: "a code-grant 200 without an idToken",
    grant: "authorization_code",
    response: () => json(200, okBody({ idToken: undefined })),
    code: "ERR_SIGNIN_RESPONSE",
    status: 200,
    message: `${LOGIN}: AWS Sign-In returned a token reply with missing or invalid idToken ` +
      `(HTTP 200). Try again; if it persists, check the Sign-In endpoint.`,
  },
  ...[0, 901, 1.5, "900", null].map((expiresIn): ErrorCase => ({
    name: `a 200 with expiresIn ${JSON.stringify(expiresIn)}`,
    response: () => json(200, okBody({ expiresIn })),
    code: "ERR_SIGNIN_RESPONSE",
    status: 200,
    message: `${REFRESH}: AWS Sign-In returned a token reply with missing or invalid expiresIn ` +
      `(must be 1 to 900) (HTTP 200). Try again; if it persists, check the Sign-In endpoint.`,
  })),
];

for (const c of ERROR_CASES) {
  Deno.test(`processTokenResponse() maps ${c.name}`, async () => {
    await assert.rejects(
      () => processTokenResponse(c.response(), c.grant ?? "refresh_token"),
      (err) => {
        assert.ok(err instanceof SigninError, String(err));
        assert.equal(err.code, c.code);
        assert.equal(err.exitCode, 5);
        assert.equal(err.message, c.message);
        assert.equal(err.status, c.status);
        assert.equal(err.errorType, c.errorType);
        assert.equal(err.error, c.error);
        assert.equal(err.retryAfterSeconds, c.retryAfterSeconds);
        assert.equal(err.transient, c.transient ?? false);
        assertNoSecrets(err.message);
        return true;
      },
    );
  });
}

Deno.test("processTokenResponse() keeps the server's Date on the error for clock-skew correction", async () => {
  await assert.rejects(
    () =>
      processTokenResponse(
        json(400, { error: "INVALID_REQUEST" }, {
          "x-amzn-errortype": "ValidationException",
          Date: DATE,
        }),
        "refresh_token",
      ),
    (err) => err instanceof SigninError && err.serverDate === Date.UTC(2025, 10, 19),
  );
});

Deno.test("processTokenResponse() accepts a 200 with expiresIn 1 and no tokenType", async () => {
  const result = await processTokenResponse(
    json(200, okBody({ expiresIn: 1, tokenType: undefined, extra: "ignored" })),
    "refresh_token",
  );
  assert.equal(result.expiresIn, 1);
  assert.equal(result.idToken, CLI_ID_TOKEN);
});

Deno.test("refreshToken() turns a rejected fetch into ERR_NETWORK naming the host", async () => {
  await assert.rejects(
    () =>
      refreshToken({
        tokenUrl: TOKEN_URL,
        clientId: SAME_DEVICE_CLIENT_ID,
        refreshToken: SECRETS[2]!,
        dpopKey: key,
        fetch: () => Promise.reject(new TypeError("error sending request: Connection refused")),
        now: () => NOW,
      }),
    (err) => {
      assert.ok(err instanceof NetworkError);
      assert.equal(err.code, "ERR_NETWORK");
      assert.equal(err.exitCode, 6);
      assert.equal(
        err.message,
        'Cannot reach AWS Sign-In at "us-east-1.signin.aws.amazon.com": error sending request: ' +
          "Connection refused. Check your network connection and the Sign-In endpoint, then try again.",
      );
      assertNoSecrets(err.message);
      return true;
    },
  );
});

Deno.test("exchangeAuthorizationCode() gives up with ERR_TIMEOUT when no reply comes", async () => {
  // A server that never answers: the request's own signal is the only way out.
  const hang = ((input: RequestInfo | URL) => {
    const signal = (input as Request).signal;
    return new Promise<Response>((_, reject) => {
      signal.addEventListener("abort", () => reject(signal.reason));
    });
  }) as typeof fetch;
  await assert.rejects(
    () =>
      exchangeAuthorizationCode({
        tokenUrl: "http://127.0.0.1:9/v1/token",
        clientId: SAME_DEVICE_CLIENT_ID,
        code: SECRETS[3]!,
        codeVerifier: "v",
        redirectUri: "http://127.0.0.1:1/oauth/callback",
        dpopKey: key,
        fetch: hang,
        now: () => NOW,
        timeoutMs: 20,
      }),
    (err) => {
      assert.ok(err instanceof NetworkError);
      assert.equal(err.code, "ERR_TIMEOUT");
      assert.equal(
        err.message,
        'No reply from AWS Sign-In at "127.0.0.1:9" within 20 ms. Check your network connection and try again.',
      );
      return true;
    },
  );
});

Deno.test("idTokenSubject() reads sub from a CLI-style ID token", () => {
  assert.equal(
    idTokenSubject(CLI_ID_TOKEN),
    "arn:aws:sts::012345678910:assumed-role/Admin/admin",
  );
});

Deno.test("idTokenSubject() refuses malformed tokens with ERR_SIGNIN_RESPONSE", () => {
  const b64u = (s: string) => btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const cases: [string, string][] = [
    ["", "it is not a JWT (expected 3 dot-separated parts)"],
    ["a.b", "it is not a JWT (expected 3 dot-separated parts)"],
    ["a.b.c.d", "it is not a JWT (expected 3 dot-separated parts)"],
    ["h.!!!.s", "its claims are not base64url-encoded JSON"],
    [`h.${b64u("not json")}.s`, "its claims are not base64url-encoded JSON"],
    ["h.__8.s", "its claims are not base64url-encoded JSON"], // invalid UTF-8
    [`h.${b64u("[1]")}.s`, "its claims are not a JSON object"],
    [`h.${b64u('{"aud":"x"}')}.s`, 'it has no "sub" claim'],
    [`h.${b64u('{"sub":""}')}.s`, 'it has no "sub" claim'],
    [`h.${b64u('{"sub":42}')}.s`, 'it has no "sub" claim'],
  ];
  for (const [token, why] of cases) {
    assert.throws(() => idTokenSubject(token), (err) => {
      assert.ok(err instanceof SigninError, token);
      assert.equal(err.code, "ERR_SIGNIN_RESPONSE");
      assert.equal(
        err.message,
        `Cannot read the ID token AWS Sign-In returned: ${why}. Run "aws-login login" again.`,
      );
      return true;
    });
  }
});

/** A server on 127.0.0.1 for one test; `await using` (or its deadline) shuts it down. */
function serve(handler: (request: Request) => Response | Promise<Response>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  return closeAtDeadline({
    url: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  });
}

/** Both grants against `tokenUrl`, through `fetch` (default: the real one). */
function bothGrants(tokenUrl: string, fetchFn: typeof fetch = fetch) {
  return [
    () =>
      exchangeAuthorizationCode({
        tokenUrl,
        clientId: SAME_DEVICE_CLIENT_ID,
        code: SECRETS[3]!,
        codeVerifier: VERIFIER,
        redirectUri: "http://127.0.0.1:53682/oauth/callback",
        dpopKey: key,
        fetch: fetchFn,
        now: () => NOW,
      }),
    () =>
      refreshToken({
        tokenUrl,
        clientId: SAME_DEVICE_CLIENT_ID,
        refreshToken: SECRETS[2]!,
        dpopKey: key,
        fetch: fetchFn,
        now: () => NOW,
      }),
  ] as const;
}

const VERIFIER = "Zq4dG8a1~Xv.9kPp_-Lm3nR7sT2uW5yB0cE6fH8jK1oQ4tV7wY0zA3dF6gJ9lN2pS";

Deno.test("both grants refuse a redirect from the token endpoint and send nothing on", async () => {
  const received: string[] = [];
  await using elsewhere = serve(async (request) => {
    received.push(await request.text());
    return json(200, okBody());
  });
  for (const status of [301, 302, 303, 307, 308]) {
    await using endpoint = serve(async (request) => {
      await request.body?.cancel();
      return new Response(null, { status, headers: { location: `${elsewhere.url}/v1/token` } });
    });
    const tokenUrl = `${endpoint.url}/v1/token`;
    for (const grant of bothGrants(tokenUrl)) {
      await assert.rejects(grant, (err) => {
        assert.ok(err instanceof SigninError, String(err));
        assert.equal(err.code, "ERR_SIGNIN_RESPONSE");
        assert.equal(err.status, status);
        assert.ok(err.message.includes(`AWS Sign-In at "${tokenUrl}" answered with a redirect`));
        assert.match(err.message, /never follows a redirect from the token endpoint/);
        return true;
      });
    }
  }
  assert.deepEqual(received, [], "the code or refresh token reached the redirect's target");
});

Deno.test("buildTokenRequest() asks fetch not to follow redirects", () => {
  assert.equal(buildTokenRequest(TOKEN_URL, {}, "p").redirect, "manual");
});

/** Unprintable characters a hostile server could use on a terminal. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

Deno.test("processTokenResponse() reduces the server's error type, error and message to printable text", async () => {
  const hostile = "\x1b]0;owned\x07\x1b[2J\u009b31m\u202egnp.exe\u2066\u200b\u2028";
  const reply = json(403, {
    error: `BAD${hostile}`,
    message: `Denied ${hostile} ${"x".repeat(5000)}`,
  }, { "x-amzn-errortype": `Custom\x1b[2J\u009b1mType` });
  await assert.rejects(() => processTokenResponse(reply, "refresh_token"), (err) => {
    assert.ok(err instanceof SigninError);
    assert.equal(err.code, "ERR_SIGNIN_RESPONSE");
    for (const text of [err.message, err.errorType!, err.error!]) {
      assert.ok(!UNPRINTABLE.test(text), JSON.stringify(text));
    }
    assert.equal(err.errorType, "Custom [2J 1mType");
    assert.equal(err.error, "BAD ]0;owned [2J 31m gnp.exe");
    assert.ok(err.message.length < 600, `a ${err.message.length}-character message`);
    assert.match(err.message, /"Denied \]0;owned \[2J 31m gnp\.exe x+…"/);
    return true;
  });
  // A name made of nothing printable is no name.
  await assert.rejects(
    () => processTokenResponse(json(400, { __type: "\x1b\x1b", error: "\u202e" }), "refresh_token"),
    (err) => err instanceof SigninError && err.errorType === undefined && err.error === undefined,
  );
});

Deno.test("processTokenResponse() refuses credentials of the wrong shape, naming the field only", async () => {
  const key = "accessKeyId (not 1 to 256 letters, digits and underscores)";
  const cases: [string, Record<string, string>][] = [
    [key, { accessKeyId: "A".repeat(257) }],
    [key, { accessKeyId: "ASIAIOSFODNN7EXAMPLE\nAWS_X=1" }],
    [key, { accessKeyId: "ASIA EXAMPLE" }],
    [key, { accessKeyId: "ASIA'EXAMPLE" }],
    [key, { accessKeyId: 'ASIA"EXAMPLE' }],
    [key, { accessKeyId: "ASIA\x1b[2J" }],
    [key, { accessKeyId: "ASIA/EXAMPLE" }],
    [key, { accessKeyId: "ASIA%PATH%" }],
    [key, { accessKeyId: "ASİA" }],
    ["secretAccessKey (not printable ASCII without spaces)", { secretAccessKey: "a b" }],
    ["secretAccessKey (not printable ASCII without spaces)", { secretAccessKey: "a\nexport X=1" }],
    ["secretAccessKey (not printable ASCII without spaces)", { secretAccessKey: "clé" }],
    ["sessionToken (not printable ASCII without spaces)", { sessionToken: "t\x1b[2J" }],
    ["sessionToken (not printable ASCII without spaces)", { sessionToken: "t\u009b" }],
  ];
  for (const [field, access] of cases) {
    const body = okBody();
    body.accessToken = { ...(body.accessToken as Record<string, string>), ...access };
    await assert.rejects(() => processTokenResponse(json(200, body), "refresh_token"), (err) => {
      assert.ok(err instanceof SigninError);
      assert.equal(err.code, "ERR_SIGNIN_RESPONSE");
      assert.ok(err.message.includes(`missing or invalid accessToken.${field}`), err.message);
      for (const value of Object.values(access)) assert.ok(!err.message.includes(value));
      return true;
    });
  }
});

Deno.test("processTokenResponse() takes any access key id that is safe to hand on, not only AWS's current form", async () => {
  // NEWREFRESHEDKEY (15 characters) is what AWS's cross-SDK login-provider test data refreshes to:
  // every AWS SDK accepts it, so aws-login must too.
  for (const accessKeyId of ["NEWREFRESHEDKEY", "AKID", "access_key", "A".repeat(256)]) {
    const body = okBody();
    body.accessToken = { ...(body.accessToken as Record<string, string>), accessKeyId };
    const result = await processTokenResponse(json(200, body), "refresh_token");
    assert.equal(result.accessKeyId, accessKeyId);
  }
});

/**
 * Fails when `text` holds any 12 characters of a secret, as sent, JSON-escaped (also with `\/`, as
 * PHP writes it) or URL-encoded.
 */
function assertNoFragment(text: string | undefined, secrets: readonly string[]): void {
  if (text === undefined) return;
  for (const secret of secrets) {
    const json = JSON.stringify(secret);
    for (const form of [secret, json, json.replaceAll("/", "\\/"), encodeURIComponent(secret)]) {
      for (let i = 0; i + 12 <= form.length; i++) {
        assert.ok(!text.includes(form.slice(i, i + 12)), `quoted part of a secret: ${text}`);
      }
    }
  }
}

Deno.test("an error reply that echoes the request never quotes the code, verifier or refresh token", async () => {
  // Long secrets full of characters that JSON and URLs escape, so that no 12 characters of one
  // written form appear in another: each form must be cut out on its own.
  const refresh = "ASOR" + 'a/b+c"d\\'.repeat(12);
  const code = "AUTHcode/" + "C".repeat(40);
  const secrets = [refresh, code, VERIFIER];
  /** Echoes the request body in every way a server or proxy might. */
  const echoes: [string, (body: string) => Response][] = [
    [
      "the body as JSON members (its code becomes the error type)",
      (body) => json(400, { ...JSON.parse(body), message: `Invalid request ${body}` }),
    ],
    [
      "each value as the error",
      (body) =>
        json(403, { error: Object.values(JSON.parse(body)).join(" "), message: "denied" }, {
          "x-amzn-errortype": "AccessDeniedException",
        }),
    ],
    ["the body form-encoded in the message", (body) =>
      json(400, {
        message: new URLSearchParams(JSON.parse(body) as Record<string, string>).toString(),
      }, { "x-amzn-errortype": "ValidationException" })],
    [
      "a cut-off echo in the message",
      (body) =>
        json(401, {
          message: `bad token ${JSON.parse(body).refreshToken?.slice(0, 30) ?? ""}${
            JSON.parse(body).code?.slice(0, 20) ?? ""
          } ${JSON.parse(body).codeVerifier?.slice(5, 25) ?? ""}`,
        }),
    ],
    [
      "the echo in the error type header",
      (body) =>
        json(400, { message: "no" }, {
          "x-amzn-errortype": JSON.parse(body).refreshToken ?? JSON.parse(body).code,
        }),
    ],
    [
      "the echo URL-encoded in the error type header",
      (body) =>
        json(400, { message: "no" }, {
          "x-amzn-errortype": encodeURIComponent(
            JSON.parse(body).refreshToken ?? JSON.parse(body).code,
          ),
        }),
    ],
    [
      "a PHP-style echo (slashes escaped)",
      (body) => json(400, { message: `got ${body.replaceAll("/", "\\/")}` }),
    ],
    ["a 500 with the echo", (body) => json(500, { message: body, error: body })],
    ["a non-JSON echo", (body) => new Response(`You sent: ${body}`, { status: 400 })],
  ];
  for (const [name, echo] of echoes) {
    const echoing = (async (input: RequestInfo | URL) =>
      echo(await (input as Request).text())) as typeof fetch;
    const [exchange, refreshGrant] = bothGrants(TOKEN_URL, echoing);
    const calls = [
      exchange,
      () =>
        refreshToken({
          tokenUrl: TOKEN_URL,
          clientId: SAME_DEVICE_CLIENT_ID,
          refreshToken: refresh,
          dpopKey: key,
          fetch: echoing,
          now: () => NOW,
        }),
      () =>
        exchangeAuthorizationCode({
          tokenUrl: TOKEN_URL,
          clientId: SAME_DEVICE_CLIENT_ID,
          code,
          codeVerifier: VERIFIER,
          redirectUri: "http://127.0.0.1:53682/oauth/callback",
          dpopKey: key,
          fetch: echoing,
          now: () => NOW,
        }),
      refreshGrant,
    ];
    for (const call of calls) {
      await assert.rejects(call, (err) => {
        assert.ok(err instanceof SigninError, `${name}: ${err}`);
        for (const text of [err.message, err.errorType, err.error]) {
          assertNoFragment(text, [...secrets, ...SECRETS]);
        }
        return true;
      }, name);
    }
  }
});

Deno.test("an echoed secret is cut out of a message; a name that was a secret is dropped", async () => {
  const refresh = 'ASOR"secret' + "Z".repeat(50); // the quote makes its JSON form differ
  const call = (reply: Response) =>
    refreshToken({
      tokenUrl: TOKEN_URL,
      clientId: SAME_DEVICE_CLIENT_ID,
      refreshToken: refresh,
      dpopKey: key,
      fetch: (() => Promise.resolve(reply)) as typeof fetch,
      now: () => NOW,
    });
  await assert.rejects(
    () =>
      call(json(400, { error: "CONFLICT", message: `The token ${refresh} is malformed` }, {
        "x-amzn-errortype": "ValidationException",
      })),
    (err) =>
      err instanceof SigninError && err.message.includes(`"The token [redacted] is malformed"`),
  );
  // Quoted twice (and in each written form): every occurrence is cut, and the message is kept.
  const forms = [refresh, JSON.stringify(refresh).slice(1, -1), encodeURIComponent(refresh)];
  for (const form of forms) {
    await assert.rejects(
      () =>
        call(
          json(400, {
            error: "CONFLICT",
            message: `The token ${form} is malformed; you sent ${form}`,
          }, {
            "x-amzn-errortype": "ValidationException",
          }),
        ),
      (err) =>
        err instanceof SigninError &&
        err.message.includes(`"The token [redacted] is malformed; you sent [redacted]"`),
      form,
    );
  }
  await assert.rejects(
    () => call(json(400, { error: refresh }, { "x-amzn-errortype": `${refresh}:x` })),
    (err) =>
      err instanceof SigninError && err.errorType === undefined && err.error === undefined &&
      err.code === "ERR_SIGNIN_VALIDATION" && !err.message.includes("ASOR") &&
      err.message.includes("rejected the refresh token (ValidationException)"),
  );
});
