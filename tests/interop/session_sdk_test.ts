/**
 * Interop with the official AWS SDK for JavaScript v3: its login credential provider reads and
 * refreshes our cache files and we read and refresh its; its STS client signs GetCallerIdentity with
 * credentials from `export-env` and from `credential-process` used as a real `credential_process`.
 */
import assert from "node:assert/strict";
import { fromLoginCredentials, GetCallerIdentityCommand, STSClient } from "../dev_deps.ts";
import { joinPath } from "../../lib/files.ts";
import { resolveProfileCredentials } from "../../lib/session/profile_credentials.ts";
import { readCachedToken } from "../../lib/session/token_cache.ts";
import { ROOT, runCli } from "../helpers/cli.ts";
import { addProfile, expireIn, sdkSessionFixture, testDeps } from "../helpers/session.ts";

const ARN = "arn:aws:iam::123456789012:user/Alice";
/** An emulator, a HOME with a "dev" session, and the SDK's process environment pointing at both. */
function setup() {
  return sdkSessionFixture({ arn: ARN });
}

Deno.test("the SDK's fromLoginCredentials reads our cache and returns our credentials", async () => {
  await using t = await setup();
  const creds = await fromLoginCredentials({ profile: "dev" })();
  const a = t.session.token.accessToken;
  assert.equal(creds.accessKeyId, a.accessKeyId);
  assert.equal(creds.secretAccessKey, a.secretAccessKey);
  assert.equal(creds.sessionToken, a.sessionToken);
  assert.equal(creds.accountId, "123456789012");
  assert.equal(creds.expiration?.getTime(), Date.parse(a.expiresAt));
  assert.equal(t.emulator.controls.counters().refresh_token, 0);
});

Deno.test("the SDK refreshes our cache with our DPoP key, and we read what it wrote", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, 60_000);
  const sdk = await fromLoginCredentials({ profile: "dev" })();
  assert.notEqual(sdk.accessKeyId, t.session.token.accessToken.accessKeyId);
  assert.equal(t.emulator.controls.counters().refresh_token, 1);
  // The SDK keeps fields it does not know: the session stays pinned to its endpoint.
  const written = await readCachedToken(t.session.cachePath);
  assert.equal(written.signInEndpoint, t.emulator.url);
  assert.equal(written.signInRegion, "us-east-1");
  const { deps } = testDeps(t.session.env);
  const ours = await resolveProfileCredentials(deps, { profile: "dev" });
  assert.equal(ours.accessKeyId, sdk.accessKeyId);
  assert.equal(ours.secretAccessKey, sdk.secretAccessKey);
  assert.equal(ours.sessionToken, sdk.sessionToken);
  assert.equal(ours.refreshed, false);
  // And we refresh the cache the SDK rewrote, with the refresh token it stored.
  const again = await resolveProfileCredentials(deps, { profile: "dev", forceRefresh: true });
  assert.equal(again.refreshed, true);
  assert.notEqual(again.accessKeyId, sdk.accessKeyId);
  assert.equal(t.emulator.controls.counters().refresh_token, 2);
});

Deno.test("we refresh, then the SDK refreshes the cache we wrote", async () => {
  await using t = await setup();
  const { deps } = testDeps(t.session.env);
  const ours = await resolveProfileCredentials(deps, { profile: "dev", forceRefresh: true });
  assert.equal(ours.refreshed, true);
  await expireIn(t.session.cachePath, 60_000);
  const sdk = await fromLoginCredentials({ profile: "dev" })();
  assert.notEqual(sdk.accessKeyId, ours.accessKeyId);
  assert.equal(t.emulator.controls.counters().refresh_token, 2);
  const cache = await readCachedToken(t.session.cachePath);
  assert.equal(cache.accessToken.accessKeyId, sdk.accessKeyId);
  assert.equal(cache.signInRegion, "us-east-1");
});

Deno.test("the SDK's STS client works with credentials from export-env", async () => {
  await using t = await setup();
  const { code, stdout, stderr } = await runCli(["export-env", "--profile", "dev"], {
    env: t.session.env,
  });
  assert.equal(code, 0, stderr);
  const vars: Record<string, string> = {};
  for (const line of stdout.trim().split("\n")) {
    const [, name, raw] = /^export ([A-Z_]+)=(.*)$/.exec(line)!;
    vars[name!] = raw!.startsWith("'") ? raw!.slice(1, -1).replaceAll(`'\\''`, "'") : raw!;
  }
  const sts = new STSClient({
    region: "us-east-1",
    endpoint: t.emulator.url,
    credentials: {
      accessKeyId: vars.AWS_ACCESS_KEY_ID!,
      secretAccessKey: vars.AWS_SECRET_ACCESS_KEY!,
      sessionToken: vars.AWS_SESSION_TOKEN!,
    },
  });
  try {
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    assert.equal(identity.Arn, ARN);
    assert.equal(identity.Account, vars.AWS_ACCOUNT_ID);
  } finally {
    sts.destroy();
  }
});

Deno.test("the SDK's STS client works with a credential_process profile running our CLI", async () => {
  await using t = await setup();
  const command = [
    Deno.execPath(),
    "run",
    "-q",
    "-P",
    "--no-prompt",
    "--config",
    joinPath(ROOT, "deno.json"),
    joinPath(ROOT, "main.ts"),
    "credential-process",
    "--profile",
    "dev",
  ].join(" ");
  await addProfile(t.home.home, "bridge", {
    region: "us-east-1",
    credential_process: command,
  });
  const sts = new STSClient({ profile: "bridge", region: "us-east-1", endpoint: t.emulator.url });
  try {
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    assert.equal(identity.Arn, ARN);
    assert.equal(identity.Account, "123456789012");
  } finally {
    sts.destroy();
  }
});
