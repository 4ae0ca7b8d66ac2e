/**
 * The loopback listener of the same-device login: `http://127.0.0.1:PORT/oauth/callback`, where the
 * browser lands after sign-in with `code` and `state` (or `error`). It listens on 127.0.0.1 only,
 * answers only GET on that path with this Host (a DNS-rebinding page cannot pose as it), and keeps
 * waiting after a stray or forged request instead of failing the login. It stops after the first
 * valid callback. The code is never logged or shown.
 *
 * @see PROTOCOL.md §3 (same-device); https://www.rfc-editor.org/rfc/rfc8252#section-7.3
 * @module
 */
import { LoginError } from "../errors.ts";
import { checkState, displayText } from "./verification_code.ts";

/** The callback path the authorize request names in `redirect_uri`. */
export const CALLBACK_PATH = "/oauth/callback";

/** A running callback listener. */
export interface CallbackServer extends AsyncDisposable {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** `http://127.0.0.1:PORT/oauth/callback`. */
  readonly redirectUri: string;
  /**
   * The authorization code of the first valid callback. Rejects with a {@link LoginError}
   * `ERR_LOGIN_DENIED` when the browser came back with an `error` for this `state`.
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
 * @param p.port The port (`--redirect-port`), or 0/undefined for any free port.
 * @param p.log Receives one line per request (method, path, outcome; never the query).
 * @returns The running server; its {@link CallbackServer.code} settles on the first valid callback.
 * @throws {LoginError} `ERR_LOGIN_PORT` when the port is in use or not allowed.
 */
export function startCallbackServer(p: {
  state: string;
  port?: number;
  log?: (line: string) => void;
}): CallbackServer {
  const log = p.log ?? (() => {});
  let settled = false;
  let resolveCode!: (code: string) => void;
  let rejectCode!: (err: unknown) => void;
  const code = new Promise<string>((resolve, reject) => {
    resolveCode = resolve;
    rejectCode = reject;
  });
  code.catch(() => {}); // the caller may stop waiting (timeout) before it settles
  let port = 0;
  let closing: Promise<void> | undefined;

  const handler = (request: Request): Response => {
    const url = new URL(request.url);
    const host = request.headers.get("host")?.toLowerCase();
    const line = (status: number, why: string) =>
      log(`${request.method} ${url.pathname}: ${status} ${why}`);
    if (host !== `127.0.0.1:${port}`) {
      line(400, "wrong Host header");
      return page(400, "Bad request", "This address only answers the aws-login sign-in callback.");
    }
    if (request.method !== "GET") {
      line(405, "method not allowed");
      return page(405, "Method not allowed", "Only GET is accepted here.", { Allow: "GET" });
    }
    if (url.pathname !== CALLBACK_PATH) {
      line(404, "not the callback path");
      return page(404, "Not found", "This address only answers the aws-login sign-in callback.");
    }
    if (settled) {
      line(410, "login already finished");
      return page(410, "Already finished", "This login has already finished. Close this tab.");
    }
    try {
      const value = parseCallbackQuery(url.search, p.state);
      settled = true;
      resolveCode(value);
      line(200, "authorization code received");
      closing = server.shutdown();
      return page(
        200,
        "Signed in",
        "aws-login received your sign-in. You can close this tab and return to the terminal.",
      );
    } catch (err) {
      if (err instanceof LoginError && err.code === "ERR_LOGIN_DENIED") {
        settled = true;
        rejectCode(err);
        line(200, "sign-in refused");
        closing = server.shutdown();
        return page(200, "Sign-in failed", err.message, {}, true);
      }
      // Not this login's callback (stray tab, forged link): refuse it and keep waiting.
      line(400, err instanceof LoginError ? err.code : "bad request");
      return page(
        400,
        "Bad request",
        "This link does not belong to the sign-in aws-login is waiting for. " +
          "Use the link aws-login printed in the terminal.",
      );
    }
  };

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: "127.0.0.1",
      port: p.port ?? 0,
      onListen: () => {},
      onError: () => page(500, "Error", "aws-login could not handle this request."),
    }, handler);
  } catch (err) {
    throw portError(p.port ?? 0, err);
  }
  port = server.addr.port;
  const close = async () => {
    closing ??= server.shutdown();
    await closing;
  };
  return {
    port,
    redirectUri: `http://127.0.0.1:${port}${CALLBACK_PATH}`,
    code,
    close,
    [Symbol.asyncDispose]: close,
  };
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

/** A small self-contained HTML page: no scripts, no external resources, no referrer. */
function page(
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
      "Cache-Control": "no-store",
      "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
      "Referrer-Policy": "no-referrer",
      "X-Content-Type-Options": "nosniff",
      "Connection": "close",
      ...headers,
    },
  });
}
