/**
 * Role profiles against the emulator, resolved by the official AWS SDK for JavaScript v3: after
 * `aws-login login` (the CLI under `-P`, in a temporary HOME, against the emulator) leaves a login
 * profile, the SDK's own `fromIni` resolves a role profile whose `source_profile` is that login
 * profile — its login provider reads our cache, its STS client sends AssumeRole to the emulator —
 * and GetCallerIdentity with the role credentials names the assumed role; a chain of two roles in
 * two more accounts works the same, an MFA role takes the code the SDK's callback gives (a wrong one
 * is STS's MFA refusal), and a role the roles file does not let the session assume comes
 * out of the SDK as STS's AccessDenied; and `aws-login credential-process` on the same role profile
 * gets the same role.
 *
 * The SDK reads its files and endpoints from `process.env`, which every test module running in
 * parallel in this process shares; so the SDK tests run in a child `deno test` of this file, with
 * an environment of their own, and the parent checks that they all passed.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { fromIni, GetCallerIdentityCommand, STSClient } from "../dev_deps.ts";
import type { RolesFileEntry } from "../../lib/emulator/roles.ts";
import { joinPath } from "../../lib/files.ts";
import { outputBounded } from "../helpers/bounded.ts";
import { browserCommandLine } from "../../tools/browser.ts";
import { DEV_LOCK, ROOT, runCli, tempHome } from "../helpers/cli.ts";
import { addProfile, denoDir, startEmulator } from "../helpers/session.ts";

const ALICE = "arn:aws:iam::123456789012:user/Alice";
const ADMIN = "arn:aws:iam::210987654321:role/Admin";
const AUDIT = "arn:aws:iam::333333333333:role/Audit";
const GUARDED = "arn:aws:iam::444444444444:role/Guarded";
const MFA_SERIAL = "arn:aws:iam::123456789012:mfa/Alice";
const CHILD = Deno.env.get("AWS_LOGIN_ROLE_SDK_CHILD") === "1";
const SDK_TESTS = 5;

/** Defines a test in the child process only. */
const sdkTest: (name: string, fn: () => Promise<void>) => void = CHILD ? Deno.test : () => {};

if (!CHILD) {
  Deno.test("the official AWS SDK resolves role profiles at the emulator (in a process of its own)", async () => {
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
      env: { AWS_LOGIN_ROLE_SDK_CHILD: "1", NO_COLOR: "1" },
      // A guard, not a speed check: a stuck child fails the test instead of hanging the suite.
      deadlineMs: 240_000,
    });
    const text = out.stdout + out.stderr;
    assert.equal(out.code, 0, text);
    assert.match(text, new RegExp(`ok \\| ${SDK_TESTS} passed \\| 0 failed`), text);
  });
}

/** Process variables the SDK reads; the fixture sets its own and restores the host's after. */
const SDK_VARIABLES = [
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_LOGIN_CACHE_DIRECTORY",
  "AWS_ENDPOINT_URL",
  "AWS_ENDPOINT_URL_SIGNIN",
  "AWS_ENDPOINT_URL_STS",
  "AWS_PROFILE",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
];

/**
 * An emulator approving every sign-in as Alice, a temporary HOME where `aws-login login --profile
 * dev` signed in, role profiles `admin` (source `dev`) and `audit` (source `admin`), and this
 * process's environment pointing the SDK at both.
 */
async function setup(roles?: RolesFileEntry[]) {
  const emulator = await startEmulator({ autoApprove: ALICE, roles });
  const home = await tempHome();
  const saved = new Map(SDK_VARIABLES.map((name) => [name, Deno.env.get(name)]));
  const dispose = async () => {
    for (const [name, value] of saved) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
    await emulator.close();
    await home[Symbol.asyncDispose]();
  };
  try {
    const login = await runCli(["login", "--profile", "dev", "--region", "eu-west-1"], {
      env: {
        ...home.env,
        AWS_ENDPOINT_URL_SIGNIN: emulator.url,
        DENO_DIR: await denoDir(),
        BROWSER: browserCommandLine(joinPath(home.home, "browser.json")),
      },
    });
    assert.equal(login.code, 0, login.stderr);
    await addProfile(home.home, "admin", {
      role_arn: ADMIN,
      source_profile: "dev",
      role_session_name: "alice-sdk",
      region: "eu-west-1",
    });
    await addProfile(home.home, "audit", {
      role_arn: AUDIT,
      source_profile: "admin",
      region: "eu-west-1",
    });
    await addProfile(home.home, "guarded", {
      role_arn: GUARDED,
      source_profile: "dev",
      mfa_serial: MFA_SERIAL,
      region: "eu-west-1",
    });
    for (const name of SDK_VARIABLES) Deno.env.delete(name);
    const aws = joinPath(home.home, ".aws");
    Deno.env.set("AWS_CONFIG_FILE", joinPath(aws, "config"));
    Deno.env.set("AWS_SHARED_CREDENTIALS_FILE", joinPath(aws, "credentials"));
    Deno.env.set("AWS_LOGIN_CACHE_DIRECTORY", joinPath(aws, "login", "cache"));
    Deno.env.set("AWS_ENDPOINT_URL_SIGNIN", emulator.url);
    Deno.env.set("AWS_ENDPOINT_URL_STS", emulator.url);
  } catch (err) {
    await dispose();
    throw err;
  }
  /** The CLI's environment: the HOME, and the emulator for Sign-In and STS. */
  const env = {
    ...home.env,
    AWS_ENDPOINT_URL_SIGNIN: emulator.url,
    AWS_ENDPOINT_URL_STS: emulator.url,
    DENO_DIR: await denoDir(),
  };
  return { emulator, home, env, [Symbol.asyncDispose]: dispose };
}

/** GetCallerIdentity through the SDK's own STS client with `credentials`. */
async function callerIdentity(
  url: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
) {
  const sts = new STSClient({ region: "eu-west-1", endpoint: url, credentials });
  try {
    return await sts.send(new GetCallerIdentityCommand({}));
  } finally {
    sts.destroy();
  }
}

sdkTest(
  "fromIni assumes a role from the login profile aws-login made, at the emulator",
  async () => {
    await using t = await setup();
    const creds = await fromIni({ profile: "admin" })();
    assert.match(creds.accessKeyId, /^ASIA[A-Z0-9]{16}$/);
    assert.ok(creds.expiration instanceof Date);
    // The JS SDK always asks for 3600 seconds.
    const lifetime = creds.expiration.getTime() - Date.now();
    assert.ok(lifetime > 3_500_000 && lifetime <= 3_601_000, `${lifetime} ms`);
    assert.equal(creds.accountId, "210987654321");
    assert.equal(t.emulator.controls.counters().assume_role, 1);
    // The SDK's login provider used the cached session: no refresh, no new sign-in.
    assert.equal(t.emulator.controls.counters().refresh_token, 0);
    assert.equal(t.emulator.controls.counters().authorization_code, 1);

    const identity = await callerIdentity(t.emulator.url, creds);
    assert.equal(identity.Arn, "arn:aws:sts::210987654321:assumed-role/Admin/alice-sdk");
    assert.equal(identity.Account, "210987654321");
    assert.match(identity.UserId!, /^AROA[A-Z2-7]{17}:alice-sdk$/);
  },
);

sdkTest("fromIni resolves a chain of two roles in two more accounts", async () => {
  await using t = await setup();
  const creds = await fromIni({ profile: "audit" })();
  assert.equal(t.emulator.controls.counters().assume_role, 2);
  const identity = await callerIdentity(t.emulator.url, creds);
  // No role_session_name on audit: the SDK names the session aws-sdk-js-<epoch ms>.
  assert.match(identity.Arn!, /^arn:aws:sts::333333333333:assumed-role\/Audit\/aws-sdk-js-\d{13}$/);
  assert.equal(identity.Account, "333333333333");
});

sdkTest(
  "aws-login and the SDK's fromIni get the same role from the same role profile",
  async () => {
    await using t = await setup();
    const out = await runCli(["credential-process", "--profile", "admin"], { env: t.env });
    assert.equal(out.code, 0, out.stderr);
    const ours = JSON.parse(out.stdout);
    const theirs = await fromIni({ profile: "admin" })();
    assert.notEqual(ours.AccessKeyId, theirs.accessKeyId, "two AssumeRole calls, one per tool");
    assert.equal(t.emulator.controls.counters().assume_role, 2);
    const mine = await callerIdentity(t.emulator.url, {
      accessKeyId: ours.AccessKeyId,
      secretAccessKey: ours.SecretAccessKey,
      sessionToken: ours.SessionToken,
    });
    const sdk = await callerIdentity(t.emulator.url, theirs);
    // role_session_name is set: both name the session alike.
    assert.equal(mine.Arn, "arn:aws:sts::210987654321:assumed-role/Admin/alice-sdk");
    assert.equal(sdk.Arn, mine.Arn);
    assert.equal(ours.AccountId, theirs.accountId);
  },
);

sdkTest(
  "a role the session may not assume comes out of the SDK as STS's AccessDenied",
  async () => {
    await using t = await setup([
      { arn: ADMIN, trustedPrincipals: ["arn:aws:iam::123456789012:user/Bob"] },
    ]);
    await assert.rejects(
      () => fromIni({ profile: "admin" })(),
      (err: Error & { $metadata?: { httpStatusCode?: number } }) =>
        err.name === "AccessDenied" && err.$metadata?.httpStatusCode === 403 &&
        err.message ===
          `User: ${ALICE} is not authorized to perform: sts:AssumeRole on resource: ${ADMIN}`,
    );
    assert.equal(t.emulator.controls.counters().assume_role, 1);
  },
);

sdkTest(
  "an MFA role profile: the SDK sends the device and code, a wrong code is STS's MFA refusal",
  async () => {
    await using t = await setup([{ arn: GUARDED, mfaSerial: MFA_SERIAL, mfaCode: "246810" }]);
    const asked: string[] = [];
    const creds = await fromIni({
      profile: "guarded",
      mfaCodeProvider: (serial: string) => {
        asked.push(serial);
        return Promise.resolve("246810");
      },
    })();
    assert.deepEqual(asked, [MFA_SERIAL]);
    assert.equal(creds.accountId, "444444444444");
    await assert.rejects(
      () => fromIni({ profile: "guarded", mfaCodeProvider: () => Promise.resolve("135790") })(),
      (err: Error & { $metadata?: { httpStatusCode?: number } }) =>
        err.name === "AccessDenied" && err.$metadata?.httpStatusCode === 403 &&
        err.message === "MultiFactorAuthentication failed with invalid MFA one time pass code.",
    );
    assert.equal(t.emulator.controls.counters().assume_role, 2);
  },
);
