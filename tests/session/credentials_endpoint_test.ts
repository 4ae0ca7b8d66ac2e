/**
 * A session refreshes only at the Sign-In endpoint it was made with (`signInEndpoint` in the cache):
 * a later AWS_ENDPOINT_URL (a LocalStack set-up, a typo) must not receive its refresh token, nor
 * replace the session with its reply. Sessions the AWS CLI made name no endpoint and refresh
 * wherever the settings point.
 */
import assert from "node:assert/strict";
import { ConfigError, EXIT } from "../../lib/errors.ts";
import { resolveProfileCredentials } from "../../lib/session/profile_credentials.ts";
import { readCachedToken, writeCachedToken } from "../../lib/session/token_cache.ts";
import { closeAtDeadline } from "../helpers/bounded.ts";
import { expireIn, sessionFixture, testDeps } from "../helpers/session.ts";

const ARN = "arn:aws:iam::123456789012:user/Alice";

/**
 * Another Sign-In on 127.0.0.1 that records what it receives and answers like the real one; shut
 * down at scope end or at its deadline.
 */
function otherSignin() {
  const received: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    received.push(await request.text());
    return Response.json({
      accessToken: {
        accessKeyId: "ASIAOTHERSERVER00001",
        secretAccessKey: "other-secret",
        sessionToken: "other-session",
      },
      tokenType: "aws_sigv4",
      expiresIn: 900,
      refreshToken: "other-refresh",
    });
  });
  return closeAtDeadline({
    url: `http://127.0.0.1:${server.addr.port}`,
    received,
    close: () => server.shutdown(),
  });
}

Deno.test("resolveProfileCredentials() refuses to refresh at another endpoint than the session's, naming both", async () => {
  for (const variable of ["AWS_ENDPOINT_URL_SIGNIN", "AWS_ENDPOINT_URL"]) {
    await using t = await sessionFixture({ arn: ARN, region: "eu-west-1" });
    await using other = otherSignin();
    await expireIn(t.session.cachePath, -1000);
    const before = await Deno.readTextFile(t.session.cachePath);
    const env = { ...t.session.env, [variable]: other.url };
    if (variable === "AWS_ENDPOINT_URL") delete env.AWS_ENDPOINT_URL_SIGNIN;
    const { deps } = testDeps(env);
    await assert.rejects(() => resolveProfileCredentials(deps, { profile: "dev" }), (err) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.code, "ERR_CONFIG_ENDPOINT");
      assert.equal(err.exitCode, EXIT.config);
      assert.equal(
        err.message,
        `Cannot refresh the login session of profile "dev": it was made with AWS Sign-In at ` +
          `"${t.emulator.url}", but the endpoint is now "${other.url}" (from ${variable}). ` +
          `aws-login sends a session's refresh token only to the endpoint that issued it. ` +
          `Unset ${variable} to use this session, or run "aws-login login --profile dev" to ` +
          `sign in at the new endpoint`,
      );
      return true;
    });
    assert.deepEqual(other.received, [], "the other endpoint received the refresh token");
    assert.equal(t.emulator.controls.counters().refresh_token, 0);
    assert.equal(await Deno.readTextFile(t.session.cachePath), before);
  }
});

Deno.test("resolveProfileCredentials() refuses the region's default endpoint for a session made elsewhere", async () => {
  await using t = await sessionFixture({ arn: ARN, region: "eu-west-1" });
  await expireIn(t.session.cachePath, -1000);
  const env = { ...t.session.env };
  delete env.AWS_ENDPOINT_URL_SIGNIN;
  const urls: string[] = [];
  const { deps } = testDeps(env, {
    fetch: (input) => (urls.push(new Request(input).url), Promise.reject(new TypeError("offline"))),
  });
  await assert.rejects(
    () => resolveProfileCredentials(deps, { profile: "dev" }),
    (err) =>
      err instanceof ConfigError && err.code === "ERR_CONFIG_ENDPOINT" &&
      err.message.includes(
        `but the endpoint is now "https://eu-west-1.signin.aws.amazon.com" (the default for ` +
          `eu-west-1)`,
      ) && err.message.includes("Set the endpoint the session was made with again"),
  );
  assert.deepEqual(urls, []);
});

Deno.test("resolveProfileCredentials() refreshes at the session's endpoint however it is written", async () => {
  await using t = await sessionFixture({ arn: ARN });
  const token = await expireIn(t.session.cachePath, -1000);
  // Written with a trailing slash; the setting without.
  writeCachedToken(t.session.cachePath, { ...token, signInEndpoint: `${t.emulator.url}/` });
  const debug: string[] = [];
  const { deps } = testDeps(t.session.env, { debug: (line) => debug.push(line) });
  const creds = await resolveProfileCredentials(deps, { profile: "dev" });
  assert.equal(creds.refreshed, true);
  // --debug says the refresh went to a custom endpoint, and where that came from.
  assert.ok(
    debug.includes(
      `refreshing the login session at ${t.emulator.url}/v1/token (a custom endpoint, from ` +
        `AWS_ENDPOINT_URL_SIGNIN)`,
    ),
    debug.join("\n"),
  );
});

Deno.test("resolveProfileCredentials() refreshes a session the AWS CLI made wherever the settings point", async () => {
  await using t = await sessionFixture({ arn: ARN, signInEndpoint: null });
  await expireIn(t.session.cachePath, -1000);
  const { deps } = testDeps(t.session.env);
  const creds = await resolveProfileCredentials(deps, { profile: "dev" });
  assert.equal(creds.refreshed, true);
  assert.equal(t.emulator.controls.counters().refresh_token, 1);
  // Not pinned behind the user's back: only login pins a session.
  assert.equal((await readCachedToken(t.session.cachePath)).signInEndpoint, undefined);
});

Deno.test("resolveProfileCredentials() refuses the session's host and port with another scheme or path", async () => {
  await using t = await sessionFixture({ arn: ARN });
  const token = await expireIn(t.session.cachePath, -1000);
  const url = new URL(t.emulator.url); // http://127.0.0.1:PORT, where the settings point
  for (const pinned of [`https://${url.host}`, `${t.emulator.url}/other`]) {
    writeCachedToken(t.session.cachePath, { ...token, signInEndpoint: pinned });
    const before = await Deno.readTextFile(t.session.cachePath);
    const { deps } = testDeps(t.session.env);
    await assert.rejects(
      () => resolveProfileCredentials(deps, { profile: "dev" }),
      (err) =>
        err instanceof ConfigError && err.code === "ERR_CONFIG_ENDPOINT" &&
        err.message.includes(
          `it was made with AWS Sign-In at "${pinned}", but the endpoint is now`,
        ),
      pinned,
    );
    assert.equal(t.emulator.controls.counters().refresh_token, 0, `refreshed at ${pinned}`);
    assert.equal(await Deno.readTextFile(t.session.cachePath), before);
  }
});
