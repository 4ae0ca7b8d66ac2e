/**
 * AWS Sign-In's IAM-authenticated token calls: `RevokeOAuth2TokenWithIAM` (for `logout`) and
 * `IntrospectOAuth2TokenWithIAM` (for `status`), each as build → send → process so the parsing is
 * tested with made-up `Response`s. Both are restJson `POST`s signed with SigV4 (service `signin`,
 * the session region) using the session's own credentials. One request per call, no retries.
 *
 * The signer is `aws4fetch` (npm, WebCrypto), imported only when a request is signed, so only these
 * two commands load it. The endpoint is untrusted, as for the token calls: a redirect is an error
 * (never followed: the request carries the refresh token), and the server's text is reduced to
 * printable characters with every secret the request carried cut out; replies are read and sorted
 * as the token calls' are (`lib/aws/service_reply.ts`). Messages never contain the token or a key.
 *
 * @see docs/PROTOCOL.md §14; https://www.rfc-editor.org/rfc/rfc7662#section-2.2
 * @module
 */
import { SigninError } from "../errors.ts";
import {
  classifyReply,
  errorTypeOf,
  isRedirect,
  parseJson,
  replyText,
  serviceMessage,
  SIGN_IN,
  transportError,
} from "../aws/service_reply.ts";

/** Default time to wait for a reply. */
export const IAM_CALL_TIMEOUT_MS = 10_000;

/** The credentials that sign: the session's own. */
export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** Where and as whom a call is made. */
export interface IamCallTarget {
  /** The Sign-In base URL of the session's region (`https://us-east-1.signin.aws.amazon.com`). */
  readonly baseUrl: string;
  /** The session's Sign-In region: the SigV4 scope's region. */
  readonly region: string;
  readonly credentials: SigningCredentials;
  /** The clock, epoch milliseconds (the `X-Amz-Date`). */
  now(): number;
}

/** What introspection says about a refresh token. */
export interface Introspection {
  /** Whether the token can still be used: the session is neither revoked nor over. */
  readonly active: boolean;
  /** When the session ends (`exp`), epoch milliseconds, when active and given. */
  readonly expiresAtMs?: number;
  /** The principal ARN (`sub`), when active and given. */
  readonly subject?: string;
}

type Operation = "revoke" | "introspect";

/** The `error` values Sign-In's model and the SDK know (docs/PROTOCOL.md §4.1). */
const ERROR_VALUES = new Set([
  "TOKEN_EXPIRED",
  "AUTHCODE_EXPIRED",
  "USER_CREDENTIALS_CHANGED",
  "INSUFFICIENT_PERMISSIONS",
  "INVALID_REQUEST",
  "RESOURCE_NOT_FOUND",
  "CONFLICT",
  "SERVICE_QUOTA_EXCEEDED",
  "server_error",
  "invalid_grant",
  "invalid_request",
  "invalid_scope",
  "invalid_target",
  "rate_exceeded",
  "service_unavailable",
  "unsupported_grant_type",
]);

/** `YYYYMMDDTHHMMSSZ` of `ms`. */
function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, "");
}

async function signedPost(
  target: IamCallTarget,
  operation: Operation,
  body: Record<string, string>,
): Promise<Request> {
  const { AwsClient } = await import("aws4fetch");
  const client = new AwsClient({
    accessKeyId: target.credentials.accessKeyId,
    secretAccessKey: target.credentials.secretAccessKey,
    sessionToken: target.credentials.sessionToken,
    service: "signin",
    region: target.region,
    retries: 0,
  });
  const url = `${target.baseUrl.replace(/\/+$/, "")}/v1/${operation}?x-amz-client-auth-method=iam`;
  return await client.sign(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    aws: { datetime: amzDate(target.now()) },
  });
}

/**
 * Builds the signed `RevokeOAuth2TokenWithIAM` request: body `{"token": refreshToken}`.
 *
 * @see docs/PROTOCOL.md §14
 */
export function buildRevokeRequest(target: IamCallTarget, refreshToken: string): Promise<Request> {
  return signedPost(target, "revoke", { token: refreshToken });
}

/**
 * Builds the signed `IntrospectOAuth2TokenWithIAM` request: body `{"token": refreshToken,
 * "token_type_hint": "refresh_token"}`.
 *
 * @see docs/PROTOCOL.md §14
 */
export function buildIntrospectRequest(
  target: IamCallTarget,
  refreshToken: string,
): Promise<Request> {
  return signedPost(target, "introspect", {
    token: refreshToken,
    token_type_hint: "refresh_token",
  });
}

/**
 * Checks a revoke reply: any 2xx is success (revoking an invalid or revoked token is one too).
 *
 * @param response The reply.
 * @param sent The secrets the request carried (refresh token, session token), never quoted back.
 * @throws {SigninError} For an error reply or a redirect, with the service's type and message.
 * @throws {NetworkError} When the body cannot be read.
 */
export async function processRevokeResponse(
  response: Response,
  sent: readonly string[] = [],
): Promise<void> {
  refuseRedirect(response, "revoke");
  const text = await replyText(response, SIGN_IN);
  if (response.ok) return;
  throw serviceError(response, text, "revoke", sent);
}

/**
 * Reads an RFC 7662 introspection reply.
 *
 * @param response The reply.
 * @param sent The secrets the request carried (refresh token, session token), never quoted back.
 * @returns Whether the token is active, and when active the session end (`exp`) and `sub`.
 * @throws {SigninError} For an error reply or a redirect, or `ERR_SIGNIN_RESPONSE` for a 2xx that
 *   is not an introspection answer.
 * @throws {NetworkError} When the body cannot be read.
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2.2
 */
export async function processIntrospectResponse(
  response: Response,
  sent: readonly string[] = [],
): Promise<Introspection> {
  refuseRedirect(response, "introspect");
  const text = await replyText(response, SIGN_IN);
  if (!response.ok) throw serviceError(response, text, "introspect", sent);
  const body = parseJson(text);
  if (
    typeof body !== "object" || body === null ||
    typeof (body as { active?: unknown }).active !== "boolean"
  ) {
    throw new SigninError(
      "ERR_SIGNIN_RESPONSE",
      `Cannot check the login session: AWS Sign-In returned an introspection reply without ` +
        `"active" (HTTP ${response.status})`,
      { status: response.status },
    );
  }
  const claims = body as Record<string, unknown>;
  if (claims.active !== true) return { active: false };
  const exp = claims.exp;
  return {
    active: true,
    ...(typeof exp === "number" && Number.isFinite(exp) && exp > 0
      ? { expiresAtMs: exp * 1000 }
      : {}),
    ...(typeof claims.sub === "string" && claims.sub !== "" ? { subject: claims.sub } : {}),
  };
}

/**
 * Revokes a session's refresh token, and with it the whole token chain.
 *
 * @param target Base URL, region, the session's credentials and clock.
 * @param refreshToken The current refresh token.
 * @param options.fetch The fetch to use.
 * @param options.timeoutMs Longest wait (default 10 s).
 * @throws {SigninError} When Sign-In refuses (AccessDeniedException without
 *   `signin:RevokeOAuth2TokenWithIAM`, expired credentials, …).
 * @throws {NetworkError} When Sign-In cannot be reached in time.
 */
export async function revokeRefreshToken(
  target: IamCallTarget,
  refreshToken: string,
  options: { fetch: typeof fetch; timeoutMs?: number },
): Promise<void> {
  const request = await buildRevokeRequest(target, refreshToken);
  await processRevokeResponse(await send(request, options), sentSecrets(target, refreshToken));
}

/**
 * Asks Sign-In whether a refresh token is active and when its session ends.
 *
 * @param target Base URL, region, the session's credentials and clock.
 * @param refreshToken The current refresh token.
 * @param options.fetch The fetch to use.
 * @param options.timeoutMs Longest wait (default 10 s).
 * @throws {SigninError} When Sign-In refuses or answers something else.
 * @throws {NetworkError} When Sign-In cannot be reached in time.
 */
export async function introspectRefreshToken(
  target: IamCallTarget,
  refreshToken: string,
  options: { fetch: typeof fetch; timeoutMs?: number },
): Promise<Introspection> {
  const request = await buildIntrospectRequest(target, refreshToken);
  return await processIntrospectResponse(
    await send(request, options),
    sentSecrets(target, refreshToken),
  );
}

/** What a request carried that must never be shown: the refresh token and the signing secrets. */
function sentSecrets(target: IamCallTarget, refreshToken: string): string[] {
  return [refreshToken, target.credentials.sessionToken, target.credentials.secretAccessKey];
}

/** A redirect would carry the refresh token to another origin: refused, never followed. */
function refuseRedirect(response: Response, operation: Operation): void {
  const status = response.status;
  if (isRedirect(response)) {
    throw new SigninError(
      "ERR_SIGNIN_RESPONSE",
      `${headOf(operation)}: the endpoint answered with a redirect` +
        `${status === 0 ? "" : ` (HTTP ${status})`}, which aws-login never follows. Check the ` +
        `Sign-In endpoint (AWS_ENDPOINT_URL_SIGNIN, endpoint_url)`,
      { status },
    );
  }
}

function headOf(operation: Operation): string {
  return operation === "revoke"
    ? "AWS Sign-In did not revoke the refresh token"
    : "AWS Sign-In did not answer the session check";
}

async function send(
  request: Request,
  options: { fetch: typeof fetch; timeoutMs?: number },
): Promise<Response> {
  const timeoutMs = options.timeoutMs ?? IAM_CALL_TIMEOUT_MS;
  const host = new URL(request.url).host;
  try {
    return await options.fetch(
      new Request(request, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" }),
    );
  } catch (err) {
    throw transportError(err, SIGN_IN, host, timeoutMs);
  }
}

/** Maps an error reply to a {@link SigninError}. */
function serviceError(
  response: Response,
  text: string,
  operation: Operation,
  sent: readonly string[],
): SigninError {
  const body = parseJson(text);
  const status = response.status;
  const errorType = errorTypeOf(response.headers, body, sent);
  const rawError = typeof body === "object" && body !== null
    ? (body as Record<string, unknown>).error
    : undefined;
  // Only a documented value counts as the `error` member: anything else could be an echo.
  const error = typeof rawError === "string" && ERROR_VALUES.has(rawError) ? rawError : undefined;
  const details = { status, errorType, error };
  // A 5xx body is often a proxy's page: not quoted.
  const said = status < 500 ? serviceMessage(body, sent) : undefined;
  const what = `${errorType ?? `HTTP ${status}`}${said ? `: ${said}` : ""}`;
  const head = headOf(operation);
  const code = ({
    "access-denied": "ERR_SIGNIN_ACCESS_DENIED",
    "throttled": "ERR_SIGNIN_THROTTLED",
    "validation": "ERR_SIGNIN_VALIDATION",
    "server": "ERR_SIGNIN_SERVER",
    "unexpected": "ERR_SIGNIN_RESPONSE",
  } as const)[classifyReply(status, errorType)];
  return new SigninError(code, `${head} (${what})`, details);
}
