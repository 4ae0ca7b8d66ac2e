/**
 * The emulator against the official AWS SDK for JavaScript v3: it verifies the SDK's own DPoP proofs
 * and rotates the refresh token, answering a repeated refresh with the same result; its error replies
 * come out of the SDK as the SDK's own errors
 * (AccessDeniedException TOKEN_EXPIRED → "Your session has expired…", ValidationException →
 * "Failed to refresh token: ValidationException: …"); the SDK's retries of a 500 are counted; and the
 * SDK's STS client gets GetCallerIdentity answered (and a bad signature refused) with the
 * credentials the SDK refreshed.
 *
 * The SDK reads its files and endpoint from `process.env`, which every test module running in
 * parallel in this process shares; so the SDK tests run in a child `deno test` of this file, with
 * an environment of their own, and the parent checks that they all passed.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { fromLoginCredentials, GetCallerIdentityCommand, STSClient } from "../dev_deps.ts";
import { readCachedToken } from "../../lib/session/token_cache.ts";
import { importDpopKeyPem } from "../../lib/signin/dpop.ts";
import { outputBounded } from "../helpers/bounded.ts";
import { DEV_LOCK, ROOT } from "../helpers/cli.ts";
import { expireIn, sdkSessionFixture } from "../helpers/session.ts";
import { refreshCall } from "../emulator/flow.ts";

const ARN = "arn:aws:sts::123456789012:assumed-role/Developer/alice";
const CHILD = Deno.env.get("AWS_LOGIN_EMULATOR_SDK_CHILD") === "1";
const SDK_TESTS = 7;

/** Defines a test in the child process only. */
const sdkTest: (name: string, fn: () => Promise<void>) => void = CHILD ? Deno.test : () => {};

if (!CHILD) {
  Deno.test("the official AWS SDK against the emulator (in a process of its own)", async () => {
    const out = await outputBounded(Deno.execPath(), {
      args: [
        "test",
        "-q",
        "-A",
        "--no-check",
        `--lock=${DEV_LOCK}`,
        fileURLToPath(import.meta.url),
      ],
      cwd: ROOT,
      env: { AWS_LOGIN_EMULATOR_SDK_CHILD: "1", NO_COLOR: "1" },
      // A guard, not a speed check: a stuck child fails the test instead of hanging the suite.
      deadlineMs: 180_000,
    });
    const text = out.stdout + out.stderr;
    assert.equal(out.code, 0, text);
    assert.match(text, new RegExp(`ok \\| ${SDK_TESTS} passed \\| 0 failed`), text);
  });
}

/** An emulator, a HOME with an expired "dev" session, and the SDK's environment pointing at both. */
async function setup(emulator: { accessTtlSeconds?: number } = {}) {
  const t = await sdkSessionFixture({ arn: ARN, emulator });
  await expireIn(t.session.cachePath, -1000);
  return t;
}

sdkTest("the emulator accepts the SDK's DPoP proofs and rotates the refresh token", async () => {
  await using t = await setup();
  const creds = await fromLoginCredentials({ profile: "dev" })();
  assert.notEqual(creds.accessKeyId, t.session.token.accessToken.accessKeyId);
  assert.equal(t.emulator.controls.counters().refresh_token, 1);
  const cache = await readCachedToken(t.session.cachePath);
  assert.notEqual(cache.refreshToken, t.session.token.refreshToken);
  // The token the SDK replaced repeats the SDK's answer; the one it stored moves the session on.
  const key = await importDpopKeyPem(cache.dpopKey);
  const repeated = await refreshCall(t.emulator.url, key, t.session.token.refreshToken);
  assert.equal(
    (repeated.body.accessToken as Record<string, string>).accessKeyId,
    creds.accessKeyId,
  );
  const next = await refreshCall(t.emulator.url, key, cache.refreshToken);
  assert.equal(next.status, 200);
  assert.notEqual((next.body.accessToken as Record<string, string>).accessKeyId, creds.accessKeyId);
});

sdkTest("an injected TOKEN_EXPIRED comes out of the SDK as its session-expired error", async () => {
  await using t = await setup();
  t.emulator.controls.failNextTokenCalls(1, { error: "TOKEN_EXPIRED" });
  await assert.rejects(
    () => fromLoginCredentials({ profile: "dev" })(),
    (err: Error & { tryNextLink?: boolean }) =>
      err.name === "CredentialsProviderError" &&
      err.message === "Your session has expired. Please reauthenticate." &&
      err.tryNextLink === false,
  );
  assert.equal(t.emulator.controls.counters().refresh_token, 1, "AccessDenied is not retried");
});

sdkTest(
  "a repeated refresh through the SDK gets the same answer (the refresh is idempotent)",
  async () => {
    await using t = await setup();
    // Someone else refreshed first with the same token; the SDK repeats that refresh.
    const key = await importDpopKeyPem(t.session.token.dpopKey);
    const first = await refreshCall(t.emulator.url, key, t.session.token.refreshToken);
    assert.equal(first.status, 200);
    const creds = await fromLoginCredentials({ profile: "dev" })();
    assert.equal(creds.accessKeyId, (first.body.accessToken as Record<string, string>).accessKeyId);
    assert.equal(
      (await readCachedToken(t.session.cachePath)).refreshToken,
      first.body.refreshToken,
    );
  },
);

sdkTest("a superseded refresh token comes out of the SDK as a ValidationException", async () => {
  await using t = await setup({ accessTtlSeconds: 60 });
  // Someone else refreshed first, and the credentials that refresh issued have since expired.
  const key = await importDpopKeyPem(t.session.token.dpopKey);
  assert.equal((await refreshCall(t.emulator.url, key, t.session.token.refreshToken)).status, 200);
  t.emulator.controls.setClockOffset(61_000); // within the DPoP iat window
  await assert.rejects(
    () => fromLoginCredentials({ profile: "dev" })(),
    (err: Error) =>
      err.name === "CredentialsProviderError" &&
      err.message.startsWith(
        "Failed to refresh token: ValidationException: The provided authorization grant is invalid, expired, revoked, or malformed",
      ),
  );
});

sdkTest("the SDK retries injected 500s and the emulator counts each attempt", async () => {
  await using t = await setup();
  t.emulator.controls.failNextTokenCalls(2, { status: 500 });
  const creds = await fromLoginCredentials({ profile: "dev" })();
  assert.notEqual(creds.accessKeyId, t.session.token.accessToken.accessKeyId);
  assert.equal(t.emulator.controls.counters().refresh_token, 3);
});

sdkTest(
  "the SDK's STS client gets the session ARN with credentials the SDK refreshed",
  async () => {
    await using t = await setup();
    const credentials = fromLoginCredentials({ profile: "dev" });
    const sts = new STSClient({ region: "eu-central-1", endpoint: t.emulator.url, credentials });
    try {
      const identity = await sts.send(new GetCallerIdentityCommand({}));
      assert.equal(identity.Arn, ARN);
      assert.equal(identity.Account, "123456789012");
      assert.match(identity.UserId!, /^AROA[A-Z2-7]{17}:alice$/);
      assert.equal(t.emulator.controls.counters().sts, 1);
    } finally {
      sts.destroy();
    }
  },
);

sdkTest("the SDK's STS client sees SignatureDoesNotMatch and ExpiredToken", async () => {
  await using t = await setup();
  const creds = await fromLoginCredentials({ profile: "dev" })();
  const call = async (credentials: typeof creds) => {
    const sts = new STSClient({ region: "us-east-1", endpoint: t.emulator.url, credentials });
    try {
      return await sts.send(new GetCallerIdentityCommand({}));
    } finally {
      sts.destroy();
    }
  };
  await assert.rejects(
    () => call({ ...creds, secretAccessKey: "x".repeat(40) }),
    (err: Error & { $metadata?: { httpStatusCode?: number } }) =>
      err.name === "SignatureDoesNotMatch" && err.$metadata?.httpStatusCode === 403,
  );
  // 16 minutes later on the emulator's clock the 15-minute credentials have expired.
  t.emulator.controls.setClockOffset(16 * 60_000);
  await assert.rejects(
    () => call({ ...creds, expiration: undefined }),
    (err: Error & { $metadata?: { httpStatusCode?: number } }) =>
      err.name === "ExpiredToken" && err.$metadata?.httpStatusCode === 400,
  );
});
