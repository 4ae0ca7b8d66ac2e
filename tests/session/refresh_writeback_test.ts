/**
 * A refresh rotates the session's refresh token at the server, so a write-back that fails must not
 * cost the session: what can be checked (a planted symlink, a full disk, a value that cannot be
 * serialised) is checked before the request, with the old session intact; a write that still fails
 * after the refresh prints the fresh credentials with a warning instead of an error.
 */
import assert from "node:assert/strict";
import { CacheError, SigninError } from "../../lib/errors.ts";
import { resolveProfileCredentials } from "../../lib/session/profile_credentials.ts";
import { readCachedToken } from "../../lib/session/token_cache.ts";
import { dirname } from "../../lib/files.ts";
import { giveAway } from "../helpers/foreign_owner.ts";
import { canFillDisk, withFullDisk } from "../helpers/fs_faults.ts";
import { expireIn, readJson, sessionFixture, testDeps } from "../helpers/session.ts";

const ARN = "arn:aws:iam::123456789012:user/Alice";

function setup() {
  return sessionFixture({ arn: ARN });
}

Deno.test("resolveProfileCredentials() refreshes a cache holding a field nested 20,000 deep, and keeps it", async () => {
  await using t = await setup();
  const token = await expireIn(t.session.cachePath, -1000);
  // Another tool's field, written as it might be (JSON.stringify would overflow on it too).
  const text = JSON.stringify(token).slice(0, -1) + `, "extra": ${'{"d": '.repeat(20_000)}` +
    `"bottom"${"}".repeat(20_000)}}`;
  await Deno.writeTextFile(t.session.cachePath, text);
  const { deps } = testDeps(t.session.env);
  const creds = await resolveProfileCredentials(deps, { profile: "dev" });
  assert.equal(creds.refreshed, true);
  const after = await Deno.readTextFile(t.session.cachePath);
  assert.ok(after.includes(`"extra": ${'{"d": '.repeat(20_000)}"bottom"`), "the field was lost");
  assert.equal(
    (await readCachedToken(t.session.cachePath)).accessToken.accessKeyId,
    creds.accessKeyId,
  );
});

Deno.test({
  name: "resolveProfileCredentials() refuses a planted cache symlink before asking the server",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using t = await setup();
    await expireIn(t.session.cachePath, -1000);
    // The user's token, reached through a link another user owns.
    const real = `${t.home.home}/elsewhere.json`;
    await Deno.rename(t.session.cachePath, real);
    await Deno.symlink(real, t.session.cachePath);
    using _theirs = giveAway(t.session.cachePath);
    const before = await Deno.readTextFile(real);
    const { deps } = testDeps(t.session.env);
    await assert.rejects(
      () => resolveProfileCredentials(deps, { profile: "dev" }),
      (err) => err instanceof CacheError && err.code === "ERR_CACHE_UNSAFE",
    );
    assert.equal(t.emulator.controls.counters().refresh_token, 0, "the refresh token was spent");
    assert.equal(await Deno.readTextFile(real), before);
  },
});

Deno.test({
  name: "resolveProfileCredentials() refuses to refresh onto a full disk before asking the server",
  ignore: !canFillDisk, // root on Linux: a small tmpfs
  async fn() {
    await using t = await setup();
    await expireIn(t.session.cachePath, -1000);
    const before = await Deno.readTextFile(t.session.cachePath);
    const dir = dirname(t.session.cachePath);
    await withFullDisk(dir, async () => {
      await Deno.writeTextFile(t.session.cachePath, before, { mode: 0o600 });
      await Deno.writeTextFile(`${t.session.cachePath}.lock`, "", { mode: 0o600 });
    }, async () => {
      const { deps } = testDeps(t.session.env);
      await assert.rejects(
        () => resolveProfileCredentials(deps, { profile: "dev" }),
        (err) =>
          err instanceof CacheError && err.code === "ERR_CACHE_IO" &&
          err.message.startsWith(`Cannot write token cache "${t.session.cachePath}": `),
      );
      assert.equal(t.emulator.controls.counters().refresh_token, 0, "the refresh token was spent");
      assert.equal(await Deno.readTextFile(t.session.cachePath), before);
    });
  },
});

Deno.test("resolveProfileCredentials() returns the fresh credentials with a warning when the write-back fails", async () => {
  await using t = await setup();
  const old = await expireIn(t.session.cachePath, -1000);
  const path = t.session.cachePath;
  const { deps, stderr } = testDeps(t.session.env, {
    // After the server has answered (and rotated the refresh token), the cache file becomes
    // something no file can be renamed over.
    fetch: async (input, init) => {
      const reply = await fetch(input, init);
      await Deno.remove(path);
      await Deno.mkdir(path);
      return reply;
    },
  });
  const creds = await resolveProfileCredentials(deps, { profile: "dev" });
  assert.equal(creds.refreshed, true);
  assert.notEqual(creds.accessKeyId, old.accessToken.accessKeyId);
  assert.equal(t.emulator.controls.counters().refresh_token, 1);
  assert.match(
    stderr.text,
    new RegExp(
      `^aws-login: warning: the login session of profile "dev" was refreshed, but the token ` +
        `cache could not be updated \\(Cannot write token cache ".*": .*\\)\\. Using the new ` +
        `credentials, which expire at \\S+; if the next refresh fails, run "aws-login login ` +
        `--profile dev"\\n$`,
    ),
  );
  assert.ok(!stderr.text.includes(creds.secretAccessKey));
});

Deno.test("resolveProfileCredentials() caches nothing from a reply whose credentials have the wrong shape", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, -1000);
  const before = await readJson(t.session.cachePath);
  const { deps } = testDeps(t.session.env, {
    fetch: () =>
      Promise.resolve(Response.json({
        accessToken: {
          accessKeyId: "ASIAEXAMPLE000001",
          secretAccessKey: "s\nexport AWS_PROFILE=evil",
          sessionToken: "t",
        },
        tokenType: "aws_sigv4",
        expiresIn: 900,
        refreshToken: "r",
      })),
  });
  await assert.rejects(
    () => resolveProfileCredentials(deps, { profile: "dev" }),
    (err) =>
      err instanceof SigninError && err.code === "ERR_SIGNIN_RESPONSE" &&
      err.message.includes("accessToken.secretAccessKey (not printable ASCII without spaces)"),
  );
  assert.deepEqual(await readJson(t.session.cachePath), before);
});

/** A token endpoint reply refusing the refresh token as a revoked session's would be. */
function rejected(): Response {
  return Response.json(
    { error: "INVALID_REQUEST", message: "The provided authorization grant is invalid" },
    { status: 400, headers: { "x-amzn-errortype": "ValidationException" } },
  );
}

Deno.test("a refresh refused as a revoked session's is noted in the cache file for status", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, -1000);
  const { deps } = testDeps(t.session.env, { fetch: () => Promise.resolve(rejected()) });
  await assert.rejects(
    () => resolveProfileCredentials(deps, { profile: "dev", maxAttempts: 1 }),
    SigninError,
  );
  const file = await readJson(t.session.cachePath);
  assert.equal(file.sessionEndedBy, "INVALID_REQUEST");
  assert.match(String(file.sessionEndedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

Deno.test("a refusal after another program rotated the refresh token is not noted as an end", async () => {
  await using t = await setup();
  const token = await expireIn(t.session.cachePath, -1000);
  // The AWS CLI refreshes without a lock: the token this refresh sent is superseded meanwhile.
  const rotate = async () => {
    await Deno.writeTextFile(
      t.session.cachePath,
      JSON.stringify({ ...token, refreshToken: `${token.refreshToken}-rotated` }),
    );
    return rejected();
  };
  const { deps } = testDeps(t.session.env, { fetch: rotate });
  await assert.rejects(
    () => resolveProfileCredentials(deps, { profile: "dev", maxAttempts: 1 }),
    SigninError,
  );
  const file = await readJson(t.session.cachePath);
  assert.equal(file.sessionEndedAt, undefined);
  assert.equal(file.refreshToken, `${token.refreshToken}-rotated`);
});
