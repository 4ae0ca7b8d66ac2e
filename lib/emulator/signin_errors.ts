/**
 * AWS Sign-In error replies in the restJson shape the SDKs parse: the status, header
 * `x-amzn-errortype: <Type>`, and body `{"__type":"com.amazonaws.signin#<Type>","error":…,
 * "message":…}`. The SDK's signin client reads the type from the header (then `__type`) and fills
 * the exception's `error` member from the body, so `AccessDeniedException.error === "TOKEN_EXPIRED"`.
 *
 * @see docs/PROTOCOL.md §4.1
 * @module
 */
import type { TokenFailure } from "./state.ts";

/** The exception types of CreateOAuth2Token. */
export type SigninErrorType =
  | "AccessDeniedException"
  | "ValidationException"
  | "TooManyRequestsError"
  | "InternalServerException";

/** The service message for each `error` value (substance from docs/PROTOCOL.md §4.1). */
export const SIGNIN_MESSAGES: Record<string, string> = {
  TOKEN_EXPIRED: "Your session has expired. Please reauthenticate.",
  AUTHCODE_EXPIRED: "The authorization code has expired or was already used.",
  USER_CREDENTIALS_CHANGED:
    "Unable to refresh credentials because of a change in your password. Please reauthenticate with your new password.",
  INSUFFICIENT_PERMISSIONS: "User is missing permission for 'signin:CreateOAuth2Token'.",
  INVALID_REQUEST: "The provided authorization grant is invalid, expired, revoked, or malformed",
  server_error: "Internal server error",
};

/** The reply of one Sign-In error. */
export function signinError(
  status: number,
  type: SigninErrorType,
  error: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json(
    { __type: `com.amazonaws.signin#${type}`, error, message },
    {
      status,
      headers: {
        "x-amzn-errortype": type,
        "x-amzn-requestid": crypto.randomUUID(),
        "cache-control": "no-store",
        ...headers,
      },
    },
  );
}

/** 400 ValidationException INVALID_REQUEST with `message`. */
export function invalidRequest(message: string): Response {
  return signinError(400, "ValidationException", "INVALID_REQUEST", message);
}

/** The status an `error` value comes with when no status is given. */
function statusOfError(error: string): number {
  switch (error) {
    case "TOKEN_EXPIRED":
    case "AUTHCODE_EXPIRED":
      return 401;
    case "USER_CREDENTIALS_CHANGED":
    case "INSUFFICIENT_PERMISSIONS":
      return 403;
    case "server_error":
      return 500;
    default:
      return 400;
  }
}

/** The exception type that goes with a status. */
function typeOfStatus(status: number): SigninErrorType {
  if (status === 401 || status === 403) return "AccessDeniedException";
  if (status === 429) return "TooManyRequestsError";
  if (status >= 500) return "InternalServerException";
  return "ValidationException";
}

/** The `error` value that goes with a status when none is given. */
function errorOfStatus(status: number): string {
  if (status === 401) return "TOKEN_EXPIRED";
  if (status === 403) return "INSUFFICIENT_PERMISSIONS";
  if (status >= 500) return "server_error";
  return "INVALID_REQUEST";
}

/**
 * The reply of an injected failure: the status from `status` (else from `error`, else 429 when
 * `retryAfterSeconds` is set, else 500), the type from the status, `Retry-After` when asked.
 */
export function injectedFailure(failure: TokenFailure): Response {
  const status = failure.status ??
    (failure.error !== undefined
      ? statusOfError(failure.error)
      : failure.retryAfterSeconds !== undefined
      ? 429
      : 500);
  const error = failure.error ?? errorOfStatus(status);
  const headers: Record<string, string> = {};
  if (failure.retryAfterSeconds !== undefined) {
    headers["retry-after"] = String(failure.retryAfterSeconds);
  }
  const message = status === 429
    ? "Rate exceeded"
    : SIGNIN_MESSAGES[error] ?? `Injected failure: ${error}.`;
  return signinError(status, typeOfStatus(status), error, message, headers);
}

/** Whether `failure` makes the call fail (rather than only delay it). */
export function failsCall(failure: TokenFailure): boolean {
  return failure.reset === true || failure.status !== undefined ||
    failure.error !== undefined || failure.retryAfterSeconds !== undefined;
}
