import assert from "node:assert/strict";
import { ConfigError } from "../../lib/errors.ts";
import { joinPath } from "../../lib/files.ts";
import {
  credentialProcessSource,
  findLoginSession,
  handedOutProfile,
  listLoginSessions,
  loadProfileSession,
  profileName,
} from "../../lib/session/profile_session.ts";
import { tempHome } from "../helpers/cli.ts";

const CONFIG = `# my config
[default]
region = us-east-1
login_session = arn:aws:iam::111111111111:user/Default

[profile "quoted"]
; a comment
login_session = arn:aws:iam::222222222222:user/Quoted
region = cn-north-1

[profile plain]
region = eu-west-1

[sso-session corp]
login_session = not-a-profile

[profile custom]
login_session = arn:aws:iam::333333333333:user/Custom
region = us-gov-west-1
services = local

[services local]
signin =
  endpoint_url = http://127.0.0.1:4566/pfx/
sts =
  endpoint_url = http://127.0.0.1:9999
`;

async function withConfig(fn: (env: { get(n: string): string | undefined }) => Promise<void>) {
  await using home = await tempHome();
  await Deno.mkdir(joinPath(home.home, ".aws"));
  await Deno.writeTextFile(joinPath(home.home, ".aws", "config"), CONFIG);
  const vars: Record<string, string> = { HOME: home.home };
  await fn({ get: (n) => vars[n] });
}

Deno.test("profileName() takes --profile, then AWS_PROFILE, AWS_DEFAULT_PROFILE, default", () => {
  const env = (vars: Record<string, string>) => ({ get: (n: string) => vars[n] });
  assert.equal(profileName(env({ AWS_PROFILE: "a", AWS_DEFAULT_PROFILE: "b" }), "flag"), "flag");
  assert.equal(profileName(env({ AWS_PROFILE: "a", AWS_DEFAULT_PROFILE: "b" })), "a");
  assert.equal(profileName(env({ AWS_DEFAULT_PROFILE: "b" })), "b");
  assert.equal(profileName(env({})), "default");
});

Deno.test("listLoginSessions() lists profiles with login_session, in file order", async () => {
  await withConfig(async (env) => {
    const sessions = await listLoginSessions(env);
    assert.deepEqual(sessions.map((s) => [s.profile, s.loginSession, s.profileRegion]), [
      ["default", "arn:aws:iam::111111111111:user/Default", "us-east-1"],
      ["quoted", "arn:aws:iam::222222222222:user/Quoted", "cn-north-1"],
      ["custom", "arn:aws:iam::333333333333:user/Custom", "us-gov-west-1"],
    ]);
  });
});

Deno.test("loadProfileSession() builds the partition's token URL for a region", async () => {
  await withConfig(async (env) => {
    const quoted = await loadProfileSession(env, "quoted");
    assert.equal(
      await quoted.tokenUrlFor("cn-north-1"),
      "https://cn-north-1.signin.amazonaws.cn/v1/token",
    );
    assert.equal(
      await quoted.tokenUrlFor("us-gov-east-1"),
      "https://us-gov-east-1.signin.amazonaws-us-gov.com/v1/token",
    );
    const def = await loadProfileSession(env);
    assert.equal(
      await def.tokenUrlFor("eu-west-1"),
      "https://eu-west-1.signin.aws.amazon.com/v1/token",
    );
  });
});

Deno.test("loadProfileSession() honours the services section and the environment overrides", async () => {
  await using home = await tempHome();
  await Deno.mkdir(joinPath(home.home, ".aws"));
  await Deno.writeTextFile(joinPath(home.home, ".aws", "config"), CONFIG);
  const vars: Record<string, string> = { HOME: home.home };
  const env = { get: (n: string) => vars[n] };
  const custom = await loadProfileSession(env, "custom");
  assert.equal(await custom.tokenUrlFor("us-gov-west-1"), "http://127.0.0.1:4566/pfx/v1/token");
  vars.AWS_ENDPOINT_URL = "http://127.0.0.1:1/";
  assert.equal(await custom.tokenUrlFor("x"), "http://127.0.0.1:1/v1/token");
  vars.AWS_ENDPOINT_URL_SIGNIN = "http://127.0.0.1:2";
  assert.equal(await custom.tokenUrlFor("x"), "http://127.0.0.1:2/v1/token");
  vars.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = "true";
  assert.equal(
    await custom.tokenUrlFor("us-gov-west-1"),
    "https://us-gov-west-1.signin.amazonaws-us-gov.com/v1/token",
  );
});

Deno.test("loadProfileSession() prefers AWS_REGION for tools but keeps the profile's region", async () => {
  await withConfig(async (env) => {
    const vars = { AWS_REGION: "ap-south-1" } as Record<string, string>;
    const session = await loadProfileSession({ get: (n) => vars[n] ?? env.get(n) }, "quoted");
    assert.equal(session.region, "ap-south-1");
    assert.equal(session.profileRegion, "cn-north-1");
  });
});

Deno.test("loadProfileSession() names the login command for a profile without a session", async () => {
  await withConfig(async (env) => {
    for (const [profile, why] of [["plain", "has no login session"], ["nope", "does not exist"]]) {
      await assert.rejects(
        () => loadProfileSession(env, profile),
        (err) =>
          err instanceof ConfigError && err.code === "ERR_CONFIG_PROFILE" &&
          err.message.startsWith(`Profile "${profile}" ${why} in "`) &&
          err.message.endsWith(`Run "aws-login login --profile ${profile}" to sign in`),
      );
    }
  });
});

Deno.test("findLoginSession() returns undefined for a profile without a session", async () => {
  await withConfig(async (env) => {
    assert.deepEqual(await findLoginSession(env, "plain"), {
      profile: "plain",
      loginSession: undefined,
    });
    assert.deepEqual(await findLoginSession(env), {
      profile: "default",
      loginSession: "arn:aws:iam::111111111111:user/Default",
    });
  });
});

Deno.test("handedOutProfile() reads --profile of aws-login's and the AWS CLI's commands only", () => {
  assert.equal(handedOutProfile("aws-login credential-process --profile dev"), "dev");
  assert.equal(
    handedOutProfile(`"C:\\bin\\aws-login.cmd" credential-process --profile=ops`),
    "ops",
  );
  assert.equal(
    handedOutProfile("aws configure export-credentials --profile dev --format process"),
    "dev",
  );
  assert.equal(handedOutProfile("deno run -P main.ts credential-process"), "default");
  assert.equal(handedOutProfile("/usr/bin/get-creds --profile dev"), undefined);
});

Deno.test("credentialProcessSource() names the login profile, or the loop", async () => {
  const files = {
    configPath: "config",
    credentialsPath: "credentials",
    config: [
      { kind: "profile", name: "dev", keys: { login_session: "arn:aws:iam::1:user/A" } },
      {
        kind: "profile",
        name: "a",
        keys: { credential_process: "aws-login credential-process --profile dev" },
      },
      {
        kind: "profile",
        name: "b",
        keys: { CREDENTIAL_PROCESS: "aws-login credential-process --profile b" },
      },
      { kind: "profile", name: "plain", keys: {} },
    ],
    credentials: [],
  } as unknown as Parameters<typeof credentialProcessSource>[0];
  const a = await credentialProcessSource(files, "a");
  assert.deepEqual([a?.target, a?.loginProfile, a?.selfReference], ["dev", "dev", false]);
  const b = await credentialProcessSource(files, "b");
  assert.deepEqual([b?.target, b?.loginProfile, b?.selfReference], ["b", undefined, true]);
  assert.equal(await credentialProcessSource(files, "plain"), undefined);
});
