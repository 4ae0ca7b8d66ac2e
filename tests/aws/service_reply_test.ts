import assert from "node:assert/strict";
import {
  classifyReply,
  type ReplyKind,
  type Service,
  serviceText,
  SIGN_IN,
  transportError,
} from "../../lib/aws/service_reply.ts";
import { processTokenResponse } from "../../lib/signin/signin_client.ts";
import { processRevokeResponse } from "../../lib/signin/revoke_introspect.ts";
import {
  AwsLoginError,
  CacheError,
  ConfigError,
  loginCommand,
  NetworkError,
  PermissionError,
  SigninError,
} from "../../lib/errors.ts";
import { isSessionOver } from "../../lib/session/credential_server.ts";

const STS: Service = { name: "AWS STS", endpoint: "the STS endpoint" };

const reply = (status: number, type?: string) =>
  new Response(JSON.stringify({ message: "said" }), {
    status,
    headers: type === undefined ? {} : { "x-amzn-errortype": type },
  });

/** Each reply, the kind it is, and the code both Sign-In clients give it. */
const KINDS: [number, string | undefined, ReplyKind, string][] = [
  [403, "AccessDeniedException", "access-denied", "ERR_SIGNIN_ACCESS_DENIED"],
  [403, "ExpiredTokenException", "access-denied", "ERR_SIGNIN_ACCESS_DENIED"],
  [401, undefined, "access-denied", "ERR_SIGNIN_ACCESS_DENIED"],
  [429, undefined, "throttled", "ERR_SIGNIN_THROTTLED"],
  [400, "TooManyRequestsError", "throttled", "ERR_SIGNIN_THROTTLED"],
  [400, "ValidationException", "validation", "ERR_SIGNIN_VALIDATION"],
  [400, undefined, "validation", "ERR_SIGNIN_VALIDATION"],
  [500, "InternalServerException", "server", "ERR_SIGNIN_SERVER"],
  // The two classifiers disagreed here: a 5xx is the service's trouble (retried, as the SDKs do),
  // whatever type it names; a 4xx of a type neither knows is unexpected, not a denial or a refusal.
  [503, "ValidationException", "server", "ERR_SIGNIN_SERVER"],
  [502, undefined, "server", "ERR_SIGNIN_SERVER"],
  [403, "CustomType", "unexpected", "ERR_SIGNIN_RESPONSE"],
  [400, "SomethingElse", "unexpected", "ERR_SIGNIN_RESPONSE"],
  [404, undefined, "unexpected", "ERR_SIGNIN_RESPONSE"],
];

Deno.test("classifyReply() sorts error replies one way for every service", () => {
  for (const [status, type, kind] of KINDS) {
    assert.equal(classifyReply(status, type), kind, `${status} ${type}`);
  }
  // STS's query-protocol codes sort the same way.
  assert.equal(classifyReply(403, "AccessDenied"), "access-denied");
  assert.equal(classifyReply(400, "ValidationError"), "validation");
  assert.equal(classifyReply(400, "Throttling"), "throttled");
});

Deno.test("the token client and the revoke client give every error reply the same code", async () => {
  for (const [status, type, , code] of KINDS) {
    const label = `${status} ${type}`;
    await assert.rejects(
      () => processTokenResponse(reply(status, type), "refresh_token"),
      (err) => err instanceof SigninError && err.code === code,
      `token: ${label}`,
    );
    await assert.rejects(
      () => processRevokeResponse(reply(status, type)),
      (err) => err instanceof SigninError && err.code === code,
      `revoke: ${label}`,
    );
  }
});

Deno.test("transportError() names the service it was given", () => {
  const down = transportError(new TypeError("connection refused"), STS, "sts.amazonaws.com");
  assert.ok(down instanceof NetworkError && down.code === "ERR_NETWORK");
  assert.equal(
    down.message,
    `Cannot reach AWS STS at "sts.amazonaws.com": connection refused. Check your network ` +
      `connection and the STS endpoint, then try again.`,
  );
  const slow = transportError(new DOMException("t", "TimeoutError"), STS, "h:1", 10_000);
  assert.equal(
    slow.message,
    `No reply from AWS STS at "h:1" within 10 s. Check your network ` +
      `connection and try again.`,
  );
  const denied = transportError(
    new Deno.errors.NotCapable(`Requires net access to "sts.example:443"`),
    STS,
    "sts.example:443",
  );
  assert.ok(denied instanceof PermissionError);
  assert.match(denied.message, /connecting to "sts\.example:443" \(the STS endpoint\)/);
  // --allow-net=… would replace the set, and the login session's refresh at its Sign-In host with
  // it; the release binary's set has STS hosts too.
  assert.doesNotMatch(denied.message, /--allow-net=/);
  assert.match(denied.message, /the AWS Sign-In and STS hosts of the regions it lists/);
  // Sign-In's own messages are as before.
  assert.match(
    transportError(new TypeError("x"), SIGN_IN, "h").message,
    /^Cannot reach AWS Sign-In at "h": x\. .* and the Sign-In endpoint, then try again\.$/,
  );
  const known = new NetworkError("ERR_TIMEOUT", "kept");
  assert.equal(transportError(known, STS, "h"), known);
});

Deno.test("serviceText() cuts every secret the request carried out of any service's text", () => {
  const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  assert.equal(
    serviceText(`<Message>bad key ${secret} and ${encodeURIComponent(secret)}</Message>`, [secret]),
    "<Message>bad key [redacted] and [redacted]</Message>",
  );
  assert.equal(serviceText(`part ${secret.slice(3, 20)}`, [secret]), undefined);
  assert.equal(serviceText("\x1b[2J", []), "[2J");
});

Deno.test("isSessionOver() asks the error: sessionOver is each family's own", () => {
  assert.equal(isSessionOver(new SigninError("ERR_SIGNIN_ACCESS_DENIED", "m")), true);
  assert.equal(isSessionOver(new SigninError("ERR_SIGNIN_VALIDATION", "m")), true);
  assert.equal(isSessionOver(new SigninError("ERR_SIGNIN_SERVER", "m")), false);
  assert.equal(isSessionOver(new CacheError("ERR_CACHE_MISSING", "m")), true);
  assert.equal(isSessionOver(new CacheError("ERR_CACHE_LOCK", "m")), false);
  assert.equal(isSessionOver(new ConfigError("ERR_CONFIG_PROFILE", "m")), true);
  assert.equal(isSessionOver(new NetworkError("ERR_NETWORK", "m")), false);
  assert.equal(isSessionOver(new Error("m")), false);
  // A family added later (an STS refusal) ends the endpoint's answer by saying so itself.
  class OtherServiceError extends AwsLoginError {
    override get sessionOver() {
      return true;
    }
  }
  assert.equal(isSessionOver(new OtherServiceError("ERR_SIGNIN_RESPONSE", "ended", 5)), true);
});

Deno.test("forProfile() names the profile in a message written for it, once; a plain message stays", () => {
  const err = new CacheError(
    "ERR_CACHE_CORRUPT",
    (p) => `Damaged. Run "${loginCommand(p)}" again.`,
  );
  assert.equal(err.message, 'Damaged. Run "aws-login login" again.');
  assert.equal(
    err.forProfile("dev").message,
    'Damaged. Run "aws-login login --profile dev" again.',
  );
  assert.equal(
    err.forProfile("other").message,
    'Damaged. Run "aws-login login --profile dev" again.',
  );
  const plain = new CacheError("ERR_CACHE_IO", 'Run "aws-login login" again.');
  assert.equal(plain.forProfile("dev").message, 'Run "aws-login login" again.');
});
