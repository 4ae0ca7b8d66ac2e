/**
 * The login flow in-process, against the emulator, for what a subprocess test cannot reach: a
 * terminal on standard input (the region question, the overwrite question), the spinner, and a
 * machine clock that is off.
 */
import assert from "node:assert/strict";
import {
  CacheError,
  ConfigError,
  LoginError,
  NetworkError,
  SigninError,
} from "../../lib/errors.ts";
import { login } from "../../lib/login/login_flow.ts";
import { readCachedToken } from "../../lib/session/token_cache.ts";
import { until } from "../helpers/bounded.ts";
import { canMakeReadOnly, withReadOnlyDir } from "../helpers/fs_faults.ts";
import { addProfile, buffer, startEmulator, testDeps } from "../helpers/session.ts";
import { browse, CookieJar } from "../../tools/browser.ts";

const ARN = "arn:aws:iam::123456789012:user/Alice";
const OTHER_ARN = "arn:aws:iam::210987654321:user/Bob";

/** Standard input that is a terminal and holds `lines`. */
function terminal(...lines: string[]) {
  const bytes = new TextEncoder().encode(lines.map((l) => `${l}\n`).join(""));
  return { readable: ReadableStream.from([bytes]), isTerminal: true };
}

/** A browser that follows the URL's redirects with its cookies (the emulator auto-approves). */
async function followingBrowser(url: string): Promise<void> {
  await browse(url);
}

async function setup() {
  const home = await Deno.makeTempDir({ prefix: "aws-login-flow-" });
  const emulator = await startEmulator({ autoApprove: ARN });
  const env: Record<string, string> = { HOME: home, AWS_ENDPOINT_URL_SIGNIN: emulator.url };
  return {
    home,
    env,
    emulator,
    config: () => Deno.readTextFile(`${home}/.aws/config`).catch(() => undefined),
    cacheFiles: () => Array.from(Deno.readDirSync(`${home}/.aws/login/cache`)).map((e) => e.name),
    async [Symbol.asyncDispose]() {
      await emulator.close();
      await Deno.remove(home, { recursive: true });
    },
  };
}

Deno.test("login() asks for the region on a terminal and saves it to the profile", async () => {
  await using t = await setup();
  const stderr = Object.assign(buffer(), { isTerminal: true });
  const { deps } = testDeps(t.env, {
    stdin: terminal("  eu-central-1 \r"), // spaces and a Windows terminal's CR are dropped
    stderr,
    openBrowser: followingBrowser,
  });
  const result = await login({ profile: "dev" }, deps);
  assert.equal(result.region, "eu-central-1");
  assert.equal(result.regionSaved, true);
  assert.match(stderr.text, /AWS Region \[us-east-1\]: /);
  assert.match(stderr.text, /Waiting for the sign-in in the browser/);
  assert.ok(stderr.text.endsWith("\r\x1b[K"), "the spinner line was not cleared");
  assert.equal(
    await t.config(),
    `[profile dev]\nlogin_session = ${ARN}\nregion = eu-central-1\n`,
  );
});

Deno.test("login() takes us-east-1 when the region question is answered with Enter", async () => {
  await using t = await setup();
  const { deps } = testDeps(t.env, { stdin: terminal(""), openBrowser: followingBrowser });
  const result = await login({}, deps);
  assert.equal(result.region, "us-east-1");
  assert.equal(await t.config(), `[default]\nlogin_session = ${ARN}\nregion = us-east-1\n`);
});

Deno.test("login() asks before replacing another login_session; y replaces it", async () => {
  await using t = await setup();
  await addProfile(t.home, "dev", { region: "us-east-1", login_session: OTHER_ARN });
  const { deps, stderr } = testDeps(t.env, { stdin: terminal("y"), openBrowser: followingBrowser });
  await login({ profile: "dev" }, deps);
  assert.ok(
    stderr.text.includes(
      `Profile dev is already configured to use session ${OTHER_ARN}. Do you want to overwrite ` +
        `it to use ${ARN} instead? (y/n): `,
    ),
  );
  assert.equal(await t.config(), `[profile dev]\nregion = us-east-1\nlogin_session = ${ARN}\n`);
});

Deno.test("login() answered n leaves the profile and the cache untouched", async () => {
  await using t = await setup();
  await addProfile(t.home, "dev", { region: "us-east-1", login_session: OTHER_ARN });
  const before = await t.config();
  const { deps } = testDeps(t.env, { stdin: terminal("n"), openBrowser: followingBrowser });
  await assert.rejects(() => login({ profile: "dev" }, deps), (err: unknown) => {
    assert.ok(err instanceof LoginError);
    assert.equal(err.code, "ERR_LOGIN_ABORTED");
    assert.match(err.message, /nothing was written/);
    return true;
  });
  assert.equal(await t.config(), before);
  assert.throws(() => t.cacheFiles(), Deno.errors.NotFound);
});

Deno.test("login() succeeds when the machine clock is 10 minutes off", async () => {
  await using t = await setup();
  t.emulator.controls.setClockOffset(10 * 60_000);
  const { deps } = testDeps(t.env, { openBrowser: followingBrowser });
  const result = await login({ region: "us-east-1" }, deps);
  assert.equal(result.loginSession, ARN);
  assert.equal(t.cacheFiles().length, 1);
  // Refused once for the proof's iat, then accepted with the clock corrected from Date.
  assert.equal(t.emulator.controls.counters().authorization_code, 2);
});

Deno.test("login() says when the browser cannot be opened, and still takes the callback", async () => {
  await using t = await setup();
  let url = "";
  const { deps, stderr } = testDeps(t.env, {
    openBrowser: (u) => {
      url = u;
      return Promise.reject(new LoginError("ERR_LOGIN_BROWSER", "Cannot open a browser (x)."));
    },
  });
  const pending = login({ region: "us-east-1" }, deps);
  // The user opens the printed URL by hand.
  await until(() => /Open the URL above by hand/.test(stderr.text), "the hint to open the URL");
  await followingBrowser(url);
  await pending;
  assert.match(stderr.text, /Cannot open a browser \(x\)\. Open the URL above by hand\./);
});

Deno.test("login() refuses an ID token subject that could inject lines into the config", async () => {
  await using t = await setup();
  const b64url = (v: unknown) =>
    btoa(JSON.stringify(v)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const sub = "arn:aws:iam::123456789012:user/x\n[profile evil]\ncredential_process = evil";
  const fakeSignin = () =>
    Promise.resolve(Response.json({
      accessToken: { accessKeyId: "ASIAEXAMPLE000001", secretAccessKey: "s", sessionToken: "t" },
      tokenType: "aws_sigv4",
      expiresIn: 900,
      refreshToken: "r",
      idToken: `${b64url({ alg: "none" })}.${b64url({ sub })}.sig`,
    }));
  const { deps } = testDeps(t.env, {
    fetch: fakeSignin,
    // The browser step: the sign-in link, then straight to the callback with a code.
    openBrowser: async (url) => {
      const jar = new CookieJar();
      const { visits } = await browse(url, { jar, stopAt: (u) => u.pathname === "/v1/authorize" });
      const params = new URL(visits.at(-1)!.url).searchParams;
      await browse(`${params.get("redirect_uri")}?code=C&state=${params.get("state")}`, { jar });
    },
  });
  await assert.rejects(() => login({ region: "us-east-1" }, deps), (err: unknown) => {
    assert.ok(err instanceof SigninError);
    assert.equal(err.code, "ERR_SIGNIN_RESPONSE");
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
  assert.equal(await t.config(), undefined);
  assert.throws(() => t.cacheFiles(), Deno.errors.NotFound);
});

Deno.test("login() waits out a 429's Retry-After, then succeeds", async () => {
  await using t = await setup();
  t.emulator.controls.failNextTokenCalls(1, { status: 429, retryAfterSeconds: 2 });
  const sleeps: number[] = [];
  const sleep = (ms: number) => (sleeps.push(ms), Promise.resolve());
  const { deps } = testDeps(t.env, { openBrowser: followingBrowser });
  await login({ region: "us-east-1" }, { ...deps, sleep });
  assert.deepEqual(sleeps, [2000]);
  assert.equal(t.emulator.controls.counters().authorization_code, 2);
  assert.equal(t.cacheFiles().length, 1);
});

Deno.test("login() retries when the connection is reset, then succeeds", async () => {
  await using t = await setup();
  t.emulator.controls.failNextTokenCalls(1, { reset: true });
  // No connection reuse (the endpoint check before the browser opened one): on a reused
  // connection, Deno's client itself resends the request.
  using client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const sleeps: number[] = [];
  const { deps } = testDeps(t.env, {
    openBrowser: followingBrowser,
    fetch: (input, init) => fetch(input, { ...init, client }),
  });
  await login({ region: "us-east-1" }, {
    ...deps,
    sleep: (ms) => (sleeps.push(ms), Promise.resolve()),
  });
  assert.deepEqual(sleeps, [250]);
  assert.equal(t.emulator.controls.counters().authorization_code, 2);
  assert.equal(t.cacheFiles().length, 1);
});

Deno.test("login() gives up on replies slower than its timeout after 3 attempts", async () => {
  await using t = await setup();
  t.emulator.controls.failNextTokenCalls(3, { delayMs: 1000 });
  const { deps } = testDeps(t.env, { openBrowser: followingBrowser });
  await assert.rejects(
    () =>
      login({ region: "us-east-1" }, {
        ...deps,
        sleep: () => Promise.resolve(),
        requestTimeoutMs: 100,
      }),
    (err) =>
      err instanceof NetworkError && err.code === "ERR_TIMEOUT" &&
      err.message.includes("No reply from AWS Sign-In"),
  );
  assert.equal(t.emulator.controls.counters().authorization_code, 3);
  assert.equal(await t.config(), undefined, "no config written");
  assert.throws(() => t.cacheFiles(), Deno.errors.NotFound);
});

Deno.test("login() removes the cache file it wrote when the config update fails", async () => {
  await using t = await setup();
  await addProfile(t.home, "dev", { region: "us-east-1" });
  const path = `${t.home}/.aws/config`;
  let edited = "";
  const { deps } = testDeps(t.env, {
    // While the user signs in, someone adds a key the editor refuses to set beside login_session.
    openBrowser: async (url) => {
      edited = `${await Deno.readTextFile(path)}Login_Session = old\n`;
      await Deno.writeTextFile(path, edited);
      await followingBrowser(url);
    },
  });
  await assert.rejects(
    () => login({ profile: "dev" }, deps),
    (err) => err instanceof ConfigError && err.code === "ERR_CONFIG_SYNTAX",
  );
  assert.equal(await t.config(), edited);
  assert.deepEqual(t.cacheFiles(), [], "a cache file no profile points at was left behind");
});

Deno.test("login() refuses a config it could not update before opening the browser", async () => {
  await using t = await setup();
  await Deno.mkdir(`${t.home}/.aws`, { recursive: true });
  const before = "[profile dev]\nregion = us-east-1\nLogin_Session = old\n";
  await Deno.writeTextFile(`${t.home}/.aws/config`, before);
  let opened = false;
  const { deps } = testDeps(t.env, { openBrowser: () => (opened = true, Promise.resolve()) });
  for (const profile of ["dev", "my name"]) {
    await assert.rejects(() => login({ profile, timeoutSeconds: 1 }, deps), ConfigError);
  }
  assert.equal(opened, false, "the browser was opened for a login that could not be saved");
  assert.equal(await t.config(), before);
});

Deno.test("login() leaves the config untouched when the cache cannot be written", async () => {
  await using t = await setup();
  await addProfile(t.home, "dev", { region: "us-east-1" });
  const before = await t.config();
  // A regular file where the cache directory should be: the cache write fails.
  const blocker = `${t.home}/not-a-directory`;
  await Deno.writeTextFile(blocker, "");
  const { deps } = testDeps({ ...t.env, AWS_LOGIN_CACHE_DIRECTORY: blocker }, {
    openBrowser: followingBrowser,
  });
  await assert.rejects(() => login({ profile: "dev" }, deps), CacheError);
  assert.equal(await t.config(), before);
});

Deno.test("login() signs in a profile defined only in the credentials file", async () => {
  await using t = await setup();
  const credentials = `${t.home}/.aws/credentials`;
  await Deno.mkdir(`${t.home}/.aws`, { recursive: true });
  await Deno.writeTextFile(credentials, "[dev]\r\nregion = eu-west-1\r\n");
  const { deps } = testDeps(t.env, { openBrowser: followingBrowser });
  const result = await login({ profile: "dev" }, deps);
  assert.deepEqual([result.region, result.regionSaved], ["eu-west-1", false]);
  assert.equal(await t.config(), `[profile dev]\nlogin_session = ${ARN}\n`);
  assert.equal(await Deno.readTextFile(credentials), "[dev]\r\nregion = eu-west-1\r\n");
});

Deno.test("login() pins the session to its Sign-In endpoint and says when that is a custom one", async () => {
  await using t = await setup();
  const { deps, stderr } = testDeps(t.env, { openBrowser: followingBrowser });
  const result = await login({ region: "us-east-1" }, deps);
  const token = await readCachedToken(result.cachePath);
  assert.equal(token.signInEndpoint, t.emulator.url);
  assert.equal(token.signInRegion, "us-east-1");
  assert.ok(
    stderr.text.includes(
      `Signing in at the custom AWS Sign-In endpoint "${t.emulator.url}" (from ` +
        `AWS_ENDPOINT_URL_SIGNIN), not the default for us-east-1.`,
    ),
    stderr.text,
  );
});

Deno.test("login() refuses credentials of the wrong shape and writes nothing", async () => {
  await using t = await setup();
  const { deps } = testDeps(t.env, {
    fetch: () =>
      Promise.resolve(Response.json({
        accessToken: {
          accessKeyId: "ASIAEXAMPLE000001\nAWS_PROFILE=evil",
          secretAccessKey: "s",
          sessionToken: "t",
        },
        tokenType: "aws_sigv4",
        expiresIn: 900,
        refreshToken: "r",
        idToken: "h.eyJzdWIiOiJhcm46YXdzOmlhbTo6MTIzNDU2Nzg5MDEyOnVzZXIvQWxpY2UifQ.s",
      })),
    // The browser step: the sign-in link, then straight to the callback with a code.
    openBrowser: async (url) => {
      const jar = new CookieJar();
      const { visits } = await browse(url, { jar, stopAt: (u) => u.pathname === "/v1/authorize" });
      const params = new URL(visits.at(-1)!.url).searchParams;
      await browse(`${params.get("redirect_uri")}?code=C&state=${params.get("state")}`, { jar });
    },
  });
  await assert.rejects(
    () => login({ region: "us-east-1", timeoutSeconds: 20 }, deps),
    (err) =>
      err instanceof SigninError && err.code === "ERR_SIGNIN_RESPONSE" &&
      err.message.includes(
        "accessToken.accessKeyId (not 1 to 256 letters, digits and underscores)",
      ) &&
      !err.message.includes("evil"),
  );
  assert.equal(await t.config(), undefined);
  assert.throws(() => t.cacheFiles(), Deno.errors.NotFound);
});

Deno.test("login() signs in at a custom endpoint with FIPS and dual-stack on, as the AWS CLI", async () => {
  await using t = await setup();
  await addProfile(t.home, "dev", { region: "us-east-1", use_dualstack_endpoint: "true" });
  const { deps } = testDeps({ ...t.env, AWS_USE_FIPS_ENDPOINT: "true" }, {
    openBrowser: followingBrowser,
  });
  const result = await login({ profile: "dev" }, deps);
  assert.equal(result.loginSession, ARN);
  assert.equal(t.emulator.controls.counters().authorization_code, 1);
});

Deno.test("login() saves --region only in a profile without one, and never AWS_REGION", async () => {
  await using t = await setup();
  await addProfile(t.home, "dev", { region: "eu-north-1" });
  const { deps } = testDeps(t.env, { openBrowser: followingBrowser });
  const kept = await login({ profile: "dev", region: "us-east-1" }, deps);
  assert.deepEqual([kept.region, kept.regionSaved], ["us-east-1", false]);
  assert.equal(await t.config(), `[profile dev]\nregion = eu-north-1\nlogin_session = ${ARN}\n`);

  const fromEnv = testDeps({ ...t.env, AWS_REGION: "ap-south-1" }, {
    openBrowser: followingBrowser,
  });
  const ambient = await login({ profile: "other" }, fromEnv.deps);
  assert.deepEqual([ambient.region, ambient.regionSaved], ["ap-south-1", false]);
  assert.match(await t.config() ?? "", /\[profile other\]\nlogin_session = \S+\n$/);

  const given = await login({ profile: "third", region: "eu-west-3" }, deps);
  assert.deepEqual([given.region, given.regionSaved, given.regionFrom], [
    "eu-west-3",
    true,
    "--region",
  ]);
  assert.match(
    await t.config() ?? "",
    /\[profile third\]\nlogin_session = \S+\nregion = eu-west-3\n$/,
  );
});

for (const where of ["config", "cache"] as const) {
  Deno.test({
    name: `login() fails before the browser opens when the ${where} directory is read-only`,
    ignore: !canMakeReadOnly,
    async fn() {
      await using t = await setup();
      const dir = `${t.home}/ro`;
      await Deno.mkdir(dir);
      const env = where === "config"
        ? { ...t.env, AWS_CONFIG_FILE: `${dir}/config` }
        : { ...t.env, AWS_LOGIN_CACHE_DIRECTORY: `${dir}/cache` };
      let opened = false;
      const { deps } = testDeps(env, {
        openBrowser: (url) => {
          opened = true;
          return followingBrowser(url);
        },
      });
      await withReadOnlyDir(dir, () => Promise.resolve(), async () => {
        await assert.rejects(() => login({ profile: "dev", region: "us-east-1" }, deps), (err) => {
          assert.ok(where === "config" ? err instanceof ConfigError : err instanceof CacheError);
          assert.match((err as Error).message, /Fix that before signing in/);
          return true;
        });
      });
      assert.equal(opened, false, "the browser was opened");
      assert.equal(t.emulator.controls.counters().authorize, 0);
    },
  });
}
