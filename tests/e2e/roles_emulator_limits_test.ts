/**
 * Role profiles against the emulator's STS, for the limits of roles_emulator_test.ts's cases: a
 * chained role asked for more than 1 h (STS's role-chaining refusal, while the first hop may last
 * longer), and a role whose trust policy wants an external id (refused without, granted with the
 * profile's `external_id`). The CLI runs under `-P`; the emulator verifies every signature.
 */
import assert from "node:assert/strict";
import type { RolesFileEntry } from "../../lib/emulator/roles.ts";
import { runCli } from "../helpers/cli.ts";
import { addProfile, sessionFixture } from "../helpers/session.ts";

const ALICE = "arn:aws:iam::111111111111:user/Alice";
const ADMIN = "arn:aws:iam::222222222222:role/Admin";
const AUDIT = "arn:aws:iam::333333333333:role/Audit";

/** A login session "dev" at an emulator with these roles; role profiles admin → audit. */
async function setup(roles?: RolesFileEntry[], keys: Record<string, Record<string, string>> = {}) {
  const t = await sessionFixture({ arn: ALICE, region: "eu-west-1", emulator: { roles } });
  const profiles: [string, string, string][] = [
    ["admin", ADMIN, "dev"],
    ["audit", AUDIT, "admin"],
  ];
  for (const [name, arn, source] of profiles) {
    await addProfile(t.home.home, name, { role_arn: arn, source_profile: source, ...keys[name] });
  }
  return Object.assign(t, { env: { ...t.session.env, AWS_ENDPOINT_URL_STS: t.emulator.url } });
}

/** credential-process on `profile`, parsed. */
async function credentialProcess(profile: string, env: Record<string, string>) {
  const out = await runCli(["credential-process", "--profile", profile], { env });
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout) as Record<string, string>;
}

Deno.test("a chained role asked for more than 1 h gets STS's role-chaining refusal and which key to change", async () => {
  await using t = await setup([
    { arn: ADMIN, maxSessionDuration: 43_200 },
    { arn: AUDIT, maxSessionDuration: 43_200 },
  ], { admin: { duration_seconds: "7200" }, audit: { duration_seconds: "7200" } });
  // The first hop may last 2 h: the login session is no role session.
  assert.equal((await credentialProcess("admin", t.env)).AccountId, "222222222222");
  const out = await runCli(["credential-process", "--profile", "audit"], { env: t.env });
  assert.notEqual(out.code, 0);
  assert.equal(out.stdout, "");
  assert.ok(
    out.stderr.includes(
      "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    ),
    out.stderr,
  );
  assert.match(out.stderr, /Lower "duration_seconds" in profile "audit"/);
});

Deno.test("a role that requires an external id is assumed with the profile's external_id", async () => {
  const roles = [{ arn: ADMIN, externalId: "partner-7" }];
  {
    await using t = await setup(roles);
    const out = await runCli(["credential-process", "--profile", "admin"], { env: t.env });
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /external_id/);
  }
  await using t = await setup(roles, { admin: { external_id: "partner-7" } });
  assert.equal((await credentialProcess("admin", t.env)).AccountId, "222222222222");
});
