/**
 * The AWS Sign-In OAuth 2.0 client of `aws login`: the authorize URL, and `CreateOAuth2Token` for
 * the `authorization_code` and `refresh_token` grants, each as build → send → process so the
 * parsing is tested with made-up `Response`s. One request per call: retries are the caller's.
 *
 * Loaded only by login and refresh (it pulls in the DPoP signer, WebCrypto only). Messages never
 * contain tokens, codes or keys, and treat the endpoint as untrusted: redirects are never followed,
 * server text is reduced to printable characters with every secret we sent cut out (the toolkit
 * for untrusted replies in `lib/aws/service_reply.ts`), and credentials are checked for shape
 * before anyone stores or prints them.
 *
 * @see docs/PROTOCOL.md §3, §4, §6
 * @module
 */
import { printable } from "../cli/output.ts";
import { loginCommand, NetworkError, type ProfileMessage, SigninError } from "../errors.ts";
import {
  classifyReply,
  errorTypeOf,
  hostOf,
  isObject,
  isRedirect,
  parseHttpDate,
  parseJson,
  parseRetryAfter,
  replyText,
  serviceMessage,
  serviceName,
  SIGN_IN,
  transportError,
} from "../aws/service_reply.ts";
import { createDpopProof, type DpopKey, htuOf } from "./dpop.ts";
import { base64UrlDecode } from "./pkce.ts";

/** `client_id` of the same-device (loopback) flow. */
export const SAME_DEVICE_CLIENT_ID = "arn:aws:signin:::devtools/same-device";
/** `client_id` of the cross-device (`--remote`) flow. */
export const CROSS_DEVICE_CLIENT_ID = "arn:aws:signin:::devtools/cross-device";

/** Default time to wait for a reply. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** The longest credential lifetime the service grants (15 min). */
const MAX_EXPIRES_IN = 900;
/**
 * An access key id, checked for what goes safely into shells, env files, SigV4 scopes and JSON:
 * letters, digits and `_`, up to a sane maximum. Not AWS's current form (STS documents 16–128
 * capitals and digits): AWS's cross-SDK login-provider data refreshes to `NEWREFRESHEDKEY` (15),
 * which every SDK accepts.
 */
const ACCESS_KEY_ID = /^[A-Za-z0-9_]{1,256}$/;
/** A secret key or session token: printable ASCII, no whitespace (it goes into shells and files). */
const TOKEN_TEXT = /^[\x21-\x7e]+$/;

/** Which grant a token request is for (it changes the messages and the required fields). */
export type Grant = "authorization_code" | "refresh_token";

/** Where a refreshed session lives, for the messages of a refused refresh. */
export interface RefreshSite {
  /** The Sign-In region the refresh went to. */
  readonly region?: string;
  /** Whether that is the region the cache file records (then a refusal is no region mistake). */
  readonly regionRecorded?: boolean;
}

/** What a successful `CreateOAuth2Token` returns. */
export interface TokenResult {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Lifetime of the credentials in seconds (1–900). */
  expiresIn: number;
  /** The new refresh token; it replaces the old one. */
  refreshToken: string;
  /** The ID token (authorization_code grant only). */
  idToken?: string;
}

/**
 * Percent-encodes everything but the unreserved characters `A-Z a-z 0-9 - . _ ~`, as the CLI does
 * (`encodeURIComponent` alone leaves `!'()*`).
 */
function encode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The browser URL of the authorization request, byte for byte as the AWS CLI builds it: parameters
 * `response_type`, `client_id`, `state`, `code_challenge_method` (`SHA-256`), `scope`,
 * `redirect_uri`, then `code_challenge`.
 *
 * @param p.authorizeUrl `{base}/v1/authorize`.
 * @param p.clientId {@link SAME_DEVICE_CLIENT_ID} or {@link CROSS_DEVICE_CLIENT_ID}.
 * @param p.state The UUID to expect back.
 * @param p.codeChallenge The S256 PKCE challenge.
 * @param p.redirectUri The loopback callback or `{base}/v1/sessions/confirmation`.
 * @see docs/PROTOCOL.md §3; https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
 */
export function buildAuthorizeUrl(p: {
  authorizeUrl: string;
  clientId: string;
  state: string;
  codeChallenge: string;
  redirectUri: string;
}): string {
  const params: [string, string][] = [
    ["response_type", "code"],
    ["client_id", p.clientId],
    ["state", p.state],
    ["code_challenge_method", "SHA-256"],
    ["scope", "openid"],
    ["redirect_uri", p.redirectUri],
    ["code_challenge", p.codeChallenge],
  ];
  const query = params.map(([k, v]) => `${k}=${encode(v)}`).join("&");
  return `${p.authorizeUrl}${p.authorizeUrl.includes("?") ? "&" : "?"}${query}`;
}

/**
 * Builds the `CreateOAuth2Token` request: `POST`, unsigned, JSON body in the given key order,
 * `Content-Type: application/json` and the `DPoP` proof. Redirects are not followed (`manual`): a
 * redirect would carry the code or refresh token, with a valid proof, to another origin.
 *
 * @param tokenUrl `{base}/v1/token`.
 * @param body The camelCase token input.
 * @param dpopProof A proof made for this request.
 * @see docs/PROTOCOL.md §4
 */
export function buildTokenRequest(
  tokenUrl: string,
  body: Record<string, string>,
  dpopProof: string,
): Request {
  return new Request(tokenUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json", "DPoP": dpopProof },
    body: JSON.stringify(body),
    redirect: "manual",
  });
}

/**
 * Validates a `CreateOAuth2Token` reply and returns its tokens, or throws the service's error as a
 * {@link SigninError} with a message a user can act on.
 *
 * The reply is untrusted: a redirect is an error (never followed); the service's error type, `error`
 * and message are reduced to printable text with every secret in `options.sent` cut out, and a
 * message is quoted only from a JSON body of a 4xx reply; the credentials must have a shape that
 * can be handed on safely (access key id `[A-Za-z0-9_]{1,256}`, secret key and session token
 * printable ASCII without whitespace).
 *
 * @param response The reply.
 * @param grant The grant it answers (`idToken` is required for `authorization_code`).
 * @param options.tokenUrl The URL the request went to, named when the reply is a redirect
 *   (default: the reply's URL).
 * @param options.sent The secrets the request carried (code, verifier, refresh token), never quoted.
 * @returns The credentials, lifetime and tokens.
 * @throws {SigninError} `ERR_SIGNIN_ACCESS_DENIED`, `ERR_SIGNIN_VALIDATION`, `ERR_SIGNIN_THROTTLED`,
 *   `ERR_SIGNIN_SERVER`, or `ERR_SIGNIN_RESPONSE` for an unusable reply or a redirect; `status`,
 *   `errorType`, `error`, `retryAfterSeconds` and `serverDate` are kept (cleaned).
 * @throws {NetworkError} When the body cannot be read.
 * @see docs/PROTOCOL.md §4, §4.1
 */
export async function processTokenResponse(
  response: Response,
  grant: Grant,
  options: { tokenUrl?: string; sent?: readonly string[]; site?: RefreshSite } = {},
): Promise<TokenResult> {
  const text = await replyText(response, SIGN_IN);
  const serverDate = parseHttpDate(response.headers.get("date"));
  const status = response.status;
  if (isRedirect(response)) {
    throw redirectError(options.tokenUrl || response.url, status, grant, serverDate);
  }
  const body = parseJson(text);
  if (status >= 200 && status < 300) return tokenResult(body, status, grant, serverDate);
  throw serviceError(response, body, grant, serverDate, options.sent ?? [], options.site ?? {});
}

/**
 * Exchanges an authorization code for credentials and tokens (the `authorization_code` grant), with
 * a new DPoP proof whose `iat` comes from `now()`.
 *
 * @param p.tokenUrl `{base}/v1/token`.
 * @param p.clientId The client id of the authorization request.
 * @param p.code The authorization code (single use).
 * @param p.codeVerifier The PKCE verifier.
 * @param p.redirectUri The redirect URI of the authorization request.
 * @param p.dpopKey The session's new DPoP key; the refresh token is bound to it.
 * @param p.fetch The fetch to use.
 * @param p.now The clock, epoch milliseconds.
 * @param p.timeoutMs Longest wait for the reply (default 30 s).
 * @throws {SigninError} See {@link processTokenResponse}.
 * @throws {NetworkError} `ERR_NETWORK` when the request fails, `ERR_TIMEOUT` when no reply comes.
 * @see docs/PROTOCOL.md §4
 */
export async function exchangeAuthorizationCode(p: {
  tokenUrl: string;
  clientId: string;
  code: string;
  codeVerifier: string;
  redirectUri: string;
  dpopKey: DpopKey;
  fetch: typeof fetch;
  now: () => number;
  timeoutMs?: number;
}): Promise<TokenResult> {
  const body = {
    clientId: p.clientId,
    grantType: "authorization_code",
    code: p.code,
    codeVerifier: p.codeVerifier,
    redirectUri: p.redirectUri,
  };
  return await send(p, body, "authorization_code", [p.code, p.codeVerifier]);
}

/**
 * Refreshes a session (the `refresh_token` grant), with a new DPoP proof signed by the session's
 * key, `iat` from `now()`.
 *
 * @param p.tokenUrl `{base}/v1/token` of the session's own region.
 * @param p.clientId The cached `clientId`.
 * @param p.refreshToken The cached refresh token.
 * @param p.dpopKey The cached DPoP key.
 * @param p.fetch The fetch to use.
 * @param p.now The clock, epoch milliseconds.
 * @param p.timeoutMs Longest wait for the reply (default 30 s).
 * @throws {SigninError} See {@link processTokenResponse}.
 * @throws {NetworkError} `ERR_NETWORK` when the request fails, `ERR_TIMEOUT` when no reply comes.
 * @see docs/PROTOCOL.md §4, §4.2
 */
export async function refreshToken(p: {
  tokenUrl: string;
  clientId: string;
  refreshToken: string;
  dpopKey: DpopKey;
  fetch: typeof fetch;
  now: () => number;
  timeoutMs?: number;
  /** For the messages of a refusal: the region, and whether the cache records it. */
  site?: RefreshSite;
}): Promise<TokenResult> {
  const body = { clientId: p.clientId, grantType: "refresh_token", refreshToken: p.refreshToken };
  return await send(p, body, "refresh_token", [p.refreshToken]);
}

/**
 * The `sub` claim of an ID token — the login session ARN — decoded without verifying the
 * signature, as the AWS CLI does (the token came straight from Sign-In over TLS).
 *
 * @param idToken A compact JWT.
 * @returns The `sub` claim.
 * @throws {SigninError} `ERR_SIGNIN_RESPONSE` when the token is malformed or has no `sub`.
 * @see docs/PROTOCOL.md §6
 */
export function idTokenSubject(idToken: string): string {
  const fail = (why: string) =>
    new SigninError(
      "ERR_SIGNIN_RESPONSE",
      `Cannot read the ID token AWS Sign-In returned: ${why}. Run "aws-login login" again.`,
    );
  const parts = idToken.split(".");
  if (parts.length !== 3) throw fail("it is not a JWT (expected 3 dot-separated parts)");
  let claims: unknown;
  try {
    const json = new TextDecoder("utf-8", { fatal: true }).decode(base64UrlDecode(parts[1]!));
    claims = JSON.parse(json);
  } catch {
    throw fail("its claims are not base64url-encoded JSON");
  }
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) {
    throw fail("its claims are not a JSON object");
  }
  const sub = (claims as Record<string, unknown>).sub;
  if (typeof sub !== "string" || sub.trim() === "") throw fail('it has no "sub" claim');
  return sub;
}

/**
 * Signs a fresh proof, sends one request with a timeout, and processes the reply; `secrets` are
 * the body's secret values, cut out of anything the server says.
 */
async function send(
  p: {
    tokenUrl: string;
    dpopKey: DpopKey;
    fetch: typeof fetch;
    now: () => number;
    timeoutMs?: number;
    site?: RefreshSite;
  },
  body: Record<string, string>,
  grant: Grant,
  secrets: readonly string[],
): Promise<TokenResult> {
  const proof = await createDpopProof(p.dpopKey, {
    htm: "POST",
    htu: htuOf(p.tokenUrl),
    iat: Math.floor(p.now() / 1000),
  });
  const timeoutMs = p.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const request = new Request(buildTokenRequest(p.tokenUrl, body, proof), {
    signal: AbortSignal.timeout(timeoutMs),
  });
  const host = hostOf(p.tokenUrl);
  let response: Response;
  try {
    response = await p.fetch(request);
  } catch (err) {
    throw transportError(err, SIGN_IN, host, timeoutMs);
  }
  try {
    return await processTokenResponse(response, grant, {
      tokenUrl: p.tokenUrl,
      sent: secrets,
      ...(p.site ? { site: p.site } : {}),
    });
  } catch (err) {
    // The body read shares the timeout; say so with the limit we know here.
    if (err instanceof NetworkError && err.code === "ERR_TIMEOUT") {
      throw transportError(err.cause, SIGN_IN, host, timeoutMs);
    }
    throw err;
  }
}

function nonEmptyString(v: unknown): v is string {
  return typeof v === "string" && v !== "";
}

/** Checks a 2xx body; names missing fields, never their values. */
function tokenResult(
  body: unknown,
  status: number,
  grant: Grant,
  serverDate: number | undefined,
): TokenResult {
  const fail = (why: string) =>
    new SigninError(
      "ERR_SIGNIN_RESPONSE",
      `${
        headOf(grant)
      }: AWS Sign-In returned ${why} (HTTP ${status}). Try again; if it persists, ` +
        `check the Sign-In endpoint.`,
      { status, serverDate },
    );
  if (!isObject(body)) throw fail("a reply that is not a JSON object");
  const bad: string[] = [];
  const access = body.accessToken;
  if (!isObject(access)) bad.push("accessToken");
  else {
    // Checked here, before anything is cached or exported: these go into shells and env files.
    const shapes: [string, RegExp, string][] = [
      ["accessKeyId", ACCESS_KEY_ID, "1 to 256 letters, digits and underscores"],
      ["secretAccessKey", TOKEN_TEXT, "printable ASCII without spaces"],
      ["sessionToken", TOKEN_TEXT, "printable ASCII without spaces"],
    ];
    for (const [key, shape, what] of shapes) {
      const v = access[key];
      if (!nonEmptyString(v)) bad.push(`accessToken.${key}`);
      else if (!shape.test(v)) bad.push(`accessToken.${key} (not ${what})`);
    }
  }
  const expiresIn = body.expiresIn;
  if (
    typeof expiresIn !== "number" || !Number.isInteger(expiresIn) || expiresIn < 1 ||
    expiresIn > MAX_EXPIRES_IN
  ) {
    bad.push(`expiresIn (must be 1 to ${MAX_EXPIRES_IN})`);
  }
  if (!nonEmptyString(body.refreshToken)) bad.push("refreshToken");
  if (body.idToken !== undefined && body.idToken !== null && !nonEmptyString(body.idToken)) {
    bad.push("idToken");
  } else if (grant === "authorization_code" && !nonEmptyString(body.idToken)) bad.push("idToken");
  if (bad.length > 0) throw fail(`a token reply with missing or invalid ${bad.join(", ")}`);
  const a = access as Record<string, string>;
  const result: TokenResult = {
    accessKeyId: a.accessKeyId!,
    secretAccessKey: a.secretAccessKey!,
    sessionToken: a.sessionToken!,
    expiresIn: expiresIn as number,
    refreshToken: body.refreshToken as string,
  };
  if (nonEmptyString(body.idToken)) result.idToken = body.idToken;
  return result;
}

function headOf(grant: Grant): string {
  return grant === "refresh_token"
    ? "Cannot refresh the login session"
    : "Cannot complete the sign-in";
}

/** A 3xx from the token endpoint: refused, never followed (the request carried a secret). */
function redirectError(
  tokenUrl: string,
  status: number,
  grant: Grant,
  serverDate: number | undefined,
): SigninError {
  const where = tokenUrl ? `"${printable(tokenUrl)}"` : "the token endpoint";
  const shown = status === 0 ? "a redirect" : `a redirect (HTTP ${status})`;
  return new SigninError(
    "ERR_SIGNIN_RESPONSE",
    `${headOf(grant)}: AWS Sign-In at ${where} answered with ${shown}. aws-login never follows ` +
      `a redirect from the token endpoint, so nothing was sent on. Check the Sign-In endpoint ` +
      `(--endpoint-url, AWS_ENDPOINT_URL_SIGNIN, AWS_ENDPOINT_URL, endpoint_url) and try again.`,
    { status, serverDate },
  );
}

/**
 * Maps an error reply to a {@link SigninError} (docs/PROTOCOL.md §4.1). A message is quoted only from
 * a JSON body of a reply below 500; a server error says its status line and type only.
 */
function serviceError(
  response: Response,
  body: unknown,
  grant: Grant,
  serverDate: number | undefined,
  sent: readonly string[],
  site: RefreshSite,
): SigninError {
  const status = response.status;
  const errorType = errorTypeOf(response.headers, body, sent);
  const errorValue = isObject(body) && typeof body.error === "string"
    ? serviceName(body.error, sent)
    : undefined;
  const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"), serverDate);
  const details = { status, errorType, error: errorValue, retryAfterSeconds, serverDate };
  const head = headOf(grant);
  const text = status < 500 ? serviceMessage(body, sent) : undefined;
  const said = text ? `: "${text}"` : "";
  const what = [errorType, errorValue].filter(Boolean).join(" ") || `HTTP ${status}`;

  switch (classifyReply(status, errorType)) {
    case "access-denied":
      return new SigninError(
        "ERR_SIGNIN_ACCESS_DENIED",
        grant === "refresh_token"
          ? refreshDenied(errorValue ?? errorType ?? String(status), errorValue)
          : accessDeniedMessage(head, errorValue, what, said),
        details,
      );
    case "throttled": {
      const wait = retryAfterSeconds !== undefined
        ? `Try again in ${retryAfterSeconds} s.`
        : "Wait a moment, then try again.";
      return new SigninError(
        "ERR_SIGNIN_THROTTLED",
        `${head}: AWS Sign-In is throttling requests (${what}). ${wait}`,
        details,
      );
    }
    case "validation": {
      if (
        grant === "refresh_token" &&
        (errorValue === undefined || errorValue === "INVALID_REQUEST" ||
          errorValue === "invalid_grant")
      ) {
        return new SigninError(
          "ERR_SIGNIN_VALIDATION",
          refreshRejected(errorValue ?? "ValidationException", site),
          details,
        );
      }
      const next = grant === "refresh_token"
        ? "A session can only be refreshed in the region it was created in, for up to 12 hours."
        : "";
      return new SigninError(
        "ERR_SIGNIN_VALIDATION",
        (profile) =>
          `${head}: AWS Sign-In rejected the request (${what})${said}. ${next}${next ? " " : ""}` +
          `Run "${loginCommand(profile)}" ${
            grant === "refresh_token" ? "to sign in again" : "again"
          }.`,
        details,
      );
    }
    case "server":
      return new SigninError(
        "ERR_SIGNIN_SERVER",
        `${head}: AWS Sign-In had a server error (HTTP ${status}${
          errorType ? ` ${errorType}` : ""
        })${said}. ` +
          `Try again later.`,
        details,
      );
  }
  return new SigninError(
    "ERR_SIGNIN_RESPONSE",
    `${head}: AWS Sign-In answered with an unexpected error (HTTP ${status}` +
      `${errorType || errorValue ? ` ${what}` : ""})${said}. Check the Sign-In endpoint ` +
      `(--endpoint-url, AWS_ENDPOINT_URL_SIGNIN, endpoint_url) and try again.`,
    details,
  );
}

/** A refused sign-in (the `authorization_code` grant): what happened and what to do. */
function accessDeniedMessage(
  head: string,
  error: string | undefined,
  what: string,
  said: string,
): string {
  switch (error) {
    case "TOKEN_EXPIRED":
      return `${head}: your session has expired (TOKEN_EXPIRED). Run "aws-login login" to sign in again.`;
    case "USER_CREDENTIALS_CHANGED":
      return `${head}: your password changed since you signed in (USER_CREDENTIALS_CHANGED). ` +
        `Run "aws-login login" and sign in with your new password.`;
    case "INSUFFICIENT_PERMISSIONS":
      return `${head}: you are missing permission for "signin:CreateOAuth2Token" ` +
        `(INSUFFICIENT_PERMISSIONS). Ask your administrator for the SignInLocalDevelopmentAccess ` +
        `policy, then run "aws-login login" again.`;
    case "AUTHCODE_EXPIRED":
      return `${head}: the authorization code expired before it was used (AUTHCODE_EXPIRED). ` +
        `Run "aws-login login" again.`;
    default:
      return `${head}: AWS Sign-In denied access (${what})${said}. Run "aws-login login" to sign in again.`;
  }
}

/** The head of a refused refresh's message, naming the profile once it is known. */
function refreshHead(profile: string | undefined): string {
  return profile === undefined
    ? "Cannot refresh the login session"
    : `Cannot refresh the login session of profile "${profile}"`;
}

/** A refused refresh (AccessDenied): what happened and what to do, for the profile. */
function refreshDenied(what: string, error: string | undefined): ProfileMessage {
  return (profile) => {
    const head = refreshHead(profile);
    const login = `Run "${loginCommand(profile)}" to sign in again`;
    switch (error) {
      case "TOKEN_EXPIRED":
        return `${head}: the session has ended (TOKEN_EXPIRED; sessions last up to 12 hours). ` +
          login;
      case "USER_CREDENTIALS_CHANGED":
        return `${head}: your password changed since you signed in ` +
          `(USER_CREDENTIALS_CHANGED). ${login} with your new password`;
      case "INSUFFICIENT_PERMISSIONS":
        return `${head}: your identity lacks permission for "signin:CreateOAuth2Token" ` +
          `(INSUFFICIENT_PERMISSIONS). Ask your administrator for the ` +
          `SignInLocalDevelopmentAccess policy, then run "${loginCommand(profile)}"`;
      default:
        return `${head}: AWS Sign-In denied access (${what}). ${login}`;
    }
  };
}

/**
 * A refresh token Sign-In no longer takes: what a refresh after a revocation, after the session
 * ended, or in the wrong region looks like (§11). In the region the session recorded, only the
 * first two remain.
 */
function refreshRejected(what: string, site: RefreshSite): ProfileMessage {
  return (profile) => {
    const head = refreshHead(profile);
    const login = `Run "${loginCommand(profile)}" to sign in again`;
    if (site.regionRecorded) {
      return `${head}: the session was revoked (a logout) or has ended: AWS Sign-In no longer ` +
        `accepts its refresh token (${what}). ${login}`;
    }
    const where = site.region === undefined ? "AWS Sign-In" : `AWS Sign-In in "${site.region}"`;
    return `${head}: ${where} rejected the refresh token (${what}). The session was revoked or ` +
      `has ended (after at most 12 hours), or it was made in another region: a session can only ` +
      `be refreshed in the region it was created in. ${login}`;
  };
}
