import assert from "node:assert/strict";
import { CacheError, ConfigError, EXIT, NetworkError, SigninError } from "../../lib/errors.ts";
import { resolveProfileCredentials } from "../../lib/session/profile_credentials.ts";
import {
  type CachedLoginToken,
  expiresAtMs,
  formatExpiresAt,
  parseCachedToken,
  readCachedToken,
  serializeCachedToken,
  writeCachedToken,
} from "../../lib/session/token_cache.ts";
import { withCacheLock } from "../../lib/session/cache_lock.ts";
import { tempHome } from "../helpers/cli.ts";
import { startSteppedWriter } from "../helpers/in_place_writer.ts";
import { addProfile, expireIn, readJson, sessionFixture, testDeps } from "../helpers/session.ts";

const ARN = "arn:aws:iam::123456789012:user/Alice";
const noSleep = () => Promise.resolve();

/** An emulator, a temporary HOME and a session for profile "dev" in it. */
function setup(
  options: { signInRegion?: string | null; signInEndpoint?: string | null; region?: string } = {},
) {
  return sessionFixture({
    arn: ARN,
    region: options.region ?? "eu-west-1",
    signInRegion: options.signInRegion,
    signInEndpoint: options.signInEndpoint,
  });
}

Deno.test("resolveProfileCredentials() returns fresh cached credentials without a request", async () => {
  await using t = await setup();
  const { deps } = testDeps(t.session.env);
  const creds = await resolveProfileCredentials(deps, { profile: "dev" });
  const access = t.session.token.accessToken;
  assert.equal(creds.accessKeyId, access.accessKeyId);
  assert.equal(creds.secretAccessKey, access.secretAccessKey);
  assert.equal(creds.sessionToken, access.sessionToken);
  assert.equal(creds.accountId, "123456789012");
  assert.equal(creds.login.loginSession, ARN);
  assert.equal(creds.region, "eu-west-1");
  assert.equal(creds.refreshed, false);
  assert.equal(t.emulator.controls.counters().refresh_token, 0);
});

Deno.test("resolveProfileCredentials() refreshes credentials that expire within 5 minutes", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, 299_000);
  const before = await readJson(t.session.cachePath);
  // Unknown fields survive the rewrite.
  await Deno.writeTextFile(
    t.session.cachePath,
    JSON.stringify({ ...before, futureField: { x: [1, 2] } }),
  );
  const { deps } = testDeps(t.session.env);
  const started = Date.now();
  const creds = await resolveProfileCredentials(deps, { profile: "dev" });
  assert.equal(creds.refreshed, true);
  assert.equal(t.emulator.controls.counters().refresh_token, 1);
  const after = await readJson(t.session.cachePath);
  const oldAccess = before.accessToken as Record<string, string>;
  const newAccess = after.accessToken as Record<string, string>;
  assert.notEqual(newAccess.accessKeyId, oldAccess.accessKeyId);
  assert.notEqual(newAccess.secretAccessKey, oldAccess.secretAccessKey);
  assert.notEqual(newAccess.sessionToken, oldAccess.sessionToken);
  assert.equal(newAccess.accountId, oldAccess.accountId);
  assert.notEqual(after.refreshToken, before.refreshToken);
  assert.deepEqual(after.futureField, { x: [1, 2] });
  for (const key of ["clientId", "dpopKey", "idToken", "tokenType", "signInRegion"]) {
    assert.equal(after[key], before[key], key);
  }
  const expires = Date.parse(newAccess.expiresAt!);
  assert.ok(expires >= started + 899_000 && expires <= Date.now() + 900_000);
  assert.equal(creds.accessKeyId, newAccess.accessKeyId);
  if (Deno.build.os !== "windows") {
    assert.equal((await Deno.stat(t.session.cachePath)).mode! & 0o777, 0o600);
  }
});

Deno.test("resolveProfileCredentials() refreshes with exactly 300 s left, not with 301 s (injected clock)", async () => {
  await using t = await setup();
  // A clock on a whole second, as expiresAt has whole seconds: the distances are exact.
  const now = Math.floor(Date.now() / 1000) * 1000;
  const { deps } = testDeps(t.session.env, { now: () => now });
  const token = await readCachedToken(t.session.cachePath);
  const oldKey = token.accessToken.accessKeyId;

  token.accessToken.expiresAt = formatExpiresAt(now + 301_000);
  writeCachedToken(t.session.cachePath, token);
  const kept = await resolveProfileCredentials(deps, { profile: "dev" });
  assert.equal(kept.refreshed, false);
  assert.equal(kept.accessKeyId, oldKey);
  assert.equal(t.emulator.controls.counters().refresh_token, 0);

  token.accessToken.expiresAt = formatExpiresAt(now + 300_000);
  writeCachedToken(t.session.cachePath, token);
  const renewed = await resolveProfileCredentials(deps, { profile: "dev" });
  assert.equal(renewed.refreshed, true);
  assert.notEqual(renewed.accessKeyId, oldKey);
  assert.equal(t.emulator.controls.counters().refresh_token, 1);
});

Deno.test("resolveProfileCredentials() uses credentials another process refreshed while it waited", async () => {
  await using t = await setup();
  const stale = await expireIn(t.session.cachePath, 60_000);
  const { deps } = testDeps(t.session.env);
  let resolving: Promise<unknown> | undefined;
  await withCacheLock(t.session.cachePath, async () => {
    resolving = resolveProfileCredentials(deps, { profile: "dev" });
    await new Promise((r) => setTimeout(r, 100)); // let it reach the lock
    // "Another process" refreshes and writes, still holding the lock.
    writeCachedToken(t.session.cachePath, {
      ...stale,
      accessToken: {
        ...stale.accessToken,
        accessKeyId: "ASIAOTHERPROCESS",
        expiresAt: new Date(Date.now() + 900_000).toISOString(),
      },
    });
  });
  const creds = (await resolving) as { accessKeyId: string; refreshed: boolean };
  assert.equal(creds.accessKeyId, "ASIAOTHERPROCESS");
  assert.equal(creds.refreshed, false);
  assert.equal(t.emulator.controls.counters().refresh_token, 0);
});

Deno.test("resolveProfileCredentials() with forceRefresh refreshes fresh credentials", async () => {
  await using t = await setup();
  const { deps } = testDeps(t.session.env);
  const creds = await resolveProfileCredentials(deps, { profile: "dev", forceRefresh: true });
  assert.equal(creds.refreshed, true);
  assert.notEqual(creds.accessKeyId, t.session.token.accessToken.accessKeyId);
  assert.equal(t.emulator.controls.counters().refresh_token, 1);
});

Deno.test("resolveProfileCredentials() refreshes at the cache's signInRegion, else the profile's", async () => {
  for (
    const [signInRegion, expected] of [
      ["ap-south-1", "https://ap-south-1.signin.aws.amazon.com/v1/token"],
      [null, "https://eu-west-1.signin.aws.amazon.com/v1/token"],
    ] as const
  ) {
    // A session the AWS CLI made: no signInEndpoint pins it to the emulator.
    await using t = await setup({ signInRegion, signInEndpoint: null });
    await expireIn(t.session.cachePath, -1000);
    const env = { ...t.session.env };
    delete env.AWS_ENDPOINT_URL_SIGNIN;
    env.AWS_REGION = "us-west-2"; // the tool's region is not the session's
    const urls: string[] = [];
    const { deps } = testDeps(env, {
      fetch: (input) => {
        urls.push((input as Request).url);
        return Promise.reject(new TypeError("offline"));
      },
    });
    await assert.rejects(
      () => resolveProfileCredentials(deps, { profile: "dev", sleep: noSleep, maxAttempts: 1 }),
      NetworkError,
    );
    assert.deepEqual(urls, [expected]);
  }
});

Deno.test("resolveProfileCredentials() names login when the profile has no login_session", async () => {
  await using home = await tempHome();
  await addProfile(home.home, "plain", { region: "us-east-1" });
  const { deps } = testDeps(home.env);
  await assert.rejects(
    () => resolveProfileCredentials(deps, { profile: "plain" }),
    (err) =>
      err instanceof ConfigError && err.exitCode === EXIT.config &&
      err.message.includes("aws-login login --profile plain"),
  );
});

for (
  const [name, contents, code, fragment] of [
    ["missing", undefined, "ERR_CACHE_MISSING", "No cached login session"],
    ["empty", "", "ERR_CACHE_CORRUPT", "it is empty"],
    ["truncated", '{"accessToken": {"accessKeyId": "AS', "ERR_CACHE_CORRUPT", "not valid JSON"],
    [
      "lacking fields",
      '{"accessToken": {"accessKeyId": "ASIA"}, "clientId": "x"}',
      "ERR_CACHE_CORRUPT",
      "missing or invalid accessToken.secretAccessKey",
    ],
  ] as const
) {
  Deno.test(`resolveProfileCredentials() reports a ${name} cache file and leaves it alone`, async () => {
    await using t = await setup();
    if (contents === undefined) await Deno.remove(t.session.cachePath);
    else {
      await Deno.writeTextFile(t.session.cachePath, contents);
      // Damaged an hour ago: one modified moments ago is waited for (a writer may be mid-write).
      const hourAgo = new Date(Date.now() - 3_600_000);
      await Deno.utime(t.session.cachePath, hourAgo, hourAgo);
    }
    const { deps } = testDeps(t.session.env);
    await assert.rejects(
      () => resolveProfileCredentials(deps, { profile: "dev" }),
      (err) =>
        err instanceof CacheError && err.code === code && err.exitCode === EXIT.cache &&
        err.message.includes(fragment) && err.message.includes(t.session.cachePath) &&
        err.message.includes('"aws-login login --profile dev"'),
    );
    if (contents !== undefined) {
      assert.equal(await Deno.readTextFile(t.session.cachePath), contents);
    }
    assert.equal(t.emulator.controls.counters().refresh_token, 0);
  });
}

for (
  const [value, fragment] of [
    ["TOKEN_EXPIRED", "the session has ended (TOKEN_EXPIRED"],
    ["USER_CREDENTIALS_CHANGED", "your password changed since you signed in"],
    ["INSUFFICIENT_PERMISSIONS", '"signin:CreateOAuth2Token" (INSUFFICIENT_PERMISSIONS)'],
  ] as const
) {
  Deno.test(`resolveProfileCredentials() explains ${value} and leaves the cache untouched`, async () => {
    await using t = await setup();
    await expireIn(t.session.cachePath, -1000);
    const before = await Deno.readTextFile(t.session.cachePath);
    t.emulator.controls.failNextTokenCalls(1, { error: value });
    const { deps } = testDeps(t.session.env);
    await assert.rejects(
      () => resolveProfileCredentials(deps, { profile: "dev", sleep: noSleep }),
      (err) =>
        err instanceof SigninError && err.code === "ERR_SIGNIN_ACCESS_DENIED" &&
        err.exitCode === EXIT.signin && err.message.includes(fragment) &&
        err.message.includes('"aws-login login --profile dev"'),
    );
    // Only a session that is over gets a note (for status); nothing else changes.
    const { sessionEndedAt, sessionEndedBy, ...after } = await readJson(t.session.cachePath);
    assert.deepEqual(after, JSON.parse(before));
    assert.equal(sessionEndedBy, value === "TOKEN_EXPIRED" ? value : undefined);
    assert.equal(sessionEndedAt === undefined, value !== "TOKEN_EXPIRED");
  });
}

Deno.test("resolveProfileCredentials() warns and keeps valid credentials when Sign-In fails", async () => {
  await using t = await setup();
  const stale = await expireIn(t.session.cachePath, 120_000);
  const before = await Deno.readTextFile(t.session.cachePath);
  t.emulator.controls.failNextTokenCalls(5, { status: 500 });
  const { deps, stderr } = testDeps(t.session.env);
  const creds = await resolveProfileCredentials(deps, { profile: "dev", sleep: noSleep });
  assert.equal(creds.accessKeyId, stale.accessToken.accessKeyId);
  assert.equal(creds.refreshed, false);
  assert.match(
    stderr.text,
    /^aws-login: warning: cannot refresh the login session of profile "dev" \(.*HTTP 500.*\); using the current credentials, which expire at .* \(in [12] min\)\n$/,
  );
  assert.equal(t.emulator.controls.counters().refresh_token, 1, "one attempt, no retries");
  assert.equal(await Deno.readTextFile(t.session.cachePath), before);
});

Deno.test("resolveProfileCredentials() retries 500 and 429 with backoff, then succeeds", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, -1000);
  t.emulator.controls.failNextTokenCalls(1, { status: 500 });
  const sleeps: number[] = [];
  const sleep = (ms: number) => (sleeps.push(ms), Promise.resolve());
  const { deps } = testDeps(t.session.env);
  const first = resolveProfileCredentials(deps, { profile: "dev", sleep });
  assert.equal((await first).refreshed, true);
  t.emulator.controls.failNextTokenCalls(1, { status: 429, retryAfterSeconds: 2 });
  await expireIn(t.session.cachePath, -1000);
  assert.equal((await resolveProfileCredentials(deps, { profile: "dev", sleep })).refreshed, true);
  assert.deepEqual(sleeps, [250, 2000]);
});

Deno.test("resolveProfileCredentials() gives up after 3 attempts on expired credentials", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, -1000);
  const before = await Deno.readTextFile(t.session.cachePath);
  t.emulator.controls.failNextTokenCalls(3, { status: 500 });
  const { deps } = testDeps(t.session.env);
  await assert.rejects(
    () => resolveProfileCredentials(deps, { profile: "dev", sleep: noSleep }),
    (err) => err instanceof SigninError && err.code === "ERR_SIGNIN_SERVER" && err.exitCode === 5,
  );
  assert.equal(t.emulator.controls.counters().refresh_token, 3);
  assert.equal(await Deno.readTextFile(t.session.cachePath), before);
});

Deno.test("resolveProfileCredentials() times out a slow reply and retries", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, -1000);
  t.emulator.controls.failNextTokenCalls(2, { delayMs: 1500 });
  const { deps } = testDeps(t.session.env);
  await assert.rejects(
    () =>
      resolveProfileCredentials(deps, {
        profile: "dev",
        sleep: noSleep,
        maxAttempts: 2,
        requestTimeoutMs: 200,
      }),
    (err) =>
      err instanceof NetworkError && err.code === "ERR_TIMEOUT" && err.exitCode === EXIT.network,
  );
});

Deno.test("resolveProfileCredentials() refreshes with the emulator's clock 10 minutes off", async () => {
  for (const offset of [600_000, -600_000]) {
    await using t = await setup();
    await expireIn(t.session.cachePath, -1000);
    t.emulator.controls.setClockOffset(offset);
    const { deps } = testDeps(t.session.env);
    const creds = await resolveProfileCredentials(deps, { profile: "dev", sleep: noSleep });
    assert.equal(creds.refreshed, true, `offset ${offset}`);
    const token = await readCachedToken(t.session.cachePath);
    // The expiry is on our clock, not the server's.
    assert.ok(Math.abs(expiresAtMs(token) - (Date.now() + 900_000)) < 60_000);
  }
});

Deno.test("resolveProfileCredentials() retries a reset connection, then refreshes", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, -1000);
  t.emulator.controls.failNextTokenCalls(1, { reset: true });
  // A fresh connection pool: on a reused connection, Deno's client itself resends the request.
  using client = Deno.createHttpClient({});
  const sleeps: number[] = [];
  const { deps } = testDeps(t.session.env, {
    fetch: (input, init) => fetch(input, { ...init, client }),
  });
  const creds = await resolveProfileCredentials(deps, {
    profile: "dev",
    sleep: (ms) => (sleeps.push(ms), Promise.resolve()),
  });
  assert.equal(creds.refreshed, true);
  assert.deepEqual(sleeps, [250]);
  assert.equal(t.emulator.controls.counters().refresh_token, 2);
});

Deno.test("resolveProfileCredentials() refreshes at a custom endpoint even with FIPS and dual-stack on", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, 60_000);
  // As the AWS CLI: the custom endpoint (AWS_ENDPOINT_URL_SIGNIN here) wins; FIPS is ignored.
  const { deps } = testDeps({
    ...t.session.env,
    AWS_USE_FIPS_ENDPOINT: "true",
    AWS_USE_DUALSTACK_ENDPOINT: "true",
  });
  const creds = await resolveProfileCredentials(deps, { profile: "dev" });
  assert.equal(creds.refreshed, true);
  assert.equal(t.emulator.controls.counters().refresh_token, 1);
});

Deno.test("resolveProfileCredentials() always refreshes with the newest refresh token it has", async () => {
  await using t = await setup();
  const { deps } = testDeps(t.session.env);
  const first = await resolveProfileCredentials(deps, { profile: "dev", forceRefresh: true });
  const second = await resolveProfileCredentials(deps, { profile: "dev", forceRefresh: true });
  // With the superseded token, the (idempotent) Sign-In would have answered the first keys again.
  assert.notEqual(first.accessKeyId, t.session.token.accessToken.accessKeyId);
  assert.notEqual(second.accessKeyId, first.accessKeyId);
  assert.equal(t.emulator.controls.counters().refresh_token, 2);
});

Deno.test("resolveProfileCredentials() never fails while another program rewrites the file in place", async () => {
  await using t = await setup();
  const path = t.session.cachePath;
  const { deps } = testDeps(t.session.env);
  const size = (await Deno.stat(path)).size;
  // The other program is paused mid-write (as the OS may pause it) until the reader, having found
  // the file torn, waits: the writer's pace is the test's, not the scheduler's.
  await using writer = startSteppedWriter(path);
  const tears = [0, 1, Math.floor(size / 2), size - 1];
  for (const bytes of tears) {
    await writer.tear(bytes);
    assert.throws(() => parseCachedToken(Deno.readTextFileSync(path), path), CacheError);
    // Finished at the reader's first pause: a torn file is always read twice, however long the
    // first read took (longer waits are measured by a clock, tested with readCacheFile's seams).
    let pauses = 0;
    const sleep = async () => {
      if (++pauses === 1) await writer.finish();
    };
    const creds = await resolveProfileCredentials(deps, { profile: "dev", sleep });
    assert.equal(creds.accessKeyId, t.session.token.accessToken.accessKeyId);
    assert.equal(creds.refreshed, false);
    assert.equal(pauses, 1, "read torn, then whole");
  }
  assert.equal(t.emulator.controls.counters().refresh_token, 0);
});

/** Writes `token` as the AWS CLI or an SDK does: in place, no lock; here in two halves. */
function writeInPlace(path: string, token: CachedLoginToken, gapMs: number): Promise<void> {
  const bytes = new TextEncoder().encode(serializeCachedToken(token));
  const half = Math.floor(bytes.length / 2);
  const file = Deno.openSync(path, { write: true, truncate: true });
  file.writeSync(bytes.subarray(0, half));
  return new Promise((resolve) =>
    setTimeout(() => {
      file.writeSync(bytes.subarray(half));
      file.close();
      resolve();
    }, gapMs)
  );
}

for (const [foreignMinutes, kept] of [[20, "theirs"], [10, "ours"]] as const) {
  Deno.test(`resolveProfileCredentials() racing another program's refresh keeps the newest (${kept})`, async () => {
    await using t = await setup();
    const path = t.session.cachePath;
    const stale = await expireIn(path, 60_000);
    // What the AWS CLI writes when it refreshes at the same moment, without our lock.
    const foreign: CachedLoginToken = {
      ...stale,
      accessToken: {
        ...stale.accessToken,
        accessKeyId: "ASIAFOREIGNREFRESH",
        expiresAt: formatExpiresAt(Date.now() + foreignMinutes * 60_000),
      },
      refreshToken: "foreign-refresh-token",
    };
    let foreignWrite: Promise<void> | undefined;
    const { deps } = testDeps(t.session.env, {
      fetch: (input, init) => {
        // Half-written while our refresh is on the wire; done 20 ms later.
        foreignWrite ??= writeInPlace(path, foreign, 20);
        return fetch(input, init);
      },
    });
    const creds = await resolveProfileCredentials(deps, { profile: "dev" });
    await foreignWrite;
    assert.equal(t.emulator.controls.counters().refresh_token, 1);
    const disk = await readCachedToken(path);
    if (kept === "theirs") {
      assert.equal(disk.accessToken.accessKeyId, "ASIAFOREIGNREFRESH");
      assert.equal(disk.refreshToken, "foreign-refresh-token");
      assert.equal(creds.accessKeyId, "ASIAFOREIGNREFRESH");
      assert.equal(creds.refreshed, false);
    } else {
      assert.notEqual(disk.accessToken.accessKeyId, "ASIAFOREIGNREFRESH");
      assert.notEqual(disk.accessToken.accessKeyId, stale.accessToken.accessKeyId);
      assert.equal(creds.accessKeyId, disk.accessToken.accessKeyId);
      assert.equal(creds.refreshed, true);
      assert.ok(expiresAtMs(disk) > expiresAtMs(foreign));
    }
  });
}
