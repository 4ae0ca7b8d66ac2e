import assert from "node:assert/strict";
import { childEnvironment, parse } from "../../lib/commands/exec.ts";
import type { SessionCredentials } from "../../lib/session/credentials.ts";
import { UsageError } from "../../lib/errors.ts";

const CREDS: SessionCredentials = {
  profile: "dev",
  loginSession: "arn:aws:iam::123456789012:user/Alice",
  region: "eu-west-1",
  cachePath: "/tmp/x.json",
  accessKeyId: "ASIAEXAMPLE",
  secretAccessKey: "secret",
  sessionToken: "token",
  accountId: "123456789012",
  expiresAtMs: Date.UTC(2025, 10, 19, 0, 15),
  refreshed: false,
};

Deno.test("childEnvironment() sets the credentials and region and removes the profile", () => {
  const env = childEnvironment(
    { PATH: "/bin", AWS_PROFILE: "dev", AWS_DEFAULT_PROFILE: "x", AWS_ACCESS_KEY_ID: "OLD" },
    CREDS,
  );
  assert.deepEqual(env, {
    PATH: "/bin",
    AWS_ACCESS_KEY_ID: "ASIAEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "secret",
    AWS_SESSION_TOKEN: "token",
    AWS_CREDENTIAL_EXPIRATION: "2025-11-19T00:15:00+00:00",
    AWS_ACCOUNT_ID: "123456789012",
    AWS_REGION: "eu-west-1",
    AWS_DEFAULT_REGION: "eu-west-1",
    AWS_LOGIN_PROFILE: "dev",
  });
});

Deno.test("childEnvironment() keeps the caller's region variables when the profile has none", () => {
  const env = childEnvironment({ AWS_REGION: "us-west-2" }, { ...CREDS, region: undefined });
  assert.equal(env.AWS_REGION, "us-west-2");
  assert.equal(env.AWS_DEFAULT_REGION, undefined);
});

Deno.test("childEnvironment() removes a stale AWS_SECURITY_TOKEN (the session token's old name)", () => {
  const env = childEnvironment(
    { AWS_SECURITY_TOKEN: "token-of-another-session", AWS_SESSION_TOKEN: "also-stale" },
    CREDS,
  );
  assert.equal(env.AWS_SESSION_TOKEN, "token");
  assert.ok(!("AWS_SECURITY_TOKEN" in env));
});

Deno.test("parse() takes the command after -- and refuses a missing one", () => {
  assert.deepEqual(parse(["--profile", "dev", "--", "aws", "--profile", "x"]), {
    profile: "dev",
    command: ["aws", "--profile", "x"],
  });
  assert.throws(() => parse(["--profile", "dev"]), UsageError);
  assert.throws(() => parse(["--"]), UsageError);
  assert.throws(() => parse(["ls"]), UsageError);
});
