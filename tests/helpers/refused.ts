/**
 * An endpoint nothing can answer, for tests of an unreachable server.
 *
 * Not a port a test listened on and closed: under `deno test --parallel` the OS can hand that port
 * to another test's listener at once, and the "unreachable" server then answers (a Sign-In
 * emulator's error reply turned an expected exit 6 into exit 5). A listener asking for port 0 only
 * gets a port of the ephemeral range (Linux 32768–60999; macOS and Windows 49152–65535) and no test
 * listens on a fixed port, so a well-known port below 1024 cannot be taken by a test. It is checked
 * before use: a machine with a service on it fails here, saying why, not with a puzzling exit code.
 *
 * @module
 */

/**
 * `http://127.0.0.1:<port>` after checking that the port refuses connections. The default, 2, is
 * not on fetch's list of blocked ports (1, 7, 9, …), whose requests fail before any connection.
 */
export async function refusedEndpoint(port = 2): Promise<string> {
  if (port <= 0 || port >= 1024) throw new RangeError(`${port} can be an ephemeral port`);
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch (err) {
    if (err instanceof Deno.errors.ConnectionRefused) return `http://127.0.0.1:${port}`;
    throw err;
  }
  conn.close();
  throw new Error(`Something listens on 127.0.0.1:${port}: the test needs a port that refuses`);
}
