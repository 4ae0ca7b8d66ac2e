/**
 * Test helper: another local user's connection flood against one of aws-login's listeners on
 * 127.0.0.1, and the descriptor limit that makes it bite. Linux only (/proc and util-linux
 * `prlimit`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { outputBounded } from "./bounded.ts";

/** The number of descriptors process `pid` has open. */
export async function openDescriptors(pid: number): Promise<number> {
  return (await Array.fromAsync(Deno.readDir(`/proc/${pid}/fd`))).length;
}

/**
 * Sets the open-files limit of the running process `pid` (util-linux `prlimit`): both the soft
 * and the hard limit, or with `softOnly` the soft one (which can then be raised again).
 */
export async function limitDescriptors(
  pid: number,
  limit: number,
  options: { softOnly?: boolean } = {},
): Promise<void> {
  const out = await outputBounded("prlimit", {
    args: ["--pid", String(pid), `--nofile=${limit}:${options.softOnly ? "" : limit}`],
    stdout: "null",
  });
  assert.ok(out.success, `prlimit failed: ${out.stderr}`);
}

/**
 * Opens up to `count` idle connections to 127.0.0.1:`port` (the caller closes them). It stops early
 * when the listener is gone: a listener out of descriptors may already have shut down, even while
 * the first connection is being made (the kernel queued it, then the listener closed and reset
 * it), which is for the test's own assertions to judge.
 */
export async function flood(port: number, count: number): Promise<Deno.Conn[]> {
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < count; i++) {
    try {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    } catch (err) {
      // Refused once it has closed; reset when it closes while the connection is made.
      const gone = err instanceof Deno.errors.ConnectionRefused ||
        err instanceof Deno.errors.ConnectionReset;
      if (gone) break;
      throw err;
    }
  }
  return conns;
}

export function closeAll(conns: Deno.Conn[]): void {
  for (const conn of conns) {
    try {
      conn.close();
    } catch { /* closed by the listener */ }
  }
}

/**
 * Opens `count` connections that each send the start of a request and then nothing (the caller
 * closes them): held forever by a server without a head timeout.
 */
export async function halfSent(port: number, count: number): Promise<Deno.Conn[]> {
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < count; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conns.push(conn);
    await conn.write(new TextEncoder().encode(`GET /${i} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`));
  }
  return conns;
}

/** Resolves once the server has closed `conn` (a read returns end of stream or fails). */
export async function closedByServer(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(1024);
  while (await conn.read(buf).catch(() => null) !== null) { /* discard */ }
}
