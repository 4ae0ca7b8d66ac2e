/**
 * The role cache shared with the real AWS CLI v2, both ways, against the project's emulator: a
 * role the AWS CLI assumed is handed out by aws-login without a new AssumeRole, and a role
 * aws-login assumed is used by the AWS CLI without one (the emulator counts AssumeRole calls).
 * Not part of `deno task test`: it needs the AWS CLI from source (`shared/awscli/setup.sh` beside
 * the repo, or AWS_LOGIN_TEST_AWSCLI naming such an `aws`), which a fresh clone and CI do not have.
 * It is the only way to check the AWS CLI's own code, not a copy of its algorithm: run it with
 * `deno task crosscheck` after a change to the role cache. Without the AWS CLI it fails, not skips.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, runCli } from "../tests/helpers/cli.ts";
import { outputBounded, spawnBounded } from "../tests/helpers/bounded.ts";
import { addProfile, sessionFixture } from "../tests/helpers/session.ts";

/** The AWS CLI's launcher: the variable, else `shared/awscli/aws` one or two folders above. */
const AWS = Deno.env.get("AWS_LOGIN_TEST_AWSCLI") ??
  [join(ROOT, "..", "shared", "awscli", "aws"), join(ROOT, "..", "..", "shared", "awscli", "aws")]
    .find((path) => {
      try {
        return Deno.statSync(path).isFile;
      } catch {
        return false;
      }
    }) ??
  "aws-cli-not-set-up";
const HOST_HOME = Deno.env.get("HOME") ?? "";
/** Where the AWS CLI's source lives: its launcher looks under HOME, which the tests replace. */
const AWSCLI_SRC = Deno.env.get("AWSCLI_SRC") ??
  join(HOST_HOME, ".cache", "aws-login-dev", "awscli-src");

function awsCliPresent(): boolean {
  try {
    Deno.statSync(AWS);
    Deno.statSync(join(AWSCLI_SRC, "awscli", "clidriver.py"));
    return true;
  } catch {
    return false;
  }
}

Deno.test("the AWS CLI from source is set up (shared/awscli/setup.sh, or AWS_LOGIN_TEST_AWSCLI)", () => {
  assert.ok(
    awsCliPresent(),
    `no AWS CLI at "${AWS}" with its source in "${AWSCLI_SRC}": run shared/awscli/setup.sh first`,
  );
});

const ALICE = "arn:aws:iam::111111111111:user/Alice";
const ROLE = "arn:aws:iam::222222222222:role/Admin";

/** Runs the real AWS CLI with `env`; its JSON output. */
async function aws(args: string[], env: Record<string, string>): Promise<Record<string, unknown>> {
  const out = await outputBounded(AWS, {
    args: [...args, "--output", "json"],
    env: { ...env, AWSCLI_SRC, AWS_PAGER: "" },
    clearEnv: true,
  });
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout);
}

async function cacheEntries(home: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(join(home, ".aws", "cli", "cache"))) {
      // The AWS CLI keeps a session.db there too, and aws-login its lock files.
      if (e.name.endsWith(".json")) names.push(e.name);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return names.sort();
}

/**
 * A login session "dev" and, for the AWS CLI, a profile "keys" with static keys the emulator
 * issued to that session (the CLI's own refresh of a login session would need the emulator as its
 * Sign-In endpoint too; static keys keep the check on the role half). Role profiles "admin" (from
 * the session, for aws-login) and "cli-admin" (from the keys, for the AWS CLI) name the same role
 * with the same arguments, so both tools derive the same cache key.
 */
async function setup(roleKeys: Record<string, string>) {
  const t = await sessionFixture({ arn: ALICE, region: "eu-west-1" });
  const env = { ...t.session.env, AWS_ENDPOINT_URL_STS: t.emulator.url };
  const keys = t.session.token.accessToken;
  await Deno.writeTextFile(
    join(t.home.home, ".aws", "credentials"),
    `[keys]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\naws_session_token = ${keys.sessionToken}\n`,
  );
  await addProfile(t.home.home, "admin", {
    role_arn: ROLE,
    source_profile: "dev",
    region: "eu-west-1",
    ...roleKeys,
  });
  await addProfile(t.home.home, "cli-admin", {
    role_arn: ROLE,
    source_profile: "keys",
    region: "eu-west-1",
    ...roleKeys,
  });
  return { t, env };
}

for (
  const [label, roleKeys] of [
    ["default session name", {}],
    ["session name, external id and duration set", {
      role_session_name: "ops-alice",
      external_id: "ext-1234",
      duration_seconds: "1800",
    }],
    // The AWS CLI then caches Expiration as STS sent it (…Z) instead of …+00:00.
    ["the AWS CLI's wire timestamps", { cli_timestamp_format: "wire" }],
  ] as const
) {
  Deno.test({
    name:
      `AWS CLI → aws-login (${label}): a role the AWS CLI assumed is handed out without a new AssumeRole`,
    async fn() {
      const { t, env } = await setup(roleKeys);
      await using _ = t;
      const who = await aws(["sts", "get-caller-identity", "--profile", "cli-admin"], env);
      assert.match(String(who.Arn), /^arn:aws:sts::222222222222:assumed-role\/Admin\//);
      const counted = t.emulator.controls.counters().assume_role;
      assert.equal(counted, 1);
      const entries = await cacheEntries(t.home.home);
      assert.equal(entries.length, 1);
      // The AWS CLI v2 caches its parsed timestamps: …+00:00 by default, …Z as sent with "wire".
      const written = JSON.parse(
        await Deno.readTextFile(join(t.home.home, ".aws", "cli", "cache", entries[0]!)),
      );
      assert.match(
        written.Credentials.Expiration,
        "cli_timestamp_format" in roleKeys ? /:\d\dZ$/ : /:\d\d\+00:00$/,
      );

      const out = await runCli(["credential-process", "--profile", "admin"], { env });
      assert.equal(out.code, 0, out.stderr);
      assert.equal(JSON.parse(out.stdout).AccountId, "222222222222");
      assert.equal(t.emulator.controls.counters().assume_role, counted, "no new AssumeRole");
      assert.equal((await cacheEntries(t.home.home)).length, 1, "the same cache entry");
    },
  });

  Deno.test({
    name:
      `aws-login → AWS CLI (${label}): a role aws-login assumed is used by the AWS CLI without a new AssumeRole`,
    async fn() {
      const { t, env } = await setup(roleKeys);
      await using _ = t;
      const out = await runCli(["credential-process", "--profile", "admin"], { env });
      assert.equal(out.code, 0, out.stderr);
      const issued = JSON.parse(out.stdout);
      assert.equal(t.emulator.controls.counters().assume_role, 1);
      const [entry] = await cacheEntries(t.home.home);

      const who = await aws(["sts", "get-caller-identity", "--profile", "cli-admin"], env);
      assert.equal(t.emulator.controls.counters().assume_role, 1, "no new AssumeRole");
      assert.deepEqual(await cacheEntries(t.home.home), [entry]);
      assert.match(String(who.Arn), /^arn:aws:sts::222222222222:assumed-role\/Admin\//);
      // The AWS CLI signed with the very keys aws-login cached.
      const cached = JSON.parse(
        await Deno.readTextFile(join(t.home.home, ".aws", "cli", "cache", entry!)),
      );
      assert.equal(cached.Credentials.AccessKeyId, issued.AccessKeyId);
    },
  });
}

const hasScript = Deno.build.os === "linux" &&
  (await Deno.stat("/usr/bin/script").then(() => true, () => false)) &&
  (await Deno.stat("/usr/bin/setsid").then(() => true, () => false));

Deno.test({
  name:
    "AWS CLI → aws-login, MFA role: the code typed for the AWS CLI fills the cache that a terminal-less credential_process then uses",
  ignore: !hasScript, // a pseudo-terminal for the AWS CLI's getpass prompt (Linux)
  async fn() {
    const serial = "arn:aws:iam::111111111111:mfa/Alice";
    const t = await sessionFixture({
      arn: ALICE,
      region: "eu-west-1",
      emulator: { roles: [{ arn: ROLE, mfaSerial: serial, mfaCode: "123456" }] },
    });
    await using _ = t;
    const env = { ...t.session.env, AWS_ENDPOINT_URL_STS: t.emulator.url };
    const keys = t.session.token.accessToken;
    await Deno.writeTextFile(
      join(t.home.home, ".aws", "credentials"),
      `[keys]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\naws_session_token = ${keys.sessionToken}\n`,
    );
    for (const [name, source] of [["admin", "dev"], ["cli-admin", "keys"]]) {
      await addProfile(t.home.home, name!, {
        role_arn: ROLE,
        source_profile: source!,
        region: "eu-west-1",
        mfa_serial: serial,
      });
    }
    // The AWS CLI asks on the terminal (getpass): a pseudo-terminal made by `script`. getpass
    // flushes what was typed before its prompt, so the code is typed once the prompt is shown.
    await using cli = spawnBounded("setsid", {
      args: [
        "-w",
        "script",
        "-qec",
        `${AWS} sts get-caller-identity --profile cli-admin --output json`,
        "/dev/null",
      ],
      env: { ...env, AWSCLI_SRC, AWS_PAGER: "" },
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
      deadlineMs: 120_000,
    });
    const stdin = cli.stdin.getWriter();
    let printed = "";
    let typed = false;
    for await (const chunk of cli.stdout.pipeThrough(new TextDecoderStream())) {
      printed += chunk;
      if (!typed && printed.includes(`Enter MFA code for ${serial}:`)) {
        typed = true;
        await stdin.write(new TextEncoder().encode("123456\n"));
      }
    }
    await stdin.close().catch(() => {});
    assert.equal((await cli.status).code, 0, printed);
    assert.match(printed, /assumed-role\/Admin\//);
    assert.equal(t.emulator.controls.counters().assume_role, 1);

    // No terminal here: without the shared entry this would fail, asking for a code.
    const out = await runCli(["credential-process", "--profile", "admin"], { env });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(JSON.parse(out.stdout).AccountId, "222222222222");
    assert.equal(t.emulator.controls.counters().assume_role, 1, "no new AssumeRole");
  },
});
