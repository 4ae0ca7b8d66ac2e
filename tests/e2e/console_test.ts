/**
 * `aws-login console` end to end, through `deno run -P main.ts` against the emulator (Sign-In, STS
 * and the federation endpoint): --print for a role profile (assumed afresh without DurationSeconds,
 * not from or into the role cache) and for the login session; the duration rule for chained roles;
 * every refusal made before any network call; a refused getSigninToken explained; the browser path
 * through the one-time link with a stand-in browser.
 */
import assert from "node:assert/strict";
import { cliResult, ROOT, runCli, spawnCli } from "../helpers/cli.ts";
import { addProfile, sessionFixture } from "../helpers/session.ts";
import { EXIT } from "../../lib/errors.ts";

const ALICE = "arn:aws:iam::111111111111:user/Alice";
const ADMIN = "arn:aws:iam::222222222222:role/Admin";
const AUDIT = "arn:aws:iam::333333333333:role/Audit";

async function setup() {
  const t = await sessionFixture({ arn: ALICE, region: "eu-west-1" });
  await addProfile(t.home.home, "admin", {
    role_arn: ADMIN,
    source_profile: "dev",
    // The role cache's entries carry it; the console's AssumeRole must not.
    duration_seconds: "3600",
    region: "eu-west-1",
  });
  await addProfile(t.home.home, "audit", { role_arn: AUDIT, source_profile: "admin" });
  const env = { ...t.session.env, AWS_ENDPOINT_URL_STS: t.emulator.url };
  return Object.assign(t, { env });
}

/** A browser's cookie for the emulator's console (one per test: one browser). */
interface Jar {
  cookie: string;
}

/** Follows a printed sign-in URL as a browser would, to the emulator's console page. */
async function land(
  url: string,
  jar: Jar = { cookie: "" },
): Promise<{ status: number; html: string }> {
  let next = url;
  for (let i = 0; i < 5; i++) {
    const r = await fetch(next, {
      redirect: "manual",
      headers: jar.cookie ? { cookie: jar.cookie } : {},
    });
    const location = r.headers.get("location");
    const html = await r.text();
    const set = r.headers.get("set-cookie");
    if (set !== null) jar.cookie = /Max-Age=0/.test(set) ? "" : set.split(";")[0]!;
    if (location === null) return { status: r.status, html };
    next = new URL(location, next).href;
  }
  throw new Error("too many redirects");
}

function identityOf(html: string): string | undefined {
  return /id="identity"[^>]*>([^<]+)</.exec(html)?.[1];
}

Deno.test("console --print: a role profile, assumed afresh, lands on its console page", async () => {
  await using t = await setup();
  const out = await runCli(["console", "--profile", "admin", "--print", "--destination", "s3"], {
    env: t.env,
  });
  assert.equal(out.code, EXIT.ok, out.stderr);
  const url = new URL(out.stdout.trim());
  // Through the console's logout first, then the federation login with the token.
  assert.equal(url.origin + url.pathname, `${t.emulator.url}/oauth`);
  assert.equal(url.searchParams.get("Action"), "logout");
  const login = new URL(url.searchParams.get("redirect_uri")!);
  assert.equal(login.origin + login.pathname, `${t.emulator.url}/federation`);
  assert.equal(login.searchParams.get("Action"), "login");
  assert.equal(
    login.searchParams.get("Destination"),
    "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1",
  );
  assert.match(out.stderr, /treat it as a secret/);
  assert.match(out.stderr, /15 minutes/);
  const { status, html } = await land(url.href);
  assert.equal(status, 200, html);
  assert.equal(identityOf(html), "arn:aws:sts::222222222222:assumed-role/Admin/Alice");
  // Assumed without DurationSeconds (the emulator refuses such credentials otherwise), and the
  // role cache neither used nor written.
  const counters = t.emulator.controls.counters();
  assert.equal(counters.assume_role, 1);
  assert.equal(counters.signin_token, 1);
  const cache = `${t.home.home}/.aws/cli/cache`;
  assert.deepEqual(await Array.fromAsync(Deno.readDir(cache)).catch(() => []), []);
});

Deno.test("console --print --no-logout: the login URL itself; a login profile signs in as the session", async () => {
  await using t = await setup();
  const out = await runCli(
    ["console", "--profile", "dev", "--print", "--no-logout", "--duration", "43200"],
    { env: t.env },
  );
  assert.equal(out.code, EXIT.ok, out.stderr);
  const url = new URL(out.stdout.trim());
  assert.equal(url.searchParams.get("Action"), "login");
  assert.equal(
    url.searchParams.get("Destination"),
    "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1",
  );
  const { html } = await land(url.href);
  assert.equal(identityOf(html), ALICE);
  // SessionDuration was sent: the console session ends 12 h from now.
  const ends = Date.parse(/id="session-ends">([^<]+)</.exec(html)![1]!);
  assert.ok(ends > Date.now() + 11 * 3_600_000, html);
  assert.equal(t.emulator.controls.counters().assume_role, 0);
});

Deno.test("console --duration on a chained role: not sent, and said so", async () => {
  await using t = await setup();
  const out = await runCli(
    ["console", "--profile", "audit", "--print", "--duration", "7200", "--region", "us-east-1"],
    { env: t.env },
  );
  // The emulator refuses SessionDuration with role-chained credentials: success shows it was not sent.
  assert.equal(out.code, EXIT.ok, out.stderr);
  assert.match(
    out.stderr,
    /--duration is not used: "audit" is a role reached through another role/,
  );
  assert.match(out.stderr, /lasts what the role session has left \(about \d+ min\)/);
  const { html } = await land(out.stdout.trim());
  assert.equal(identityOf(html), "arn:aws:sts::333333333333:assumed-role/Audit/Alice");
});

for (
  const [name, args, message] of [
    ["a foreign destination host", ["--destination", "https://evil.example/"], /neither a service/],
    ["an http destination", ["--destination", "http://console.aws.amazon.com/"], /neither/],
    [
      "a look-alike host",
      ["--destination", "https://console.aws.amazon.com.evil.example/"],
      /neither/,
    ],
    [
      "a destination with a port",
      ["--destination", "https://console.aws.amazon.com:8443/"],
      /neither/,
    ],
    ["a service name with capitals", ["--destination", "S3"], /neither a service/],
    ["a us-gov URL in aws", ["--destination", "https://console.amazonaws-us-gov.com/"], /neither/],
    [
      "a region of another partition",
      ["--region", "cn-north-1"],
      /partition "aws", but the region/,
    ],
    ["a partition without federation", ["--region", "us-iso-east-1"], /knows no console sign-in/],
    ["a duration too short", ["--duration", "899"], /900 to 43200/],
    ["a duration too long", ["--duration", "43201"], /900 to 43200/],
  ] as const
) {
  Deno.test(`console refuses ${name} before any network call`, async () => {
    await using t = await setup();
    const out = await runCli(["console", "--profile", "admin", "--print", ...args], { env: t.env });
    assert.notEqual(out.code, EXIT.ok);
    assert.match(out.stderr, message);
    assert.equal(out.stdout, "");
    assert.equal(out.stderr.split("\n").filter((l) => l.startsWith("aws-login:")).length, 1);
    const counters = t.emulator.controls.counters();
    assert.equal(counters.sts + counters.signin_token + counters.refresh_token, 0);
  });
}

Deno.test("console: a refused getSigninToken is one line with what to do, and no secret", async () => {
  await using t = await setup();
  // A stand-in federation endpoint that refuses, quoting what it was sent.
  await using refuser = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) =>
      new Response(`refused ${new URL(req.url).searchParams.get("Session")}`, { status: 400 }),
  );
  const env = { ...t.env, AWS_ENDPOINT_URL_SIGNIN: `http://127.0.0.1:${refuser.addr.port}` };
  const out = await runCli(["console", "--profile", "dev", "--print", "--debug"], { env });
  assert.equal(out.code, EXIT.signin, out.stderr);
  const lines = out.stderr.split("\n").filter((l) => l.startsWith("aws-login:"));
  assert.equal(lines.length, 1, out.stderr);
  assert.match(lines[0]!, /refused a console sign-in token .*HTTP 400/);
  assert.match(lines[0]!, /use a role profile/);
  assert.match(lines[0]!, /already in the console/);
  const token = t.session.token.accessToken;
  for (const secret of [token.secretAccessKey, token.sessionToken]) {
    assert.ok(!out.stderr.includes(secret), "a secret in stderr");
  }
});

Deno.test("console --debug for a role: its fresh credentials and the token appear nowhere but the URL", async () => {
  await using t = await setup();
  // A stand-in federation endpoint that keeps the role credentials it is sent, then answers with a
  // token or, asked to, refuses quoting them.
  const sessions: Record<string, string>[] = [];
  let refuse = false;
  const TOKEN = `stand-in-signin-token-${crypto.randomUUID()}`;
  await using federation = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => {
      const session = new URL(req.url).searchParams.get("Session") ?? "";
      sessions.push(JSON.parse(session));
      return refuse
        ? new Response(`refused ${session}`, { status: 403 })
        : Response.json({ SigninToken: TOKEN });
    },
  );
  // STS stays the emulator's; only the federation calls go to the stand-in.
  const env = { ...t.env, AWS_ENDPOINT_URL_SIGNIN: `http://127.0.0.1:${federation.addr.port}` };
  const args = ["console", "--profile", "admin", "--print", "--no-logout", "--debug"];
  const ok = await runCli(args, { env });
  assert.equal(ok.code, EXIT.ok, ok.stderr);
  assert.match(ok.stderr, /debug: getSigninToken at /);
  assert.equal(new URL(ok.stdout.trim()).searchParams.get("SigninToken"), TOKEN);
  refuse = true;
  const refused = await runCli(args, { env });
  assert.equal(refused.code, EXIT.signin, refused.stderr);
  assert.match(refused.stderr, /refused a console sign-in token .*HTTP 403/);
  assert.equal(sessions.length, 2);
  assert.ok(!ok.stderr.includes(TOKEN), "the sign-in token in --debug output");
  for (const session of sessions) {
    // The role's own credentials, assumed afresh for the console, not the login session's.
    assert.match(session.sessionId!, /^ASIA/);
    assert.notEqual(session.sessionId, t.session.token.accessToken.accessKeyId);
    for (const secret of [session.sessionKey!, session.sessionToken!]) {
      assert.ok(secret.length > 20);
      for (const text of [ok.stdout, ok.stderr, refused.stdout, refused.stderr]) {
        assert.ok(!text.includes(secret), "a role credential in the output");
      }
    }
  }
});

Deno.test("console opens the browser at the one-time link, which forwards to the console", async () => {
  await using t = await setup();
  const log = `${t.home.home}/browser-log.json`;
  const env = {
    ...t.env,
    BROWSER: `'${Deno.execPath()}' run -q -A '${ROOT}tools/browser.ts' --log '${log}' %s`,
  };
  // The stand-in may outlive the command on a loaded machine: wait for its record before the
  // command's process group is killed at scope end.
  await using child = spawnCli(["console", "--profile", "admin", "--debug"], { env });
  const out = await cliResult(child);
  assert.equal(out.code, EXIT.ok, out.stderr);
  for (let i = 0; i < 600 && !(await Deno.stat(log).catch(() => undefined)); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(
    out.stdout,
    /^Opened the AWS console in your browser as arn:aws:sts::222222222222:assumed-role\/Admin\/Alice/,
  );
  const record = JSON.parse(await Deno.readTextFile(log));
  // The browser was started with the local link only: no token on its command line.
  assert.match(record.argv.at(-1), /^http:\/\/127\.0\.0\.1:\d+\/[\w-]{43}$/);
  assert.ok(!JSON.stringify(record.argv).includes("SigninToken"));
  const visits = record.visits as { url: string; status: number }[];
  assert.equal(visits.at(-1)!.status, 200);
  assert.match(visits.at(-1)!.url, /\/federation\?Action=login/);
  // Neither the sign-in token nor the link's secret path is in any output, --debug included.
  const token = new URL(visits.at(-1)!.url).searchParams.get("SigninToken")!;
  const linkPath = new URL(record.argv.at(-1)).pathname.slice(1);
  const credentials = t.session.token.accessToken;
  for (const secret of [token, linkPath, credentials.secretAccessKey, credentials.sessionToken]) {
    assert.ok(secret.length > 20);
    assert.ok(
      !out.stdout.includes(secret) && !out.stderr.includes(secret),
      "a secret in the output",
    );
  }
  assert.match(out.stderr, /debug: getSigninToken at /);
  if (Deno.build.os === "linux") {
    // The link's owner check found this user's browser: no fixed wait for a second opening.
    assert.match(out.stderr, /opened by this user: no wait for a second opening/);
  }
});

Deno.test("console in a browser signed in as someone else: through the logout, unless --no-logout", async () => {
  await using t = await setup();
  const jar = { cookie: "" };
  const print = async (...args: string[]) => {
    const out = await runCli(["console", "--print", ...args], { env: t.env });
    assert.equal(out.code, EXIT.ok, out.stderr);
    return out.stdout.trim();
  };
  assert.equal(identityOf((await land(await print("--profile", "dev"), jar)).html), ALICE);
  // Without multi-session, a console signed in as another identity refuses a new sign-in.
  const refused = await land(await print("--profile", "admin", "--no-logout"), jar);
  assert.equal(refused.status, 400);
  assert.match(refused.html, /signed in to the console as arn:aws:iam::111111111111:user\/Alice/);
  // By default the URL signs the browser out first, then in as the role.
  const landed = await land(await print("--profile", "admin"), jar);
  assert.equal(identityOf(landed.html), "arn:aws:sts::222222222222:assumed-role/Admin/Alice");
});
