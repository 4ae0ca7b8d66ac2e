import assert from "node:assert/strict";
import { EXIT } from "../../lib/errors.ts";
import { joinPath } from "../../lib/files.ts";
import { runCli, tempHome } from "../helpers/cli.ts";
import { addProfile, sessionFixture } from "../helpers/session.ts";

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

Deno.test("status --json reports a missing cache file and exits 4", async () => {
  await using t = await setup();
  await Deno.remove(t.session.cachePath);
  const { code, stdout } = await runCli(["status", "--json"], { env: t.session.env });
  assert.equal(code, EXIT.cache);
  const report = JSON.parse(stdout);
  assert.equal(report.profiles.length, 1);
  const [dev] = report.profiles;
  assert.equal(dev.profile, "dev");
  assert.equal(dev.loginSession, ARN);
  assert.equal(dev.cacheState, "missing");
  assert.match(dev.problem, /No cached login session/);
  // The hint names the profile, as every other command's does.
  assert.match(dev.problem, /Run "aws-login login --profile dev" to sign in/);
  assert.equal(dev.accessKeyId, undefined);
});

Deno.test("status --refresh changes the keys and reports the cache dir open to others", async () => {
  await using t = await setup();
  await Deno.chmod(joinPath(t.home.home, ".aws", "login", "cache"), 0o755);
  const { code, stdout, stderr } = await runCli(["status", "--json", "--refresh"], {
    env: t.session.env,
  });
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout);
  const [dev] = report.profiles;
  assert.equal(dev.refreshed, true);
  assert.notEqual(dev.accessKeyId.slice(-4), "");
  assert.notEqual(
    dev.accessKeyId,
    `****************${t.session.token.accessToken.accessKeyId.slice(-4)}`,
  );
  assert.match(report.warnings[0], /is open to other users \(mode 755\)/);
  assert.equal(t.emulator.controls.counters().refresh_token, 1);
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

Deno.test("logout removes the profile's cache file with the CLI's message", async () => {
  await using t = await setup();
  const { code, stdout, stderr } = await runCli(["logout", "--profile", "dev"], {
    env: t.session.env,
  });
  assert.equal(code, 0);
  assert.equal(stderr, "");
  assert.equal(
    stdout,
    "Removed cached login credentials for profile 'dev'. Note, any local developer tools that " +
      "have already loaded the access token may continue to use it until its expiration. " +
      "Access tokens expire in 15 minutes.\n",
  );
  await assert.rejects(() => Deno.stat(t.session.cachePath), Deno.errors.NotFound);
  const config = await Deno.readTextFile(joinPath(t.home.home, ".aws", "config"));
  assert.match(config, /login_session = arn:aws:iam::123456789012:user\/Alice/);
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
  for (const [name, text] of Object.entries(keep)) {
    await Deno.writeTextFile(joinPath(dir, name), text);
  }
  await Deno.writeTextFile(joinPath(dir, "other.json"), '{"accessToken": {"accessKeyId": "A"}}');
  await Deno.writeTextFile(`${t.session.cachePath}.lock`, "");
  await Deno.writeTextFile(joinPath(dir, `${"0".repeat(64)}.json.lock`), "");
  const { code, stdout } = await runCli(["logout", "--all"], { env: t.session.env });
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
