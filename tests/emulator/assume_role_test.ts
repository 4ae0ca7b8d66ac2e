/**
 * The emulator's STS AssumeRole: signed with credentials the emulator issued (a login session's or
 * a role session's), it answers role credentials that then work for GetCallerIdentity and further
 * AssumeRole calls; every parameter is checked as STS checks it, every refusal carries STS's code,
 * message and status; role chaining is capped at 1 h; a roles file limits who may assume what.
 */
import assert from "node:assert/strict";
import type { RolesFileEntry } from "../../lib/emulator/roles.ts";
import { signIn, startEmulator } from "./flow.ts";
import { assertStsError, type Creds, sts, xmlValue } from "./sts_client.ts";

const ALICE = "arn:aws:iam::123456789012:user/Alice";
const ADMIN = "arn:aws:iam::210987654321:role/Admin";
const AUDIT = "arn:aws:iam::333333333333:role/Audit";
const CHAINING =
  "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.";
const MAX_DURATION =
  "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.";

async function setup(p: { arn?: string; roles?: RolesFileEntry[] } = {}) {
  const emulator = await startEmulator({ autoApprove: p.arn ?? ALICE, roles: p.roles });
  const session = await signIn(emulator.url);
  const creds = session.reply.accessToken as Creds;
  return Object.assign(emulator, { creds });
}

/** An AssumeRole request body with these parameters (RoleSessionName "alice" unless given). */
function assumeBody(params: Record<string, string | undefined>): string {
  const body = new URLSearchParams({ Action: "AssumeRole", Version: "2011-06-15" });
  for (const [k, v] of Object.entries({ RoleSessionName: "alice", ...params })) {
    if (v !== undefined) body.set(k, v);
  }
  return body.toString();
}

async function assume(
  base: string,
  creds: Creds,
  params: Record<string, string | undefined>,
  options: Parameters<typeof sts>[2] = {},
) {
  return await sts(base, creds, { ...options, body: assumeBody(params) });
}

/** The credentials of an AssumeRole reply, after checking it succeeded. */
function roleCreds(r: { status: number; text: string }): Creds {
  assert.equal(r.status, 200, r.text);
  return {
    accessKeyId: xmlValue(r.text, "AccessKeyId")!,
    secretAccessKey: xmlValue(r.text, "SecretAccessKey")!,
    sessionToken: xmlValue(r.text, "SessionToken")!,
  };
}

function assertError(
  r: { status: number; text: string },
  status: number,
  code: string,
  message: string,
) {
  assertStsError(r, status, code);
  const decoded = xmlValue(r.text, "Message")!.replace(/&apos;/g, "'").replace(/&amp;/g, "&");
  assert.equal(decoded, message);
}

function denied(caller: string, role: string): string {
  return `User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${role}`;
}

Deno.test("AssumeRole with a login session's credentials answers role credentials in STS's XML", async () => {
  await using t = await setup();
  const before = Date.now();
  const r = await assume(t.url, t.creds, { RoleArn: ADMIN, RoleSessionName: "alice-laptop" });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.type, "text/xml");
  assert.match(
    r.text,
    /^<AssumeRoleResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/">\n {2}<AssumeRoleResult>/,
  );
  const arn = "arn:aws:sts::210987654321:assumed-role/Admin/alice-laptop";
  assert.equal(xmlValue(r.text, "Arn"), arn);
  assert.match(xmlValue(r.text, "AssumedRoleId")!, /^AROA[A-Z2-7]{17}:alice-laptop$/);
  assert.match(xmlValue(r.text, "AccessKeyId")!, /^ASIA[A-Z0-9]{16}$/);
  assert.ok(xmlValue(r.text, "SecretAccessKey"));
  assert.ok(xmlValue(r.text, "SessionToken"));
  assert.match(xmlValue(r.text, "RequestId")!, /^[0-9a-f-]{36}$/);
  // DurationSeconds defaults to 3600; STS writes the expiration to the second, in UTC.
  const expiration = xmlValue(r.text, "Expiration")!;
  assert.match(expiration, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const lifetime = Date.parse(expiration) - before;
  assert.ok(lifetime > 3_590_000 && lifetime <= 3_601_000, `${lifetime} ms`);

  // The role credentials are the emulator's own now: GetCallerIdentity names the role session,
  // with the same id AssumeRole answered.
  const who = await sts(t.url, roleCreds(r));
  assert.equal(who.status, 200, who.text);
  assert.equal(xmlValue(who.text, "Arn"), arn);
  assert.equal(xmlValue(who.text, "Account"), "210987654321");
  assert.equal(xmlValue(who.text, "UserId"), xmlValue(r.text, "AssumedRoleId"));
  assert.deepEqual(
    [t.controls.counters().sts, t.controls.counters().assume_role],
    [2, 1],
  );
});

Deno.test("AssumeRole of a role with a path names the role session without the path", async () => {
  await using t = await setup();
  const r = await assume(t.url, t.creds, {
    RoleArn: "arn:aws:iam::210987654321:role/teams/ops/Deployer",
  });
  assert.equal(
    xmlValue(r.text, "Arn"),
    "arn:aws:sts::210987654321:assumed-role/Deployer/alice",
  );
});

Deno.test("by default a chain of roles across accounts works, each hop capped at 1 h", async () => {
  await using t = await setup();
  const admin = roleCreds(await assume(t.url, t.creds, { RoleArn: ADMIN }));
  const audit = await assume(t.url, admin, { RoleArn: AUDIT, RoleSessionName: "chain" });
  assert.equal(xmlValue(audit.text, "Arn"), "arn:aws:sts::333333333333:assumed-role/Audit/chain");
  const who = await sts(t.url, roleCreds(audit));
  assert.equal(xmlValue(who.text, "Arn"), "arn:aws:sts::333333333333:assumed-role/Audit/chain");
  // The default role allows 1 h; so does role chaining.
  assertError(
    await assume(t.url, admin, { RoleArn: AUDIT, DurationSeconds: "3601" }),
    400,
    "ValidationError",
    CHAINING,
  );
  assertError(
    await assume(t.url, t.creds, { RoleArn: ADMIN, DurationSeconds: "3601" }),
    400,
    "ValidationError",
    MAX_DURATION,
  );
  assert.equal(t.controls.counters().assume_role, 4);
});

Deno.test("role chaining is capped at 1 h even when the role allows 12 h", async () => {
  const roles = [{ arn: ADMIN, maxSessionDuration: 43_200 }, {
    arn: AUDIT,
    maxSessionDuration: 43_200,
  }];
  await using t = await setup({ roles });
  const long = await assume(t.url, t.creds, { RoleArn: ADMIN, DurationSeconds: "43200" });
  const lifetime = Date.parse(xmlValue(long.text, "Expiration")!) - Date.now();
  assert.ok(lifetime > 43_190_000 && lifetime <= 43_201_000, `${lifetime} ms`);
  const admin = roleCreds(long);
  assertError(
    await assume(t.url, admin, { RoleArn: AUDIT, DurationSeconds: "7200" }),
    400,
    "ValidationError",
    CHAINING,
  );
  assert.equal(
    (await assume(t.url, admin, { RoleArn: AUDIT, DurationSeconds: "3600" })).status,
    200,
  );
});

Deno.test("a login identity that is itself an assumed role is role chaining", async () => {
  const caller = "arn:aws:sts::123456789012:assumed-role/Developer/alice";
  await using t = await setup({ arn: caller, roles: [{ arn: ADMIN, maxSessionDuration: 43_200 }] });
  assertError(
    await assume(t.url, t.creds, { RoleArn: ADMIN, DurationSeconds: "7200" }),
    400,
    "ValidationError",
    CHAINING,
  );
  assert.equal((await assume(t.url, t.creds, { RoleArn: ADMIN })).status, 200);
});

Deno.test("a role's MaxSessionDuration from the roles file allows and limits the duration", async () => {
  await using t = await setup({ roles: [{ arn: ADMIN, maxSessionDuration: 7200 }] });
  assert.equal(
    (await assume(t.url, t.creds, { RoleArn: ADMIN, DurationSeconds: "7200" })).status,
    200,
  );
  assertError(
    await assume(t.url, t.creds, { RoleArn: ADMIN, DurationSeconds: "7201" }),
    400,
    "ValidationError",
    MAX_DURATION,
  );
});

for (
  const [what, params, message] of [
    [
      "a session name with a character outside [\\w+=,.@-]",
      { RoleSessionName: "alice/laptop" },
      "1 validation error detected: Value 'alice/laptop' at 'roleSessionName' failed to satisfy " +
      "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    ],
    [
      "a one-character session name",
      { RoleSessionName: "a" },
      "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: " +
      "Member must have length greater than or equal to 2",
    ],
    [
      "a 65-character session name",
      { RoleSessionName: "a".repeat(65) },
      `1 validation error detected: Value '${"a".repeat(65)}' at 'roleSessionName' failed to ` +
      "satisfy constraint: Member must have length less than or equal to 64",
    ],
    [
      "no session name",
      { RoleSessionName: undefined },
      "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: " +
      "Member must not be null",
    ],
    [
      "no role ARN",
      { RoleArn: undefined },
      "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: " +
      "Member must not be null",
    ],
    [
      "a role ARN shorter than 20 characters",
      { RoleArn: "arn:aws:iam::1:role" },
      "1 validation error detected: Value 'arn:aws:iam::1:role' at 'roleArn' failed to satisfy " +
      "constraint: Member must have length greater than or equal to 20",
    ],
    [
      "a DurationSeconds below 900",
      { DurationSeconds: "899" },
      "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy " +
      "constraint: Member must have value greater than or equal to 900",
    ],
    [
      "a DurationSeconds above 43200",
      { DurationSeconds: "43201" },
      "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy " +
      "constraint: Member must have value less than or equal to 43200",
    ],
    [
      "a DurationSeconds that is not a number",
      { DurationSeconds: "1h" },
      "1 validation error detected: Value '1h' at 'durationSeconds' failed to satisfy " +
      "constraint: Member must be a whole number",
    ],
    [
      "a one-character external id",
      { ExternalId: "x" },
      "1 validation error detected: Value 'x' at 'externalId' failed to satisfy constraint: " +
      "Member must have length greater than or equal to 2",
    ],
    [
      "an external id with a space",
      { ExternalId: "my id" },
      "1 validation error detected: Value 'my id' at 'externalId' failed to satisfy constraint: " +
      "Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*",
    ],
    [
      "a short MFA serial",
      { SerialNumber: "GAHT1234", TokenCode: "123456" },
      "1 validation error detected: Value 'GAHT1234' at 'serialNumber' failed to satisfy " +
      "constraint: Member must have length greater than or equal to 9",
    ],
    [
      "a five-digit MFA code",
      { SerialNumber: "arn:aws:iam::123456789012:mfa/Alice", TokenCode: "12345" },
      "1 validation error detected: Value '12345' at 'tokenCode' failed to satisfy constraint: " +
      "Member must have length greater than or equal to 6",
    ],
    [
      "an MFA code with letters",
      { SerialNumber: "arn:aws:iam::123456789012:mfa/Alice", TokenCode: "12345a" },
      "1 validation error detected: Value '12345a' at 'tokenCode' failed to satisfy constraint: " +
      "Member must satisfy regular expression pattern: [\\d]*",
    ],
    [
      "two bad parameters",
      { RoleSessionName: "a b", DurationSeconds: "60" },
      "2 validation errors detected: Value 'a b' at 'roleSessionName' failed to satisfy " +
      "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; Value '60' at " +
      "'durationSeconds' failed to satisfy constraint: Member must have value greater than or " +
      "equal to 900",
    ],
    [
      "a role ARN that is no ARN",
      { RoleArn: "role/Admin-in-210987654321" },
      "Request ARN is invalid",
    ],
  ] as const
) {
  Deno.test(`AssumeRole with ${what} is ValidationError`, async () => {
    await using t = await setup();
    const r = await assume(t.url, t.creds, { RoleArn: ADMIN, ...params });
    assertError(r, 400, "ValidationError", message);
    assert.equal(t.controls.counters().assume_role, 1);
  });
}

Deno.test("AssumeRole of what is not an assumable role is AccessDenied, naming caller and resource", async () => {
  await using t = await setup();
  for (
    const resource of [
      "arn:aws:iam::210987654321:user/Bob",
      "arn:aws:iam::21098765432:role/Admin",
      "arn:aws:s3:::210987654321-bucket",
      // A role in another partition: a commercial identity cannot assume it.
      "arn:aws-cn:iam::210987654321:role/Admin",
    ]
  ) {
    assertError(
      await assume(t.url, t.creds, { RoleArn: resource }),
      403,
      "AccessDenied",
      denied(ALICE, resource),
    );
  }
});

Deno.test("AssumeRole denied by the deny control is AccessDenied", async () => {
  await using t = await setup();
  t.controls.denyActions(["sts:AssumeRole"]);
  assertError(
    await assume(t.url, t.creds, { RoleArn: ADMIN }),
    403,
    "AccessDenied",
    denied(ALICE, ADMIN),
  );
  t.controls.denyActions([]);
  assert.equal((await assume(t.url, t.creds, { RoleArn: ADMIN })).status, 200);
});

Deno.test("with a roles file only its roles exist, trusting only their principals", async () => {
  const roles: RolesFileEntry[] = [
    { arn: ADMIN, trustedPrincipals: [ALICE] },
    // Trusts every identity of the account, and sessions of the Admin role (named with a path).
    {
      arn: AUDIT,
      trustedPrincipals: [
        "arn:aws:iam::999999999999:root",
        "arn:aws:iam::210987654321:role/x/Admin",
      ],
    },
    { arn: "arn:aws:iam::444444444444:role/Ops", trustedPrincipals: ["123456789012"] },
  ];
  await using t = await setup({ roles });
  const unknown = "arn:aws:iam::210987654321:role/Other";
  assertError(
    await assume(t.url, t.creds, { RoleArn: unknown }),
    403,
    "AccessDenied",
    denied(ALICE, unknown),
  );
  assertError(
    await assume(t.url, t.creds, { RoleArn: AUDIT }),
    403,
    "AccessDenied",
    denied(ALICE, AUDIT),
  );
  const admin = roleCreds(await assume(t.url, t.creds, { RoleArn: ADMIN }));
  assert.equal((await assume(t.url, admin, { RoleArn: AUDIT })).status, 200);
  assert.equal(
    (await assume(t.url, t.creds, { RoleArn: "arn:aws:iam::444444444444:role/Ops" })).status,
    200,
  );
  // Ops trusts account 123456789012; the Admin session is in another account.
  const ops = "arn:aws:iam::444444444444:role/Ops";
  assertError(
    await assume(t.url, admin, { RoleArn: ops }),
    403,
    "AccessDenied",
    denied("arn:aws:sts::210987654321:assumed-role/Admin/alice", ops),
  );
});

Deno.test("a role with an external id is assumed only with that external id", async () => {
  await using t = await setup({ roles: [{ arn: ADMIN, externalId: "partner-7" }] });
  for (const externalId of [undefined, "partner-8"]) {
    assertError(
      await assume(t.url, t.creds, { RoleArn: ADMIN, ExternalId: externalId }),
      403,
      "AccessDenied",
      denied(ALICE, ADMIN),
    );
  }
  assert.equal(
    (await assume(t.url, t.creds, { RoleArn: ADMIN, ExternalId: "partner-7" })).status,
    200,
  );
});

Deno.test("a role that requires MFA wants its device and code", async () => {
  const serial = "arn:aws:iam::123456789012:mfa/Alice";
  await using t = await setup({ roles: [{ arn: ADMIN, mfaSerial: serial, mfaCode: "246810" }] });
  assertError(
    await assume(t.url, t.creds, { RoleArn: ADMIN }),
    403,
    "AccessDenied",
    denied(ALICE, ADMIN),
  );
  const mfaFailed = "MultiFactorAuthentication failed with invalid MFA one time pass code.";
  for (
    const mfa of [
      { SerialNumber: serial, TokenCode: "123456" },
      { SerialNumber: "arn:aws:iam::123456789012:mfa/Bob", TokenCode: "246810" },
      { SerialNumber: serial },
    ]
  ) {
    assertError(
      await assume(t.url, t.creds, { RoleArn: ADMIN, ...mfa }),
      403,
      "AccessDenied",
      mfaFailed,
    );
  }
  const ok = await assume(t.url, t.creds, {
    RoleArn: ADMIN,
    SerialNumber: serial,
    TokenCode: "246810",
  });
  assert.equal(ok.status, 200, ok.text);
});

Deno.test("AssumeRole refuses what the signature check refuses", async () => {
  await using t = await setup();
  const unsigned = await fetch(`${t.url}/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: assumeBody({ RoleArn: ADMIN }),
  });
  assertStsError(
    { status: unsigned.status, text: await unsigned.text() },
    403,
    "MissingAuthenticationToken",
  );
  assertStsError(
    await assume(t.url, { ...t.creds, secretAccessKey: "x".repeat(40) }, { RoleArn: ADMIN }),
    403,
    "SignatureDoesNotMatch",
  );
  assertStsError(
    await assume(t.url, { ...t.creds, accessKeyId: "ASIAAAAAAAAAAAAAAAAA" }, { RoleArn: ADMIN }),
    403,
    "InvalidClientTokenId",
  );
  assertStsError(
    await assume(t.url, t.creds, { RoleArn: ADMIN }, {
      tamper: { body: assumeBody({ RoleArn: AUDIT }) },
    }),
    403,
    "SignatureDoesNotMatch",
  );
  // Refused calls are counted too.
  assert.equal(t.controls.counters().assume_role, 4);
});

Deno.test("expired role credentials are ExpiredToken for AssumeRole and GetCallerIdentity", async () => {
  await using t = await setup();
  const admin = roleCreds(await assume(t.url, t.creds, { RoleArn: ADMIN, DurationSeconds: "900" }));
  t.controls.setClockOffset(901_000);
  const later = { atMs: Date.now() + 901_000 };
  assertError(
    await assume(t.url, admin, { RoleArn: AUDIT }, later),
    400,
    "ExpiredToken",
    "The security token included in the request is expired",
  );
  assertStsError(await sts(t.url, admin, later), 400, "ExpiredToken");
});

Deno.test("AssumeRole over the JSON protocol is not an operation the emulator offers", async () => {
  await using t = await setup();
  const r = await sts(t.url, t.creds, {
    body: "{}",
    headers: {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": "AWSSecurityTokenServiceV20110615.AssumeRole",
    },
  });
  assert.equal(r.status, 400);
  assert.equal(JSON.parse(r.text).__type, "com.amazonaws.sts#UnknownOperationException");
});
