/**
 * Role profiles end to end, through `deno run -P main.ts` (the product's permission set) with a
 * login session from the emulator and a stand-in STS on 127.0.0.1 that records every AssumeRole
 * and checks that it is signed for `sts` with the login session's credentials.
 */
import assert from "node:assert/strict";
import { runCli } from "../helpers/cli.ts";
import { addProfile, sessionFixture } from "../helpers/session.ts";

const ARN = "arn:aws:iam::111111111111:user/Alice";

/** A stand-in STS: AssumeRole for any role, 1 h credentials; `calls` counts requests. */
function startSts(ttlMs = 3_600_000) {
  const forms: URLSearchParams[] = [];
  const authorizations: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const form = new URLSearchParams(await req.text());
    forms.push(form);
    authorizations.push(req.headers.get("authorization") ?? "");
    // Slow enough that 32 concurrent callers overlap.
    await new Promise((r) => setTimeout(r, 200));
    const role = form.get("RoleArn")!;
    const n = forms.length;
    return new Response(
      `<AssumeRoleResponse><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROA:x` +
        `</AssumedRoleId><Arn>arn:aws:sts::${role.split(":")[4]}:assumed-role/` +
        `${role.split("/").at(-1)}/${form.get("RoleSessionName")}</Arn></AssumedRoleUser>` +
        `<Credentials><AccessKeyId>ASIAROLE${n}</AccessKeyId><SecretAccessKey>s${n}` +
        `</SecretAccessKey><SessionToken>t${n}</SessionToken><Expiration>` +
        `${new Date(Date.now() + ttlMs).toISOString()}</Expiration></Credentials>` +
        `</AssumeRoleResult></AssumeRoleResponse>`,
      { headers: { "content-type": "text/xml" } },
    );
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    forms,
    authorizations,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function setup(ttlMs?: number) {
  const t = await sessionFixture({ arn: ARN, region: "eu-west-1" });
  await addProfile(t.home.home, "admin", {
    role_arn: "arn:aws:iam::222222222222:role/Admin",
    source_profile: "dev",
  });
  const sts = startSts(ttlMs);
  return { t, sts, env: { ...t.session.env, AWS_ENDPOINT_URL_STS: sts.url } };
}

Deno.test("credential-process and export-env on a role profile hand out the role's credentials", async () => {
  const { t, sts, env } = await setup();
  await using _t = t;
  await using _s = sts;
  const out = await runCli(["credential-process", "--profile", "admin"], { env });
  assert.equal(out.code, 0, out.stderr);
  const json = JSON.parse(out.stdout);
  assert.equal(json.AccessKeyId, "ASIAROLE1");
  assert.equal(json.AccountId, "222222222222");
  assert.equal(sts.forms.length, 1);
  assert.equal(sts.forms[0]!.get("RoleSessionName"), "Alice");
  assert.match(
    sts.authorizations[0]!,
    // The requested profile has no region; the source profile's (eu-west-1) is not used (§16).
    new RegExp(`Credential=${t.session.token.accessToken.accessKeyId}/\\d{8}/us-east-1/sts/`),
  );
  const env2 = await runCli(["export-env", "--profile", "admin"], { env });
  assert.equal(env2.code, 0, env2.stderr);
  assert.match(env2.stdout, /AWS_ACCESS_KEY_ID=ASIAROLE1\b/);
  assert.match(env2.stdout, /AWS_ACCOUNT_ID=222222222222\b/);
  assert.equal(sts.forms.length, 1, "the second command used the role cache");
});

Deno.test("32 concurrent credential-process runs on a role profile make one AssumeRole", async () => {
  const { t, sts, env } = await setup();
  await using _t = t;
  await using _s = sts;
  const runs = await Promise.all(
    Array.from({ length: 32 }, () => runCli(["credential-process", "--profile", "admin"], { env })),
  );
  for (const run of runs) assert.equal(run.code, 0, run.stderr);
  assert.equal(new Set(runs.map((r) => JSON.parse(r.stdout).AccessKeyId)).size, 1);
  assert.equal(sts.forms.length, 1);
});

Deno.test("a refused role profile fails with one line and exit 3, before any network call", async () => {
  const { t, sts, env } = await setup();
  await using _t = t;
  await using _s = sts;
  await addProfile(t.home.home, "loop", {
    role_arn: "arn:aws:iam::1:role/x",
    source_profile: "loop",
  });
  await addProfile(t.home.home, "ec2", {
    role_arn: "arn:aws:iam::222222222222:role/Admin",
    credential_source: "Ec2InstanceMetadata",
  });
  for (const profile of ["loop", "ec2"]) {
    const out = await runCli(["credential-process", "--profile", profile], { env });
    assert.equal(out.code, 3, out.stderr);
    assert.equal(out.stdout, "");
    assert.equal(out.stderr.trim().split("\n").length, 1, out.stderr);
  }
  assert.equal(sts.forms.length, 0);
});

Deno.test("status shows role profiles under their session; --refresh on a role profile assumes it now", async () => {
  const { t, sts, env } = await setup();
  await using _t = t;
  await using _s = sts;
  const before = await runCli(["status", "--offline"], { env });
  assert.equal(before.code, 0, before.stderr);
  assert.match(
    before.stdout,
    /admin → dev \(login session\): arn:aws:iam::222222222222:role\/Admin, account 222222222222, not assumed yet/,
  );
  const refresh = await runCli(["status", "--refresh", "--profile", "admin", "--json"], { env });
  assert.equal(refresh.code, 0, refresh.stderr);
  const json = JSON.parse(refresh.stdout);
  assert.equal(json.profiles.length, 1);
  assert.equal(json.profiles[0].profile, "dev");
  const role = json.profiles[0].roles[0];
  assert.deepEqual(role.chain, ["admin", "dev"]);
  assert.equal(role.refreshed, true);
  assert.equal(role.cached, true);
  assert.ok(role.expiresInSeconds > 3000);
  assert.equal(sts.forms.length, 1);
  assert.equal(json.profiles[0].refreshed, undefined, "the login session is not refreshed");
});

Deno.test("logout --profile of a role profile logs out its session and removes the role cache", async () => {
  const { t, sts, env } = await setup();
  await using _t = t;
  await using _s = sts;
  assert.equal((await runCli(["credential-process", "--profile", "admin"], { env })).code, 0);
  const out = await runCli(["logout", "--profile", "admin", "--no-revoke"], { env });
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /login session of profile 'dev': logging out 'dev'/);
  assert.match(out.stdout, /Removed 1 cached role credential/);
  const cacheDir = `${t.home.home}/.aws/cli/cache`;
  // Nothing left in the AWS CLI's folder: neither the entry nor its lock file.
  assert.deepEqual([...Deno.readDirSync(cacheDir)].map((e) => e.name), []);
  const after = await runCli(["credential-process", "--profile", "admin"], { env });
  assert.equal(after.code, 4, after.stderr);
  assert.match(after.stderr, /aws-login login --profile dev/);
});

const posix = { test: Deno.build.os === "windows" ? Deno.test.ignore : Deno.test };
const CURL = `curl -sf -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" ` +
  `"$AWS_CONTAINER_CREDENTIALS_FULL_URI"`;

posix.test("exec on a role profile: the child's endpoint serves the role, assumed again before it expires", async () => {
  // Role credentials that are within the 5-minute window 3 s after they are issued.
  const { t, sts, env } = await setup(303_000);
  await using _t = t;
  await using _s = sts;
  const out = await runCli([
    "exec",
    "--profile",
    "admin",
    "--",
    "sh",
    "-c",
    `echo "account=$AWS_ACCOUNT_ID"; ${CURL}; echo; sleep 4; ${CURL}`,
  ], { env });
  assert.equal(out.code, 0, out.stderr);
  const [account, first, second] = out.stdout.trim().split("\n");
  assert.equal(account, "account=222222222222");
  const a = JSON.parse(first!);
  const b = JSON.parse(second!);
  assert.equal(a.AccountId, "222222222222");
  assert.notEqual(a.AccessKeyId, b.AccessKeyId, "the role was assumed again");
  assert.ok(sts.forms.length >= 2);
});

Deno.test("exec --no-server on a role profile gives the child the role's static keys", async () => {
  const { t, sts, env } = await setup();
  await using _t = t;
  await using _s = sts;
  const out = await runCli([
    "exec",
    "--profile",
    "admin",
    "--no-server",
    "--",
    Deno.execPath(),
    "eval",
    "console.log(Deno.env.get('AWS_ACCESS_KEY_ID'), Deno.env.get('AWS_ACCOUNT_ID'))",
  ], { env });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout.trim(), "ASIAROLE1 222222222222");
});

Deno.test("the warm path of a cached role profile never loads the STS client or the AssumeRole side; an AssumeRole does", async () => {
  const { t, sts, env } = await setup();
  await using _t = t;
  await using _s = sts;
  const { ROOT } = await import("../helpers/cli.ts");
  const run = async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      // lib/sts/ and the role resolver's AssumeRole side (with the role cache's write side)
      // unreadable: importing them fails. The warm path is one module more than the login path's.
      args: [
        "run",
        "-q",
        "-P",
        `--deny-read=${ROOT}lib/sts,${ROOT}lib/session/role_assume.ts,${ROOT}lib/session/role_cache.ts`,
        `${ROOT}main.ts`,
        "credential-process",
        "--profile",
        "admin",
      ],
      env,
      clearEnv: true,
      stdin: "null",
    }).output();
    return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
  };
  const cold = await run();
  assert.notEqual(cold.code, 0, "an AssumeRole needs lib/sts/ (so this test can fail)");
  assert.equal((await runCli(["credential-process", "--profile", "admin"], { env })).code, 0);
  const warm = await run();
  assert.equal(warm.code, 0, warm.stderr);
});

Deno.test("least privilege: a role assumed now keeps net until printed; a cached role drops it", async () => {
  const { fileURLToPath } = await import("node:url");
  const preload = fileURLToPath(new URL("../helpers/payload.ts", import.meta.url));
  const report = (stderr: string) => {
    const line = stderr.split("\n").find((l) => l.startsWith("PAYLOAD "));
    assert.ok(line, stderr);
    return JSON.parse(line.slice("PAYLOAD ".length));
  };
  const { t, sts, env } = await setup();
  await using _t = t;
  await using _s = sts;
  // The login session is fresh: net must stay for the AssumeRole that follows it.
  const first = await runCli(["credential-process", "--profile", "admin"], { env, preload });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(sts.forms.length, 1);
  assert.equal(report(first.stderr).signinHost, "granted");
  const cached = await runCli(["credential-process", "--profile", "admin"], { env, preload });
  assert.equal(cached.code, 0, cached.stderr);
  assert.deepEqual(report(cached.stderr), {
    run: "NotCapable",
    foreignHost: "prompt",
    signinHost: "prompt",
    connect: "NotCapable",
  });
});

Deno.test("logout --all also removes the cached role credentials of every role profile", async () => {
  const { t, sts, env } = await setup();
  await using _t = t;
  await using _s = sts;
  assert.equal((await runCli(["credential-process", "--profile", "admin"], { env })).code, 0);
  const out = await runCli(["logout", "--all", "--no-revoke"], { env });
  assert.equal(out.code, 0, out.stderr);
  assert.match(
    out.stdout,
    /Removed 1 cached role credential of role profiles that come from these login sessions/,
  );
  const left = [...Deno.readDirSync(`${t.home.home}/.aws/cli/cache`)].map((e) => e.name);
  assert.deepEqual(left, [], "neither the entry nor its lock file");
});

Deno.test("a role profile in a region aws-login does not list: a typo gets the closest region, a new one how to add its STS host", async () => {
  const t = await sessionFixture({ arn: ARN, region: "eu-west-1" });
  await using _t = t;
  await addProfile(t.home.home, "admin", {
    role_arn: "arn:aws:iam::222222222222:role/Admin",
    source_profile: "dev",
    region: "eu-newx-1", // not (yet) in lib/aws/regions.ts: its STS host is not in the set
  });
  const typo = await runCli(["credential-process", "--profile", "admin"], {
    env: { ...t.session.env, AWS_REGION: "eu-wst-1" },
  });
  assert.equal(typo.code, 3, typo.stderr);
  assert.match(
    typo.stderr,
    /^aws-login: AWS region "eu-wst-1" is not one aws-login knows, and its STS host "sts\.eu-wst-1\.amazonaws\.com:443" is not in the Deno permission set\. Did you mean "eu-west-1"\? If it is a new AWS region, add /,
  );
  const fresh = await runCli(["export-env", "--profile", "admin"], { env: t.session.env });
  assert.equal(fresh.code, 3, fresh.stderr);
  assert.match(
    fresh.stderr,
    /permission set\. If it is a new AWS region, add "sts\.eu-newx-1\.amazonaws\.com:443" to "net" in deno\.json's "default" set\n$/,
  );
  // --allow-net=… would replace the set, and the session's refresh at its Sign-In host with it.
  assert.doesNotMatch(typo.stderr + fresh.stderr, /--allow-net=/);
});
