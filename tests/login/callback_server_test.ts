import assert from "node:assert/strict";
import { LoginError } from "../../lib/errors.ts";
import {
  type CallbackServer,
  parseCallbackQuery,
  startCallbackServer,
} from "../../lib/login/callback_server.ts";
import { browse, CookieJar } from "../../tools/browser.ts";
import { closeAtDeadline } from "../helpers/bounded.ts";
import { listenablePort } from "../helpers/free_port.ts";

const STATE = "0b8a5b1e-2f7c-4d0a-9c1e-5a6b7c8d9e0f";
const AUTHORIZE = "https://signin.example/v1/authorize";

/**
 * A listener whose sign-in link redirects to a made-up authorize URL naming its callback; closed at
 * scope end or at its deadline.
 */
function start(options: { port?: number; log?: (line: string) => void } = {}): CallbackServer {
  return closeAtDeadline(startCallbackServer({
    state: STATE,
    authorizeUrl: (redirectUri) =>
      `${AUTHORIZE}?${new URLSearchParams({ state: STATE, redirect_uri: redirectUri })}`,
    ...options,
  }));
}

/**
 * Opens the sign-in link like the browser aws-login started (stopping at the authorize page);
 * returns that browser's cookie jar, which the callback then needs.
 */
async function openLink(server: CallbackServer, jar = new CookieJar()): Promise<CookieJar> {
  const { visits } = await browse(server.startUrl, {
    jar,
    stopAt: (url) => url.origin !== new URL(server.startUrl).origin,
  });
  assert.equal(visits[0]!.status, 302);
  return jar;
}

/** A raw HTTP/1.1 request, so the test controls the Host header; returns status and body. */
async function raw(
  port: number,
  target: string,
  options: { host?: string; method?: string; cookie?: string } = {},
): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const host = options.host ?? `127.0.0.1:${port}`;
    const cookie = options.cookie === undefined ? "" : `Cookie: ${options.cookie}\r\n`;
    const request = `${options.method ?? "GET"} ${target} HTTP/1.1\r\nHost: ${host}\r\n` +
      `${cookie}Connection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(request));
    let text = "";
    const buf = new Uint8Array(16384);
    const decoder = new TextDecoder();
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += decoder.decode(buf.subarray(0, n), { stream: true });
    }
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
    return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  } finally {
    try {
      conn.close();
    } catch { /* already closed by the server */ }
  }
}

/** GET `url` with the cookies of `jar` (a browser), or none. */
async function get(url: string, jar?: CookieJar): Promise<{ status: number; body: string }> {
  const cookie = jar?.header(new URL(url));
  const reply = await fetch(url, { headers: cookie ? { cookie } : {} });
  return { status: reply.status, body: await reply.text() };
}

/** Whether `settled` has settled, without waiting for it. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  const pending = Symbol();
  const value = await Promise.race([promise.then(() => 1, () => 1), Promise.resolve(pending)]);
  return value !== pending;
}

Deno.test("startCallbackServer() hands over the code of a valid callback and says so", async () => {
  await using server = start();
  assert.equal(server.redirectUri, `http://127.0.0.1:${server.port}/oauth/callback`);
  const jar = await openLink(server);
  const reply = await get(`${server.redirectUri}?code=THECODE&state=${STATE}`, jar);
  assert.equal(reply.status, 200);
  assert.match(reply.body, /Signed in/);
  assert.match(reply.body, /close this tab/);
  assert.doesNotMatch(reply.body, /THECODE/);
  assert.equal(await server.code, "THECODE");
});

Deno.test("startCallbackServer()'s sign-in link redirects once to the authorize URL with a cookie", async () => {
  await using server = start();
  assert.match(server.startUrl, new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/[\\w-]{43}$`));
  // Nothing of the authorize request is in the link a process listing would show.
  assert.ok(!server.startUrl.includes(STATE));
  const reply = await fetch(server.startUrl, { redirect: "manual" });
  await reply.body?.cancel();
  assert.equal(reply.status, 302);
  const location = new URL(reply.headers.get("location")!);
  assert.equal(location.origin + location.pathname, AUTHORIZE);
  assert.equal(location.searchParams.get("redirect_uri"), server.redirectUri);
  assert.equal(reply.headers.get("referrer-policy"), "no-referrer");
  const cookie = reply.headers.get("set-cookie")!;
  assert.match(
    cookie,
    new RegExp(
      `^aws_login_${server.port}=[\\w-]{43}; Path=/oauth/callback; HttpOnly; SameSite=Lax$`,
    ),
  );
  // Each login has its own link and cookie.
  await using other = start();
  assert.notEqual(new URL(other.startUrl).pathname, new URL(server.startUrl).pathname);
});

Deno.test("startCallbackServer() refuses a right-state callback without the link's cookie (login CSRF)", async () => {
  await using server = start();
  const jar = await openLink(server);
  // Another local user who learnt state (and signed in as themselves) delivers their code.
  const forged = `${server.redirectUri}?code=ATTACKER&state=${STATE}`;
  const noCookie = await get(forged);
  assert.equal(noCookie.status, 400);
  assert.match(noCookie.body, /did not open the sign-in link/);
  await using another = start();
  const own = await openLink(another); // a cookie, but another listener's
  assert.equal((await get(forged, own)).status, 400);
  const name = `aws_login_${server.port}`;
  assert.equal(
    (await raw(server.port, new URL(forged).pathname + new URL(forged).search, {
      cookie: `${name}=${"A".repeat(43)}`,
    })).status,
    400,
  );
  assert.equal(await isSettled(server.code), false);
  const real = await get(`${server.redirectUri}?code=GOOD&state=${STATE}`, jar);
  assert.equal(real.status, 200);
  assert.equal(await server.code, "GOOD");
});

Deno.test("startCallbackServer() ends the login when the sign-in link is opened a second time", async () => {
  await using server = start();
  const browser = await openLink(server);
  const second = await fetch(server.startUrl, { redirect: "manual" });
  assert.equal(second.status, 409);
  assert.equal(second.headers.get("location"), null);
  assert.equal(second.headers.get("set-cookie"), null);
  assert.match(await second.text(), /someone else opened the sign-in link/);
  await assert.rejects(server.code, (err: unknown) => {
    assert.ok(err instanceof LoginError);
    assert.equal(err.code, "ERR_LOGIN_LINK_REUSED");
    assert.match(err.message, /someone else opened the sign-in link/);
    return true;
  });
  // Whoever opened it first cannot finish this login any more.
  await get(`${server.redirectUri}?code=X&state=${STATE}`, browser).then(
    (r) => assert.notEqual(r.status, 200),
    () => {/* the listener is gone */},
  );
});

Deno.test("startCallbackServer() listens on 127.0.0.1 only", async () => {
  await using server = start();
  // 127.0.0.2 is loopback too on Linux: a listener on 0.0.0.0 would accept it.
  await assert.rejects(() => Deno.connect({ hostname: "127.0.0.2", port: server.port }));
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  conn.close();
});

Deno.test("startCallbackServer() refuses another Host header (DNS rebinding) and keeps waiting", async () => {
  await using server = start();
  const target = `/oauth/callback?code=EVIL&state=${STATE}`;
  const link = new URL(server.startUrl).pathname;
  for (const host of ["evil.example", `localhost:${server.port}`, "127.0.0.1", "127.0.0.1:1"]) {
    assert.equal((await raw(server.port, target, { host })).status, 400, host);
    // The link answers only its own Host too, and such a request does not use it up.
    assert.equal((await raw(server.port, link, { host })).status, 400, host);
  }
  assert.equal(await isSettled(server.code), false);
  const jar = await openLink(server);
  await get(`${server.redirectUri}?code=GOOD&state=${STATE}`, jar);
  assert.equal(await server.code, "GOOD");
});

Deno.test("startCallbackServer() answers 404 on other paths and 405 on other methods", async () => {
  await using server = start();
  const jar = await openLink(server);
  const base = `http://127.0.0.1:${server.port}`;
  assert.equal((await get(`${base}/favicon.ico`, jar)).status, 404);
  assert.equal((await get(`${base}/?code=X&state=${STATE}`, jar)).status, 404);
  assert.equal((await get(`${base}/oauth/callback/x?code=X&state=${STATE}`, jar)).status, 404);
  const post = await fetch(`${server.redirectUri}?code=X&state=${STATE}`, { method: "POST" });
  await post.body?.cancel();
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET");
  assert.equal(await isSettled(server.code), false);
  await get(`${server.redirectUri}?code=GOOD&state=${STATE}`, jar);
  assert.equal(await server.code, "GOOD");
});

Deno.test("startCallbackServer() keeps waiting after a missing or wrong state", async () => {
  await using server = start();
  const jar = await openLink(server);
  const missing = await get(`${server.redirectUri}?code=X`, jar);
  assert.equal(missing.status, 400);
  assert.match(missing.body, /does not belong to the sign-in/);
  assert.equal((await get(`${server.redirectUri}?code=X&state=other`, jar)).status, 400);
  assert.equal(
    (await get(`${server.redirectUri}?error=access_denied&state=other`, jar)).status,
    400,
  );
  assert.equal((await get(`${server.redirectUri}?state=${STATE}`, jar)).status, 400);
  assert.equal(await isSettled(server.code), false);
  await get(`${server.redirectUri}?code=GOOD&state=${STATE}`, jar);
  assert.equal(await server.code, "GOOD");
});

Deno.test("startCallbackServer() ends with ERR_LOGIN_DENIED on an error for this state", async () => {
  await using server = start();
  const jar = await openLink(server);
  const query = new URLSearchParams({
    error: "access_denied",
    error_description: "The user <b>declined</b>\nthe request",
    state: STATE,
  });
  const reply = await get(`${server.redirectUri}?${query}`, jar);
  assert.equal(reply.status, 200);
  assert.match(reply.body, /Sign-in failed/);
  assert.match(reply.body, /access_denied/);
  assert.match(reply.body, /&lt;b&gt;declined&lt;\/b&gt;/);
  assert.doesNotMatch(reply.body, /<b>declined/);
  await assert.rejects(server.code, (err: unknown) => {
    assert.ok(err instanceof LoginError);
    assert.equal(err.code, "ERR_LOGIN_DENIED");
    assert.match(err.message, /"access_denied" \(The user <b>declined<\/b> the request\)/);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
});

Deno.test("startCallbackServer() stops listening after the first valid callback", async () => {
  const server = start();
  await get(`${server.redirectUri}?code=ONE&state=${STATE}`, await openLink(server));
  assert.equal(await server.code, "ONE");
  await server.close();
  await assert.rejects(() => Deno.connect({ hostname: "127.0.0.1", port: server.port }));
  await server.close(); // idempotent
});

Deno.test("startCallbackServer() closes on its own, without close(), after the callback", async () => {
  const server = start();
  await get(`${server.redirectUri}?code=ONE&state=${STATE}`, await openLink(server));
  await server.code;
  // Give the shutdown its turn; connection attempts must then be refused.
  let refused = false;
  for (let i = 0; i < 50 && !refused; i++) {
    refused = await Deno.connect({ hostname: "127.0.0.1", port: server.port }).then(
      (conn) => (conn.close(), false),
      () => true,
    );
    if (!refused) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(refused, "the listener is still accepting connections");
  await server.close();
});

Deno.test("startCallbackServer() with a port in use fails with ERR_LOGIN_PORT", () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  assert.throws(() => start({ port }), (err: unknown) => {
    assert.ok(err instanceof LoginError);
    assert.equal(err.code, "ERR_LOGIN_PORT");
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}.*in use.*--redirect-port`));
    return true;
  });
});

Deno.test("startCallbackServer() uses the --redirect-port it is given", async () => {
  const port = listenablePort();
  await using server = start({ port });
  assert.equal(server.port, port);
  assert.equal(server.redirectUri, `http://127.0.0.1:${port}/oauth/callback`);
});

Deno.test("startCallbackServer() ends the login with ERR_LOGIN_PORT when its listener fails", async () => {
  // A listener whose accept fails as it does when the process has no file descriptors left.
  const failing = (options: Deno.TcpListenOptions): Deno.Listener => {
    const real = Deno.listen(options);
    const fake = {
      addr: real.addr,
      accept: () => Promise.reject(new Error("Too many open files (os error 24)")),
      close: () => real.close(),
    };
    return fake as unknown as Deno.Listener;
  };
  await using server = closeAtDeadline(startCallbackServer({
    state: STATE,
    authorizeUrl: () => AUTHORIZE,
    listen: failing,
  }));
  // Bounded: without the protection the code would never settle.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const err = await Promise.race([
    server.code.then(() => "resolved", (e: unknown) => e),
    new Promise((resolve) => timer = setTimeout(() => resolve("still waiting"), 10_000)),
  ]);
  clearTimeout(timer);
  assert.ok(err instanceof LoginError, String(err));
  assert.equal(err.code, "ERR_LOGIN_PORT");
  assert.match(
    err.message,
    new RegExp(`127\\.0\\.0\\.1:${server.port} stopped: Too many open files`),
  );
});

Deno.test("startCallbackServer() never logs the code or the sign-in link", async () => {
  const lines: string[] = [];
  await using server = start({ log: (line) => lines.push(line) });
  const jar = await openLink(server);
  await get(`${server.redirectUri}?code=SECRETCODE&state=wrong`, jar);
  await get(`${server.redirectUri}?code=SECRETCODE&state=${STATE}`, jar);
  await server.code;
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^GET <sign-in link>: 302/);
  assert.doesNotMatch(lines.join("\n"), /SECRETCODE/);
  assert.ok(!lines.join("\n").includes(new URL(server.startUrl).pathname));
});

Deno.test("parseCallbackQuery() returns the code and types every refusal", () => {
  assert.equal(parseCallbackQuery(`?state=${STATE}&code=abc`, STATE), "abc");
  assert.equal(parseCallbackQuery(`code=a%2Bb&state=${STATE}`, STATE), "a+b");
  const codeOf = (search: string) => {
    try {
      parseCallbackQuery(search, STATE);
    } catch (err) {
      assert.ok(err instanceof LoginError);
      return err.code;
    }
    return "none";
  };
  assert.equal(codeOf("code=abc"), "ERR_LOGIN_STATE");
  assert.equal(codeOf("code=abc&state="), "ERR_LOGIN_STATE");
  assert.equal(codeOf("code=abc&state=x"), "ERR_LOGIN_STATE");
  assert.equal(codeOf(`state=${STATE}`), "ERR_LOGIN_CODE");
  assert.equal(codeOf(`state=${STATE}&code=`), "ERR_LOGIN_CODE");
  assert.equal(codeOf(`state=${STATE}&error=access_denied&code=abc`), "ERR_LOGIN_DENIED");
});
