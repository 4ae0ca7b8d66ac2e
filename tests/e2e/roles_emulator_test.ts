/**
 * Role profiles against the project's emulator, whose STS verifies the SigV4 signature of every
 * AssumeRole and answers as STS does: aws-login under its permission set (`deno run -P main.ts`)
 * assumes roles with a login session, the role credentials it hands out work (GetCallerIdentity
 * names the assumed role, with the login identity as session name), chains of three work, and
 * STS's refusals reach the user as what to do.
 */
import assert from "node:assert/strict";
import { AwsClient } from "aws4fetch";
import { runCli } from "../helpers/cli.ts";
import { addProfile, sessionFixture } from "../helpers/session.ts";

const ALICE = "arn:aws:iam::111111111111:user/Alice";

async function setup(roles?: Parameters<typeof sessionFixture>[0]["emulator"]) {
  const t = await sessionFixture({ arn: ALICE, region: "eu-west-1", emulator: roles });
  const env = { ...t.session.env, AWS_ENDPOINT_URL_STS: t.emulator.url };
  return { t, env };
}

/** GetCallerIdentity at the emulator with `creds`: the caller's ARN. */
async function callerArn(url: string, creds: Record<string, string>): Promise<string> {
  const client = new AwsClient({
    accessKeyId: creds.AccessKeyId!,
    secretAccessKey: creds.SecretAccessKey!,
    sessionToken: creds.SessionToken!,
    service: "sts",
    region: "eu-west-1",
    retries: 0,
  });
  const reply = await client.fetch(`${url}/`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: "Action=GetCallerIdentity&Version=2011-06-15",
  });
  const text = await reply.text();
  assert.equal(reply.status, 200, text);
  return /<Arn>([^<]+)<\/Arn>/.exec(text)![1]!;
}

Deno.test("credential-process on a role profile: the emulator's STS accepts the AssumeRole, the role acts", async () => {
  const { t, env } = await setup();
  await using _ = t;
  await addProfile(t.home.home, "admin", {
    role_arn: "arn:aws:iam::222222222222:role/Admin",
    source_profile: "dev",
    region: "eu-west-1",
  });
  const out = await runCli(["credential-process", "--profile", "admin"], { env });
  assert.equal(out.code, 0, out.stderr);
  const creds = JSON.parse(out.stdout);
  assert.equal(creds.AccountId, "222222222222");
  assert.equal(
    await callerArn(t.emulator.url, creds),
    "arn:aws:sts::222222222222:assumed-role/Admin/Alice",
  );
  assert.equal(t.emulator.controls.counters().assume_role, 1);
});

Deno.test("a chain of three roles at the emulator: each assumed once, the last one acts", async () => {
  const { t, env } = await setup();
  await using _ = t;
  await addProfile(t.home.home, "admin", {
    role_arn: "arn:aws:iam::222222222222:role/Admin",
    source_profile: "dev",
    region: "eu-west-1",
  });
  await addProfile(t.home.home, "audit", {
    role_arn: "arn:aws:iam::333333333333:role/Audit",
    source_profile: "admin",
    region: "eu-west-1",
  });
  await addProfile(t.home.home, "deep", {
    role_arn: "arn:aws:iam::444444444444:role/Deep",
    source_profile: "audit",
    region: "eu-west-1",
    role_session_name: "deep-ops",
  });
  const out = await runCli(["credential-process", "--profile", "deep"], { env });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(
    await callerArn(t.emulator.url, JSON.parse(out.stdout)),
    "arn:aws:sts::444444444444:assumed-role/Deep/deep-ops",
  );
  assert.equal(t.emulator.controls.counters().assume_role, 3);
  // A chained role lasts at most an hour (role chaining).
  assert.ok(Date.parse(JSON.parse(out.stdout).Expiration) <= Date.now() + 3_600_000 + 5_000);
});

Deno.test("STS's AccessDenied reaches the user as the role, the identity and what to check (exit 5)", async () => {
  const { t, env } = await setup({
    roles: [{ arn: "arn:aws:iam::222222222222:role/Admin", trustedPrincipals: ["999999999999"] }],
  });
  await using _ = t;
  await addProfile(t.home.home, "admin", {
    role_arn: "arn:aws:iam::222222222222:role/Admin",
    source_profile: "dev",
  });
  const out = await runCli(["credential-process", "--profile", "admin"], { env });
  assert.equal(out.code, 5, out.stderr);
  assert.equal(out.stdout, "");
  assert.match(
    out.stderr,
    /Cannot assume role "arn:aws:iam::222222222222:role\/Admin" for profile "admin": arn:aws:iam::111111111111:user\/Alice is not allowed to assume it.*trust policy/,
  );
});

Deno.test("duration_seconds above the role's maximum: STS's words, and the key to change", async () => {
  const { t, env } = await setup();
  await using _ = t;
  await addProfile(t.home.home, "admin", {
    role_arn: "arn:aws:iam::222222222222:role/Admin",
    source_profile: "dev",
    duration_seconds: "7200",
  });
  const out = await runCli(["credential-process", "--profile", "admin"], { env });
  assert.equal(out.code, 5, out.stderr);
  assert.match(out.stderr, /DurationSeconds.*Lower "duration_seconds" in profile "admin"/);
});

Deno.test("no secret of the role or of the session beneath appears in any output of a role profile, with --debug", async () => {
  const { t, env } = await setup({
    roles: [
      { arn: "arn:aws:iam::222222222222:role/Admin" },
      { arn: "arn:aws:iam::222222222222:role/Locked", trustedPrincipals: ["999999999999"] },
    ],
  });
  await using _ = t;
  await addProfile(t.home.home, "admin", {
    role_arn: "arn:aws:iam::222222222222:role/Admin",
    source_profile: "dev",
    region: "eu-west-1",
  });
  await addProfile(t.home.home, "locked", {
    role_arn: "arn:aws:iam::222222222222:role/Locked",
    source_profile: "dev",
  });
  const outputs: [string, string][] = [];
  const run = async (args: string[], stdoutHasCredentials = false) => {
    const split = args.includes("--") ? args.indexOf("--") : args.length;
    const out = await runCli([...args.slice(0, split), "--debug", ...args.slice(split)], { env });
    outputs.push([`${args.join(" ")} (stderr)`, out.stderr]);
    if (!stdoutHasCredentials) outputs.push([`${args.join(" ")} (stdout)`, out.stdout]);
    return out;
  };
  assert.equal((await run(["status", "--refresh", "--profile", "admin"])).code, 0);
  assert.equal((await run(["credential-process", "--profile", "admin"], true)).code, 0);
  assert.equal((await run(["export-env", "--profile", "admin"], true)).code, 0);
  assert.equal((await run(["status", "--json", "--profile", "admin"])).code, 0);
  assert.equal((await run(["exec", "--profile", "admin", "--no-server", "--", "true"])).code, 0);
  assert.equal((await run(["credential-process", "--profile", "locked"])).code, 5);

  const secrets = new Set<string>();
  const token = JSON.parse(await Deno.readTextFile(t.session.cachePath));
  secrets.add(token.accessToken.secretAccessKey);
  secrets.add(token.accessToken.sessionToken);
  secrets.add(token.refreshToken);
  const dir = `${t.home.home}/.aws/cli/cache`;
  for (const entry of Deno.readDirSync(dir)) {
    if (!entry.name.endsWith(".json")) continue;
    const role = JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`));
    secrets.add(role.Credentials.SecretAccessKey);
    secrets.add(role.Credentials.SessionToken);
  }
  assert.equal(secrets.size, 5);
  assert.equal((await run(["logout", "--profile", "admin", "--no-revoke"])).code, 0);
  for (const [label, text] of outputs) {
    for (const secret of secrets) {
      assert.ok(secret.length > 8 && !text.includes(secret), `${label} holds a secret`);
    }
  }
});
