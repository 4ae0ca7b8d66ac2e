/**
 * A local Sign-In endpoint (the emulator, a test server) at each loopback name the endpoint rules
 * accept works under the "default" permission set — `http://[::1]:P` included — and a loopback
 * address the set does not allow (127.0.0.2, …) is refused before anything happens, with the names
 * that work, instead of a bare Deno permission error.
 */
import assert from "node:assert/strict";
import { EXIT } from "../../lib/errors.ts";
import { runCli, tempHome } from "../helpers/cli.ts";
import { closeAtDeadline } from "../helpers/bounded.ts";
import { createSession, expireIn, readJson, startEmulator } from "../helpers/session.ts";

const ARN = "arn:aws:iam::123456789012:user/Alice";

/**
 * A TCP relay on [::1] to the emulator on 127.0.0.1 (it listens on IPv4 only), so aws-login
 * reaches Sign-In at `http://[::1]:port`.
 */
function ipv6Relay(target: number): { port: number; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "::1", port: 0 });
  const open = new Set<Deno.Conn>();
  const pipe = (from: Deno.Conn, to: Deno.Conn) =>
    from.readable.pipeTo(to.writable).catch(() => {}).finally(() => {
      for (const conn of [from, to]) {
        try {
          conn.close();
        } catch { /* closed already */ }
        open.delete(conn);
      }
    });
  const accepting = (async () => {
    for await (const client of listener) {
      open.add(client);
      Deno.connect({ hostname: "127.0.0.1", port: target }).then((server) => {
        open.add(server);
        pipe(client, server);
        pipe(server, client);
      }, () => client.close());
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      try {
        listener.close();
      } catch { /* closed already */ }
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* closed already */ }
      }
      await accepting;
    },
  };
}

Deno.test("a session at http://[::1]:port refreshes under the permission set", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  await using relay = closeAtDeadline(ipv6Relay(Number(new URL(emulator.url).port)));
  await using home = await tempHome();
  const url = `http://[::1]:${relay.port}`;
  const session = await createSession({ url, home, profile: "dev" });
  assert.equal(session.env.AWS_ENDPOINT_URL_SIGNIN, url);
  await expireIn(session.cachePath, 0); // the next use refreshes at [::1]
  const { code, stdout, stderr } = await runCli(["credential-process", "--profile", "dev"], {
    env: session.env,
  });
  assert.equal(code, 0, stderr);
  const refreshed = JSON.parse(stdout).AccessKeyId;
  assert.notEqual(refreshed, session.token.accessToken.accessKeyId, "it did not refresh");
  const cached = await readJson(session.cachePath) as { accessToken: { accessKeyId: string } };
  assert.equal(cached.accessToken.accessKeyId, refreshed);
});

Deno.test("a loopback endpoint outside the permission set is refused up front, naming the ones that work", async () => {
  await using home = await tempHome();
  for (const endpoint of ["http://127.0.0.2:9", "https://127.1.2.3:8443/pfx"]) {
    const { code, stdout, stderr } = await runCli(
      ["login", "--no-browser", "--profile", "dev", "--region", "us-east-1"],
      { env: { ...home.env, AWS_ENDPOINT_URL_SIGNIN: endpoint } },
    );
    assert.equal(code, EXIT.config, stderr);
    assert.equal(stdout, "");
    assert.equal(
      stderr,
      `aws-login: Refusing the endpoint URL "${endpoint}" in AWS_ENDPOINT_URL_SIGNIN: aws-login ` +
        `may connect to this machine only as 127.0.0.1, localhost, [::1] (its Deno permission ` +
        `set). Use one of those\n`,
    );
  }
  await assert.rejects(Deno.stat(`${home.home}/.aws`), Deno.errors.NotFound, "nothing was written");
});
