import assert from "node:assert/strict";
import { EXIT } from "../../lib/errors.ts";
import { pythonIsoformat } from "../../lib/session/export_formats.ts";
import { expiresAtMs, writeCachedToken } from "../../lib/session/token_cache.ts";
import { outputBounded } from "../helpers/bounded.ts";
import { runCli, tempHome } from "../helpers/cli.ts";
import { addProfile, expireIn, readJson, sessionFixture } from "../helpers/session.ts";
import { refusedEndpoint } from "../helpers/refused.ts";

/** `sh` evaluates the output: POSIX only. */
const posix = { test: Deno.build.os === "windows" ? Deno.test.ignore : Deno.test };

const ARN = "arn:aws:iam::123456789012:user/Alice";

function setup() {
  return sessionFixture({ arn: ARN });
}

Deno.test("credential-process prints only the credential_process JSON", async () => {
  await using t = await setup();
  const { code, stdout, stderr } = await runCli(["credential-process", "--profile", "dev"], {
    env: t.session.env,
  });
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
  const a = t.session.token.accessToken;
  assert.equal(
    stdout,
    JSON.stringify(
      {
        Version: 1,
        AccessKeyId: a.accessKeyId,
        SecretAccessKey: a.secretAccessKey,
        SessionToken: a.sessionToken,
        Expiration: pythonIsoformat(expiresAtMs(t.session.token)),
        AccountId: "123456789012",
      },
      null,
      2,
    ) + "\n",
  );
});

Deno.test("credential-process takes the profile from AWS_PROFILE", async () => {
  await using t = await setup();
  const { code, stdout } = await runCli(["credential-process"], {
    env: { ...t.session.env, AWS_PROFILE: "dev" },
  });
  assert.equal(code, 0);
  assert.equal(JSON.parse(stdout).AccessKeyId, t.session.token.accessToken.accessKeyId);
});

Deno.test("export-env prints export lines, and --format picks another shell", async () => {
  await using t = await setup();
  const a = t.session.token.accessToken;
  const expiration = pythonIsoformat(expiresAtMs(t.session.token));
  const env = await runCli(["export-env", "--profile", "dev"], { env: t.session.env });
  assert.equal(env.code, 0, env.stderr);
  assert.equal(
    env.stdout,
    `export AWS_ACCESS_KEY_ID=${a.accessKeyId}\n` +
      `export AWS_SECRET_ACCESS_KEY=${quote(a.secretAccessKey)}\n` +
      `export AWS_SESSION_TOKEN=${quote(a.sessionToken)}\n` +
      `export AWS_CREDENTIAL_EXPIRATION=${expiration}\n` +
      `export AWS_ACCOUNT_ID=123456789012\n`,
  );
  const fish = await runCli(["export-env", "--profile", "dev", "--format", "fish"], {
    env: t.session.env,
  });
  assert.equal(fish.stdout.split("\n")[0], `set -gx AWS_ACCESS_KEY_ID "${a.accessKeyId}"`);
  const json = await runCli(["export-env", "--profile", "dev", "--format", "json"], {
    env: t.session.env,
  });
  assert.equal(JSON.parse(json.stdout).SessionToken, a.sessionToken);
});

function quote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

posix.test("export-env output evaluated by sh sets the variables", async () => {
  await using t = await setup();
  const { stdout } = await runCli(["export-env", "--profile", "dev"], { env: t.session.env });
  const out = await outputBounded("sh", {
    args: ["-c", `${stdout}\nprintf '%s|%s' "$AWS_SESSION_TOKEN" "$AWS_ACCOUNT_ID"`],
  });
  assert.equal(out.stdout, `${t.session.token.accessToken.sessionToken}|123456789012`);
});

Deno.test("export-env refuses an unknown format with exit 2", async () => {
  await using home = await tempHome();
  const { code, stdout, stderr } = await runCli(["export-env", "--format", "csh"], {
    env: home.env,
  });
  assert.equal(code, EXIT.usage);
  assert.equal(stdout, "");
  assert.match(stderr, /Option "--format" takes one of env, env-no-export, powershell/);
});

Deno.test("credential-process refreshes an expiring session and writes the cache back", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, 60_000);
  const { code, stdout, stderr } = await runCli(["credential-process", "--profile", "dev"], {
    env: t.session.env,
  });
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
  const cache = await readJson(t.session.cachePath);
  const access = cache.accessToken as Record<string, string>;
  assert.notEqual(access.accessKeyId, t.session.token.accessToken.accessKeyId);
  assert.equal(JSON.parse(stdout).AccessKeyId, access.accessKeyId);
  assert.equal(t.emulator.controls.counters().refresh_token, 1);
});

Deno.test("a profile without login_session exits 3 and names the login command", async () => {
  await using home = await tempHome();
  await addProfile(home.home, "plain", { region: "us-east-1" });
  const { code, stdout, stderr } = await runCli(["credential-process", "--profile", "plain"], {
    env: home.env,
  });
  assert.equal(code, EXIT.config);
  assert.equal(stdout, "");
  assert.match(stderr, /aws-login login --profile plain/);
});

for (
  const [name, contents, fragment] of [
    ["missing", undefined, "No cached login session"],
    ["empty", "", "it is empty"],
    ["truncated", '{"accessToken": {"acc', "it is not valid JSON"],
    ["lacking fields", '{"accessToken": {}, "clientId": "c"}', "missing or invalid"],
  ] as const
) {
  Deno.test(`a ${name} cache file exits 4 with a clear message`, async () => {
    await using t = await setup();
    if (contents === undefined) await Deno.remove(t.session.cachePath);
    else await Deno.writeTextFile(t.session.cachePath, contents);
    for (const command of ["credential-process", "export-env"]) {
      const { code, stdout, stderr } = await runCli([command, "--profile", "dev"], {
        env: t.session.env,
      });
      assert.equal(code, EXIT.cache, command);
      assert.equal(stdout, "");
      assert.ok(stderr.startsWith("aws-login: "), stderr);
      assert.ok(stderr.includes(fragment), stderr);
      assert.ok(stderr.includes(t.session.cachePath), stderr);
    }
  });
}

for (const value of ["TOKEN_EXPIRED", "USER_CREDENTIALS_CHANGED", "INSUFFICIENT_PERMISSIONS"]) {
  Deno.test(`a refresh refused with ${value} exits 5 and keeps the cache`, async () => {
    await using t = await setup();
    await expireIn(t.session.cachePath, -1000);
    const before = await Deno.readTextFile(t.session.cachePath);
    t.emulator.controls.failNextTokenCalls(1, { error: value });
    const { code, stdout, stderr } = await runCli(["credential-process", "--profile", "dev"], {
      env: t.session.env,
    });
    assert.equal(code, EXIT.signin);
    assert.equal(stdout, "");
    assert.ok(stderr.includes(`(${value}`), stderr);
    assert.ok(stderr.includes("aws-login login --profile dev"), stderr);
    // Only a session that is over gets a note (for status); nothing else changes.
    const { sessionEndedAt, sessionEndedBy, ...after } = await readJson(t.session.cachePath);
    assert.deepEqual(after, JSON.parse(before));
    assert.equal(sessionEndedBy, value === "TOKEN_EXPIRED" ? value : undefined);
    assert.equal(sessionEndedAt === undefined, value !== "TOKEN_EXPIRED");
  });
}

Deno.test("an unreachable Sign-In endpoint exits 6 after retries", async () => {
  await using t = await setup();
  const token = await expireIn(t.session.cachePath, -1000);
  // The session's own endpoint is down (another one would be refused before any request).
  const endpoint = await refusedEndpoint();
  writeCachedToken(t.session.cachePath, { ...token, signInEndpoint: endpoint });
  const { code, stdout, stderr } = await runCli(["credential-process", "--profile", "dev"], {
    env: { ...t.session.env, AWS_ENDPOINT_URL_SIGNIN: endpoint },
  });
  assert.equal(code, EXIT.network);
  assert.equal(stdout, "");
  assert.match(stderr, /^aws-login: Cannot reach AWS Sign-In at "127\.0\.0\.1:\d+"/);
});

Deno.test("a 429 with Retry-After is waited out and the refresh succeeds", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, -1000);
  t.emulator.controls.failNextTokenCalls(1, { status: 429, retryAfterSeconds: 1 });
  const { code, stderr } = await runCli(["credential-process", "--profile", "dev"], {
    env: t.session.env,
  });
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
});

Deno.test("a 500 while the credentials are still valid warns and prints them", async () => {
  await using t = await setup();
  await expireIn(t.session.cachePath, 120_000);
  t.emulator.controls.failNextTokenCalls(1, { status: 500 });
  const { code, stdout, stderr } = await runCli(["credential-process", "--profile", "dev"], {
    env: t.session.env,
  });
  assert.equal(code, 0);
  assert.equal(JSON.parse(stdout).AccessKeyId, t.session.token.accessToken.accessKeyId);
  assert.match(stderr, /^aws-login: warning: cannot refresh the login session of profile "dev"/);
});

Deno.test("a refresh at a host the permission set lacks is a permission error, not a network one", async () => {
  await using t = await setup();
  const token = await expireIn(t.session.cachePath, 60_000);
  // The session's own endpoint (another one would be refused by the pin before any request).
  const endpoint = "https://signin.example.com:8443";
  writeCachedToken(t.session.cachePath, { ...token, signInEndpoint: endpoint });
  const { code, stdout, stderr } = await runCli(["credential-process", "--profile", "dev"], {
    env: { ...t.session.env, AWS_ENDPOINT_URL_SIGNIN: endpoint },
  });
  assert.equal(code, EXIT.config, stderr);
  assert.equal(stdout, "");
  assert.match(stderr, /Deno permissions do not allow connecting to "signin\.example\.com:8443"/);
  assert.ok(!/Cannot reach|network/i.test(stderr), stderr);
});

Deno.test("a credential_process profile names the profile that holds the login session", async () => {
  await using t = await setup();
  await addProfile(t.home.home, "dev-process", {
    credential_process: "aws-login credential-process --profile dev",
  });
  for (const args of [["credential-process"], ["export-env"], ["status"]]) {
    const run = await runCli([...args, "--profile", "dev-process"], { env: t.session.env });
    assert.equal(run.code, EXIT.config, run.stderr);
    assert.equal(
      run.stderr,
      'aws-login: Profile "dev-process" has no login session: it gets its credentials from ' +
        'credential_process "… --profile dev"; the login session is in profile "dev": use ' +
        "--profile dev\n",
      args[0],
    );
    // Never the dead end: login refuses a profile with another credential style.
    assert.ok(!run.stderr.includes("login --profile dev-process"), run.stderr);
  }
  const logout = await runCli(["logout", "--profile", "dev-process"], { env: t.session.env });
  assert.equal(logout.code, 0);
  assert.equal(
    logout.stderr,
    "warning: no login session found for profile 'dev-process'\n" +
      'Profile "dev-process" has no login session: it gets its credentials from ' +
      'credential_process "… --profile dev"; the login session is in profile "dev": use ' +
      "--profile dev\n",
  );
  await Deno.stat(t.session.cachePath); // dev is still logged in
});

Deno.test("a credential_process profile that names itself is called a loop", async () => {
  await using t = await setup();
  await addProfile(t.home.home, "loop", {
    credential_process: "'/home/me/.deno/bin/aws-login' credential-process --profile=loop",
  });
  await addProfile(t.home.home, "tool", { credential_process: "/usr/local/bin/vault-creds --x" });
  const loop = await runCli(["credential-process", "--profile", "loop"], { env: t.session.env });
  assert.equal(loop.code, EXIT.config);
  assert.equal(
    loop.stderr,
    'aws-login: Profile "loop" has no login session: it gets its credentials from ' +
      'credential_process "… --profile loop", which names "loop" itself: it would run itself ' +
      "without end. Its --profile must name the profile that holds the login session: use a " +
      'profile with a login session (dev), or sign in with "aws-login login --profile ' +
      'NEW-PROFILE-NAME"\n',
  );
  const tool = await runCli(["export-env", "--profile", "tool"], { env: t.session.env });
  assert.equal(tool.code, EXIT.config);
  assert.match(tool.stderr, /its own program, not aws-login\), which aws-login cannot use/);
  assert.ok(!tool.stderr.includes("vault-creds"), "another program's command line is not shown");
});
