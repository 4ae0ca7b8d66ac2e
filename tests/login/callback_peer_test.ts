/**
 * The callback listener's owner check (lib/login/peer_owner.ts): on Linux the one-time sign-in link
 * and the callback are accepted only from a connection whose socket belongs to the user running
 * aws-login. Tests do not run as two users, so the owner lookup is replaced by a fake that says a
 * given connection belongs to another uid; the parser is also run on the real `/proc` tables with a
 * live connection.
 */
import assert from "node:assert/strict";
import {
  CALLBACK_PATH,
  type CallbackServer,
  startCallbackServer,
} from "../../lib/login/callback_server.ts";
import {
  ownerIn,
  ownUid,
  parseProcNetTcp,
  type PeerOwner,
  procNetLookup,
} from "../../lib/login/peer_owner.ts";
import { closeAtDeadline } from "../helpers/bounded.ts";

const STATE = "0b8a5b1e-2f7c-4d0a-9c1e-5a6b7c8d9e0f";
const AUTHORIZE = "https://signin.example/v1/authorize";
const ME = 1000;
const linux = { test: Deno.build.os === "linux" ? Deno.test : Deno.test.ignore };

/** A fake owner table: peer port → uid; ports not in it are "not found". */
function owners(): { table: Map<number, number>; lookup: (peer: number) => PeerOwner } {
  const table = new Map<number, number>();
  return {
    table,
    lookup: (peer) => {
      const uid = table.get(peer);
      return uid === undefined
        ? { found: false, why: "not in the fake table" }
        : { found: true, uid };
    },
  };
}

function start(
  lookup: ((peer: number, listener: number) => PeerOwner) | null | undefined,
  log: string[] = [],
  options: { uid?: number } = { uid: ME },
): CallbackServer {
  return closeAtDeadline(startCallbackServer({
    state: STATE,
    authorizeUrl: (redirectUri) =>
      `${AUTHORIZE}?${new URLSearchParams({ state: STATE, redirect_uri: redirectUri })}`,
    log: (line) => log.push(line),
    ...(lookup === undefined ? {} : { peerOwner: lookup }),
    ...options,
  }));
}

/**
 * A GET over a connection whose port is known before the request is sent, so the fake table can
 * name its owner first. Returns the status, the Set-Cookie value and the body.
 */
async function request(
  server: CallbackServer,
  target: string,
  options: { uid?: number; table?: Map<number, number>; cookie?: string } = {},
): Promise<{ status: number; setCookie?: string; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    if (options.uid !== undefined) options.table!.set(conn.localAddr.port, options.uid);
    const cookie = options.cookie === undefined ? "" : `Cookie: ${options.cookie}\r\n`;
    await conn.write(
      new TextEncoder().encode(
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n${cookie}Connection: close\r\n\r\n`,
      ),
    );
    let text = "";
    const buf = new Uint8Array(16384);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return {
      status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]),
      setCookie: /\r\nset-cookie: ([^;\r]+)/i.exec(text)?.[1],
      body: text.slice(text.indexOf("\r\n\r\n") + 4),
    };
  } finally {
    try {
      conn.close();
    } catch { /* closed by the server */ }
  }
}

const linkOf = (server: CallbackServer) => new URL(server.startUrl).pathname;

Deno.test("the sign-in link opened from another user's connection is refused and stays unused", async () => {
  const { table, lookup } = owners();
  const log: string[] = [];
  await using server = start(lookup, log);
  const stranger = await request(server, linkOf(server), { uid: ME + 1, table });
  assert.equal(stranger.status, 403);
  assert.equal(stranger.setCookie, undefined, "no cookie for another user");
  assert.doesNotMatch(stranger.body, /signin\.example/);
  assert.ok(
    log.some((l) => /403 connection from another user \(uid 1001\)/.test(l)),
    log.join("\n"),
  );
  // The user's own browser still gets the link's one use, and with it the callback.
  const mine = await request(server, linkOf(server), { uid: ME, table });
  assert.equal(mine.status, 302);
  const callback = `${CALLBACK_PATH}?code=THECODE&state=${STATE}`;
  const stolen = await request(server, callback, { uid: ME + 1, table, cookie: mine.setCookie });
  assert.equal(stolen.status, 403, "a callback from another user, even with the cookie");
  const ok = await request(server, callback, { uid: ME, table, cookie: mine.setCookie });
  assert.equal(ok.status, 200);
  assert.equal(await server.code, "THECODE");
});

Deno.test("a connection whose owner is not found is accepted as before, and --debug says why", async () => {
  const { lookup } = owners(); // empty: nothing is found (another network namespace, no /proc)
  const log: string[] = [];
  await using server = start(lookup, log);
  const link = await request(server, linkOf(server));
  assert.equal(link.status, 302);
  assert.ok(
    log.some((l) =>
      /^GET <sign-in link>: 302 .*\(owner of the connection from port \d+ unknown: not in the fake table\)$/
        .test(l)
    ),
    log.join("\n"),
  );
  const ok = await request(server, `${CALLBACK_PATH}?code=C&state=${STATE}`, {
    cookie: link.setCookie,
  });
  assert.equal(ok.status, 200);
  assert.equal(await server.code, "C");
});

Deno.test("no owner check where there is no lookup or no uid (other systems)", async () => {
  const { table, lookup } = owners();
  await using noLookup = start(null);
  assert.equal((await request(noLookup, linkOf(noLookup))).status, 302);
  await using noUid = start(lookup, [], { uid: undefined });
  assert.equal((await request(noUid, linkOf(noUid), { uid: ME + 1, table })).status, 302);
});

linux.test("the default lookup reads the real /proc tables: this user's browser is accepted", async () => {
  const log: string[] = [];
  await using server = start(undefined, log, {}); // this process's uid
  const link = await request(server, linkOf(server));
  assert.equal(link.status, 302, log.join("\n"));
  assert.ok(!log.some((l) => /unknown/.test(l)), log.join("\n"));
  // The same user, told apart from another: another uid for this process is refused.
  await using strict = start(undefined, log, { uid: (ownUid() ?? 0) + 1 });
  assert.equal((await request(strict, linkOf(strict))).status, 403);
});

Deno.test("parseProcNetTcp() reads IPv4, IPv4-mapped and IPv6 addresses, ports and uids", () => {
  const text = [
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
    "   0: 0100007F:A1B2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 123 1 0 20 4 30 10 -1",
    "   1: 0500A8C0:0050 0A00000A:C350 01 00000000:00000000 00:00000000 00000000     0        0 124",
    "garbage line",
  ].join("\n");
  assert.deepEqual(parseProcNetTcp(text), [
    {
      localAddress: "127.0.0.1",
      localPort: 0xa1b2,
      remoteAddress: "127.0.0.1",
      remotePort: 8080,
      uid: 1000,
    },
    {
      localAddress: "192.168.0.5",
      localPort: 80,
      remoteAddress: "10.0.0.10",
      remotePort: 50000,
      uid: 0,
    },
  ]);
  const text6 = [
    "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
    "   0: 0000000000000000FFFF00000100007F:D431 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000  1001        0 9",
    "   1: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   106        0 10",
    "   2: B80D0120000000000000000001000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     7        0 11",
  ].join("\n");
  assert.deepEqual(parseProcNetTcp(text6), [
    {
      localAddress: "127.0.0.1",
      localPort: 0xd431,
      remoteAddress: "127.0.0.1",
      remotePort: 8080,
      uid: 1001,
    },
    {
      localAddress: "0:0:0:0:0:0:0:1",
      localPort: 631,
      remoteAddress: "0:0:0:0:0:0:0:0",
      remotePort: 0,
      uid: 106,
    },
    {
      localAddress: "2001:db8:0:0:0:0:0:1",
      localPort: 443,
      remoteAddress: "0:0:0:0:0:0:0:0",
      remotePort: 0,
      uid: 7,
    },
  ]);
});

Deno.test("ownerIn() finds the peer's socket in either table, not our own end of it", () => {
  const tables = "header\n   0: 0100007F:A1B2 0100007F:1F90 01 0:0 0:0 0 1234 0 1\n" +
    // Our own end of the same connection (owned by us) must not be taken for the peer's.
    "   1: 0100007F:1F90 0100007F:A1B2 01 0:0 0:0 0 1000 0 2\n" +
    "header6\n   0: 0000000000000000FFFF00000100007F:BEEF 0000000000000000FFFF00000100007F:1F90 " +
    "01 0:0 0:0 0 4321 0 3\n";
  assert.deepEqual(ownerIn(tables, 0xa1b2, 8080), { found: true, uid: 1234 });
  assert.deepEqual(ownerIn(tables, 0xbeef, 8080), { found: true, uid: 4321 });
  assert.deepEqual(ownerIn(tables, 8080, 0xa1b2), { found: true, uid: 1000 });
  assert.deepEqual(ownerIn(tables, 0xa1b2, 9999), {
    found: false,
    why: "port 41394 is not in /proc/net/tcp or /proc/net/tcp6 (another network namespace?)",
  });
});

linux.test("the parser and the /proc reader find a live connection's owner, IPv4 and IPv6", async () => {
  await using reader = { ...procNetLookup(), [Symbol.asyncDispose]: () => reader.close() };
  for (const hostname of ["127.0.0.1", "::1"]) {
    const listener = Deno.listen({ hostname, port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    try {
      const client = await Deno.connect({ hostname, port });
      const server = await listener.accept();
      try {
        // The real tables, as this (unrestricted) test process can read them.
        const text = Deno.readTextFileSync(hostname === "::1" ? "/proc/net/tcp6" : "/proc/net/tcp");
        const mine = parseProcNetTcp(text).find((s) =>
          s.localPort === client.localAddr.port && s.remotePort === port
        );
        assert.ok(mine, `the client's socket is not in the table:\n${text}`);
        assert.equal(mine.uid, Deno.uid());
        assert.equal(mine.localAddress, hostname === "::1" ? "0:0:0:0:0:0:0:1" : "127.0.0.1");
        if (hostname === "127.0.0.1") {
          // The reader aws-login uses, asked twice (one shell answers every question).
          for (let i = 0; i < 2; i++) {
            assert.deepEqual(await reader.lookup(client.localAddr.port, port), {
              found: true,
              uid: Deno.uid(),
            });
          }
        }
      } finally {
        client.close();
        server.close();
      }
    } finally {
      listener.close();
    }
  }
  await reader.close();
  const after = await reader.lookup(1, 2);
  assert.deepEqual(after, { found: false, why: "the listener closed" });
});
