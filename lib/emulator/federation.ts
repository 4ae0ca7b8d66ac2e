/**
 * The AWS federation endpoint of the emulator, for `aws-login console`:
 *
 * - `GET /federation?Action=getSigninToken&Session=<JSON>[&SessionDuration=N]`: the Session JSON
 *   (`sessionId`, `sessionKey`, `sessionToken`) must be credentials this emulator issued and that
 *   have not expired, all three matching. As AWS documents (IAM guide, "Enable custom identity
 *   broker access to the AWS console"): credentials of an AssumeRole made with `DurationSeconds`
 *   by temporary credentials are refused (every credential the emulator issues is temporary);
 *   `SessionDuration` is 900–43200; it is also refused for role-chained credentials (the rule
 *   `aws-login console` follows; not confirmed against AWS). A login session's own
 *   credentials are taken (AWS does not document whether it takes them). Answers
 *   `{"SigninToken":"…"}`, valid 15 minutes.
 * - `GET /federation?Action=login&SigninToken=…&Destination=<https URL>[&Issuer=…]`: the emulator's
 *   console page naming the identity (pages.ts `consolePage`). Like a console without
 *   multi-session, it refuses to sign in a browser that is signed in as someone else (a cookie set
 *   here) until it logs out.
 * - `GET /oauth?Action=logout[&redirect_uri=…]`: forgets that cookie and redirects to
 *   `redirect_uri` when it is this emulator's `/federation` (the console's logout only redirects to
 *   its own sign-in host), else shows a "signed out" page.
 *
 * Refusals are plain text with status 400 (the real endpoint's error bodies are not documented).
 *
 * @module
 */
import { consolePage, federationErrorPage, htmlResponse } from "./pages.ts";
import type { EmulatorState, IssuedCredentials } from "./state.ts";

/** The cookie of a browser signed in to the emulator's console. */
const CONSOLE_COOKIE = "aws-emulator-console";

function refuse(message: string): Response {
  return new Response(`${message}\n`, {
    status: 400,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}

/** Answers a request to `/federation` or `/oauth`. */
export function handleFederation(request: Request, state: EmulatorState): Response {
  const url = new URL(request.url);
  if (request.method !== "GET") return refuse("Only GET is supported");
  const action = url.searchParams.get("Action");
  if (url.pathname === "/oauth") {
    return action === "logout" ? logout(url) : refuse(`Unknown Action "${action}"`);
  }
  if (action === "getSigninToken") return getSigninToken(url.searchParams, state);
  if (action === "login") return login(request, url.searchParams, state);
  return refuse(`Unknown Action "${action}"`);
}

function getSigninToken(params: URLSearchParams, state: EmulatorState): Response {
  state.count("signin_token");
  const session = params.get("Session");
  if (session === null) return refuse("Missing Session");
  let parsed: unknown;
  try {
    parsed = JSON.parse(session);
  } catch {
    return refuse("Session is not JSON");
  }
  const { sessionId, sessionKey, sessionToken } = (parsed ?? {}) as Record<string, unknown>;
  if (
    typeof sessionId !== "string" || typeof sessionKey !== "string" ||
    typeof sessionToken !== "string"
  ) {
    return refuse("Session needs sessionId, sessionKey and sessionToken");
  }
  const issued: IssuedCredentials | undefined = state.credentialsOf(sessionId);
  if (
    issued === undefined || issued.secretAccessKey !== sessionKey ||
    issued.sessionToken !== sessionToken || issued.expiresAt <= state.now()
  ) {
    return refuse("The credentials in Session are invalid or have expired");
  }
  const { origin } = issued;
  if (origin.kind === "role" && origin.withDurationSeconds) {
    return refuse(
      "Credentials from an AssumeRole call with DurationSeconds made with temporary credentials " +
        "cannot be used to sign in to the console",
    );
  }
  const durationText = params.get("SessionDuration");
  let sessionEndsAt = issued.expiresAt;
  if (durationText !== null) {
    const duration = /^\d{1,6}$/.test(durationText) ? Number(durationText) : NaN;
    if (!(duration >= 900 && duration <= 43_200)) {
      return refuse("SessionDuration must be a number of seconds from 900 to 43200");
    }
    if (origin.kind === "role" && origin.chained) {
      return refuse("SessionDuration cannot be used with credentials from role chaining");
    }
    sessionEndsAt = state.now() + duration * 1000;
  }
  const token = state.issueSigninToken({ arn: issued.arn, sessionEndsAt });
  return Response.json({ SigninToken: token }, { headers: { "cache-control": "no-store" } });
}

function login(request: Request, params: URLSearchParams, state: EmulatorState): Response {
  const grant = state.signinTokenGrant(params.get("SigninToken") ?? "");
  if (grant === undefined) {
    return htmlResponse(
      federationErrorPage("Invalid sign-in token", "The sign-in token is invalid or expired."),
      400,
    );
  }
  const destination = URL.parse(params.get("Destination") ?? "");
  if (destination === null || destination.protocol !== "https:") {
    return htmlResponse(
      federationErrorPage("Invalid destination", "Destination must be an https URL."),
      400,
    );
  }
  const current = cookieOf(request.headers, CONSOLE_COOKIE);
  if (current && current !== encodeURIComponent(grant.arn)) {
    return htmlResponse(
      federationErrorPage(
        "Already signed in",
        `This browser is signed in to the console as ${
          decodeURIComponent(current)
        }. Log out first, then sign in again.`,
      ),
      400,
    );
  }
  const response = htmlResponse(consolePage(grant.arn, destination.href, grant.sessionEndsAt));
  response.headers.set(
    "set-cookie",
    `${CONSOLE_COOKIE}=${encodeURIComponent(grant.arn)}; Path=/; HttpOnly; SameSite=Lax`,
  );
  return response;
}

function logout(url: URL): Response {
  const forget = `${CONSOLE_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`;
  const next = URL.parse(url.searchParams.get("redirect_uri") ?? "");
  if (next !== null && next.origin === url.origin && next.pathname === "/federation") {
    return new Response(null, {
      status: 302,
      headers: { location: next.href, "set-cookie": forget, "cache-control": "no-store" },
    });
  }
  const response = htmlResponse(federationErrorPage("Signed out", "You have signed out."));
  response.headers.set("set-cookie", forget);
  return response;
}

function cookieOf(headers: Headers, name: string): string | undefined {
  for (const pair of (headers.get("cookie") ?? "").split(";")) {
    const eq = pair.indexOf("=");
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}
