/**
 * The one-time link of `aws-login console`: a listener on 127.0.0.1 whose address
 * `http://127.0.0.1:PORT/<random>` is what the browser is started with, so the console sign-in URL
 * — its sign-in token is as good as the credentials for 15 minutes — never appears on a command
 * line (any local user can read the browser's). It answers the link once, with a redirect to the
 * sign-in URL; a second request means someone else opened the link too (another user can read it
 * from the browser's argv while it starts): it is refused, and reported, as login's sign-in link
 * does. As login's listener, it answers the link only to a connection of the user running
 * aws-login where the owner can be found (Linux's /proc/net/tcp tables, peer_owner.ts): another
 * local user who read the link gets a 403 and the link stays unspent for the user's own browser.
 * Only GET with this Host is answered (a DNS-rebinding page cannot pose as it).
 *
 * @see lib/login/callback_server.ts (the same checks for the login's link)
 * @module
 */
import { LoginError } from "../errors.ts";
import { base64UrlEncode } from "../signin/pkce.ts";
import { type LoopbackRequest, type LoopbackServer, serveLoopback } from "../net/loopback_http.ts";
import { page, SAFE_HEADERS, sameSecret } from "./callback_server.ts";
import { type PeerOwnerLookup, sameUserCheck } from "./peer_owner.ts";

/** A running one-time link. */
export interface ConsoleLink extends AsyncDisposable {
  /** `http://127.0.0.1:PORT/<random>`: what the browser opens. */
  readonly startUrl: string;
  /** Resolves when the link has been opened (and redirected) once; rejects if the listener fails. */
  readonly opened: Promise<LinkOpened>;
  /** Resolves when the link is opened a second time (after {@link ConsoleLink.opened}). */
  readonly reopened: Promise<void>;
  /** Stops listening (idempotent). */
  close(): Promise<void>;
}

/** Who opened the link. */
export interface LinkOpened {
  /**
   * The connection's owner was found to be the user running aws-login: the sign-in URL went to
   * that user, and another user's later opening is refused anyway (403), so there is no second
   * opener left to watch for. False where the owner is unknown (no check on this system, or not
   * found): the first opener may have been someone else.
   */
  readonly byThisUser: boolean;
}

/**
 * Starts the link's listener.
 *
 * @param p.target The URL the link redirects to, once (a secret: never logged).
 * @param p.log One line per request (method, outcome; never the path's secret nor the target).
 * @param p.listen Opens the listening socket (tests replace it).
 * @param p.refused Told, in words for the user, when a connection from another user is refused.
 * @param p.peerOwner Who owns the other end of a connection (tests fake another user); default:
 *   the `/proc/net/tcp` tables on Linux (read by a child process started here, so the caller may
 *   drop the `run` permission once the browser is started), no check elsewhere (`null`).
 * @param p.uid The user the link must be opened by; default: this process's.
 * @throws {LoginError} `ERR_LOGIN_PORT` when 127.0.0.1 cannot be listened on.
 */
export function startConsoleLink(p: {
  target: string;
  log?: (line: string) => void;
  listen?: (options: Deno.TcpListenOptions) => Deno.Listener;
  refused?: (message: string) => void;
  peerOwner?: PeerOwnerLookup | null;
  uid?: number;
}): ConsoleLink {
  const log = p.log ?? (() => {});
  const refused = p.refused ?? (() => {});
  const sameUser = sameUserCheck(p);
  const path = `/${base64UrlEncode(crypto.getRandomValues(new Uint8Array(32)))}`;
  let port = 0;
  let uses = 0;
  let markOpened!: (by: LinkOpened) => void;
  let failOpened!: (err: unknown) => void;
  let markReopened!: () => void;
  const opened = new Promise<LinkOpened>((resolve, reject) => {
    markOpened = resolve;
    failOpened = reject;
  });
  opened.catch(() => {});
  const reopened = new Promise<void>((resolve) => (markReopened = resolve));

  const handler = async (request: LoopbackRequest): Promise<Response> => {
    const { method, url, headers } = request;
    const isLink = sameSecret(url.pathname, path);
    let note = "";
    let byThisUser = false;
    const line = (status: number, why: string) =>
      log(`${method} ${isLink ? "<console link>" : "<other path>"}: ${status} ${why}${note}`);
    if (headers.get("host")?.toLowerCase() !== `127.0.0.1:${port}`) {
      line(400, "wrong Host header");
      return page(400, "Bad request", "This address only answers aws-login's console link.");
    }
    if (method !== "GET") {
      line(405, "method not allowed");
      return page(405, "Method not allowed", "Only GET is accepted here.", { Allow: "GET" });
    }
    if (!isLink) {
      line(404, "not the link");
      return page(404, "Not found", "This address only answers aws-login's console link.");
    }
    const verdict = await sameUser.check(request.peerPort, port);
    if (verdict.checked) {
      const owner = verdict.owner;
      if (owner.found && verdict.stranger) {
        // Before the link's one use is spent: the user's own browser still gets it.
        line(403, `connection from another user (uid ${owner.uid})`);
        refused(
          `aws-login refused a connection to the console link from another user of this device ` +
            `(uid ${owner.uid}); it keeps waiting for your browser.`,
        );
        return page(
          403,
          "Not your console link",
          "This console link belongs to another user of this device. aws-login opens it only " +
            "for the browser of the user who runs it.",
        );
      }
      byThisUser = owner.found;
      note = owner.found
        ? ` (owner of the connection: this user)`
        : ` (owner of the connection unknown: ${owner.why})`;
    }
    uses++;
    if (uses > 1) {
      line(409, "opened a second time");
      markReopened();
      return page(409, "Link already used", REUSED);
    }
    line(302, "redirect to the console sign-in");
    markOpened({ byThisUser });
    return new Response(null, {
      status: 302,
      headers: { Location: p.target, ...SAFE_HEADERS },
    });
  };

  let server: LoopbackServer;
  try {
    server = serveLoopback({ port: 0, handler, listen: p.listen });
  } catch (err) {
    throw new LoginError(
      "ERR_LOGIN_PORT",
      `Cannot listen on 127.0.0.1 for the console link: ${
        err instanceof Error ? err.message : String(err)
      }. Use --print to open the console URL yourself.`,
      { cause: err },
    );
  }
  port = server.port;
  sameUser.start();
  server.finished.catch((err) =>
    failOpened(
      new LoginError(
        "ERR_LOGIN_PORT",
        `The console link's listener on 127.0.0.1:${port} stopped. Run "aws-login console" ` +
          `again, or use --print.`,
        { cause: err },
      ),
    )
  );
  let closing: Promise<void> | undefined;
  const close = () => closing ??= Promise.all([server.close(), sameUser.close()]).then(() => {});
  return {
    startUrl: `http://127.0.0.1:${port}${path}`,
    opened,
    reopened,
    close,
    [Symbol.asyncDispose]: close,
  };
}

const REUSED = "This console link was already opened. If that was not you in another tab, " +
  "someone else on this device opened it and is signed in to the console as you: sign out of " +
  "the console there and revoke the role session. aws-login reported this in the terminal.";

/** What the terminal says when the link was opened twice. */
export function linkReusedError(): LoginError {
  return new LoginError(
    "ERR_LOGIN_LINK_REUSED",
    "The console link was opened a second time: if only one browser tab opened it, someone " +
      "else on this device (who can see the link while the browser starts) opened it first and " +
      "may be signed in to the console with these credentials. Check the console's session; " +
      "use --print on a shared machine.",
  );
}
