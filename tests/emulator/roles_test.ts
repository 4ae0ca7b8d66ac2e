/**
 * The emulator's roles: the roles file is checked entry by entry (each refusal names the entry and
 * what is wrong), role ARNs are read as IAM writes them, and trust matches principals as IAM does
 * (identity ARNs, a role for its sessions, an account root or id for every identity in it).
 */
import assert from "node:assert/strict";
import { parseRoleArn, parseRoles, RoleDirectory, trusts } from "../../lib/emulator/roles.ts";
import { startEmulator } from "../../lib/emulator/server.ts";
import { EmulatorError } from "../../lib/errors.ts";

const ADMIN = "arn:aws:iam::210987654321:role/Admin";

Deno.test("role ARNs are read with their partition, account and name (path dropped)", () => {
  assert.deepEqual(parseRoleArn("arn:aws:iam::210987654321:role/a/b/Admin"), {
    partition: "aws",
    accountId: "210987654321",
    name: "Admin",
  });
  assert.equal(parseRoleArn("arn:aws-cn:iam::210987654321:role/Admin")?.partition, "aws-cn");
  for (
    const bad of [
      "arn:aws:iam::210987654321:user/Admin",
      "arn:aws:iam::21098765432:role/Admin",
      "arn:aws:iam:us-east-1:210987654321:role/Admin",
      "arn:aws:sts::210987654321:role/Admin",
      "arn:aws:iam::210987654321:role/",
      "arn:aws:iam::210987654321:role/Ad min",
      "Admin",
    ]
  ) {
    assert.equal(parseRoleArn(bad), undefined, bad);
  }
});

Deno.test("without a roles file every role ARN exists, for 1 h, trusting everyone", () => {
  const roles = new RoleDirectory();
  assert.deepEqual(roles.find(ADMIN), { arn: ADMIN, maxSessionDuration: 3600 });
  assert.equal(roles.find("arn:aws:iam::210987654321:user/Bob"), undefined);
  assert.ok(trusts(roles.find(ADMIN)!, "arn:aws:iam::999999999999:user/Anyone"));
});

Deno.test("trust matches an identity, a role for its sessions, and an account for its identities", () => {
  const role = (trustedPrincipals: string[]) => ({
    arn: ADMIN,
    maxSessionDuration: 3600,
    trustedPrincipals,
  });
  const alice = "arn:aws:iam::123456789012:user/Alice";
  const dev = "arn:aws:sts::123456789012:assumed-role/Dev/alice";
  assert.ok(trusts(role([alice]), alice));
  assert.ok(!trusts(role([alice]), "arn:aws:iam::123456789012:user/Bob"));
  assert.ok(trusts(role(["arn:aws:iam::123456789012:role/Dev"]), dev));
  assert.ok(trusts(role(["arn:aws:iam::123456789012:role/team/Dev"]), dev));
  assert.ok(!trusts(role(["arn:aws:iam::123456789012:role/Ops"]), dev));
  assert.ok(trusts(role(["arn:aws:iam::123456789012:root"]), dev));
  assert.ok(trusts(role(["123456789012"]), alice));
  assert.ok(!trusts(role(["210987654321"]), alice));
});

Deno.test("a roles file's entries are read with their defaults", () => {
  assert.deepEqual(
    parseRoles([
      { arn: ADMIN },
      {
        arn: "arn:aws:iam::333333333333:role/Audit",
        trustedPrincipals: ["123456789012"],
        maxSessionDuration: 43_200,
        externalId: "partner-7",
        mfaSerial: "arn:aws:iam::123456789012:mfa/Alice",
        mfaCode: "123456",
      },
    ]),
    [
      { arn: ADMIN, maxSessionDuration: 3600 },
      {
        arn: "arn:aws:iam::333333333333:role/Audit",
        trustedPrincipals: ["123456789012"],
        maxSessionDuration: 43_200,
        externalId: "partner-7",
        mfa: { serial: "arn:aws:iam::123456789012:mfa/Alice", code: "123456" },
      },
    ],
  );
});

for (
  const [what, value, reason] of [
    ["an object", { arn: ADMIN }, "it is not a non-empty array"],
    ["an empty array", [], "it is not a non-empty array"],
    ["a string entry", [ADMIN], "entry 1 is not an object"],
    [
      "a user ARN",
      [{ arn: "arn:aws:iam::210987654321:user/Bob" }],
      'entry 1: "arn" must be a role ARN',
    ],
    [
      "a role twice",
      [{ arn: ADMIN }, { arn: ADMIN }],
      `entry 2: the role "${ADMIN}" is listed twice`,
    ],
    [
      "a misspelt key",
      [{ arn: ADMIN, maxSessionDurration: 7200 }],
      'entry 1 has the unknown key "maxSessionDurration"',
    ],
    [
      "no principals",
      [{ arn: ADMIN, trustedPrincipals: [] }],
      '"trustedPrincipals" must be a non-empty array',
    ],
    [
      "a principal without account",
      [{ arn: ADMIN, trustedPrincipals: ["Alice"] }],
      '"trustedPrincipals" must be',
    ],
    [
      "a 30-minute maximum",
      [{ arn: ADMIN, maxSessionDuration: 1800 }],
      '"maxSessionDuration" must be a whole number of seconds from 3600 to 43200',
    ],
    [
      "a maximum in text",
      [{ arn: ADMIN, maxSessionDuration: "3600" }],
      '"maxSessionDuration" must be',
    ],
    [
      "a 13-hour maximum",
      [{ arn: ADMIN, maxSessionDuration: 46_800 }],
      '"maxSessionDuration" must be',
    ],
    [
      "an external id with a space",
      [{ arn: ADMIN, externalId: "a b" }],
      '"externalId" must be 2 to 1224 characters',
    ],
    [
      "an MFA serial without code",
      [{ arn: ADMIN, mfaSerial: "arn:aws:iam::123456789012:mfa/A" }],
      '"mfaSerial" and "mfaCode" go together',
    ],
    ["an MFA code of five digits", [{
      arn: ADMIN,
      mfaSerial: "arn:aws:iam::123456789012:mfa/A",
      mfaCode: "12345",
    }], '"mfaCode" must be a string of six digits'],
    [
      "a short MFA serial",
      [{ arn: ADMIN, mfaSerial: "GAHT1234", mfaCode: "123456" }],
      '"mfaSerial" must be an MFA device ARN',
    ],
  ] as const
) {
  Deno.test(`a roles file with ${what} is refused`, async () => {
    const result = parseRoles(value);
    assert.equal(typeof result, "string");
    assert.ok((result as string).includes(reason), result as string);
    // startEmulator refuses the same before it listens.
    await assert.rejects(
      startEmulator({ port: 0, roles: value as never }),
      (err) => err instanceof EmulatorError && err.message.includes(reason),
    );
  });
}

Deno.test("the role example of `emulator --help` and of the roles-file error is a valid roles file", async () => {
  const { help } = await import("../../lib/commands/emulator.ts");
  const { ROLES_FILE_EXAMPLE } = await import("../../lib/emulator/roles.ts");
  const example = /\{"arn": "arn:aws:iam[^}]*\}/.exec(help)![0].replace(/\s*\n\s*/g, " ");
  for (const text of [`[${example}]`, ROLES_FILE_EXAMPLE]) {
    const roles = parseRoles(JSON.parse(text));
    assert.ok(Array.isArray(roles), `${text}: ${roles}`);
  }
});
