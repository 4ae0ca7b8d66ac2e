/**
 * The official AWS SDK for JavaScript v3 as the command `aws-login exec` runs: with its default
 * credential chain and no static keys in its environment, it finds the container credentials
 * endpoint, calls STS GetCallerIdentity at the emulator, and — after its credentials have expired
 * (the emulator issues 3-second credentials, so a long run is compressed into seconds) — gets new
 * ones from the endpoint for each later call. STS refuses the first credentials by then, so the
 * later calls worked only because of the refresh. On a role profile, the SDK acts as the role.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { DEV_LOCK, runCli } from "../helpers/cli.ts";
import { addProfile, sessionFixture } from "../helpers/session.ts";

const ARN = "arn:aws:sts::123456789012:assumed-role/Developer/alice";
const CHILD = fileURLToPath(new URL("./sdk_container_child.ts", import.meta.url));
const CALLS = 3;

Deno.test("the official SDK under exec keeps working across refreshes from the endpoint", async () => {
  await using t = await sessionFixture({ arn: ARN, emulator: { accessTtlSeconds: 3 } });
  const { code, stdout, stderr } = await runCli(
    [
      "exec",
      "--profile",
      "dev",
      "--",
      Deno.execPath(),
      "run",
      "-q",
      "-A",
      `--lock=${DEV_LOCK}`,
      CHILD,
      t.emulator.url,
      String(CALLS),
    ],
    // A guard, not a speed check: a stuck SDK fails the test instead of hanging the suite.
    { env: t.session.env, timeoutMs: 120_000 },
  );
  assert.equal(code, 0, stderr + stdout);
  const [environment, ...steps] = stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(environment, { staticKeys: [], endpoint: true });
  const calls = steps.slice(0, CALLS);
  assert.equal(calls.length, CALLS, stdout);
  for (const call of calls) assert.equal(call.arn, ARN);
  assert.equal(new Set(calls.map((c) => c.accessKeyId)).size, CALLS, "new credentials each call");
  for (let i = 1; i < CALLS; i++) {
    // Each call came after the credentials of the one before had expired.
    assert.ok(Date.parse(calls[i].at) > Date.parse(calls[i - 1].expiration), stdout);
  }
  assert.deepEqual(steps[CALLS], { first: "ExpiredToken" });
  assert.ok(t.emulator.controls.counters().refresh_token >= CALLS - 1);
  assert.equal(t.emulator.controls.counters().sts, CALLS + 1);
});

Deno.test("the official SDK under exec on a role profile acts as the role: GetCallerIdentity names the assumed role", async () => {
  await using t = await sessionFixture({ arn: "arn:aws:iam::111111111111:user/Alice" });
  await addProfile(t.home.home, "admin", {
    role_arn: "arn:aws:iam::222222222222:role/Admin",
    source_profile: "dev",
  });
  const { code, stdout, stderr } = await runCli(
    [
      "exec",
      "--profile",
      "admin",
      "--",
      Deno.execPath(),
      "run",
      "-q",
      "-A",
      `--lock=${DEV_LOCK}`,
      CHILD,
      t.emulator.url,
      "1",
    ],
    {
      env: { ...t.session.env, AWS_ENDPOINT_URL_STS: t.emulator.url },
      timeoutMs: 120_000,
    },
  );
  assert.equal(code, 0, stderr + stdout);
  const [environment, call] = stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(environment, { staticKeys: [], endpoint: true });
  // The session name is the login identity's own name (role_session_name unset).
  assert.equal(call.arn, "arn:aws:sts::222222222222:assumed-role/Admin/Alice");
  assert.equal(t.emulator.controls.counters().assume_role, 1);
});
