import assert from "node:assert/strict";
import { childEnvironment, parse } from "../../lib/commands/exec.ts";
import type { ResolvedCredentials } from "../../lib/session/credential_types.ts";
import { UsageError } from "../../lib/errors.ts";

const CREDS: ResolvedCredentials = {
  profile: "dev",
  region: "eu-west-1",
  login: {
    profile: "dev",
    loginSession: "arn:aws:iam::123456789012:user/Alice",
    cachePath: "/tmp/x.json",
  },
  accessKeyId: "ASIAEXAMPLE",
  secretAccessKey: "secret",
  sessionToken: "token",
  accountId: "123456789012",
  expiresAtMs: Date.UTC(2025, 10, 19, 0, 15),
  refreshed: false,
};

/** What an outer `exec` (or a container) may have left in the environment. */
const OUTER = {
  PATH: "/bin",
  AWS_PROFILE: "dev",
  AWS_DEFAULT_PROFILE: "x",
  AWS_ACCESS_KEY_ID: "OLD",
  AWS_SECRET_ACCESS_KEY: "OLD",
  AWS_SESSION_TOKEN: "OLD",
  AWS_SECURITY_TOKEN: "OLD",
  AWS_CREDENTIAL_EXPIRATION: "OLD",
  AWS_ACCOUNT_ID: "OLD",
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/x",
  AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.1:1/old",
  AWS_CONTAINER_AUTHORIZATION_TOKEN: "OLD",
  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: "/old",
};

Deno.test("childEnvironment() with an endpoint gives its variables and no static keys", () => {
  const env = childEnvironment(OUTER, CREDS, [
    ["AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:4321/p"],
    ["AWS_CONTAINER_AUTHORIZATION_TOKEN", "t0k"],
  ]);
  assert.deepEqual(env, {
    PATH: "/bin",
    AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.1:4321/p",
    AWS_CONTAINER_AUTHORIZATION_TOKEN: "t0k",
    AWS_ACCOUNT_ID: "123456789012",
    AWS_REGION: "eu-west-1",
    AWS_DEFAULT_REGION: "eu-west-1",
    AWS_LOGIN_PROFILE: "dev",
  });
});

Deno.test("childEnvironment() without an endpoint sets the credentials, region, no profile", () => {
  const env = childEnvironment(OUTER, CREDS);
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
    server: true,
    command: ["aws", "--profile", "x"],
  });
  assert.deepEqual(parse(["--no-server", "--", "aws", "--no-server"]), {
    profile: undefined,
    server: false,
    command: ["aws", "--no-server"],
  });
  assert.throws(() => parse(["--profile", "dev"]), UsageError);
  assert.throws(() => parse(["--"]), UsageError);
  assert.throws(() => parse(["ls"]), UsageError);
});
