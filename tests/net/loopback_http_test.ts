import assert from "node:assert/strict";
import { type LoopbackServer, serveLoopback } from "../../lib/net/loopback_http.ts";
import { closeAtDeadline } from "../helpers/bounded.ts";

/**
 * A server answering every request with 200 and the request's method and path; closed at scope end
 * or at its deadline.
 */
function echo(
  options: { maxConnections?: number; headTimeoutMs?: number; idleTimeoutMs?: number } = {},
) {
  const server = serveLoopback({
    port: 0,
    handler: ({ method, url, headers }) =>
      new Response(`${method} ${url.pathname}${url.search} ${headers.get("x-test") ?? ""}`, {
        headers: { "x-answer": "yes" },
      }),
    ...options,
  });
  return closeAtDeadline(server);
}

/** Sends `bytes` on a new connection and reads until the server closes it. */
async function exchange(server: LoopbackServer, bytes: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await conn.write(new TextEncoder().encode(bytes));
    return await new Response(conn.readable).text();
  } catch (err) {
    conn.close();
    throw err;
  }
}

/** Resolves once the server has closed `conn` (a read returns end of stream). */
async function closedByServer(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(1024);
  while (await conn.read(buf).catch(() => null) !== null) { /* discard */ }
}

/** Fails with `what` when `promise` takes longer than `ms`: a bound, not a speed claim. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("serveLoopback() answers one GET per connection and closes it", async () => {
  await using server = echo();
  const reply = await fetch(`http://127.0.0.1:${server.port}/a/b?c=d`, {
    headers: { "x-test": "t" },
  });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get("x-answer"), "yes");
  assert.equal(reply.headers.get("connection"), "close");
  assert.equal(await reply.text(), "GET /a/b?c=d t");
  const raw = await exchange(server, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
  assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(raw, /\r\ncontent-length: 7\r\nconnection: close\r\n\r\nGET \/x $/);
});

Deno.test("serveLoopback() gives each status the callback and the credential endpoint answer with its reason phrase", async () => {
  // 401, 403 and 503 are what the credential endpoint answers without a token, with a wrong one and
  // while Sign-In cannot be reached; 403 is also login's answer to another user's connection.
  const phrases: Record<number, string> = {
    200: "OK",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    500: "Internal Server Error",
    503: "Service Unavailable",
  };
  const server = closeAtDeadline(serveLoopback({
    port: 0,
    handler: ({ url }) => new Response(null, { status: Number(url.pathname.slice(1)) }),
  }));
  await using _ = server;
  for (const [status, phrase] of Object.entries(phrases)) {
    const raw = await exchange(server, `GET /${status} HTTP/1.1\r\nHost: h\r\n\r\n`);
    assert.equal(raw.split("\r\n")[0], `HTTP/1.1 ${status} ${phrase}`);
  }
});

Deno.test("serveLoopback() refuses a malformed head with 400 and an oversized one with 431", async () => {
  await using server = echo();
  for (
    const head of [
      "GET http://evil.example/ HTTP/1.1\r\n\r\n", // absolute form
      "GET /x HTTP/2.0\r\n\r\n",
      "GET /a b HTTP/1.1\r\n\r\n",
      "GET /x HTTP/1.1\r\nno colon here\r\n\r\n",
      "GET /x HTTP/1.1\r\nbad name: v\r\n\r\n",
      "GET /x HTTP/1.1\r\nx: \u0100\r\n\r\n",
    ]
  ) {
    assert.match(await exchange(server, head), /^HTTP\/1\.1 400 /, JSON.stringify(head));
  }
  const huge = `GET /x HTTP/1.1\r\nx-big: ${"a".repeat(20_000)}\r\n\r\n`;
  assert.match(await exchange(server, huge), /^HTTP\/1\.1 431 /);
  // The server still answers.
  assert.equal((await fetch(`http://127.0.0.1:${server.port}/ok`)).status, 200);
});

Deno.test("serveLoopback() holds at most maxConnections: a flood of idle connections cannot keep a request out", async () => {
  await using server = echo({ maxConnections: 8, headTimeoutMs: 60_000 });
  const idle: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 100; i++) {
      idle.push(await Deno.connect({ hostname: "127.0.0.1", port: server.port }));
    }
    // The oldest idle connections were dropped to make room: all but the newest 8 are closed.
    await within(
      Promise.all(idle.slice(0, 92).map(closedByServer)),
      10_000,
      "dropping the idle connections beyond the cap",
    );
    const reply = await fetch(`http://127.0.0.1:${server.port}/still-here`);
    assert.equal(await reply.text(), "GET /still-here ");
  } finally {
    for (const conn of idle) {
      try {
        conn.close();
      } catch { /* closed by the server */ }
    }
  }
});

Deno.test("serveLoopback() drops a connection that sends no request in time", async () => {
  await using server = echo({ headTimeoutMs: 100 });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await conn.write(new TextEncoder().encode("GET /slow HTTP/1.1\r\n")); // never finished
    await within(closedByServer(conn), 10_000, "dropping the silent connection");
  } finally {
    conn.close();
  }
});

Deno.test("serveLoopback()'s finished rejects when accepting fails, and close() still works", async () => {
  const real = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const failure = new Error("Too many open files (os error 24)");
  const fake = {
    addr: real.addr,
    accept: () => Promise.reject(failure),
    close: () => real.close(),
  };
  const server = serveLoopback({
    port: 0,
    handler: () => new Response("x"),
    listen: () => fake as unknown as Deno.Listener,
  });
  await assert.rejects(server.finished, (err) => err === failure);
  await server.close();
  // The listener is closed: closing it again finds no resource. (Not "connecting to its port is
  // refused": under --parallel another test's listener can be given the freed port at once.)
  assert.throws(() => real.close(), Deno.errors.BadResource);
});

Deno.test("serveLoopback() drops a connection that stays silent, long before the head timeout", async () => {
  await using server = echo({ headTimeoutMs: 600_000, idleTimeoutMs: 100 });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await conn.write(new TextEncoder().encode("GET /slow HTTP/1.1\r\n")); // then silence
    await within(closedByServer(conn), 10_000, "dropping the silent connection");
  } finally {
    conn.close();
  }
});

Deno.test("serveLoopback() with keepServing backs off after a failure to accept and keeps answering", async () => {
  const real = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const failure = new Error("Too many open files (os error 24)");
  let failures = 3;
  const flaky = {
    addr: real.addr,
    accept: () => failures-- > 0 ? Promise.reject(failure) : real.accept(),
    close: () => real.close(),
  };
  const seen: [unknown, number | undefined][] = [];
  await using server = closeAtDeadline(serveLoopback({
    port: 0,
    handler: () => new Response("still here"),
    keepServing: true,
    onAcceptError: (err, retryInMs) => seen.push([err, retryInMs]),
    listen: () => flaky as unknown as Deno.Listener,
  }));
  const reply = await fetch(`http://127.0.0.1:${server.port}/`);
  assert.equal(await reply.text(), "still here");
  assert.deepEqual(seen.map(([err]) => err), [failure, failure, failure]);
  // Each pause is longer than the one before (up to a bound).
  const pauses = seen.map(([, ms]) => ms!);
  assert.ok(pauses[0]! > 0 && pauses[0]! < pauses[1]! && pauses[1]! < pauses[2]!, `${pauses}`);
  let settled = false;
  server.finished.then(() => settled = true, () => settled = true);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(settled, false, "the server stopped");
});
