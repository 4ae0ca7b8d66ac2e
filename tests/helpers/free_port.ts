/**
 * A port for a test that must tell a program which port to listen on (`serve --port`,
 * `login --redirect-port`, the README's emulator).
 *
 * Not the port of a listener the test opened on port 0 and closed: under `deno test --parallel`
 * the OS can give that port to another test's listener (or a connection's local end) before the
 * program listens. Those come from the ephemeral range only (Linux: ip_local_port_range, 32768
 * and up by default; macOS and Windows 49152 and up), so a port below it cannot be taken that way.
 * Which one is random, and checked free now: a host service on it just means another is picked.
 *
 * @module
 */

/** Where the OS's ephemeral ports start. */
function ephemeralStart(): number {
  if (Deno.build.os !== "linux") return 49152;
  const range = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range");
  return Number(range.trim().split(/\s+/)[0]);
}

/** A port on 127.0.0.1 that is free now and that no port-0 listener can be given meanwhile. */
export function listenablePort(): number {
  const bottom = 10_000;
  const top = Math.min(ephemeralStart(), 32_768) - 1;
  if (!(top > bottom)) throw new Error(`The ephemeral port range starts at ${top + 1}: too low`);
  for (let tries = 0; tries < 100; tries++) {
    const port = bottom + Math.floor(Math.random() * (top - bottom + 1));
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch (err) {
      if (!(err instanceof Deno.errors.AddrInUse)) throw err;
    }
  }
  throw new Error(`No free port between ${bottom} and ${top}`);
}
