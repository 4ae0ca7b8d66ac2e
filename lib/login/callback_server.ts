/**
 * The loopback listener of the same-device login on 127.0.0.1. It serves two addresses:
 *
 * - the sign-in link `http://127.0.0.1:PORT/<random>`, which the browser is opened at instead of the
 *   authorize URL, so that no process listing (the browser's argv) shows `state` or the PKCE
 *   challenge. It answers once, with a redirect to the authorize URL and a random
 *   `HttpOnly; SameSite=Lax` cookie for the callback path; a second request means someone else
 *   opened the link too, and ends the login;
 * - the callback `/oauth/callback`, where the browser lands after sign-in with `code` and `state`
 *   (or `error`). It is accepted only with that cookie and this login's `state`, so a code for a
 *   sign-in the user did not make (login CSRF by another local user) is never taken.
 *
 * It answers only GET with this Host (a DNS-rebinding page cannot pose as it) and keeps waiting
 * after a stray or forged callback instead of failing the login. It stops after the first valid
 * callback. The code is never logged or shown.
 *
 * @see docs/PROTOCOL.md §3 (same-device); https://www.rfc-editor.org/rfc/rfc8252#section-7.3
 * @module
 */
import { LoginError } from "../errors.ts";
import { base64UrlEncode } from "../signin/pkce.ts";
import { type LoopbackRequest, type LoopbackServer, serveLoopback } from "../net/loopback_http.ts";
import { checkState, displayText } from "./verification_code.ts";
import { type PeerOwnerLookup, sameUserCheck } from "./peer_owner.ts";

/** The callback path the authorize request names in `redirect_uri`. */
export const CALLBACK_PATH = "/oauth/callback";

/** A running callback listener. */
export interface CallbackServer extends AsyncDisposable {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** `http://127.0.0.1:PORT/oauth/callback`. */
  readonly redirectUri: string;
  /** The one-time sign-in link to open in the browser: `http://127.0.0.1:PORT/<random>`. */
  readonly startUrl: string;
  /**
   * The authorization code of the first valid callback. Rejects with a {@link LoginError}:
   * `ERR_LOGIN_DENIED` when the browser came back with an `error` for this `state`,
   * `ERR_LOGIN_LINK_REUSED` when the sign-in link was opened twice, `ERR_LOGIN_PORT` when the
   * listener failed.
   */
  readonly code: Promise<string>;
  /** Stops listening (idempotent). */
  close(): Promise<void>;
}

/**
 * Reads the query of a callback request.
 *
 * @param search The query string (with or without `?`).
 * @param expectedState The `state` of the authorization request.
 * @returns The authorization code.
 * @throws {LoginError} `ERR_LOGIN_STATE` when `state` is missing or differs (not this login's
 *   callback: keep waiting); `ERR_LOGIN_DENIED` when the sign-in was refused (`error`, right state);
 *   `ERR_LOGIN_CODE` when there is neither `code` nor `error`.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
 */
export function parseCallbackQuery(search: string, expectedState: string): string {
  const params = new URLSearchParams(search);
  const state = params.get("state");
  if (state === null || state === "") {
    throw new LoginError(
      "ERR_LOGIN_STATE",
      "The sign-in callback has no state parameter; it is not from this login.",
    );
  }
  checkState(state, expectedState, "The callback is not from this login.");
  const error = params.get("error");
  if (error !== null) {
    const code = displayText(error, 100) || "unknown error";
    const description = displayText(params.get("error_description") ?? "");
    throw new LoginError(
      "ERR_LOGIN_DENIED",
      `The browser sign-in did not complete: "${code}"${description ? ` (${description})` : ""}. ` +
        `Run "aws-login login" to try again.`,
    );
  }
  const code = params.get("code");
  if (code === null || code === "") {
    throw new LoginError(
      "ERR_LOGIN_CODE",
      "The sign-in callback has neither an authorization code nor an error.",
    );
  }
  return code;
}

/**
 * Starts the callback listener on 127.0.0.1.
 *
 * @param p.state The `state` of the authorization request; callbacks with another are ignored.
 * @param p.authorizeUrl The authorize URL for this listener's `redirect_uri` (known once it
 *   listens); the sign-in link redirects there.
 * @param p.port The port (`--redirect-port`), or 0/undefined for any free port.
 * @param p.log Receives one line per request (method, path, outcome; never the query).
 * @param p.refused Told at once, in words for the user, when a callback is refused while the login
 *   keeps waiting (no sign-in cookie, or not this login's `state`); never the query's values.
 * @param p.listen Opens the listening socket (tests replace it); default `Deno.listen`.
 * @param p.peerOwner Who owns the other end of a connection (tests fake another user); default:
 *   the `/proc/net/tcp` tables on Linux (read by a child process started here, so the caller may
 *   drop the `run` permission once this returns), no check elsewhere (`null`).
 * @param p.uid The user the link and the callback must come from; default: this process's.
 * @returns The running server; its {@link CallbackServer.code} settles on the first valid callback.
 * @throws {LoginError} `ERR_LOGIN_PORT` when the port is in use or not allowed.
 */
export function startCallbackServer(p: {
  state: string;
  authorizeUrl: (redirectUri: string) => string;
  port?: number;
  log?: (line: string) => void;
  refused?: (message: string) => void;
  listen?: (options: Deno.TcpListenOptions) => Deno.Listener;
  peerOwner?: PeerOwnerLookup | null;
  uid?: number;
}): CallbackServer {
  const log = p.log ?? (() => {});
  const refused = p.refused ?? (() => {});
  // Its /proc reader (Linux) starts once the listener runs (below).
  const sameUser = sameUserCheck(p);
  let settled = false;
  let resolveCode!: (code: string) => void;
  let rejectCode!: (err: unknown) => void;
  const code = new Promise<string>((resolve, reject) => {
    resolveCode = resolve;
    rejectCode = reject;
  });
  code.catch(() => {}); // the caller may stop waiting (timeout) before it settles
  const startPath = `/${randomToken()}`;
  const cookieValue = randomToken();
  let linkOpened = false;
  let port = 0;
  let cookieName = "";
  let authorizeUrl = "";
  let closing: Promise<void> | undefined;

  const finish = (settle: () => void) => {
    settled = true;
    settle();
    closing = stop();
  };

  /**
   * Whether the connection comes from another local user (who may have read the sign-in link from
   * the browser's command line): their uid as `stranger`, and a note for the request's log line.
   * Only a found owner counts: one not found (another network namespace, /proc unreadable) leaves
   * the link, the cookie and the state as the defence.
   */
  const ownerCheck = async (peerPort: number): Promise<{ stranger?: number; note: string }> => {
    const verdict = await sameUser.check(peerPort, port);
    if (!verdict.checked) return { note: "" };
    const owner = verdict.owner;
    if (!owner.found) {
      return { note: ` (owner of the connection from port ${peerPort} unknown: ${owner.why})` };
    }
    if (verdict.stranger) return { stranger: owner.uid, note: "" };
    return { note: ` (owner of the connection from port ${peerPort}: this user)` };
  };

  const handler = async (request: LoopbackRequest): Promise<Response> => {
    const { url, method, headers } = request;
    const isLink = sameSecret(url.pathname, startPath);
    let owner = ""; // what the owner check found, said with the outcome
    const line = (status: number, why: string) =>
      log(`${method} ${isLink ? "<sign-in link>" : url.pathname}: ${status} ${why}${owner}`);
    if (headers.get("host")?.toLowerCase() !== `127.0.0.1:${port}`) {
      line(400, "wrong Host header");
      return page(400, "Bad request", "This address only answers the aws-login sign-in callback.");
    }
    if (method !== "GET") {
      line(405, "method not allowed");
      return page(405, "Method not allowed", "Only GET is accepted here.", { Allow: "GET" });
    }
    // Asked first: the checks below then run without a pause, so no two requests interleave.
    const checked = isLink || url.pathname === CALLBACK_PATH
      ? await ownerCheck(request.peerPort)
      : { note: "" };
    const stranger = checked.stranger;
    owner = checked.note;
    if (stranger !== undefined) {
      // Before the link's one use is spent: the user's own browser still gets it.
      line(403, `connection from another user (uid ${stranger})`);
      refused(
        `aws-login refused a connection to the sign-in ${isLink ? "link" : "callback"} from ` +
          `another user of this device (uid ${stranger}); it keeps waiting for your browser.`,
      );
      return page(
        403,
        "Not your sign-in",
        "This sign-in belongs to another user of this device. aws-login accepts it only from " +
          "the browser of the user who runs it.",
      );
    }
    if (isLink) {
      if (settled) {
        line(410, "login already finished");
        return page(410, "Already finished", "This login has already finished. Close this tab.");
      }
      if (linkOpened) {
        line(409, "sign-in link opened a second time: login stopped");
        finish(() => rejectCode(linkReused()));
        return page(409, "Sign-in stopped", linkReused().message);
      }
      linkOpened = true;
      line(302, "redirect to the sign-in page");
      return new Response(null, {
        status: 302,
        headers: {
          Location: authorizeUrl,
          "Set-Cookie": `${cookieName}=${cookieValue}; Path=${CALLBACK_PATH}; HttpOnly; ` +
            `SameSite=Lax`,
          ...SAFE_HEADERS,
        },
      });
    }
    if (url.pathname !== CALLBACK_PATH) {
      line(404, "not the callback path");
      return page(404, "Not found", "This address only answers the aws-login sign-in callback.");
    }
    if (settled) {
      line(410, "login already finished");
      return page(410, "Already finished", "This login has already finished. Close this tab.");
    }
    if (!sameSecret(cookieOf(headers, cookieName) ?? "", cookieValue)) {
      // Not the browser that opened the sign-in link: a code someone else obtained.
      line(400, "no sign-in cookie");
      refused(
        "aws-login refused a sign-in callback: it came from a browser that did not open the " +
          "sign-in link printed above (no sign-in cookie). The browser must keep cookies and be " +
          "the one that opened that link; without such a browser, use --remote. Still waiting.",
      );
      return page(
        400,
        "Bad request",
        "This browser did not open the sign-in link aws-login printed, so aws-login does not " +
          "accept this sign-in. Open the link aws-login printed in the terminal.",
      );
    }
    // The cookie has done its job: the browser can forget it.
    const forget = {
      "Set-Cookie": `${cookieName}=; Path=${CALLBACK_PATH}; Max-Age=0; HttpOnly; SameSite=Lax`,
    };
    try {
      const value = parseCallbackQuery(url.search, p.state);
      finish(() => resolveCode(value));
      line(200, "authorization code received");
      return page(
        200,
        "Signed in",
        "aws-login received your sign-in. You can close this tab and return to the terminal.",
        forget,
      );
    } catch (err) {
      if (err instanceof LoginError && err.code === "ERR_LOGIN_DENIED") {
        finish(() => rejectCode(err));
        line(200, "sign-in refused");
        return page(200, "Sign-in failed", err.message, forget, true);
      }
      // Not this login's callback (stray tab, forged link): refuse it and keep waiting.
      line(400, err instanceof LoginError ? err.code : "bad request");
      refused(
        "aws-login refused a sign-in callback that is not from this login (its state is " +
          "missing or does not match: an old tab, or a link from someone else). Still waiting " +
          "for the sign-in started from the link printed above.",
      );
      return page(
        400,
        "Bad request",
        "This link does not belong to the sign-in aws-login is waiting for. " +
          "Use the link aws-login printed in the terminal.",
      );
    }
  };

  let server: LoopbackServer;
  try {
    server = serveLoopback({ port: p.port ?? 0, handler, listen: p.listen });
  } catch (err) {
    throw portError(p.port ?? 0, err);
  }
  port = server.port;
  sameUser.start();
  const stop = async () => {
    await Promise.all([server.close(), sameUser.close()]);
  };
  cookieName = `aws_login_${port}`;
  const redirectUri = `http://127.0.0.1:${port}${CALLBACK_PATH}`;
  authorizeUrl = p.authorizeUrl(redirectUri);
  server.finished.catch((err) => {
    // The listener stopped (e.g. no file descriptors left to accept with): end the login cleanly.
    if (!settled) finish(() => rejectCode(listenerError(port, err)));
  });
  const close = async () => {
    closing ??= stop();
    await closing;
  };
  return {
    port,
    redirectUri,
    startUrl: `http://127.0.0.1:${port}${startPath}`,
    code,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** 32 random bytes, base64url: the sign-in link's path and the cookie. */
function randomToken(): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(32)));
}

/** Compares a received value with a secret without stopping at the first difference. */
export function sameSecret(received: string, secret: string): boolean {
  if (received.length !== secret.length) return false;
  let diff = 0;
  for (let i = 0; i < secret.length; i++) diff |= received.charCodeAt(i) ^ secret.charCodeAt(i);
  return diff === 0;
}

/** The value of cookie `name` in the request's Cookie header(s). */
function cookieOf(headers: Headers, name: string): string | undefined {
  for (const pair of (headers.get("cookie") ?? "").split(/[;,]/)) {
    const eq = pair.indexOf("=");
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

function linkReused(): LoginError {
  return new LoginError(
    "ERR_LOGIN_LINK_REUSED",
    "The sign-in link was opened a second time: someone else opened the sign-in link (another " +
      "user on this device can see it while the browser starts). aws-login stopped this login " +
      `and wrote nothing. Run "aws-login login" again.`,
  );
}

function listenerError(port: number, err: unknown): LoginError {
  const why = err instanceof Error ? displayText(err.message, 200) : String(err);
  return new LoginError(
    "ERR_LOGIN_PORT",
    `The sign-in callback listener on 127.0.0.1:${port} stopped: ${why}. Nothing was written; ` +
      `run "aws-login login" again (or use --remote).`,
    { cause: err },
  );
}

function portError(port: number, err: unknown): LoginError {
  const why = err instanceof Deno.errors.AddrInUse
    ? "the port is in use"
    : err instanceof Deno.errors.PermissionDenied
    ? "the system does not allow it"
    : err instanceof Error
    ? displayText(err.message, 200)
    : String(err);
  const next = port === 0
    ? "Check that this device allows listening on 127.0.0.1, or use --remote."
    : "Choose another --redirect-port, or leave it out to use any free port.";
  return new LoginError(
    "ERR_LOGIN_PORT",
    `Cannot listen on 127.0.0.1:${port} for the sign-in callback: ${why}. ${next}`,
    { cause: err },
  );
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** Headers of every answer: nothing cached, no referrer (the sign-in link) sent onwards. */
export const SAFE_HEADERS = { "Cache-Control": "no-store", "Referrer-Policy": "no-referrer" };

/** A small self-contained HTML page: no scripts, no external resources, no referrer. */
export function page(
  status: number,
  title: string,
  message: string,
  headers: Record<string, string> = {},
  failed = status >= 400,
): Response {
  const colour = failed ? "#b3261e" : "#1e7d32";
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>aws-login: ${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}
h1{color:${colour};font-size:1.5rem}</style></head>
<body><h1 id="title">${escapeHtml(title)}</h1><p id="message">${
    escapeHtml(message)
  }</p></body></html>
`;
  return new Response(body, {
    status,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
      "X-Content-Type-Options": "nosniff",
      ...SAFE_HEADERS,
      ...headers,
    },
  });
}
