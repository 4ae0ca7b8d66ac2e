/**
 * The browser side of the emulator: `GET /v1/authorize` validates the authorization request
 * (docs/PROTOCOL.md §3) and shows the sign-in page (or approves at once with `autoApprove`);
 * `POST /v1/authorize` takes the choice made on that page; `GET /v1/sessions/confirmation` shows a
 * verification code for `?code=…&state=…`.
 *
 * Refusals: a bad `client_id` or `redirect_uri` gets a 400 error page and never a redirect (the
 * redirect target cannot be trusted). Any other bad parameter is redirected back to a valid
 * same-device `redirect_uri` as `error=…&error_description=…&state=…` (RFC 6749 §4.1.2.1: codes
 * `invalid_request`, `unsupported_response_type`, `invalid_scope`); cross-device requests get a 400
 * error page instead, as there is no client to redirect to.
 *
 * Approval issues a single-use code valid for 5 minutes: same-device redirects (302) to
 * `redirect_uri?code=…&state=…`; cross-device shows the confirmation page whose `#code` is the
 * standard base64 of `state=…&code=…`. Cancel redirects with `error=access_denied` (same-device).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1
 * @module
 */
import { confirmationPage, deniedPage, errorPage, htmlResponse, signInPage } from "./pages.ts";
import {
  arnProblem,
  type AuthorizeRequest,
  CROSS_DEVICE_CLIENT_ID,
  type EmulatorState,
  SAME_DEVICE_CLIENT_ID,
} from "./state.ts";

const SAME_DEVICE_REDIRECT = /^http:\/\/127\.0\.0\.1:(\d{1,5})\/oauth\/callback$/;
const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** A refused parameter: the OAuth error code and a description. */
interface Refusal {
  error: string;
  description: string;
}

/** The single value of a parameter; undefined when absent, null when repeated. */
function single(params: URLSearchParams, name: string): string | undefined | null {
  const all = params.getAll(name);
  return all.length === 0 ? undefined : all.length > 1 ? null : all[0];
}

function sameDeviceRedirectOk(uri: string): boolean {
  const port = SAME_DEVICE_REDIRECT.exec(uri)?.[1];
  return port !== undefined && Number(port) >= 1 && Number(port) <= 65535;
}

/** The first problem with the parameters other than client_id and redirect_uri. */
function otherProblem(params: URLSearchParams): Refusal | undefined {
  const responseType = single(params, "response_type");
  if (responseType !== "code") {
    return {
      error: responseType == null ? "invalid_request" : "unsupported_response_type",
      description: 'response_type must be "code"',
    };
  }
  if (single(params, "code_challenge_method") !== "SHA-256") {
    return { error: "invalid_request", description: 'code_challenge_method must be "SHA-256"' };
  }
  const challenge = single(params, "code_challenge");
  if (challenge == null || !CODE_CHALLENGE.test(challenge)) {
    return {
      error: "invalid_request",
      description: "code_challenge must be 43 base64url characters (S256 of the verifier)",
    };
  }
  const scope = single(params, "scope");
  if (scope !== "openid") {
    return {
      error: scope == null ? "invalid_request" : "invalid_scope",
      description: 'scope must be "openid"',
    };
  }
  const state = single(params, "state");
  if (state == null || state === "") {
    return { error: "invalid_request", description: "state is required" };
  }
  return undefined;
}

/** `uri` with the parameters added to its query. */
function withQuery(uri: string, params: Record<string, string>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.href;
}

function redirect(location: string): Response {
  return new Response(null, {
    status: 302,
    headers: { location, "cache-control": "no-store" },
  });
}

/** The verification code of the cross-device flow: standard base64 of `state=…&code=…`. */
export function verificationCode(state: string, code: string): string {
  const query = `state=${encodeURIComponent(state)}&code=${encodeURIComponent(code)}`;
  let binary = "";
  for (const b of new TextEncoder().encode(query)) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Approves `request` as `arn`: a code, then the redirect or the confirmation page. */
function approve(state: EmulatorState, request: AuthorizeRequest, arn: string): Response {
  const code = state.issueCode(request, arn);
  if (request.clientId === CROSS_DEVICE_CLIENT_ID) {
    return htmlResponse(confirmationPage(verificationCode(request.state, code)));
  }
  return redirect(withQuery(request.redirectUri, { code, state: request.state }));
}

/**
 * Answers `GET /v1/authorize`.
 *
 * @param request Its URL is the one the browser used (origin from `Host`).
 * @param state The emulator state.
 * @param ownUrl The emulator's own base URL (also accepted as the cross-device redirect base).
 */
export function handleAuthorize(
  request: Request,
  state: EmulatorState,
  ownUrl: string,
): Response {
  state.count("authorize");
  const url = new URL(request.url);
  const params = url.searchParams;
  const clientId = single(params, "client_id");
  if (clientId !== SAME_DEVICE_CLIENT_ID && clientId !== CROSS_DEVICE_CLIENT_ID) {
    return htmlResponse(
      errorPage(
        "invalid_client",
        `client_id must be "${SAME_DEVICE_CLIENT_ID}" or "${CROSS_DEVICE_CLIENT_ID}"`,
      ),
      400,
    );
  }
  const crossDevice = clientId === CROSS_DEVICE_CLIENT_ID;
  const redirectUri = single(params, "redirect_uri");
  const redirectOk = redirectUri != null &&
    (crossDevice
      ? [url.origin, ownUrl].some((base) => redirectUri === `${base}/v1/sessions/confirmation`)
      : sameDeviceRedirectOk(redirectUri));
  if (!redirectOk) {
    return htmlResponse(
      errorPage(
        "invalid_request",
        crossDevice
          ? "redirect_uri must be this emulator's /v1/sessions/confirmation"
          : "redirect_uri must be http://127.0.0.1:PORT/oauth/callback",
      ),
      400,
    );
  }
  const problem = otherProblem(params);
  if (problem) {
    if (crossDevice) return htmlResponse(errorPage(problem.error, problem.description), 400);
    const back: Record<string, string> = {
      error: problem.error,
      error_description: problem.description,
    };
    const oauthState = single(params, "state");
    if (oauthState) back.state = oauthState;
    return redirect(withQuery(redirectUri, back));
  }
  const authorizeRequest: AuthorizeRequest = {
    clientId,
    redirectUri,
    state: single(params, "state")!,
    codeChallenge: single(params, "code_challenge")!,
  };
  if (state.autoApprove !== undefined) return approve(state, authorizeRequest, state.autoApprove);
  const requestId = state.addPending(authorizeRequest);
  return htmlResponse(signInPage({ requestId, accounts: state.accounts, crossDevice }));
}

/** Answers `POST /v1/authorize`: the identity picked on the sign-in page, or Cancel. */
export async function handleDecision(request: Request, state: EmulatorState): Promise<Response> {
  const form = new URLSearchParams(await request.text());
  const action = form.get("action");
  const arn = form.get("arn")?.trim() ?? "";
  if (action !== "deny") {
    const problem = arnProblem(arn);
    if (problem) {
      return htmlResponse(
        errorPage("invalid_request", `Cannot sign in as "${arn}": ${problem}. Go back and retry.`),
        400,
      );
    }
  }
  const pending = state.takePending(form.get("request_id") ?? "");
  if (!pending) {
    return htmlResponse(
      errorPage(
        "invalid_request",
        "This sign-in request is unknown, expired or already answered.",
      ),
      400,
    );
  }
  if (action === "deny") {
    if (pending.clientId === CROSS_DEVICE_CLIENT_ID) return htmlResponse(deniedPage());
    return redirect(withQuery(pending.redirectUri, {
      error: "access_denied",
      error_description: "The user cancelled the sign-in",
      state: pending.state,
    }));
  }
  return approve(state, pending, arn);
}

/** Answers `GET /v1/sessions/confirmation?code=…&state=…` with the verification code page. */
export function handleConfirmation(request: Request): Response {
  const params = new URL(request.url).searchParams;
  const code = params.get("code");
  const oauthState = params.get("state");
  if (!code || !oauthState) {
    return htmlResponse(errorPage("invalid_request", "code and state are required"), 400);
  }
  return htmlResponse(confirmationPage(verificationCode(oauthState, code)));
}
