import assert from "node:assert/strict";
import { LoginError } from "../../lib/errors.ts";
import { parseCallbackQuery, startCallbackServer } from "../../lib/login/callback_server.ts";

const STATE = "0b8a5b1e-2f7c-4d0a-9c1e-5a6b7c8d9e0f";

/** A raw HTTP/1.1 request, so the test controls the Host header; returns status and body. */
async function raw(
  port: number,
  target: string,
  options: { host?: string; method?: string } = {},
): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const host = options.host ?? `127.0.0.1:${port}`;
    const request = `${options.method ?? "GET"} ${target} HTTP/1.1\r\nHost: ${host}\r\n` +
      `Connection: close\r\n\r\n`;
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

async function get(url: string): Promise<{ status: number; body: string }> {
  const reply = await fetch(url);
  return { status: reply.status, body: await reply.text() };
}

/** Whether `settled` has settled, without waiting for it. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  const pending = Symbol();
  const value = await Promise.race([promise.then(() => 1, () => 1), Promise.resolve(pending)]);
  return value !== pending;
}

Deno.test("startCallbackServer() hands over the code of a valid callback and says so", async () => {
  await using server = startCallbackServer({ state: STATE });
  assert.equal(server.redirectUri, `http://127.0.0.1:${server.port}/oauth/callback`);
  const reply = await get(`${server.redirectUri}?code=THECODE&state=${STATE}`);
  assert.equal(reply.status, 200);
  assert.match(reply.body, /Signed in/);
  assert.match(reply.body, /close this tab/);
  assert.doesNotMatch(reply.body, /THECODE/);
  assert.equal(await server.code, "THECODE");
});

Deno.test("startCallbackServer() listens on 127.0.0.1 only", async () => {
  await using server = startCallbackServer({ state: STATE });
  // 127.0.0.2 is loopback too on Linux: a listener on 0.0.0.0 would accept it.
  await assert.rejects(() => Deno.connect({ hostname: "127.0.0.2", port: server.port }));
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  conn.close();
});

Deno.test("startCallbackServer() refuses another Host header (DNS rebinding) and keeps waiting", async () => {
  await using server = startCallbackServer({ state: STATE });
  const target = `/oauth/callback?code=EVIL&state=${STATE}`;
  for (const host of ["evil.example", `localhost:${server.port}`, "127.0.0.1", "127.0.0.1:1"]) {
    assert.equal((await raw(server.port, target, { host })).status, 400, host);
  }
  assert.equal(await isSettled(server.code), false);
  await get(`${server.redirectUri}?code=GOOD&state=${STATE}`);
  assert.equal(await server.code, "GOOD");
});

Deno.test("startCallbackServer() answers 404 on other paths and 405 on other methods", async () => {
  await using server = startCallbackServer({ state: STATE });
  const base = `http://127.0.0.1:${server.port}`;
  assert.equal((await get(`${base}/favicon.ico`)).status, 404);
  assert.equal((await get(`${base}/?code=X&state=${STATE}`)).status, 404);
  assert.equal((await get(`${base}/oauth/callback/x?code=X&state=${STATE}`)).status, 404);
  const post = await fetch(`${server.redirectUri}?code=X&state=${STATE}`, { method: "POST" });
  await post.body?.cancel();
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET");
  assert.equal(await isSettled(server.code), false);
  await get(`${server.redirectUri}?code=GOOD&state=${STATE}`);
  assert.equal(await server.code, "GOOD");
});

Deno.test("startCallbackServer() keeps waiting after a missing or wrong state", async () => {
  await using server = startCallbackServer({ state: STATE });
  const missing = await get(`${server.redirectUri}?code=X`);
  assert.equal(missing.status, 400);
  assert.match(missing.body, /does not belong to the sign-in/);
  assert.equal((await get(`${server.redirectUri}?code=X&state=other`)).status, 400);
  assert.equal((await get(`${server.redirectUri}?error=access_denied&state=other`)).status, 400);
  assert.equal((await get(`${server.redirectUri}?state=${STATE}`)).status, 400);
  assert.equal(await isSettled(server.code), false);
  await get(`${server.redirectUri}?code=GOOD&state=${STATE}`);
  assert.equal(await server.code, "GOOD");
});

Deno.test("startCallbackServer() ends with ERR_LOGIN_DENIED on an error for this state", async () => {
  await using server = startCallbackServer({ state: STATE });
  const query = new URLSearchParams({
    error: "access_denied",
    error_description: "The user <b>declined</b>\nthe request",
    state: STATE,
  });
  const reply = await get(`${server.redirectUri}?${query}`);
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
  const server = startCallbackServer({ state: STATE });
  await get(`${server.redirectUri}?code=ONE&state=${STATE}`);
  assert.equal(await server.code, "ONE");
  await server.close();
  await assert.rejects(() => Deno.connect({ hostname: "127.0.0.1", port: server.port }));
  await server.close(); // idempotent
});

Deno.test("startCallbackServer() closes on its own, without close(), after the callback", async () => {
  const server = startCallbackServer({ state: STATE });
  await get(`${server.redirectUri}?code=ONE&state=${STATE}`);
  await server.code;
  // Give the graceful shutdown its turn; connection attempts must then be refused.
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
  assert.throws(() => startCallbackServer({ state: STATE, port }), (err: unknown) => {
    assert.ok(err instanceof LoginError);
    assert.equal(err.code, "ERR_LOGIN_PORT");
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}.*in use.*--redirect-port`));
    return true;
  });
});

Deno.test("startCallbackServer() uses the --redirect-port it is given", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  await using server = startCallbackServer({ state: STATE, port });
  assert.equal(server.port, port);
  assert.equal(server.redirectUri, `http://127.0.0.1:${port}/oauth/callback`);
});

Deno.test("startCallbackServer() never logs the code", async () => {
  const lines: string[] = [];
  await using server = startCallbackServer({ state: STATE, log: (line) => lines.push(line) });
  await get(`${server.redirectUri}?code=SECRETCODE&state=wrong`);
  await get(`${server.redirectUri}?code=SECRETCODE&state=${STATE}`);
  await server.code;
  assert.equal(lines.length, 2);
  assert.doesNotMatch(lines.join("\n"), /SECRETCODE/);
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
