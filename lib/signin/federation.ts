/**
 * The client of AWS's federation endpoint for a console sign-in (`aws-login console`): build the
 * `getSigninToken` request from temporary credentials, send it, and read the reply strictly; then
 * the login URL that carries the sign-in token to the console (and the console's logout wrapped
 * around it). Replies are untrusted: a redirect is refused, never followed; a refusal is quoted
 * only with every value we sent cut out; the sign-in token — as good as the credentials for 15
 * minutes — is never put into an error or a debug line, nor is the request URL (it carries the
 * credentials).
 *
 * @see docs/PROTOCOL.md §17
 * @module
 */
import { NetworkError, SigninError } from "../errors.ts";
import {
  hostOf,
  isRedirect,
  parseJson,
  replyText,
  type Service,
  serviceText,
  transportError,
} from "../aws/service_reply.ts";

/** The federation endpoint, for messages. */
export const FEDERATION: Service = {
  name: "the AWS federation endpoint",
  endpoint: "the Sign-In endpoint",
};

/** Temporary credentials to sign in with. */
export interface SessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** The longest sign-in token taken (AWS's are about 1–2 KB). */
const MAX_TOKEN = 16_384;
const TOKEN = /^[\x21-\x7e]+$/;
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The `getSigninToken` URL: `Session` is the credentials as JSON (`sessionId`, `sessionKey`,
 * `sessionToken`); `SessionDuration` (900–43200 seconds) only when given. A secret: it carries the
 * credentials.
 */
export function signinTokenRequestUrl(
  federationUrl: string,
  credentials: SessionCredentials,
  sessionDuration?: number,
): string {
  const query = new URLSearchParams({
    Action: "getSigninToken",
    Session: JSON.stringify({
      sessionId: credentials.accessKeyId,
      sessionKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    }),
  });
  if (sessionDuration !== undefined) query.set("SessionDuration", String(sessionDuration));
  return `${federationUrl}?${query}`;
}

/**
 * Reads a `getSigninToken` reply: 200 with a JSON object whose `SigninToken` is a non-empty string
 * of visible ASCII, at most 16 KiB.
 *
 * @param sent Every secret value the request carried (cut from any text quoted).
 * @throws {SigninError} `ERR_SIGNIN_ACCESS_DENIED` for a 4xx (the endpoint refused these
 *   credentials), `ERR_SIGNIN_THROTTLED` for 429, `ERR_SIGNIN_SERVER` for a 5xx,
 *   `ERR_SIGNIN_RESPONSE` for anything else.
 */
export function parseSigninTokenReply(
  status: number,
  contentType: string | null,
  text: string,
  sent: readonly string[],
): string {
  if (status === 200) {
    const body = parseJson(text);
    const token = typeof body === "object" && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>).SigninToken
      : undefined;
    if (typeof token === "string" && token.length <= MAX_TOKEN && TOKEN.test(token)) return token;
    throw new SigninError(
      "ERR_SIGNIN_RESPONSE",
      `${capital(FEDERATION.name)} answered 200 without a usable sign-in token (expected JSON ` +
        `{"SigninToken": "…"})`,
      { status },
    );
  }
  // A short plain-text or JSON reason helps; an HTML error page does not.
  const quoted = contentType !== null && /html/i.test(contentType)
    ? undefined
    : serviceText(text, sent, 200);
  const said = quoted === undefined ? "" : `: "${quoted}"`;
  if (status === 429) {
    throw new SigninError(
      "ERR_SIGNIN_THROTTLED",
      `${capital(FEDERATION.name)} is throttling requests (HTTP 429)${said}. Try again shortly.`,
      { status },
    );
  }
  if (status >= 500) {
    throw new SigninError(
      "ERR_SIGNIN_SERVER",
      `${capital(FEDERATION.name)} failed (HTTP ${status})${said}. Try again later.`,
      { status },
    );
  }
  if (status >= 400) {
    throw new SigninError(
      "ERR_SIGNIN_ACCESS_DENIED",
      `${capital(FEDERATION.name)} refused a console sign-in token for these credentials ` +
        `(HTTP ${status}${said})`,
      { status },
    );
  }
  throw new SigninError(
    "ERR_SIGNIN_RESPONSE",
    `${capital(FEDERATION.name)} answered HTTP ${status} instead of a sign-in token`,
    { status },
  );
}

/**
 * Asks the federation endpoint for a sign-in token.
 *
 * @throws {SigninError} As {@link parseSigninTokenReply}; `ERR_SIGNIN_RESPONSE` for a redirect.
 * @throws {NetworkError} When the endpoint cannot be reached or does not answer in time.
 * @throws {PermissionError} When the permission set does not allow the host.
 */
export async function getSigninToken(p: {
  federationUrl: string;
  credentials: SessionCredentials;
  sessionDuration?: number;
  fetch: typeof fetch;
  debug(message: string): void;
  timeoutMs?: number;
}): Promise<string> {
  const url = signinTokenRequestUrl(p.federationUrl, p.credentials, p.sessionDuration);
  const host = hostOf(p.federationUrl);
  const timeoutMs = p.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { accessKeyId, secretAccessKey, sessionToken } = p.credentials;
  const sent = [secretAccessKey, sessionToken, accessKeyId];
  p.debug(
    `getSigninToken at ${p.federationUrl}` +
      (p.sessionDuration === undefined ? "" : ` (SessionDuration ${p.sessionDuration} s)`),
  );
  let response: Response;
  try {
    response = await p.fetch(url, {
      method: "GET",
      redirect: "manual",
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw transportError(withoutUrl(err, url), FEDERATION, host, timeoutMs);
  }
  if (isRedirect(response)) {
    await response.body?.cancel();
    throw new SigninError(
      "ERR_SIGNIN_RESPONSE",
      `${capital(FEDERATION.name)} at "${host}" answered with a redirect (HTTP ` +
        `${response.status}), which aws-login does not follow with credentials`,
      { status: response.status },
    );
  }
  const text = await replyText(response, FEDERATION, timeoutMs).catch((err) => {
    throw err instanceof NetworkError
      ? err
      : transportError(withoutUrl(err, url), FEDERATION, host);
  });
  const token = parseSigninTokenReply(
    response.status,
    response.headers.get("content-type"),
    text,
    sent,
  );
  p.debug(`getSigninToken: HTTP ${response.status}, a sign-in token received`);
  return token;
}

/**
 * A fetch failure with the request URL (which carries the credentials) cut out: Deno's "fetch
 * failed" has as its cause "error sending request for url (…)", quoting it whole. The cause's
 * reason is kept (without the URL) and the cause itself dropped.
 */
function withoutUrl(err: unknown, url: string): unknown {
  if (!(err instanceof Error) || err instanceof DOMException) return err;
  if (err instanceof Deno.errors.NotCapable) return err;
  const query = url.slice(url.indexOf("?"));
  const strip = (text: string) =>
    text.split(url).join("[request]").split(query).join("").replace(/https?:\/\/\S*/g, "[request]");
  const cause = err.cause instanceof Error ? `: ${strip(err.cause.message)}` : "";
  const clean = new Error(`${strip(err.message)}${cause}`);
  clean.name = err.name;
  return clean;
}

/**
 * The URL that signs the browser in to the console with the token and lands on `destination`
 * (`Issuer` is optional and left out). A secret for 15 minutes.
 */
export function federationLoginUrl(
  federationUrl: string,
  signinToken: string,
  destination: string,
): string {
  const query = new URLSearchParams({
    Action: "login",
    Destination: destination,
    SigninToken: signinToken,
  });
  return `${federationUrl}?${query}`;
}

/** The console's logout, then on to `next` (the login URL). */
export function logoutThen(logoutUrl: string, next: string): string {
  return `${logoutUrl}?${new URLSearchParams({ Action: "logout", redirect_uri: next })}`;
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
