/**
 * The federation client (lib/signin/federation.ts): the getSigninToken request as AWS documents it,
 * the reply read strictly, refusals classified and quoted without any secret, a redirect refused,
 * and a transport failure that never repeats the request URL (it carries the credentials).
 */
import assert from "node:assert/strict";
import {
  federationLoginUrl,
  getSigninToken,
  logoutThen,
  parseSigninTokenReply,
  signinTokenRequestUrl,
} from "../../lib/signin/federation.ts";
import { NetworkError, SigninError } from "../../lib/errors.ts";

const CREDS = {
  accessKeyId: "ASIAEXAMPLEEXAMPLE12",
  secretAccessKey: "secretKEY/with+chars0123456789abcdefghij",
  sessionToken: "IQoJb3JpZ2luX2VjEXAMPLETOKENvalue0123456789/+=",
};
const SENT = [CREDS.secretAccessKey, CREDS.sessionToken, CREDS.accessKeyId];
const FED = "https://us-east-1.signin.aws.amazon.com/federation";

Deno.test("the getSigninToken URL carries the Session JSON and SessionDuration only when given", () => {
  const url = new URL(signinTokenRequestUrl(FED, CREDS));
  assert.equal(url.origin + url.pathname, FED);
  assert.equal(url.searchParams.get("Action"), "getSigninToken");
  assert.deepEqual(JSON.parse(url.searchParams.get("Session")!), {
    sessionId: CREDS.accessKeyId,
    sessionKey: CREDS.secretAccessKey,
    sessionToken: CREDS.sessionToken,
  });
  assert.equal(url.searchParams.has("SessionDuration"), false);
  const timed = new URL(signinTokenRequestUrl(FED, CREDS, 7200));
  assert.equal(timed.searchParams.get("SessionDuration"), "7200");
});

Deno.test("the login URL, and the logout that forwards to it", () => {
  const login = new URL(federationLoginUrl(FED, "tok en", "https://console.aws.amazon.com/s3/"));
  assert.equal(login.searchParams.get("Action"), "login");
  assert.equal(login.searchParams.get("SigninToken"), "tok en");
  assert.equal(login.searchParams.get("Destination"), "https://console.aws.amazon.com/s3/");
  assert.equal(login.searchParams.has("Issuer"), false);
  const out = new URL(logoutThen("https://us-east-1.signin.aws.amazon.com/oauth", login.href));
  assert.equal(out.searchParams.get("Action"), "logout");
  assert.equal(out.searchParams.get("redirect_uri"), login.href);
});

Deno.test("a 200 reply is read strictly", () => {
  assert.equal(
    parseSigninTokenReply(200, "application/json", '{"SigninToken":"abc-_DEF"}', SENT),
    "abc-_DEF",
  );
  for (
    const body of [
      "",
      "not json",
      "[]",
      "null",
      '"SigninToken"',
      "{}",
      '{"SigninToken":""}',
      '{"SigninToken":42}',
      '{"SigninToken":"has space"}',
      '{"SigninToken":"line\\nbreak"}',
      `{"SigninToken":"${"a".repeat(16_385)}"}`,
    ]
  ) {
    assert.throws(
      () => parseSigninTokenReply(200, "application/json", body, SENT),
      (err: unknown) => err instanceof SigninError && err.code === "ERR_SIGNIN_RESPONSE",
      body.slice(0, 40),
    );
  }
});

Deno.test("refusals are classified and quote nothing that was sent", () => {
  const echo = `Bad Session ${JSON.stringify(CREDS)} ${encodeURIComponent(CREDS.sessionToken)}`;
  const cases: [number, string][] = [
    [400, "ERR_SIGNIN_ACCESS_DENIED"],
    [403, "ERR_SIGNIN_ACCESS_DENIED"],
    [429, "ERR_SIGNIN_THROTTLED"],
    [500, "ERR_SIGNIN_SERVER"],
    [503, "ERR_SIGNIN_SERVER"],
    [204, "ERR_SIGNIN_RESPONSE"],
  ];
  for (const [status, code] of cases) {
    try {
      parseSigninTokenReply(status, "text/plain", echo, SENT);
      assert.fail("no error");
    } catch (err) {
      assert.ok(err instanceof SigninError && err.code === code, `${status}: ${err}`);
      for (const secret of SENT.slice(0, 2)) {
        assert.ok(!err.message.includes(secret), `${status} quotes a secret`);
        assert.ok(!err.message.includes(encodeURIComponent(secret)), `${status} quotes a secret`);
      }
    }
  }
  // A short reason is quoted; an HTML page is not.
  assert.throws(
    () => parseSigninTokenReply(400, "text/plain", "Invalid SessionDuration", SENT),
    /HTTP 400: "Invalid SessionDuration"/,
  );
  assert.throws(
    () => parseSigninTokenReply(400, "text/html", "<html>big page</html>", SENT),
    (err: unknown) => err instanceof Error && !err.message.includes("<html>"),
  );
});

Deno.test("getSigninToken refuses a redirect and never repeats its URL in a transport error", async () => {
  const debug: string[] = [];
  const redirect = () =>
    Promise.resolve(new Response(null, { status: 302, headers: { location: "https://x/" } }));
  await assert.rejects(
    getSigninToken({
      federationUrl: FED,
      credentials: CREDS,
      fetch: redirect,
      debug: (l) => debug.push(l),
    }),
    (err: unknown) => err instanceof SigninError && /redirect/.test(err.message),
  );
  // Deno's shape: "fetch failed", the URL in the cause's message.
  const failing = (input: RequestInfo | URL) =>
    Promise.reject(
      new TypeError("fetch failed", {
        cause: new Error(`error sending request for url (${input}): connection refused`),
      }),
    );
  try {
    await getSigninToken({
      federationUrl: FED,
      credentials: CREDS,
      fetch: failing,
      debug: (l) => debug.push(l),
    });
    assert.fail("no error");
  } catch (err) {
    assert.ok(err instanceof NetworkError, String(err));
    assert.match(err.message, /connection refused/);
    for (const secret of SENT) {
      assert.ok(!err.message.includes(secret), "the message repeats the credentials");
      assert.ok(
        !err.message.includes(encodeURIComponent(secret)),
        "the message repeats the credentials",
      );
    }
    assert.equal(
      err.cause instanceof Error && SENT.some((s) => String(err.cause).includes(s)),
      false,
    );
  }
  const ok = () => Promise.resolve(Response.json({ SigninToken: "the-token" }));
  assert.equal(
    await getSigninToken({
      federationUrl: FED,
      credentials: CREDS,
      fetch: ok,
      debug: (l) => debug.push(l),
    }),
    "the-token",
  );
  const logged = debug.join("\n");
  for (const secret of [...SENT, "the-token"]) assert.ok(!logged.includes(secret), "debug leaks");
});
