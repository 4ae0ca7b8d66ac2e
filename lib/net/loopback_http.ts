/**
 * The HTTP server under aws-login's listeners on 127.0.0.1 — login's sign-in callback and the
 * credential endpoint of `exec` and `serve`: one request per connection, answered and closed. It
 * replaces `Deno.serve` for what that cannot do: hold a bounded number of connections (another
 * local user's ~20,000 idle connections exhausted the process's file descriptors and crashed
 * `login`, and the endpoint with the command `exec` ran), drop a connection that sends no request
 * in time, and report a failing listener as a value instead of an uncaught rejection.
 *
 * At the cap, a new connection evicts the oldest one that has not sent its request yet, so a flood
 * of idle connections cannot keep a real client out. A connection must send its whole request head
 * within the head timeout and may not stay silent longer than the idle timeout before that. A
 * request head larger than 16 KiB is refused; request bodies are never read.
 *
 * When accepting fails (no descriptor left), the listener either stops (`finished` rejects: login
 * ends cleanly) or, with `keepServing`, drops the oldest waiting connection to free a descriptor,
 * backs off and keeps accepting (the credential endpoint must outlive a flood).
 *
 * @module
 */

/** One request, as the handler sees it. */
export interface LoopbackRequest {
  readonly method: string;
  /** `http://127.0.0.1:PORT` plus the request target; the Host header is in `headers`. */
  readonly url: URL;
  readonly headers: Headers;
  /** The TCP port of the connection's other end (login asks the system who owns it). */
  readonly peerPort: number;
}

/** A running loopback server. */
export interface LoopbackServer {
  readonly port: number;
  /**
   * Settles when the server stops: resolves after {@link LoopbackServer.close}, rejects with the
   * error when accepting a connection failed and the server has stopped (never with
   * `keepServing`, unless the listener itself is gone).
   */
  readonly finished: Promise<void>;
  /** Stops accepting, drops waiting connections, lets answers in progress finish (idempotent). */
  close(): Promise<void>;
}

/** Connections held at once: a browser opens a handful. */
export const MAX_CONNECTIONS = 32;
/** How long a connection may take to send its request head. */
export const HEAD_TIMEOUT_MS = 10_000;
/** How long a connection may stay silent before its request head is complete. */
export const IDLE_TIMEOUT_MS = 5_000;
/** The longest pause between attempts to accept after a failure (`keepServing`). */
export const MAX_ACCEPT_BACKOFF_MS = 1_000;
const MAX_HEAD_BYTES = 16 * 1024;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\/[\x21-\x7e]*) HTTP\/1\.[01]$/;
const REASONS: Record<number, string> = {
  200: "OK",
  302: "Found",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  410: "Gone",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/**
 * Starts serving on 127.0.0.1.
 *
 * @param p.port The port, 0 for any free one.
 * @param p.handler Answers a request; a throw becomes a plain 500.
 * @param p.maxConnections Connections held at once (default {@link MAX_CONNECTIONS}).
 * @param p.headTimeoutMs Time for a connection to send its request head (default 10 s).
 * @param p.idleTimeoutMs Time a connection may stay silent before its head is complete (default
 *   5 s).
 * @param p.keepServing When accepting fails, back off and keep accepting instead of stopping.
 * @param p.onAcceptError Told of each failure to accept and, with `keepServing`, the pause before
 *   the next attempt.
 * @param p.listen Opens the listener (tests replace it); default `Deno.listen`.
 * @throws What `Deno.listen` throws (AddrInUse, PermissionDenied, …).
 */
export function serveLoopback(p: {
  port: number;
  handler: (request: LoopbackRequest) => Response | Promise<Response>;
  maxConnections?: number;
  headTimeoutMs?: number;
  idleTimeoutMs?: number;
  keepServing?: boolean;
  onAcceptError?: (err: unknown, retryInMs?: number) => void;
  listen?: (options: Deno.TcpListenOptions) => Deno.Listener;
}): LoopbackServer {
  const listener = (p.listen ?? Deno.listen)({ hostname: "127.0.0.1", port: p.port });
  const port = (listener.addr as Deno.NetAddr).port;
  const max = p.maxConnections ?? MAX_CONNECTIONS;
  const headTimeoutMs = p.headTimeoutMs ?? HEAD_TIMEOUT_MS;
  const idleTimeoutMs = p.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  /** Open connections, oldest first; true while still waiting for the request head. */
  const open = new Map<Deno.Conn, boolean>();
  /** Each connection's task, until it has ended and its descriptor is released. */
  const tasks = new Map<Deno.Conn, Promise<void>>();
  let closed = false;
  /** Ends a pause between attempts to accept (on close). */
  let wake = () => {};

  const drop = (conn: Deno.Conn) => {
    if (!open.delete(conn)) return;
    try {
      conn.close();
    } catch { /* already closed */ }
  };

  /** Drops the oldest connection still waiting for its head and waits until it is released. */
  const evictOldestWaiting = async (): Promise<boolean> => {
    const waiting = [...open].find(([, isWaiting]) => isWaiting)?.[0];
    if (waiting === undefined) return false;
    drop(waiting);
    // Its descriptor is freed only once the pending read has been cancelled: wait for that, or a
    // burst of connections would outrun the releases.
    await tasks.get(waiting);
    return true;
  };

  const serve = async (conn: Deno.Conn) => {
    open.set(conn, true);
    const timer = setTimeout(() => drop(conn), headTimeoutMs);
    let idle = setTimeout(() => drop(conn), idleTimeoutMs);
    const heard = () => {
      clearTimeout(idle);
      idle = setTimeout(() => drop(conn), idleTimeoutMs);
    };
    try {
      const head = await readHead(conn, heard);
      clearTimeout(timer);
      clearTimeout(idle);
      if (head === null || !open.has(conn)) return;
      open.set(conn, false);
      const response = head === "too large"
        ? new Response("Request header too large", { status: 431 })
        : await answer(head, port, p.handler, (conn.remoteAddr as Deno.NetAddr).port);
      await write(conn, response);
    } catch {
      // A peer that went away, or a connection dropped at the cap or timeout: nothing to answer.
    } finally {
      clearTimeout(timer);
      clearTimeout(idle);
      drop(conn);
    }
  };

  const stop = (err: unknown) => {
    closed = true;
    for (const c of [...open.keys()]) drop(c);
    try {
      listener.close();
    } catch { /* already closed */ }
    throw err;
  };

  const acceptLoop = async () => {
    let backoffMs = 0;
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
        backoffMs = 0;
      } catch (err) {
        if (closed) return;
        if (!p.keepServing || err instanceof Deno.errors.BadResource) {
          p.onAcceptError?.(err);
          stop(err);
        }
        // Most likely no descriptor is left (EMFILE): free one of ours and let the flood drain
        // rather than spin on the same failure.
        backoffMs = Math.min(MAX_ACCEPT_BACKOFF_MS, Math.max(10, backoffMs * 2));
        p.onAcceptError?.(err, backoffMs);
        await evictOldestWaiting();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, backoffMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        continue;
      }
      if (closed) {
        conn.close();
        return;
      }
      if (tasks.size >= max && !(await evictOldestWaiting())) {
        conn.close();
        continue;
      }
      tasks.set(conn, serve(conn).finally(() => tasks.delete(conn)));
    }
  };
  const finished = acceptLoop();
  finished.catch(() => {}); // the owner reads it; an unread failure must not crash the process

  let closing: Promise<void> | undefined;
  return {
    port,
    finished,
    close() {
      return closing ??= (async () => {
        closed = true;
        wake();
        try {
          listener.close();
        } catch { /* already closed after a failure */ }
        for (const [conn, isWaiting] of [...open]) if (isWaiting) drop(conn);
        await Promise.allSettled([finished, ...tasks.values()]);
      })();
    },
  };
}

/**
 * Reads up to the blank line ending the request head; null when the peer closed first. `heard` is
 * called after each chunk received.
 */
async function readHead(
  conn: Deno.Conn,
  heard: () => void,
): Promise<string | "too large" | null> {
  const buffer = new Uint8Array(MAX_HEAD_BYTES);
  let length = 0;
  for (;;) {
    if (length === buffer.length) return "too large";
    const n = await conn.read(buffer.subarray(length));
    if (n === null) return null;
    heard();
    for (let i = Math.max(3, length); i < length + n; i++) {
      if (
        buffer[i - 3] === 13 && buffer[i - 2] === 10 && buffer[i - 1] === 13 && buffer[i] === 10
      ) {
        return new TextDecoder().decode(buffer.subarray(0, i - 3));
      }
    }
    length += n;
  }
}

/** Parses the head and asks the handler; a malformed head is a 400. */
async function answer(
  head: string,
  port: number,
  handler: (request: LoopbackRequest) => Response | Promise<Response>,
  peerPort: number,
): Promise<Response> {
  const [requestLine, ...lines] = head.split("\r\n");
  const match = REQUEST_LINE.exec(requestLine ?? "");
  const headers = new Headers();
  try {
    if (!match) throw new SyntaxError("bad request line");
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon <= 0) throw new SyntaxError("bad header line");
      headers.append(line.slice(0, colon), line.slice(colon + 1).trim()); // throws on bad bytes
    }
  } catch {
    return new Response("Bad request", { status: 400 });
  }
  const url = new URL(`http://127.0.0.1:${port}${match[2]}`);
  try {
    return await handler({ method: match[1]!, url, headers, peerPort });
  } catch {
    return new Response("Internal error", { status: 500 });
  }
}

/** Writes the response with `Connection: close`. */
async function write(conn: Deno.Conn, response: Response): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  let head = `HTTP/1.1 ${response.status} ${REASONS[response.status] ?? "Status"}\r\n`;
  for (const [name, value] of response.headers) {
    if (name !== "content-length" && name !== "connection") head += `${name}: ${value}\r\n`;
  }
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  const headBytes = new TextEncoder().encode(head);
  const bytes = new Uint8Array(headBytes.length + body.length);
  bytes.set(headBytes);
  bytes.set(body, headBytes.length);
  for (let written = 0; written < bytes.length;) {
    written += await conn.write(bytes.subarray(written));
  }
}
