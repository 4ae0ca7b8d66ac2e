/**
 * The emulator's IAM-authenticated token calls: `RevokeOAuth2TokenWithIAM`
 * (`POST /v1/revoke?x-amz-client-auth-method=iam`) and `IntrospectOAuth2TokenWithIAM`
 * (`POST /v1/introspect?x-amz-client-auth-method=iam`). Both must be SigV4-signed for the service
 * `signin` with credentials this emulator issued (checked as strictly as STS checks them, with the
 * AWS front end's restJson errors), and the caller must not be denied the IAM action
 * (`controls.denyActions`).
 *
 * Revoking ends the whole session: its current refresh token, and any it would have issued, is
 * refused at refresh with 400 ValidationException INVALID_REQUEST — what AWS gives an invalid
 * grant. An unknown, superseded, revoked or expired token answers 200 all the same. Introspection
 * answers RFC 7662: `{"active":false}` exactly for any token that cannot be refreshed, else the
 * claims of the session (`exp` is when it ends).
 *
 * @see docs/PROTOCOL.md §14
 * @module
 */
import { accountIdOf } from "../aws/arn.ts";
import { signinError } from "./signin_errors.ts";
import { sha256Hex, type SigV4Problem, SigV4Refusal, verifySignedRequest } from "./sigv4.ts";
import type { EmulatorState, IssuedCredentials, Session } from "./state.ts";
import { userIdOf } from "./sts.ts";

/** The query string both operations carry. */
export const IAM_AUTH_QUERY = "x-amz-client-auth-method=iam";

/** The operations, by path. */
const OPERATIONS = {
  "/v1/revoke": { name: "RevokeOAuth2TokenWithIAM", counter: "revoke" },
  "/v1/introspect": { name: "IntrospectOAuth2TokenWithIAM", counter: "introspect" },
} as const;

/** Whether `url` names one of these operations (path and the `iam` query). */
export function isIamTokenCall(url: URL): boolean {
  return url.pathname in OPERATIONS && url.searchParams.get("x-amz-client-auth-method") === "iam";
}

/** The AWS front end's restJson type and status for each refused signature. */
const REFUSALS: Record<SigV4Problem, [type: string, status: number]> = {
  missing: ["MissingAuthenticationTokenException", 403],
  malformed: ["IncompleteSignatureException", 400],
  "wrong-service": ["InvalidSignatureException", 403],
  "unknown-key": ["UnrecognizedClientException", 403],
  expired: ["ExpiredTokenException", 403],
  "bad-date": ["IncompleteSignatureException", 400],
  "stale-date": ["InvalidSignatureException", 403],
  mismatch: ["InvalidSignatureException", 403],
};

/** A refusal of the front end: no `error` member, only the type and a message. */
function frontEndError(status: number, type: string, message: string): Response {
  return Response.json({ __type: `com.amazonaws.signin#${type}`, message }, {
    status,
    headers: { "x-amzn-errortype": type, "x-amzn-requestid": crypto.randomUUID() },
  });
}

function validation(message: string): Response {
  return signinError(400, "ValidationException", "INVALID_REQUEST", message);
}

/** Reads the JSON object body; a Response is the refusal. */
function parseInput(request: Request, text: string): Record<string, unknown> | Response {
  const mediaType = (request.headers.get("content-type") ?? "").split(";")[0]!.trim();
  if (mediaType.toLowerCase() !== "application/json") {
    return validation("The request needs Content-Type: application/json");
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return validation("The request body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return validation("The request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

/** The session `token` can still refresh, if any. */
function sessionOf(state: EmulatorState, token: string): Session | undefined {
  const session = state.sessionOfRefreshToken(token);
  return session && !state.sessionExpired(session) ? session : undefined;
}

/**
 * Answers `POST /v1/revoke` or `POST /v1/introspect` (with `?x-amz-client-auth-method=iam`).
 *
 * @param request The request; its URL is the one the client used.
 * @param state The emulator's state.
 */
export async function handleIamTokenCall(
  request: Request,
  state: EmulatorState,
): Promise<Response> {
  const url = new URL(request.url);
  const operation = OPERATIONS[url.pathname as keyof typeof OPERATIONS];
  state.count(operation.counter);
  const bytes = new Uint8Array(await request.arrayBuffer());
  let caller: IssuedCredentials;
  let region: string;
  try {
    const verified = await verifySignedRequest(request, bytes, {
      service: "signin",
      now: state.now(),
      credentialsOf: (id) => state.credentialsOf(id),
    });
    caller = verified.credentials;
    region = verified.auth.region;
  } catch (err) {
    if (!(err instanceof SigV4Refusal)) throw err;
    const [type, status] = REFUSALS[err.problem];
    return frontEndError(status, type, err.message);
  }
  const input = parseInput(request, new TextDecoder().decode(bytes));
  if (input instanceof Response) return input;
  const action = `signin:${operation.name}`;
  if (state.isDenied(action)) {
    return signinError(
      403,
      "AccessDeniedException",
      "INSUFFICIENT_PERMISSIONS",
      `User: ${caller.arn} is not authorized to perform: ${action}`,
    );
  }
  const token = input.token;
  if (typeof token !== "string" || token === "") {
    return validation(`The member "token" is required and must be a non-empty string`);
  }
  if (operation.counter === "revoke") {
    const session = sessionOf(state, token);
    if (session) state.revokeSession(session);
    return new Response(null, {
      status: 200,
      headers: { "x-amzn-requestid": crypto.randomUUID() },
    });
  }
  const hint = input.token_type_hint;
  if (hint !== undefined && hint !== "refresh_token" && hint !== "access_token") {
    return validation(`The member "token_type_hint" must be "refresh_token" or "access_token"`);
  }
  const session = sessionOf(state, token);
  const body = session ? await claims(state, session, token, region) : { active: false };
  return Response.json(body, {
    headers: { "cache-control": "no-store", "x-amzn-requestid": crypto.randomUUID() },
  });
}

/** The RFC 7662 claims of an active refresh token, snake_case as Sign-In writes them. */
async function claims(
  state: EmulatorState,
  session: Session,
  token: string,
  region: string,
): Promise<Record<string, unknown>> {
  const account = accountIdOf(session.arn) ?? "";
  const issuedAt = Math.floor(session.createdAt / 1000);
  return {
    active: true,
    client_id: session.clientId,
    user_id: await userIdOf(session.arn),
    token_type: "refresh_token",
    exp: Math.floor((session.createdAt + state.sessionTtlSeconds * 1000) / 1000),
    iat: issuedAt,
    nbf: issuedAt,
    sub: session.arn,
    iss: "signin.amazonaws.com",
    // Stable per token, and says nothing about it.
    jti: (await sha256Hex(token)).slice(0, 32),
    account_id: account,
    signin_session: `arn:aws:signin:${region}:${account}:session/${session.id}`,
  };
}
