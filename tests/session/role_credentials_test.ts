/**
 * The role resolver against a real login session (the emulator) and a stand-in STS: the
 * requests it makes, the AWS CLI's role cache it reads and writes, and every refusal before any
 * network call.
 */
import assert from "node:assert/strict";
import { CacheError, ConfigError, StsError } from "../../lib/errors.ts";
import { resolveProfileCredentials } from "../../lib/session/profile_credentials.ts";
import { serializeRoleCacheEntry } from "../../lib/session/role_cache.ts";
import {
  defaultSessionName,
  pythonInt,
  readRoleCacheEntry,
  roleCachePath,
} from "../../lib/session/role_credentials.ts";
import { addProfile, sessionFixture, testDeps } from "../helpers/session.ts";

const ARN = "arn:aws:iam::111111111111:user/Alice";
const STS = "http://127.0.0.1:9";

/** A stand-in STS answering AssumeRole for whatever role is asked, as `seen` records. */
function fakeSts(ttlMs = 3_600_000) {
  const seen: URLSearchParams[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    if (!request.url.startsWith(`${STS}/`)) return await fetch(request);
    const form = new URLSearchParams(await request.text());
    seen.push(form);
    const role = form.get("RoleArn")!;
    const account = role.split(":")[4];
    const name = role.split("/").at(-1);
    const n = seen.length;
    const expiration = new Date(Date.now() + ttlMs).toISOString();
    return new Response(
      `<AssumeRoleResponse><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROA${n}:x` +
        `</AssumedRoleId><Arn>arn:aws:sts::${account}:assumed-role/${name}/` +
        `${form.get("RoleSessionName")}</Arn></AssumedRoleUser><Credentials>` +
        `<AccessKeyId>ASIAROLE${n}</AccessKeyId><SecretAccessKey>secret${n}</SecretAccessKey>` +
        `<SessionToken>token${n}</SessionToken><Expiration>${expiration}</Expiration>` +
        `</Credentials></AssumeRoleResult></AssumeRoleResponse>`,
      { headers: { "content-type": "text/xml" } },
    );
  };
  return { seen, fetch: fetchImpl as typeof fetch };
}

async function setup(roles: Record<string, Record<string, string>>, region = "eu-west-1") {
  const t = await sessionFixture({ arn: ARN, region });
  for (const [name, keys] of Object.entries(roles)) await addProfile(t.home.home, name, keys);
  const sts = fakeSts();
  const env = { ...t.session.env, AWS_ENDPOINT_URL_STS: STS };
  const { deps, stderr } = testDeps(env, { fetch: sts.fetch });
  return { t, sts, deps, stderr, env };
}

const ADMIN = { role_arn: "arn:aws:iam::222222222222:role/Admin", source_profile: "dev" };

Deno.test("a role profile assumes its role with the login session, as the login identity", async () => {
  const { t, sts, deps } = await setup({ admin: ADMIN });
  await using _ = t;
  const creds = await resolveProfileCredentials(deps, { profile: "admin" });
  assert.equal(creds.accessKeyId, "ASIAROLE1");
  assert.equal(creds.accountId, "222222222222");
  assert.equal(creds.role?.assumedRoleArn, "arn:aws:sts::222222222222:assumed-role/Admin/Alice");
  assert.deepEqual(creds.role?.chain, ["admin", "dev"]);
  assert.equal(creds.login.profile, "dev");
  assert.equal(creds.refreshed, true);
  assert.equal(sts.seen.length, 1);
  assert.equal(sts.seen[0]!.get("RoleSessionName"), "Alice");
  assert.equal(sts.seen[0]!.get("DurationSeconds"), null);
  // The default session name is not in the key: the entry is the AWS CLI's for these arguments.
  const path = await roleCachePath(deps.env, { RoleArn: ADMIN.role_arn });
  assert.equal((await readRoleCacheEntry(path))?.accessKeyId, "ASIAROLE1");
  // Warm: from the cache, no request.
  const again = await resolveProfileCredentials(deps, { profile: "admin" });
  assert.equal(again.accessKeyId, "ASIAROLE1");
  assert.equal(again.refreshed, false);
  assert.equal(sts.seen.length, 1);
});

Deno.test("an entry the AWS CLI wrote (…UTC) is used without an AssumeRole; one within 5 min is not", async () => {
  const { t, sts, deps } = await setup({ admin: { ...ADMIN, role_session_name: "ops" } });
  await using _ = t;
  const path = await roleCachePath(deps.env, { RoleArn: ADMIN.role_arn, RoleSessionName: "ops" });
  const cliEntry = (ms: number) =>
    serializeRoleCacheEntry({
      accessKeyId: "ASIAFROMCLI",
      secretAccessKey: "s",
      sessionToken: "t",
      accountId: "222222222222",
      expiresAtMs: Date.now() + ms,
      assumedRoleArn: "arn:aws:sts::222222222222:assumed-role/Admin/ops",
      assumedRoleId: "AROA:ops",
      requestId: "r",
    });
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, cliEntry(10 * 60_000), { mode: 0o600 });
  assert.equal(
    (await resolveProfileCredentials(deps, { profile: "admin" })).accessKeyId,
    "ASIAFROMCLI",
  );
  assert.equal(sts.seen.length, 0);
  await Deno.writeTextFile(path, cliEntry(4 * 60_000), { mode: 0o600 });
  assert.equal(
    (await resolveProfileCredentials(deps, { profile: "admin" })).accessKeyId,
    "ASIAROLE1",
  );
  assert.equal(sts.seen[0]!.get("RoleSessionName"), "ops");
});

Deno.test("a chain of three assumes each role once, with the parent's credentials, then none", async () => {
  const { t, sts, deps } = await setup({
    admin: ADMIN,
    audit: { role_arn: "arn:aws:iam::333333333333:role/Audit", source_profile: "admin" },
    deep: {
      role_arn: "arn:aws:iam::444444444444:role/Deep",
      source_profile: "audit",
      duration_seconds: " 3_600 ",
      external_id: "ext",
    },
  });
  await using _ = t;
  const creds = await resolveProfileCredentials(deps, { profile: "deep" });
  assert.deepEqual(creds.role?.chain, ["deep", "audit", "admin", "dev"]);
  assert.equal(creds.accountId, "444444444444");
  assert.deepEqual(sts.seen.map((f) => f.get("RoleArn")), [
    "arn:aws:iam::222222222222:role/Admin",
    "arn:aws:iam::333333333333:role/Audit",
    "arn:aws:iam::444444444444:role/Deep",
  ]);
  assert.equal(sts.seen[2]!.get("DurationSeconds"), "3600");
  assert.equal(sts.seen[2]!.get("ExternalId"), "ext");
  await resolveProfileCredentials(deps, { profile: "deep", forceRefresh: true });
  assert.equal(sts.seen.length, 4, "a forced refresh re-assumes only the top role");
});

Deno.test("cached role credentials are not handed out after the login session is gone", async () => {
  const { t, sts, deps } = await setup({ admin: ADMIN });
  await using _ = t;
  await resolveProfileCredentials(deps, { profile: "admin" });
  await Deno.remove(t.session.cachePath);
  await assert.rejects(() => resolveProfileCredentials(deps, { profile: "admin" }), (err) => {
    assert.ok(err instanceof CacheError);
    assert.equal(err.code, "ERR_CACHE_MISSING");
    assert.match(err.message, /aws-login login --profile dev/);
    return true;
  });
  assert.equal(sts.seen.length, 1);
});

Deno.test("MFA: the prompt's code is sent; a malformed code is refused before anything is sent", async () => {
  const serial = "arn:aws:iam::111111111111:mfa/Alice";
  const { t, sts, deps } = await setup({ admin: { ...ADMIN, mfa_serial: serial } });
  await using _ = t;
  const asked: string[] = [];
  await assert.rejects(
    () =>
      resolveProfileCredentials(deps, {
        profile: "admin",
        mfaPrompt: (s) => (asked.push(s), Promise.resolve("12345")),
      }),
    (err) => err instanceof StsError && /six digits/.test(err.message),
  );
  assert.equal(sts.seen.length, 0);
  await resolveProfileCredentials(deps, {
    profile: "admin",
    mfaPrompt: (s: string) => (asked.push(s), Promise.resolve(" 123456\n")),
  });
  assert.deepEqual(asked, [serial, serial]);
  assert.equal(sts.seen[0]!.get("SerialNumber"), serial);
  assert.equal(sts.seen[0]!.get("TokenCode"), "123456");
  // Cached: no second prompt.
  await resolveProfileCredentials(
    deps,
    { profile: "admin", mfaPrompt: () => assert.fail() } as never,
  );
});

const REFUSALS: [string, Record<string, Record<string, string>>, RegExp][] = [
  ["role_arn without a source", { r: { role_arn: ADMIN.role_arn } }, /no source_profile/],
  [
    "both sources",
    { r: { ...ADMIN, credential_source: "Environment" } },
    /both source_profile and credential_source/,
  ],
  [
    "credential_source",
    { r: { role_arn: ADMIN.role_arn, credential_source: "Ec2InstanceMetadata" } },
    /credential_source = Ec2InstanceMetadata.*outside aws-login.*AWS CLI/,
  ],
  [
    "a loop",
    {
      r: { role_arn: ADMIN.role_arn, source_profile: "s" },
      s: { role_arn: ADMIN.role_arn, source_profile: "r" },
    },
    /loop: "r" → "s" → "r"/,
  ],
  [
    "static keys at the end",
    {
      r: { ...ADMIN, source_profile: "k" },
      k: { aws_access_key_id: "A", aws_secret_access_key: "B" },
    },
    /"k", which holds static access keys/,
  ],
  [
    "SSO at the end",
    { r: { ...ADMIN, source_profile: "k" }, k: { sso_session: "x", sso_account_id: "1" } },
    /"k", which holds IAM Identity Center \(SSO\)/,
  ],
  [
    "web identity at the end",
    { r: { ...ADMIN, source_profile: "k" }, k: { role_arn: "x", web_identity_token_file: "/t" } },
    /"k", which holds a web identity token/,
  ],
  [
    "a missing source",
    { r: { ...ADMIN, source_profile: "dve" } },
    /"dve", which does not exist\. Did you mean "dev"\?/,
  ],
  [
    "credential_process at the end",
    {
      r: { ...ADMIN, source_profile: "p" },
      p: { credential_process: "aws-login credential-process --profile dev" },
    },
    /holds credential_process.*Set source_profile in profile "r" to the profile with the login session, "dev"/,
  ],
  [
    "a malformed role_arn",
    { r: { ...ADMIN, role_arn: "arn:aws:iam::12:role/x" } },
    /invalid role_arn/,
  ],
  [
    "a role in another partition",
    { r: { ...ADMIN, role_arn: "arn:aws-cn:iam::222222222222:role/Admin" } },
    /partition "aws-cn", but the region "us-east-1" is in partition "aws"/,
  ],
  ["duration_seconds 899", { r: { ...ADMIN, duration_seconds: "899" } }, /900 to 43200/],
  ["duration_seconds 1h", { r: { ...ADMIN, duration_seconds: "1h" } }, /duration_seconds = "1h"/],
];

for (const [what, profiles, pattern] of REFUSALS) {
  Deno.test(`a role profile with ${what} is refused before any network call`, async () => {
    const { t, sts, deps } = await setup(profiles);
    await using _ = t;
    await assert.rejects(() => resolveProfileCredentials(deps, { profile: "r" }), (err) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, pattern);
      return true;
    });
    assert.equal(sts.seen.length, 0);
  });
}

Deno.test("a custom STS endpoint the permission set cannot reach is refused, named", async () => {
  const { t, sts, env } = await setup({ admin: ADMIN });
  await using _ = t;
  const code = `
    const { resolveProfileCredentials } = await import(${
    JSON.stringify(new URL("../../lib/session/profile_credentials.ts", import.meta.url).href)
  });
    const env = ${JSON.stringify({ ...env, AWS_ENDPOINT_URL_STS: "https://sts.example.net" })};
    try {
      await resolveProfileCredentials({ env: { get: (k) => env[k] }, fetch, now: Date.now,
        stderr: { write() {} }, debug() {} }, { profile: "admin" });
    } catch (err) { console.log(err.code + " " + err.message); }`;
  // `deno eval` has every permission: a script file under a narrow set instead.
  const script = `${t.home.home}/probe.ts`;
  await Deno.writeTextFile(script, code);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      "--allow-net=127.0.0.1",
      script,
    ],
    stderr: "inherit",
  }).output();
  const line = new TextDecoder().decode(out.stdout);
  assert.match(line, /^ERR_CONFIG_ENDPOINT .*"https:\/\/sts\.example\.net".*AWS_ENDPOINT_URL_STS/);
  assert.equal(sts.seen.length, 0);
});

Deno.test("pythonInt() reads duration_seconds as Python's int()", () => {
  for (
    const [text, n] of [["3600", 3600], [" 3600 ", 3600], ["+3600", 3600], ["3_600", 3600], [
      "-5",
      -5,
    ]] as const
  ) {
    assert.equal(pythonInt(text), n);
  }
  // Python's int() also reads other scripts' digits and strips Unicode spaces: refused here on
  // purpose (docs/PROTOCOL.md §16), a visible difference instead of a silent one.
  for (
    const text of ["3600s", "3__600", "_3600", "3600_", "36.0", "", "0x10", "١٨٠٠", "3600\u00a0"]
  ) {
    assert.equal(pythonInt(text), undefined, text);
  }
});

Deno.test("defaultSessionName() is the login identity's own name, cleaned, else aws-login-<epoch>", () => {
  const now = 1_765_000_000_000;
  assert.equal(defaultSessionName("arn:aws:iam::1:user/Alice", now), "Alice");
  assert.equal(
    defaultSessionName("arn:aws:sts::1:assumed-role/Dev/alice@example.com", now),
    "alice@example.com",
  );
  assert.equal(defaultSessionName("arn:aws:iam::1:user/path/Bob Smith!", now), "BobSmith");
  assert.equal(defaultSessionName("arn:aws:iam::1:user/" + "x".repeat(80), now), "x".repeat(64));
  assert.equal(defaultSessionName("arn:aws:iam::1:user/Ö", now), "aws-login-1765000000");
});
