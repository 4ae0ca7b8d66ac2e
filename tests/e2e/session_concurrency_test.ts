import assert from "node:assert/strict";
import { readCachedToken } from "../../lib/session/token_cache.ts";
import { runCli, tempHome } from "../helpers/cli.ts";
import { createSession, expireIn, startEmulator } from "../helpers/session.ts";

const ARN = "arn:aws:iam::123456789012:user/Alice";

Deno.test("8 credential-process runs at once on an expiring token refresh exactly once", async () => {
  await using emulator = await startEmulator({ autoApprove: ARN });
  await using home = await tempHome();
  const session = await createSession({ url: emulator.url, home, profile: "dev" });
  const old = await expireIn(session.cachePath, 30_000);
  const runs = await Promise.all(
    Array.from(
      { length: 8 },
      () => runCli(["credential-process", "--profile", "dev"], { env: session.env }),
    ),
  );
  for (const run of runs) {
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
  }
  const outputs = new Set(runs.map((r) => r.stdout));
  assert.equal(outputs.size, 1, "all 8 print the same credentials");
  const printed = JSON.parse([...outputs][0]!);
  assert.notEqual(printed.AccessKeyId, old.accessToken.accessKeyId);
  assert.ok(Date.parse(printed.Expiration) > Date.now() + 600_000);
  assert.equal(emulator.controls.counters().refresh_token, 1);
  const cache = await readCachedToken(session.cachePath);
  assert.equal(cache.accessToken.accessKeyId, printed.AccessKeyId);
  assert.equal(cache.accessToken.sessionToken, printed.SessionToken);
});
