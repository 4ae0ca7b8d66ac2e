import assert from "node:assert/strict";
import { EXIT } from "../../lib/errors.ts";
import { joinPath } from "../../lib/files.ts";
import { type CliResult, runCli, tempHome } from "../helpers/cli.ts";
import {
  addProfile,
  createSession,
  expireIn,
  readJson,
  sessionFixture,
  startEmulator,
} from "../helpers/session.ts";
import { refreshCall } from "../emulator/flow.ts";
import { importDpopKeyPem } from "../../lib/signin/dpop.ts";
import { revokeRefreshToken } from "../../lib/signin/revoke_introspect.ts";
import {
  type CachedLoginToken,
  formatExpiresAt,
  readCachedToken,
  writeCachedToken,
} from "../../lib/session/token_cache.ts";
import { withCacheLock } from "../../lib/session/cache_lock.ts";
import { until } from "../helpers/bounded.ts";
import { refusedEndpoint } from "../helpers/refused.ts";

/** File modes (chmod, "open to other users") exist on POSIX only. */
const posix = { test: Deno.build.os === "windows" ? Deno.test.ignore : Deno.test };

const ARN = "arn:aws:iam::123456789012:user/Alice";

function setup() {
  return sessionFixture({ arn: ARN });
}

function assertNoSecret(output: string, secrets: string[]): void {
  for (const secret of secrets) assert.ok(!output.includes(secret), "a secret was printed");
}

Deno.test("status shows identity, account, region, expiry and masked keys", async () => {
  await using t = await setup();
  await addProfile(t.home.home, "plain", { region: "us-west-2" });
  const a = t.session.token.accessToken;
  const { code, stdout, stderr } = await runCli(["status"], { env: t.session.env });
  assert.equal(code, 0, stderr);
  const lines = stdout.split("\n");
  assert.equal(lines[0], 'Profile "dev"');
  assert.ok(lines.includes(`  identity:        ${ARN}`), stdout);
  assert.ok(lines.includes("  account:         123456789012"), stdout);
  assert.ok(lines.includes("  region:          us-east-1"), stdout);
  assert.ok(lines.includes(`  cache file:      ${t.session.cachePath} (valid)`), stdout);
  assert.ok(lines.includes(`  access key:      ****************${a.accessKeyId.slice(-4)}`));
  assert.ok(lines.includes(`  secret key:      ****************${a.secretAccessKey.slice(-4)}`));
  assert.match(stdout, /\n {2}expires: {9}\S+ \(in 1[45] min\)\n/);
  assert.ok(!stdout.includes("plain"), "profiles without login_session are not listed");
  assertNoSecret(stdout + stderr, [
    a.secretAccessKey,
    a.sessionToken,
    t.session.token.refreshToken,
    t.session.token.dpopKey,
  ]);
  assert.equal(t.emulator.controls.counters().refresh_token, 0, "status does not refresh");
});

Deno.test("after logout, status shows the profile logged out (exit 0); a second logout has nothing to remove", async () => {
  await using t = await setup();
  const logout = await runCli(["logout", "--profile", "dev"], { env: t.session.env });
  assert.equal(logout.code, 0, logout.stderr);
  const { code, stdout, stderr } = await runCli(["status", "--json"], { env: t.session.env });
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout);
  assert.equal(report.profiles.length, 1);
  const [dev] = report.profiles;
  assert.equal(dev.profile, "dev");
  assert.equal(dev.loginSession, ARN);
  assert.equal(dev.cacheState, "missing");
  assert.equal(dev.loggedOut, true);
  assert.equal(dev.problem, undefined, "being logged out is not a problem");
  assert.equal(dev.accessKeyId, undefined);
  const text = await runCli(["status"], { env: t.session.env });
  assert.equal(text.code, 0, text.stderr);
  assert.equal(
    row(text.stdout, "session"),
    'logged out: run "aws-login login --profile dev" to sign in',
  );
  assert.equal(row(text.stdout, "cache file"), `${t.session.cachePath} (none)`);
  assert.equal(row(text.stdout, "problem"), undefined);
  const again = await runCli(["logout", "--profile", "dev"], { env: t.session.env });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(
    again.stdout,
    "Profile 'dev' is already logged out: there was no cached login session to remove.\n",
  );
  assert.equal(t.emulator.controls.counters().revoke, 1, "nothing more to revoke");
});

Deno.test("status --refresh of a logged-out profile says there is nothing to refresh (exit 4)", async () => {
  await using t = await setup();
  await Deno.remove(t.session.cachePath);
  const { code, stdout } = await runCli(["status", "--json", "--refresh"], { env: t.session.env });
  assert.equal(code, EXIT.cache);
  const [dev] = JSON.parse(stdout).profiles;
  assert.match(dev.problem, /No cached login session/);
  // The hint names the profile, as every other command's does.
  assert.match(dev.problem, /Run "aws-login login --profile dev" to sign in/);
});

posix.test("status --refresh changes the keys and makes the cache dir private, saying so once", async () => {
  await using t = await setup();
  const dir = joinPath(t.home.home, ".aws", "login", "cache");
  await Deno.chmod(dir, 0o755);
  const { code, stdout, stderr } = await runCli(["status", "--json", "--refresh"], {
    env: t.session.env,
  });
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout);
  const [dev] = report.profiles;
  assert.equal(dev.refreshed, true);
  const old = t.session.token;
  const now = await readCachedToken(t.session.cachePath);
  assert.notEqual(now.accessToken.accessKeyId, old.accessToken.accessKeyId);
  // Exactly 16 asterisks and the last 4 characters of the new keys.
  assert.equal(dev.accessKeyId, `${"*".repeat(16)}${now.accessToken.accessKeyId.slice(-4)}`);
  assert.equal(
    dev.secretAccessKey,
    `${"*".repeat(16)}${now.accessToken.secretAccessKey.slice(-4)}`,
  );
  assert.match(
    report.warnings[0],
    /was open to other users \(mode 755\); aws-login changed it to 700/,
  );
  assert.equal(t.emulator.controls.counters().refresh_token, 1);
  assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
  const again = await runCli(["status", "--json"], { env: t.session.env });
  assert.deepEqual(JSON.parse(again.stdout).warnings, []);
  assertNoSecret(stdout + stderr, [
    ...[old, now].flatMap((token) => [
      token.accessToken.secretAccessKey,
      token.accessToken.sessionToken,
      token.refreshToken,
      token.dpopKey,
    ]),
  ]);
});

Deno.test("status --refresh says the refresh failed, and why, and exits non-zero", async () => {
  await using t = await setup();
  // The credentials are still valid; every attempt at the refresh fails on the server.
  t.emulator.controls.failNextTokenCalls(3, { status: 500 });
  const text = await runCli(["status", "--refresh"], { env: t.session.env });
  assert.equal(text.code, EXIT.signin, text.stderr);
  assert.match(text.stdout, /\n {2}refresh: {9}FAILED/);
  assert.match(text.stdout, /\n {2}problem: {9}.*InternalServerException|server_error/);
  assert.ok(!text.stdout.includes("another process"), text.stdout);
  assert.equal(t.emulator.controls.counters().refresh_token, 3, "retried as a refresh is");

  t.emulator.controls.failNextTokenCalls(3, { status: 500 });
  const json = await runCli(["status", "--json", "--refresh"], { env: t.session.env });
  assert.equal(json.code, EXIT.signin, json.stderr);
  const [dev] = JSON.parse(json.stdout).profiles;
  assert.equal(dev.refreshed, false);
  assert.equal(dev.refreshFailed, true);
  assert.equal(dev.cacheState, "valid");
  assert.equal(
    dev.accessKeyId,
    `****************${t.session.token.accessToken.accessKeyId.slice(-4)}`,
  );
});

const REMOVED = "Removed cached login credentials for profile 'dev'. Note, any local developer " +
  "tools that have already loaded the access token may continue to use it until its expiration. " +
  "Access tokens expire in 15 minutes.\n";

/** A refresh with the session's refresh token and key, as any holder of the file could make. */
async function refreshWith(t: { emulator: { url: string }; session: { token: CachedLoginToken } }) {
  const key = await importDpopKeyPem(t.session.token.dpopKey);
  return await refreshCall(t.emulator.url, key, t.session.token.refreshToken);
}

Deno.test("logout revokes the session at AWS Sign-In, then removes the cache file", async () => {
  await using t = await setup();
  const { code, stdout, stderr } = await runCli(["logout", "--profile", "dev"], {
    env: t.session.env,
  });
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
  assert.equal(stdout, `Revoked the login session of profile 'dev' at AWS Sign-In.\n${REMOVED}`);
  assert.equal(t.emulator.controls.counters().revoke, 1);
  await assert.rejects(() => Deno.stat(t.session.cachePath), Deno.errors.NotFound);
  const config = await Deno.readTextFile(joinPath(t.home.home, ".aws", "config"));
  assert.match(config, /login_session = arn:aws:iam::123456789012:user\/Alice/);
  // A copy of the file is worthless now: its refresh token is refused.
  const refused = await refreshWith(t);
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error, "INVALID_REQUEST");
});

Deno.test("logout --no-revoke only removes the file, with the CLI's message", async () => {
  await using t = await setup();
  const { code, stdout, stderr } = await runCli(["logout", "--profile", "dev", "--no-revoke"], {
    env: t.session.env,
  });
  assert.equal(code, 0);
  assert.equal(stderr, "");
  assert.equal(stdout, REMOVED);
  await assert.rejects(() => Deno.stat(t.session.cachePath), Deno.errors.NotFound);
  assert.equal(t.emulator.controls.counters().revoke, 0);
  assert.equal((await refreshWith(t)).status, 200, "the token still works");
});

Deno.test("logout refreshes expired credentials to sign the revocation", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, -1000);
  const { code, stdout, stderr } = await runCli(["logout", "--profile", "dev"], {
    env: t.session.env,
  });
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
  assert.match(stdout, /^Revoked the login session of profile 'dev' at AWS Sign-In\.\n/);
  assert.deepEqual(
    [t.emulator.controls.counters().refresh_token, t.emulator.controls.counters().revoke],
    [1, 1],
  );
  await assert.rejects(() => Deno.stat(t.session.cachePath), Deno.errors.NotFound);
});

Deno.test("logout revokes the token a concurrent refresh just wrote: it waits for the lock", async () => {
  await using t = await setup();
  let rotated: CachedLoginToken | undefined;
  let logout: Promise<CliResult> | undefined;
  await withCacheLock(t.session.cachePath, async () => {
    logout = runCli(["logout", "--profile", "dev"], { env: t.session.env });
    // Long enough for logout to reach the lock (and, were it not waiting, to revoke the old token).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Another process's refresh, under the lock, rotates the refresh token.
    const { refreshCachedToken } = await import("../../lib/session/refresh.ts");
    rotated = await refreshCachedToken(t.session.token, {
      profile: "dev",
      region: "us-east-1",
      tokenUrl: `${t.emulator.url}/v1/token`,
      fetch,
      now: Date.now,
      sleep: () => Promise.resolve(),
      debug: () => {},
    }, true);
    writeCachedToken(t.session.cachePath, rotated);
  });
  const result = await logout!;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  const key = await importDpopKeyPem(rotated!.dpopKey);
  const refused = await refreshCall(t.emulator.url, key, rotated!.refreshToken);
  assert.equal(refused.status, 400, "the rotated token was revoked");
});

Deno.test("a denied revocation still removes the file and warns that the token stays usable", async () => {
  await using t = await setup();
  t.emulator.controls.denyActions(["signin:RevokeOAuth2TokenWithIAM"]);
  const { code, stdout, stderr } = await runCli(["logout", "--profile", "dev"], {
    env: t.session.env,
  });
  assert.equal(code, 0);
  assert.equal(stdout, REMOVED);
  assert.equal(
    stderr,
    "aws-login: warning: the login session of profile 'dev' was not revoked at AWS Sign-In: " +
      "AWS Sign-In did not revoke the refresh token (AccessDeniedException: User: " +
      `${ARN} is not authorized to perform: signin:RevokeOAuth2TokenWithIAM). Its refresh token ` +
      "stays usable until the session ends (at most 12 hours after sign-in)\n",
  );
  await assert.rejects(() => Deno.stat(t.session.cachePath), Deno.errors.NotFound);
  assert.equal((await refreshWith(t)).status, 200, "not revoked indeed");
});

Deno.test("an unreachable Sign-In still lets logout remove the file, with a warning", async () => {
  const down = await refusedEndpoint();
  // A session made at the endpoint that is now down (and pinned to it).
  await using t = await sessionFixture({ arn: ARN, signInEndpoint: down });
  const { code, stdout, stderr } = await runCli(["logout", "--profile", "dev"], {
    env: { ...t.session.env, AWS_ENDPOINT_URL_SIGNIN: down },
  });
  assert.equal(code, 0);
  assert.equal(stdout, REMOVED);
  assert.match(
    stderr,
    /was not revoked at AWS Sign-In: Cannot reach AWS Sign-In at "127\.0\.0\.1:\d+"/,
  );
  assert.match(stderr, /stays usable until the session ends/);
  await assert.rejects(() => Deno.stat(t.session.cachePath), Deno.errors.NotFound);
});

Deno.test("logout of a session that had already ended says so and removes the file", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, -1000);
  t.emulator.controls.failNextTokenCalls(1, { error: "TOKEN_EXPIRED" });
  const { code, stdout, stderr } = await runCli(["logout", "--profile", "dev"], {
    env: t.session.env,
  });
  assert.equal(code, 0);
  assert.equal(stdout, REMOVED);
  assert.equal(
    stderr,
    "aws-login: the login session of profile 'dev' had already ended or been revoked\n",
  );
  assert.equal(t.emulator.controls.counters().revoke, 0);
});

Deno.test("logout of a session revoked elsewhere says so, not that its token stays usable", async () => {
  await using t = await setup();
  await revokeRefreshToken(
    {
      baseUrl: t.emulator.url,
      region: "us-east-1",
      credentials: t.session.token.accessToken,
      now: () => Date.now(),
    },
    t.session.token.refreshToken,
    { fetch },
  );
  // The credentials that would sign a revocation have expired: the refresh is refused.
  await expireIn(t.session.cachePath, -1000);
  const { code, stdout, stderr } = await runCli(["logout", "--profile", "dev"], {
    env: t.session.env,
  });
  assert.equal(code, 0);
  assert.equal(stdout, REMOVED);
  assert.equal(
    stderr,
    "aws-login: the login session of profile 'dev' had already ended or been revoked\n",
  );
  await assert.rejects(() => Deno.stat(t.session.cachePath), Deno.errors.NotFound);
});

Deno.test("logout names every profile sharing the session and removes the lock file too", async () => {
  await using t = await setup();
  // Same identity, so the same cache file (as in the AWS CLI).
  await addProfile(t.home.home, "demo", { login_session: ARN });
  await addProfile(t.home.home, "ops", { login_session: ARN });
  await addProfile(t.home.home, "else", { login_session: "arn:aws:iam::123456789012:user/Bob" });
  await Deno.writeTextFile(`${t.session.cachePath}.lock`, "");
  const { code, stdout, stderr } = await runCli(["logout", "--profile", "dev"], {
    env: t.session.env,
  });
  assert.equal(code, 0, stderr);
  assert.match(
    stdout,
    new RegExp(
      `\nProfiles 'demo', 'ops' use the same login session \\(${ARN}\\) and are logged out too\.\n$`,
    ),
  );
  assert.ok(!stdout.includes("'else'"), stdout);
  assert.deepEqual([...Deno.readDirSync(joinPath(t.home.home, ".aws", "login", "cache"))], []);
});

Deno.test("logout warns when the profile has no login session", async () => {
  await using home = await tempHome();
  const { code, stdout, stderr } = await runCli(["logout"], { env: home.env });
  assert.equal(code, 0);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    "warning: no login session found for profile 'default'\nNo profile exists yet.\n",
  );
});

Deno.test("logout --all removes only login token files", async () => {
  await using t = await setup();
  const dir = joinPath(t.home.home, ".aws", "login", "cache");
  const keep: Record<string, string> = {
    "notes.json": '{"hello": "world"}',
    "array.json": "[1, 2]",
    "garbage.json": "{not json",
    "string-token.json": '{"accessToken": "abc"}',
    "no-key.json": '{"accessToken": {"secretAccessKey": "x"}}',
  };
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (const [name, text] of Object.entries(keep)) {
    await Deno.writeTextFile(joinPath(dir, name), text);
    // Left there an hour ago: a file modified moments ago is waited for (it may be mid-write).
    await Deno.utime(joinPath(dir, name), hourAgo, hourAgo);
  }
  await Deno.writeTextFile(joinPath(dir, "other.json"), '{"accessToken": {"accessKeyId": "A"}}');
  await Deno.writeTextFile(`${t.session.cachePath}.lock`, "");
  await Deno.writeTextFile(joinPath(dir, `${"0".repeat(64)}.json.lock`), "");
  const { code, stdout } = await runCli(["logout", "--all", "--no-revoke"], { env: t.session.env });
  assert.equal(code, 0);
  assert.equal(
    stdout,
    "Removed 2 cached login credentials. Note, any local developer tools that have already " +
      "loaded access tokens may continue to use them until their expiration. Access tokens " +
      "expire in 15 minutes.\n",
  );
  // A lock file left by an older logout goes too; the removed tokens' lock files never stay.
  const left = [...Deno.readDirSync(dir)].map((e) => e.name);
  assert.deepEqual(left.sort(), Object.keys(keep).sort());
  const again = await runCli(["logout", "--all"], { env: t.session.env });
  assert.equal(again.stdout, "No cached login session tokens found.\n");
});

Deno.test("logout --all removes no lock file while another process holds it: it waits", async () => {
  await using t = await setup();
  const dir = joinPath(t.home.home, ".aws", "login", "cache");
  // A lock file whose cache file is gone, held (as by a refresh still running) while logout runs.
  const orphan = joinPath(dir, `${"0".repeat(64)}.json`);
  let logout: Promise<CliResult> | undefined;
  await withCacheLock(orphan, async () => {
    const inode = (await Deno.stat(`${orphan}.lock`)).ino;
    logout = runCli(["logout", "--all", "--no-revoke"], { env: t.session.env });
    // The session's file goes first; orphan lock files are looked at after every cache file.
    await until(() => !existsSync(t.session.cachePath), "logout to remove the cache file");
    // Time to reach this lock; a slower logout would only make this check weaker, never wrong.
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The same file: a new one would let another process lock it while this one holds the old.
    assert.equal((await Deno.stat(`${orphan}.lock`)).ino, inode, "a held lock file was replaced");
  });
  const { code, stdout, stderr } = await logout!;
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^Removed 1 cached login credential\./);
  // Once free, the orphan lock file goes.
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), []);
});

function existsSync(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("logout --all revokes every session at its own endpoint, and removes each file", async () => {
  await using t = await setup();
  const BOB = "arn:aws:iam::210987654321:user/Bob";
  await using other = await startEmulator({ autoApprove: BOB });
  const second = await createSession({ url: other.url, home: t.home, profile: "second" });
  // Each profile names its own Sign-In endpoint; there is no global override.
  await Deno.writeTextFile(
    joinPath(t.home.home, ".aws", "config"),
    `[profile dev]\nregion = us-east-1\nlogin_session = ${ARN}\nendpoint_url = ${t.emulator.url}\n` +
      `[profile second]\nregion = us-east-1\nlogin_session = ${BOB}\n` +
      `endpoint_url = ${other.url}\n`,
  );
  const env = { ...t.session.env };
  delete env.AWS_ENDPOINT_URL_SIGNIN;
  const { code, stdout, stderr } = await runCli(["logout", "--all"], { env });
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
  assert.match(
    stdout,
    /^Revoked 2 login sessions at AWS Sign-In\.\nRemoved 2 cached login credentials\./,
  );
  for (const [emulator, session] of [[t.emulator, t.session], [other, second]] as const) {
    assert.equal(emulator.controls.counters().revoke, 1);
    await assert.rejects(() => Deno.stat(session.cachePath), Deno.errors.NotFound);
    const key = await importDpopKeyPem(session.token.dpopKey);
    assert.equal((await refreshCall(emulator.url, key, session.token.refreshToken)).status, 400);
  }
});

/** The value of a `status` row, e.g. "session". */
function row(stdout: string, label: string): string | undefined {
  const line = stdout.split("\n").find((l) => l.startsWith(`  ${label}:`));
  return line?.slice(`  ${label}:`.length).trim();
}

Deno.test("status shows when the session ends, from AWS Sign-In's introspection", async () => {
  await using t = await setup();
  const text = await runCli(["status"], { env: t.session.env });
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    row(text.stdout, "session")!,
    /^ends \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in 11 h 59 min\)$|^ends \S+ \(in 12 h 0 min\)$/,
  );
  const json = await runCli(["status", "--json"], { env: t.session.env });
  const [dev] = JSON.parse(json.stdout).profiles;
  assert.equal(dev.sessionState, "active");
  assert.ok(Math.abs(dev.sessionEndsInSeconds - 43_200) < 120, String(dev.sessionEndsInSeconds));
  assert.equal(
    Date.parse(dev.sessionEndsAt),
    Date.parse(row(text.stdout, "session")!.split(" ")[1]!),
  );
  assert.equal(dev.sessionNote, undefined);
  assert.equal(t.emulator.controls.counters().introspect, 2);
  assert.equal(t.emulator.controls.counters().refresh_token, 0, "status still does not refresh");
});

Deno.test("status says the session is revoked after a revocation", async () => {
  await using t = await setup();
  const a = t.session.token.accessToken;
  await revokeRefreshToken(
    { baseUrl: t.emulator.url, region: "us-east-1", credentials: a, now: () => Date.now() },
    t.session.token.refreshToken,
    { fetch },
  );
  const text = await runCli(["status"], { env: t.session.env });
  assert.equal(text.code, EXIT.signin, text.stderr);
  assert.equal(
    row(text.stdout, "session"),
    'ended — log in again: run "aws-login login --profile dev" (AWS Sign-In says it is no ' +
      "longer active (revoked, or past its end))",
  );
  const json = await runCli(["status", "--json"], { env: t.session.env });
  assert.equal(json.code, EXIT.signin);
  const [dev] = JSON.parse(json.stdout).profiles;
  assert.equal(dev.sessionState, "ended");
  assert.equal(dev.sessionEndsAt, undefined);
  // Once the credentials have expired, a refresh finds the same, and blames no region.
  await expireIn(t.session.cachePath, -72_000);
  const refreshed = await runCli(["status", "--refresh"], { env: t.session.env });
  assert.equal(refreshed.code, EXIT.signin, refreshed.stderr);
  assert.match(row(refreshed.stdout, "session")!, /^ended — log in again: .*revoked or has ended/);
  assert.match(
    row(refreshed.stdout, "problem")!,
    /the session was revoked \(a logout\) or has ended/,
  );
  assert.ok(!refreshed.stdout.includes("region it was created in"), refreshed.stdout);
  assert.match(row(refreshed.stdout, "expires")!, /\(expired 1 min ago\)$|\(expired 7\d s ago\)$/);
  const used = await runCli(["credential-process", "--profile", "dev"], { env: t.session.env });
  assert.equal(used.code, EXIT.signin);
  assert.match(used.stderr, /the session was revoked \(a logout\) or has ended/);
  assert.ok(!used.stderr.includes("region"), used.stderr);
});

Deno.test("status shows a session ended when a refresh is refused with TOKEN_EXPIRED", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, -72_000);
  t.emulator.controls.failNextTokenCalls(1, { error: "TOKEN_EXPIRED" });
  const { code, stdout, stderr } = await runCli(["status", "--refresh"], { env: t.session.env });
  assert.equal(code, EXIT.signin, stderr);
  assert.equal(
    row(stdout, "session"),
    'ended — log in again: run "aws-login login --profile dev" (AWS Sign-In refused the ' +
      "refresh: the session has ended (TOKEN_EXPIRED))",
  );
  assert.ok(!stdout.includes("refreshed on next use"), stdout);
});

Deno.test("status shows a session ended when an earlier refresh was refused, without asking", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, -72_000);
  t.emulator.controls.failNextTokenCalls(1, { error: "TOKEN_EXPIRED" });
  const used = await runCli(["credential-process", "--profile", "dev"], { env: t.session.env });
  assert.equal(used.code, EXIT.signin);
  const { code, stdout, stderr } = await runCli(["status"], { env: t.session.env });
  assert.equal(code, EXIT.signin, stderr);
  assert.match(
    row(stdout, "session")!,
    /^ended — log in again: run "aws-login login --profile dev" \(a refresh at \S+Z was refused: the session has ended \(TOKEN_EXPIRED\)\)$/,
  );
  assert.ok(!stdout.includes("next use"), stdout);
  const counters = t.emulator.controls.counters();
  assert.deepEqual([counters.introspect, counters.refresh_token], [0, 1], "status asked nothing");
  // A note older than the credentials (a program that keeps unknown fields refreshed) is stale.
  const noted = await readCachedToken(t.session.cachePath);
  writeCachedToken(t.session.cachePath, {
    ...noted,
    accessToken: {
      ...t.session.token.accessToken,
      expiresAt: formatExpiresAt(Date.now() + 900_000),
    },
  });
  const stale = await runCli(["status", "--offline"], { env: t.session.env });
  assert.equal(stale.code, 0, stale.stdout);
  writeCachedToken(t.session.cachePath, noted);
  // A refresh that works (the refusal was the emulator's one-off) drops the note.
  const retried = await runCli(["credential-process", "--profile", "dev"], { env: t.session.env });
  assert.equal(retried.code, 0, retried.stderr);
  assert.equal((await readJson(t.session.cachePath)).sessionEndedAt, undefined);
  const again = await runCli(["status", "--offline"], { env: t.session.env });
  assert.equal(again.code, 0, again.stdout);
});

Deno.test("a session revoked elsewhere: the refused refresh is noted, and status says so", async () => {
  await using t = await setup();
  await revokeRefreshToken(
    {
      baseUrl: t.emulator.url,
      region: "us-east-1",
      credentials: t.session.token.accessToken,
      now: () => Date.now(),
    },
    t.session.token.refreshToken,
    { fetch },
  );
  await expireIn(t.session.cachePath, -72_000);
  const used = await runCli(["export-env", "--profile", "dev"], { env: t.session.env });
  assert.equal(used.code, EXIT.signin);
  assert.match(used.stderr, /the session was revoked \(a logout\) or has ended/);
  const json = await runCli(["status", "--json"], { env: t.session.env });
  assert.equal(json.code, EXIT.signin);
  const [dev] = JSON.parse(json.stdout).profiles;
  assert.equal(dev.sessionState, "ended");
  assert.match(
    dev.sessionEndedReason,
    /^a refresh at \S+Z was refused: AWS Sign-In no longer accepts its refresh token \(INVALID_REQUEST\): the session was revoked or has ended$/,
  );
});

/** The cached id token with its `iat` (the sign-in time) moved `ms` into the past. */
async function signedInAgo(cachePath: string, ms: number): Promise<void> {
  const token = await readCachedToken(cachePath);
  const [header, payload, signature] = token.idToken!.split(".");
  const claims = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/")));
  claims.iat = Math.floor((Date.now() - ms) / 1000);
  const encoded = btoa(JSON.stringify(claims)).replace(/=+$/, "").replace(/\+/g, "-")
    .replace(/\//g, "_");
  token.idToken = `${header}.${encoded}.${signature}`;
  writeCachedToken(cachePath, token);
}

Deno.test("status shows a session ended once 12 hours have passed since sign-in, without asking", async () => {
  await using t = await setup();
  await signedInAgo(t.session.cachePath, 13 * 3600_000);
  await expireIn(t.session.cachePath, -72_000);
  const { code, stdout, stderr } = await runCli(["status"], { env: t.session.env });
  assert.equal(code, EXIT.signin, stderr);
  assert.match(
    row(stdout, "session")!,
    /^ended — log in again: run "aws-login login --profile dev" \(signed in at \S+Z, and sessions last at most 12 hours\)$/,
  );
  assert.match(row(stdout, "expires")!, /\(expired (1 min|7\d s) ago\)$/);
  assert.equal(row(stdout, "cache file"), `${t.session.cachePath} (valid)`);
  const counters = t.emulator.controls.counters();
  assert.deepEqual([counters.introspect, counters.refresh_token], [0, 0]);
});

Deno.test("status --offline asks nothing of AWS Sign-In", async () => {
  await using t = await setup();
  const text = await runCli(["status", "--offline"], { env: t.session.env });
  assert.equal(text.code, 0, text.stderr);
  assert.equal(row(text.stdout, "session"), undefined);
  assert.match(text.stdout, /\n {2}expires: {9}\S+ \(in 1[45] min\)\n/);
  const json = await runCli(["status", "--offline", "--json"], { env: t.session.env });
  assert.equal(JSON.parse(json.stdout).profiles[0].sessionState, undefined);
  assert.equal(t.emulator.controls.counters().introspect, 0);
});

Deno.test("status notes a session it cannot check, and still succeeds", async () => {
  await using t = await setup();
  t.emulator.controls.denyActions(["signin:IntrospectOAuth2TokenWithIAM"]);
  const denied = await runCli(["status"], { env: t.session.env });
  assert.equal(denied.code, 0, denied.stderr);
  assert.equal(denied.stderr, "");
  assert.equal(
    row(denied.stdout, "session"),
    "unknown: cannot ask AWS Sign-In: AWS Sign-In did not answer the session check " +
      `(AccessDeniedException: User: ${ARN} is not authorized to perform: ` +
      "signin:IntrospectOAuth2TokenWithIAM)",
  );
  await expireIn(t.session.cachePath, -1000);
  const expired = await runCli(["status", "--json"], { env: t.session.env });
  const [dev] = JSON.parse(expired.stdout).profiles;
  assert.equal(dev.sessionState, "unknown");
  assert.match(dev.sessionNote, /cached credentials that sign the check have expired/);
  // Whether the next use can refresh them is not known yet: no promise that it will.
  const text = await runCli(["status"], { env: t.session.env });
  assert.match(
    row(text.stdout, "expires")!,
    /\(expired \d+ s ago; the next use refreshes them if the session has not ended\)$/,
  );
  assert.equal(t.emulator.controls.counters().introspect, 1);
});

Deno.test("status and logout send the refresh token only to the session's own endpoint", async () => {
  await using t = await setup();
  // Another (working) Sign-In is configured now; the session was made at the first one.
  await using other = await startEmulator({ autoApprove: ARN });
  const env = { ...t.session.env, AWS_ENDPOINT_URL_SIGNIN: other.url };
  const status = await runCli(["status", "--json"], { env });
  const [dev] = JSON.parse(status.stdout).profiles;
  assert.equal(dev.sessionState, "unknown");
  assert.match(dev.sessionNote, /it was made with AWS Sign-In at/);
  // logout revokes at the endpoint recorded in the session's own file, whatever is set now.
  const logout = await runCli(["logout", "--profile", "dev"], { env });
  assert.equal(logout.code, 0, logout.stderr);
  assert.equal(logout.stderr, "");
  assert.match(logout.stdout, /^Revoked the login session of profile 'dev' at AWS Sign-In\.\n/);
  assert.equal(t.emulator.controls.counters().revoke, 1);
  await assert.rejects(() => Deno.stat(t.session.cachePath), Deno.errors.NotFound);
  const seen = other.controls.counters();
  assert.deepEqual([seen.introspect, seen.revoke, seen.refresh_token], [0, 0, 0]);
});

Deno.test("logout --all with an endpoint variable set revokes each session where it was made", async () => {
  await using t = await setup();
  const BOB = "arn:aws:iam::210987654321:user/Bob";
  await using other = await startEmulator({ autoApprove: BOB });
  const second = await createSession({ url: other.url, home: t.home, profile: "second" });
  // Expired credentials too: the refresh that signs the revocation goes to the same place.
  await expireIn(second.cachePath, -1000);
  // AWS_ENDPOINT_URL_SIGNIN names the first emulator (t.session.env); "second" was made at the other.
  const { code, stdout, stderr } = await runCli(["logout", "--all"], { env: t.session.env });
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
  assert.match(
    stdout,
    /^Revoked 2 login sessions at AWS Sign-In\.\nRemoved 2 cached login credentials\./,
  );
  assert.deepEqual(
    [other.controls.counters().refresh_token, other.controls.counters().revoke],
    [1, 1],
  );
  assert.equal(t.emulator.controls.counters().revoke, 1);
  assert.equal(t.emulator.controls.counters().refresh_token, 0, "nothing of Bob's went there");
  // A copy of either file is worthless now.
  for (const [emulator, session] of [[t.emulator, t.session], [other, second]] as const) {
    const key = await importDpopKeyPem(session.token.dpopKey);
    assert.equal((await refreshCall(emulator.url, key, session.token.refreshToken)).status, 400);
  }
});
