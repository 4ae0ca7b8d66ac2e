/**
 * `POST /v1/token` (CreateOAuth2Token) of the emulator: the `authorization_code` grant (single-use,
 * 5-minute code; PKCE S256; client and redirect URI as authorized; session bound to the DPoP key's
 * thumbprint) and the `refresh_token` grant (proof by the bound key; refresh token rotated on every
 * call; session ends after `sessionTtlSeconds` with TOKEN_EXPIRED). A refresh is idempotent, as the
 * service documents it ("multiple calls with the same refresh_token return consistent results within
 * validity window", docs/PROTOCOL.md §4, §14): repeating a refresh with a superseded token, by the same
 * client and key, while the credentials that refresh issued are valid, answers the same credentials
 * and refresh token (`expiresIn` = the time they have left). Any other superseded token is refused.
 *
 * Bodies: the restJson camelCase object the SDKs and the CLI send, or a form-encoded snake_case one.
 * Replies are always camelCase JSON. Every call is counted by grant type before injected failures
 * apply, and an injected failure happens before anything is read or rotated.
 *
 * @see docs/PROTOCOL.md §4, §5
 * @module
 */
import { codeChallengeS256 } from "../signin/pkce.ts";
import { DpopProofError, type JtiCache, verifyDpopProof } from "./dpop_verify.ts";
import type { IdTokenSigner } from "./id_token.ts";
import {
  failsCall,
  injectedFailure,
  invalidRequest,
  SIGNIN_MESSAGES,
  signinError,
} from "./signin_errors.ts";
import type { EmulatorState, IssuedCredentials, Session } from "./state.ts";

/** Returned instead of a response when the connection must be dropped without one. */
export const RESET = Symbol("reset");

/** What the token endpoint works with. */
export interface TokenContext {
  readonly state: EmulatorState;
  readonly jtis: JtiCache;
  readonly idTokens: IdTokenSigner;
  /** Waits `ms` (cut short when the emulator closes). */
  sleep(ms: number): Promise<void>;
}

const FORM_FIELDS: Record<string, string> = {
  grant_type: "grantType",
  client_id: "clientId",
  code: "code",
  code_verifier: "codeVerifier",
  redirect_uri: "redirectUri",
  refresh_token: "refreshToken",
};

const BAD_GRANT = SIGNIN_MESSAGES.INVALID_REQUEST!;

/**
 * Reads the token input; a string is the reason it is malformed. The media type must be exactly
 * `application/json` (what the SDKs and the CLI send) or `application/x-www-form-urlencoded`: a
 * client that forgets the header should find out here, not from the real service.
 */
function parseBody(contentType: string, text: string): Record<string, string> | string {
  const mediaType = contentType.split(";")[0]!.trim().toLowerCase();
  if (mediaType === "application/x-www-form-urlencoded") {
    const fields: Record<string, string> = {};
    for (const [key, value] of new URLSearchParams(text)) {
      const name = FORM_FIELDS[key] ?? key;
      if (name in fields) return `The parameter "${key}" is repeated`;
      fields[name] = value;
    }
    return fields;
  }
  if (mediaType !== "application/json") {
    return "The request needs Content-Type: application/json (or application/x-www-form-urlencoded)";
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return "The request body is not valid JSON";
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return "The request body must be a JSON object";
  }
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (typeof value !== "string") return `The member "${key}" must be a string`;
    fields[key] = value;
  }
  return fields;
}

/** The grant type of a raw body, for the counters (before validation). */
function grantOf(
  fields: Record<string, string> | string,
): "authorization_code" | "refresh_token" | "other_grant" {
  const grant = typeof fields === "string" ? undefined : fields.grantType;
  return grant === "authorization_code" || grant === "refresh_token" ? grant : "other_grant";
}

function missing(fields: Record<string, string>, names: string[]): Response | undefined {
  const absent = names.filter((name) => !fields[name]);
  return absent.length > 0
    ? invalidRequest(`Missing required parameter: ${absent.join(", ")}`)
    : undefined;
}

function tokenReply(
  credentials: IssuedCredentials,
  expiresIn: number,
  refreshToken: string,
  idToken?: string,
): Response {
  const body: Record<string, unknown> = {
    accessToken: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    },
    tokenType: "aws_sigv4",
    expiresIn,
    refreshToken,
  };
  if (idToken !== undefined) body.idToken = idToken;
  return Response.json(body, {
    headers: { "cache-control": "no-store", "x-amzn-requestid": crypto.randomUUID() },
  });
}

/** Credentials for `session`, never outliving it; their lifetime in seconds. */
function credentialsFor(state: EmulatorState, session: Session): [IssuedCredentials, number] {
  const left = Math.floor(
    (session.createdAt + state.sessionTtlSeconds * 1000 - state.now()) / 1000,
  );
  const expiresIn = Math.max(1, Math.min(state.accessTtlSeconds, left));
  return [state.issueCredentials(session, expiresIn), expiresIn];
}

/**
 * Answers one `POST /v1/token`.
 *
 * @param request The request; its URL is the one the client used (from `Host`).
 * @returns The reply, or {@link RESET} to drop the connection.
 */
export async function handleToken(
  request: Request,
  ctx: TokenContext,
): Promise<Response | typeof RESET> {
  const { state } = ctx;
  const text = await request.text();
  const fields = parseBody(request.headers.get("content-type") ?? "", text);
  state.count(grantOf(fields));

  const failure = state.takeFailure();
  if (failure) {
    if (failure.delayMs) await ctx.sleep(failure.delayMs);
    if (failure.reset) return RESET;
    if (failsCall(failure)) return injectedFailure(failure);
  }

  if (typeof fields === "string") return invalidRequest(fields);
  let proof;
  try {
    proof = await verifyDpopProof(request.headers.get("dpop"), {
      method: request.method,
      url: request.url,
      nowMs: state.now(),
      jtis: ctx.jtis,
    });
  } catch (err) {
    if (err instanceof DpopProofError) return invalidRequest(`Invalid DPoP proof: ${err.message}`);
    throw err;
  }

  switch (fields.grantType) {
    case "authorization_code":
      return await authorizationCode(fields, proof.jkt, request.url, ctx);
    case "refresh_token":
      return refresh(fields, proof.jkt, state);
    case undefined:
    case "":
      return invalidRequest("Missing required parameter: grantType");
    default:
      return invalidRequest(`Unsupported grant type "${fields.grantType}"`);
  }
}

async function authorizationCode(
  fields: Record<string, string>,
  jkt: string,
  url: string,
  ctx: TokenContext,
): Promise<Response> {
  const { state } = ctx;
  const absent = missing(fields, ["clientId", "code", "codeVerifier", "redirectUri"]);
  if (absent) return absent;
  const grant = state.takeCode(fields.code!);
  if (grant === undefined) return invalidRequest(BAD_GRANT);
  if (grant === "used") {
    return signinError(
      401,
      "AccessDeniedException",
      "AUTHCODE_EXPIRED",
      SIGNIN_MESSAGES.AUTHCODE_EXPIRED!,
    );
  }
  if (fields.clientId !== grant.request.clientId) {
    return invalidRequest("The clientId does not match the authorization request");
  }
  if (fields.redirectUri !== grant.request.redirectUri) {
    return invalidRequest("The redirectUri does not match the authorization request");
  }
  const verifier = fields.codeVerifier!;
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) {
    return invalidRequest("The codeVerifier must be 43 to 128 unreserved characters");
  }
  if (await codeChallengeS256(verifier) !== grant.request.codeChallenge) {
    return invalidRequest("The codeVerifier does not match the code_challenge (PKCE S256)");
  }
  const session = state.createSession(grant.arn, grant.request.clientId, jkt);
  const [credentials, expiresIn] = credentialsFor(state, session);
  const idToken = await ctx.idTokens.sign({
    arn: session.arn,
    clientId: session.clientId,
    issuer: `${new URL(url).origin}/signin`,
    nowMs: state.now(),
    ttlSeconds: expiresIn,
  });
  return tokenReply(credentials, expiresIn, session.refreshToken, idToken);
}

function refresh(fields: Record<string, string>, jkt: string, state: EmulatorState): Response {
  const absent = missing(fields, ["clientId", "refreshToken"]);
  if (absent) return absent;
  const token = fields.refreshToken!;
  const earlier = state.sessionOfRefreshToken(token) ? undefined : state.earlierRefresh(token);
  const session = earlier
    ? state.sessionById(earlier.sessionId)
    : state.sessionOfRefreshToken(token);
  // A revoked session refuses every token of its chain, a repeated refresh's included.
  if (!session || session.revoked) return invalidRequest(BAD_GRANT);
  if (fields.clientId !== session.clientId) {
    return invalidRequest("The clientId does not match the session's client");
  }
  if (jkt !== session.jkt) {
    return invalidRequest(
      "Invalid DPoP proof: the proof key is not the key the refresh token is bound to",
    );
  }
  if (state.sessionExpired(session)) {
    return signinError(
      401,
      "AccessDeniedException",
      "TOKEN_EXPIRED",
      SIGNIN_MESSAGES.TOKEN_EXPIRED!,
    );
  }
  if (earlier) {
    const left = Math.floor((earlier.credentials.expiresAt - state.now()) / 1000);
    return tokenReply(earlier.credentials, Math.max(1, left), earlier.refreshToken);
  }
  const refreshToken = state.rotateRefreshToken(session);
  const [credentials, expiresIn] = credentialsFor(state, session);
  state.recordRefresh(token, { sessionId: session.id, refreshToken, credentials });
  return tokenReply(credentials, expiresIn, refreshToken);
}
