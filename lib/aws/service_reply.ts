/**
 * What every client of an AWS service does with a reply it cannot trust — AWS Sign-In's token
 * calls and its IAM-signed calls, and AWS STS: read the body or say which host failed, read the
 * error type as the AWS SDKs read it, sort an error reply into one of five kinds (one classifier for
 * every service), and quote the server's text only as printable characters with every secret the
 * request carried cut out (a server or a proxy may echo the request). Each function takes the
 * service, so that messages name the right one.
 *
 * Used only when a request is made (a refresh, login, logout, status, an AssumeRole): not on the
 * credential hot path.
 *
 * @see docs/PROTOCOL.md §4.1 (error replies)
 * @module
 */
import { printable } from "../cli/output.ts";
import { AwsLoginError, netNotAllowed, NetworkError } from "../errors.ts";

/** The service a request went to, as messages name it. */
export interface Service {
  /** "AWS Sign-In", "AWS STS". */
  readonly name: string;
  /** What the user configures to reach it: "the Sign-In endpoint". */
  readonly endpoint: string;
}

/** AWS Sign-In (the token, revoke and introspect calls). */
export const SIGN_IN: Service = { name: "AWS Sign-In", endpoint: "the Sign-In endpoint" };

/** What replaces a secret we sent when a server quotes it back. */
const REDACTED = "[redacted]";
/** A run this long shared with a secret we sent counts as quoting it (random tokens never match). */
const SECRET_FRAGMENT = 12;

/** The host of `url`, for messages; undefined when it has none. */
export function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A fetch or body-read failure as a {@link NetworkError} naming the service and host (never the
 * body); a missing Deno permission as the error that says which host to allow; an
 * {@link AwsLoginError} as it is.
 */
export function transportError(
  err: unknown,
  service: Service,
  host: string | undefined,
  timeoutMs?: number,
): AwsLoginError {
  if (err instanceof AwsLoginError) return err;
  // A missing Deno permission is not a network failure: say which host to allow.
  if (err instanceof Deno.errors.NotCapable) {
    const denied = /"([^"]+)"/.exec(err.message)?.[1] ?? host ?? `the ${service.name} host`;
    return netNotAllowed(denied, { cause: err }, service.endpoint);
  }
  const where = host ? `${service.name} at "${host}"` : service.name;
  const name = err instanceof Error || err instanceof DOMException ? err.name : "";
  if (name === "TimeoutError" || name === "AbortError") {
    const within = timeoutMs === undefined
      ? ""
      : timeoutMs < 1000
      ? ` within ${timeoutMs} ms`
      : ` within ${Math.round(timeoutMs / 1000)} s`;
    return new NetworkError(
      "ERR_TIMEOUT",
      `No reply from ${where}${within}. Check your network connection and try again.`,
      { cause: err },
    );
  }
  const detail = printable(err instanceof Error ? err.message : String(err));
  return new NetworkError(
    "ERR_NETWORK",
    `Cannot reach ${where}: ${detail || "the request failed"}. ` +
      `Check your network connection and ${service.endpoint}, then try again.`,
    { cause: err },
  );
}

/**
 * Reads a reply's body as text.
 *
 * @throws {NetworkError} When it cannot be read (as {@link transportError}).
 */
export async function replyText(
  response: Response,
  service: Service,
  timeoutMs?: number,
): Promise<string> {
  try {
    return await response.text();
  } catch (err) {
    throw transportError(err, service, hostOf(response.url), timeoutMs);
  }
}

/** JSON text as a value; undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Whether a reply to a `redirect: "manual"` request is a redirect: the 3xx itself, or an opaque
 * one (status 0) in browsers. Never followed: the request carried a secret.
 */
export function isRedirect(response: Response): boolean {
  return (response.status >= 300 && response.status < 400) || response.type === "opaqueredirect";
}

/** The kinds of error reply, the same for every service. */
export type ReplyKind = "access-denied" | "throttled" | "validation" | "server" | "unexpected";

/** Error types that mean "slow down" (Sign-In's, and the query protocol's as STS sends them). */
const THROTTLED_TYPES = new Set([
  "TooManyRequestsError",
  "TooManyRequestsException",
  "Throttling",
  "ThrottlingException",
]);
const SERVER_TYPES = new Set(["InternalServerException", "InternalFailure", "ServiceUnavailable"]);
/** A refusal, and the common AWS authentication failures (expired, unknown or badly signed keys). */
const DENIED_TYPES = new Set([
  "AccessDeniedException",
  "AccessDenied",
  "ExpiredTokenException",
  "ExpiredToken",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
]);
const VALIDATION_TYPES = new Set(["ValidationException", "ValidationError"]);

/**
 * Sorts an error reply, as the AWS SDKs decide whether to retry it: throttling (429 or a throttling
 * type) and any 5xx — whatever type it names — are the service's trouble, worth a retry; then a
 * denial (a denied type, or 401/403 without a type) and a refused request (a validation type, or
 * a 400 without a type); anything else — a type this client does not know — is unexpected.
 *
 * @param status The HTTP status (not 2xx).
 * @param errorType The error type, cleaned ({@link errorTypeOf}, or the query protocol's code).
 */
export function classifyReply(status: number, errorType: string | undefined): ReplyKind {
  const type = errorType ?? "";
  if (status === 429 || THROTTLED_TYPES.has(type)) return "throttled";
  if (status >= 500 || SERVER_TYPES.has(type)) return "server";
  if (DENIED_TYPES.has(type) || (errorType === undefined && (status === 401 || status === 403))) {
    return "access-denied";
  }
  if (VALIDATION_TYPES.has(type) || (errorType === undefined && status === 400)) {
    return "validation";
  }
  return "unexpected";
}

/** An HTTP date as epoch milliseconds, or undefined. */
export function parseHttpDate(value: string | null): number | undefined {
  if (value === null) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * `Retry-After` in seconds: delta-seconds, or an HTTP date measured from the reply's own `Date`
 * (no local clock, so skew cannot distort it).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3
 */
export function parseRetryAfter(
  value: string | null,
  serverDate: number | undefined,
): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const at = parseHttpDate(v);
  if (at === undefined || serverDate === undefined) return undefined;
  return Math.max(0, Math.ceil((at - serverDate) / 1000));
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The error type as the AWS SDK for JavaScript reads it (REST-JSON): header `x-amzn-errortype`,
 * else a body `code` member (any case), else `__type`; cleaned to the part before `,` and `:`, and
 * after `#`; then reduced to printable text, and dropped when it quotes a secret in `sent`.
 */
export function errorTypeOf(
  headers: Headers,
  body: unknown,
  sent: readonly string[] = [],
): string | undefined {
  const header = headers.get("x-amzn-errortype");
  if (header !== null) return serviceName(cleanErrorType(header), sent);
  if (isObject(body)) {
    const codeKey = Object.keys(body).find((k) => k.toLowerCase() === "code");
    const code = codeKey === undefined ? undefined : body[codeKey];
    if (typeof code === "string" || typeof code === "number") {
      return serviceName(cleanErrorType(String(code)), sent);
    }
    const type = body.__type;
    if (typeof type === "string" || typeof type === "number") {
      return serviceName(cleanErrorType(String(type)), sent);
    }
  }
  return undefined;
}

function cleanErrorType(raw: string): string {
  let v = raw.split(",")[0]!.split(":")[0]!;
  if (v.includes("#")) v = v.split("#")[1]!;
  return v;
}

/**
 * A name the server gave (error type or code, an `error` value) as printable text of at most 100
 * characters, or undefined when empty or when it quotes a secret we sent (a name that was a secret
 * is no name).
 */
export function serviceName(raw: string, sent: readonly string[]): string | undefined {
  if (withoutSecrets(raw, sent) !== raw) return undefined;
  const text = printable(raw, 100);
  return text === "" || quotesSecret(text, sent) ? undefined : text;
}

/**
 * The `message` (`Message`, `error_description`) of a JSON error body as {@link serviceText}.
 */
export function serviceMessage(body: unknown, sent: readonly string[]): string | undefined {
  if (!isObject(body)) return undefined;
  const raw = body.message ?? body.Message ?? body.error_description;
  if (typeof raw !== "string") return undefined;
  return serviceText(raw, sent);
}

/**
 * A service's text, single-line, printable, bounded, with every secret we sent cut out;
 * undefined when nothing is left or a fragment of a secret remains.
 */
export function serviceText(
  raw: string,
  sent: readonly string[],
  max = 300,
): string | undefined {
  const text = printable(withoutSecrets(raw, sent), max);
  return text === "" || quotesSecret(text, sent) ? undefined : text;
}

/**
 * `text` with each secret replaced: as sent, JSON-escaped (also with `\/`, as PHP writes it) and
 * URL-encoded, the ways an echo may quote it.
 */
export function withoutSecrets(text: string, sent: readonly string[]): string {
  let out = text;
  for (const secret of sent) {
    if (secret === "") continue;
    const json = JSON.stringify(secret).slice(1, -1);
    const forms = [secret, json, json.replaceAll("/", "\\/"), encodeURIComponent(secret)];
    // Longest first, so no form is cut inside another.
    for (const form of forms.sort((a, b) => b.length - a.length)) {
      out = out.replaceAll(form, REDACTED);
    }
  }
  return out;
}

/** Whether `text` still holds a run of {@link SECRET_FRAGMENT} characters of a secret we sent. */
function quotesSecret(text: string, sent: readonly string[]): boolean {
  for (const secret of sent) {
    if (secret.length < SECRET_FRAGMENT) {
      if (secret !== "" && text.includes(secret)) return true;
      continue;
    }
    for (let i = 0; i + SECRET_FRAGMENT <= text.length; i++) {
      if (secret.includes(text.slice(i, i + SECRET_FRAGMENT))) return true;
    }
  }
  return false;
}
