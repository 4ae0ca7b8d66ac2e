/**
 * `aws-login login` end to end: the CLI as a subprocess under `-P`, in a temporary HOME, against the
 * emulator. The browser is played by a small BROWSER script (same-device) or by the test itself
 * (remote, deny). After every failure: no cache file and the config unchanged.
 */
import assert from "node:assert/strict";
import { EXIT } from "../../lib/errors.ts";
import { parseCachedToken } from "../../lib/session/token_cache.ts";
import { outputBounded } from "../helpers/bounded.ts";
import { type CliResult, ROOT, runCli, spawnCli, tempHome } from "../helpers/cli.ts";
import { addProfile, denoDir, startEmulator } from "../helpers/session.ts";
import { browse, CookieJar } from "../../tools/browser.ts";
import { refusedEndpoint } from "../helpers/refused.ts";
import { listenablePort } from "../helpers/free_port.ts";

const ARN = "arn:aws:iam::123456789012:user/Alice";
const OTHER_ARN = "arn:aws:iam::210987654321:user/Bob";
const URL_RE = /(https?:\/\/\S+\/v1\/authorize\?\S+)/;
/** The one-time sign-in link of the same-device login. */
const LINK_RE = /(http:\/\/127\.0\.0\.1:\d+\/[\w-]{43})\s/;
const BROWSER_STAND_IN = `${ROOT}tools/browser.ts`;

/** A login subprocess whose stderr is watched for the authorize URL; killed at scope end. */
interface LoginRun extends AsyncDisposable {
  /** The sign-in link or (--remote) authorize URL, once printed (undefined if it ended first). */
  readonly url: Promise<string | undefined>;
  write(text: string): Promise<void>;
  closeStdin(): Promise<void>;
  kill(signal: Deno.Signal): void;
  readonly result: Promise<CliResult>;
}

function startLogin(args: string[], env: Record<string, string>): LoginRun {
  const child = spawnCli(["login", ...args], { env });
  const writer = child.stdin.getWriter();
  let stdinClosed = false;
  let resolveUrl!: (url: string | undefined) => void;
  const url = new Promise<string | undefined>((r) => resolveUrl = r);
  const read = async (stream: ReadableStream<Uint8Array>, watch: boolean) => {
    let text = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      const found = watch ? (LINK_RE.exec(text) ?? URL_RE.exec(text))?.[1] : undefined;
      if (found) resolveUrl(found);
    }
    return text;
  };
  const result = (async () => {
    try {
      const [stdout, stderr, status] = await Promise.all([
        read(child.stdout, false),
        read(child.stderr, true),
        child.status,
      ]);
      return { code: status.code, stdout, stderr };
    } finally {
      resolveUrl(undefined);
      if (!stdinClosed) await writer.close().catch(() => {});
    }
  })();
  return {
    url,
    write: (text) => writer.write(new TextEncoder().encode(text)),
    closeStdin: async () => {
      stdinClosed = true;
      await writer.close().catch(() => {});
    },
    kill: (signal) => child.kill(signal),
    result,
    async [Symbol.asyncDispose]() {
      await child[Symbol.asyncDispose]();
      await result.catch(() => {});
    },
  };
}

/** Runs login with stdin closed at once (no terminal, no answers). */
async function runLogin(args: string[], env: Record<string, string>): Promise<CliResult> {
  await using run = startLogin(args, env);
  await run.closeStdin();
  return await run.result;
}

/** A temporary HOME, an emulator and the environment pointing the CLI at both. */
async function setup(options: { autoApprove?: string | null; browser?: string } = {}) {
  const home = await tempHome();
  const emulator = await startEmulator(
    options.autoApprove === null ? {} : { autoApprove: options.autoApprove ?? ARN },
  );
  const env: Record<string, string> = {
    ...home.env,
    AWS_ENDPOINT_URL_SIGNIN: emulator.url,
    DENO_DIR: await denoDir(),
  };
  const paths = {
    config: `${home.home}/.aws/config`,
    credentials: `${home.home}/.aws/credentials`,
    cacheDir: `${home.home}/.aws/login/cache`,
    browserLog: `${home.home}/browser-opened`,
  };
  return {
    home: home.home,
    env,
    emulator,
    paths,
    /**
     * A BROWSER that follows the URL's redirects with cookies, like a browser, and records its
     * argv, environment and visits as JSON in `paths.browserLog` (see tools/browser.ts).
     */
    followingBrowser(): string {
      return `'${Deno.execPath()}' run -q -A '${BROWSER_STAND_IN}' --log '${paths.browserLog}' %s`;
    },
    /** What the BROWSER stand-in recorded. */
    async browserLog(): Promise<
      { argv: string[]; env: Record<string, string>; visits: { url: string }[] }
    > {
      return JSON.parse(await Deno.readTextFile(paths.browserLog));
    },
    cacheFiles(): string[] {
      try {
        return [...Deno.readDirSync(paths.cacheDir)].map((e) => e.name);
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return [];
        throw err;
      }
    },
    async readConfig(): Promise<string | undefined> {
      return await Deno.readTextFile(paths.config).catch(() => undefined);
    },
    async [Symbol.asyncDispose]() {
      await emulator.close();
      await home[Symbol.asyncDispose]();
    },
  };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** Asserts a failed login left nothing behind. */
async function assertNothingWritten(t: Setup, configBefore: string | undefined): Promise<void> {
  assert.deepEqual(t.cacheFiles(), [], "a cache file was written");
  assert.equal(await t.readConfig(), configBefore, "the config changed");
}

/** The verification code the emulator's confirmation page shows for an authorize URL. */
async function verificationCodeFor(url: string): Promise<string> {
  const page = await (await fetch(url)).text();
  const code = /id="code"[^>]*>([^<]+)</.exec(page)?.[1];
  assert.ok(code, `no verification code on the page:\n${page.slice(0, 500)}`);
  return code;
}

function b64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

Deno.test("login (same-device) opens BROWSER, takes the callback and writes cache and profile", async () => {
  await using t = await setup();
  const env = { ...t.env, BROWSER: t.followingBrowser() };
  const { code, stdout, stderr } = await runLogin(
    ["--profile", "dev", "--region", "eu-west-1"],
    env,
  );
  assert.equal(code, EXIT.ok, stderr);
  assert.equal(stdout.split("\n")[0], `Updated profile dev to use ${ARN} credentials.`);
  assert.match(stdout, /aws sts get-caller-identity --profile dev/);
  assert.match(stdout, /aws-login export-env --profile dev/);
  assert.match(stdout, /credential_process = aws-login credential-process --profile dev/);
  // The browser was started with the one-time local link the terminal shows, and nothing else.
  const link = LINK_RE.exec(stderr)![1]!;
  assert.ok(!URL_RE.test(stderr), "the authorize URL was printed");
  const browser = await t.browserLog();
  assert.equal(browser.argv.at(-1), link);
  // The link redirected to the authorize URL; neither its state nor its PKCE challenge is in
  // anything a process listing shows of the browser (argv, environment).
  const [opened, authorize, callback] = browser.visits.map((v) => new URL(v.url));
  assert.equal(opened!.href, link);
  assert.equal(authorize!.origin + authorize!.pathname, `${t.emulator.url}/v1/authorize`);
  const params = authorize!.searchParams;
  assert.equal(params.get("client_id"), "arn:aws:signin:::devtools/same-device");
  assert.match(params.get("redirect_uri")!, /^http:\/\/127\.0\.0\.1:\d+\/oauth\/callback$/);
  assert.equal(callback!.origin + callback!.pathname, params.get("redirect_uri"));
  const listing = JSON.stringify([browser.argv, browser.env]);
  for (const name of ["state", "code_challenge"]) {
    assert.ok(params.get(name)!.length >= 32);
    assert.ok(!listing.includes(params.get(name)!), `the browser's argv or env holds ${name}`);
  }
  assert.match(stderr, /--remote/);

  const files = t.cacheFiles();
  assert.equal(files.length, 1);
  const path = `${t.paths.cacheDir}/${files[0]}`;
  if (Deno.build.os !== "windows") assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  const token = parseCachedToken(await Deno.readTextFile(path), path);
  assert.equal(token.accessToken.accountId, "123456789012");
  assert.equal(token.tokenType, "aws_sigv4");
  assert.equal(token.clientId, "arn:aws:signin:::devtools/same-device");
  assert.equal(token.signInRegion, "eu-west-1");
  assert.match(token.dpopKey, /^-----BEGIN EC PRIVATE KEY-----\n/);
  assert.ok(token.idToken);
  // The profile had no region: the one given with --region is saved, and the output says so.
  const config = await t.readConfig();
  assert.equal(config, `[profile dev]\nlogin_session = ${ARN}\nregion = eu-west-1\n`);
  assert.match(stdout, /\nSaved region eu-west-1 \(from --region\) in profile dev/);
  // No secret reached the terminal.
  for (const secret of [token.accessToken.secretAccessKey, token.refreshToken, token.dpopKey]) {
    assert.ok(!(stdout + stderr).includes(secret));
  }
  assert.equal(t.emulator.controls.counters().authorization_code, 1);
});

Deno.test("login --no-browser --endpoint-url prints the URL for the user and keeps BROWSER shut", async () => {
  await using t = await setup();
  const { AWS_ENDPOINT_URL_SIGNIN: endpoint, ...rest } = t.env;
  const env = { ...rest, BROWSER: t.followingBrowser() };
  await using run = startLogin(
    ["--no-browser", "--endpoint-url", endpoint!, "--region", "us-east-1"],
    env,
  );
  const url = await run.url;
  assert.ok(url, "no sign-in link was printed");
  const { visits } = await browse(url); // the user opens it by hand
  assert.ok(visits[1]!.url.startsWith(`${endpoint}/v1/authorize?`), visits[1]!.url);
  await run.closeStdin();
  const { code, stderr } = await run.result;
  assert.equal(code, EXIT.ok, stderr);
  assert.match(stderr, /Open this URL in a browser on this device/);
  assert.equal(await Deno.stat(t.paths.browserLog).then(() => true, () => false), false);
  assert.equal(await t.readConfig(), `[default]\nlogin_session = ${ARN}\nregion = us-east-1\n`);
});

Deno.test("login's session is usable by credential-process", async () => {
  await using t = await setup();
  const env = { ...t.env, BROWSER: t.followingBrowser(), AWS_PROFILE: "work" };
  const login = await runLogin(["--region", "us-east-1"], env);
  assert.equal(login.code, EXIT.ok, login.stderr);
  assert.match(login.stdout, /^Updated profile work to use /);
  const out = await runCli(["credential-process"], { env });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(JSON.parse(out.stdout).AccountId, "123456789012");
});

Deno.test("login --redirect-port listens there; a port in use fails with exit 7", async () => {
  await using t = await setup();
  // Free again for the second login once the probe closes.
  const port = listenablePort();
  const probe = Deno.listen({ hostname: "127.0.0.1", port });
  const env = { ...t.env, BROWSER: t.followingBrowser() };
  const busy = await runLogin(["--region", "us-east-1", "--redirect-port", String(port)], env);
  probe.close();
  assert.equal(busy.code, EXIT.login);
  assert.match(busy.stderr, new RegExp(`127\\.0\\.0\\.1:${port}.*in use`));
  assert.equal(await t.readConfig(), undefined);
  const ok = await runLogin(["--region", "us-east-1", "--redirect-port", String(port)], env);
  assert.equal(ok.code, EXIT.ok, ok.stderr);
  assert.match(ok.stderr, new RegExp(`http://127\\.0\\.0\\.1:${port}/[\\w-]{43}\\s`));
});

Deno.test("login --remote reads the verification code from standard input", async () => {
  await using t = await setup();
  await using run = startLogin(["--remote", "--profile", "far", "--region", "us-west-2"], t.env);
  const url = await run.url;
  assert.ok(url, "no authorize URL printed");
  const parsed = new URL(url);
  assert.equal(parsed.searchParams.get("client_id"), "arn:aws:signin:::devtools/cross-device");
  assert.equal(
    parsed.searchParams.get("redirect_uri"),
    `${t.emulator.url}/v1/sessions/confirmation`,
  );
  const code = await verificationCodeFor(url);
  await run.write(`${code}\n`);
  const { code: exit, stdout, stderr } = await run.result;
  assert.equal(exit, EXIT.ok, stderr);
  assert.match(stderr, /Browser will not be automatically opened/);
  assert.match(stderr, /Enter the authorization code displayed in your browser: /);
  assert.match(stdout, new RegExp(`Updated profile far to use ${ARN} credentials\\.`));
  const files = t.cacheFiles();
  assert.equal(files.length, 1);
  const token = JSON.parse(await Deno.readTextFile(`${t.paths.cacheDir}/${files[0]}`));
  assert.equal(token.clientId, "arn:aws:signin:::devtools/cross-device");
  assert.equal(token.signInRegion, "us-west-2");
  assert.equal(await t.readConfig(), `[profile far]\nlogin_session = ${ARN}\nregion = us-west-2\n`);
});

Deno.test("login --remote refuses a code for another state (exit 7, nothing written)", async () => {
  await using t = await setup();
  await using run = startLogin(["--remote", "--region", "us-east-1"], t.env);
  const url = (await run.url)!;
  const state = new URL(url).searchParams.get("state")!;
  const decoded = atob(await verificationCodeFor(url));
  const forged = decoded.replace(state, "11111111-2222-4333-8444-555555555555");
  await run.write(`${b64(forged)}\n`);
  const { code, stderr } = await run.result;
  assert.equal(code, EXIT.login);
  assert.match(
    stderr,
    new RegExp(
      `State parameter "11111111-2222-4333-8444-555555555555" does not match expected value ` +
        `"${state}"\\.`,
    ),
  );
  const authCode = new URLSearchParams(decoded).get("code")!;
  assert.ok(!stderr.includes(authCode), "the authorization code was printed");
  assert.equal(t.emulator.controls.counters().authorization_code, 0);
  await assertNothingWritten(t, undefined);
});

Deno.test("login --remote rejects a malformed code and an empty standard input (exit 7)", async () => {
  await using t = await setup();
  await using bad = startLogin(["--remote", "--region", "us-east-1"], t.env);
  await bad.write("this is not a code!\n");
  const malformed = await bad.result;
  assert.equal(malformed.code, EXIT.login);
  assert.match(malformed.stderr, /Failed to decode the verification code/);
  const empty = await runLogin(["--remote", "--region", "us-east-1"], t.env);
  assert.equal(empty.code, EXIT.login);
  assert.match(empty.stderr, /No verification code was entered/);
  assert.equal(t.emulator.controls.counters().authorization_code, 0);
  await assertNothingWritten(t, undefined);
});

Deno.test("login refuses a profile with another credential style before any browser step", async () => {
  await using t = await setup();
  await addProfile(t.home, "keys", { region: "us-east-1" });
  await Deno.writeTextFile(
    t.paths.credentials,
    "[keys]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret\n",
  );
  const before = await t.readConfig();
  const env = { ...t.env, BROWSER: t.followingBrowser() };
  const { code, stderr } = await runLogin(["--profile", "keys"], env);
  assert.equal(code, EXIT.config);
  assert.match(stderr, /Profile "keys" is already configured with Access Key credentials/);
  assert.match(stderr, /--profile/);
  assert.equal(await Deno.stat(t.paths.browserLog).then(() => true, () => false), false);
  assert.equal(t.emulator.controls.counters().authorize, 0);
  await assertNothingWritten(t, before);
});

Deno.test("login --yes replaces another login_session, keeping the rest of the file", async () => {
  await using t = await setup();
  await Deno.mkdir(`${t.home}/.aws`, { recursive: true });
  await Deno.writeTextFile(
    t.paths.config,
    `# my settings\n[profile dev]\nregion = eu-west-1\nlogin_session = ${OTHER_ARN}\n` +
      `output = json\n\n[profile other]\nregion = us-east-1\n`,
  );
  const env = { ...t.env, BROWSER: t.followingBrowser() };
  const { code, stderr } = await runLogin(["--profile", "dev", "--yes"], env);
  assert.equal(code, EXIT.ok, stderr);
  assert.equal(
    await t.readConfig(),
    `# my settings\n[profile dev]\nregion = eu-west-1\nlogin_session = ${ARN}\n` +
      `output = json\n\n[profile other]\nregion = us-east-1\n`,
  );
});

Deno.test("login without --yes and without a terminal keeps another login_session", async () => {
  await using t = await setup();
  await addProfile(t.home, "dev", { region: "eu-west-1", login_session: OTHER_ARN });
  const before = await t.readConfig();
  const env = { ...t.env, BROWSER: t.followingBrowser() };
  const { code, stderr } = await runLogin(["--profile", "dev"], env);
  assert.equal(code, EXIT.login);
  assert.match(stderr, new RegExp(`already configured to use session "${OTHER_ARN}"`));
  assert.match(stderr, /--yes/);
  await assertNothingWritten(t, before);
});

Deno.test("login without a region and without a terminal fails with exit 3", async () => {
  await using t = await setup();
  const env = { ...t.env, BROWSER: t.followingBrowser() };
  const { code, stderr } = await runLogin(["--profile", "dev"], env);
  assert.equal(code, EXIT.config);
  assert.match(stderr, /pass --region or set region in the profile/);
  assert.equal(t.emulator.controls.counters().authorize, 0);
  await assertNothingWritten(t, undefined);
});

Deno.test("login reports AUTHCODE_EXPIRED in one line (exit 5, nothing written)", async () => {
  await using t = await setup();
  t.emulator.controls.failNextTokenCalls(1, { error: "AUTHCODE_EXPIRED" });
  const env = { ...t.env, BROWSER: t.followingBrowser() };
  const { code, stderr } = await runLogin(["--region", "us-east-1"], env);
  assert.equal(code, EXIT.signin);
  const last = stderr.trimEnd().split("\n").at(-1)!;
  assert.match(last, /^aws-login: .*authorization code expired.*AUTHCODE_EXPIRED/);
  assert.equal(t.emulator.controls.counters().authorization_code, 1);
  await assertNothingWritten(t, undefined);
});

Deno.test("login reports INSUFFICIENT_PERMISSIONS (exit 5, nothing written)", async () => {
  await using t = await setup();
  t.emulator.controls.failNextTokenCalls(1, { error: "INSUFFICIENT_PERMISSIONS" });
  const env = { ...t.env, BROWSER: t.followingBrowser() };
  const { code, stderr } = await runLogin(["--region", "us-east-1"], env);
  assert.equal(code, EXIT.signin);
  assert.match(stderr, /signin:CreateOAuth2Token/);
  await assertNothingWritten(t, undefined);
});

Deno.test("login retries a 500 a bounded number of times, then fails with exit 5", async () => {
  await using t = await setup();
  t.emulator.controls.failNextTokenCalls(100, { status: 500 });
  const env = { ...t.env, BROWSER: t.followingBrowser() };
  const { code, stderr } = await runLogin(["--region", "us-east-1"], env);
  assert.equal(code, EXIT.signin);
  assert.match(stderr, /server error \(HTTP 500/);
  assert.equal(t.emulator.controls.counters().authorization_code, 3);
  await assertNothingWritten(t, undefined);
});

Deno.test("login succeeds when a 500 is followed by a success", async () => {
  await using t = await setup();
  t.emulator.controls.failNextTokenCalls(1, { status: 503 });
  const env = { ...t.env, BROWSER: t.followingBrowser() };
  const { code, stderr } = await runLogin(["--region", "us-east-1"], env);
  assert.equal(code, EXIT.ok, stderr);
  assert.equal(t.emulator.controls.counters().authorization_code, 2);
  assert.equal(await t.readConfig(), `[default]\nlogin_session = ${ARN}\nregion = us-east-1\n`);
});

Deno.test("login reports an unreachable Sign-In endpoint before any URL (exit 6, nothing written)", async () => {
  await using t = await setup();
  const closed = await refusedEndpoint();
  for (const args of [["--remote"], ["--no-browser"]]) {
    const { code, stderr } = await runLogin([...args, "--region", "us-east-1"], {
      ...t.env,
      AWS_ENDPOINT_URL_SIGNIN: closed,
    });
    assert.equal(code, EXIT.network, stderr);
    assert.match(
      stderr,
      new RegExp(
        `aws-login: The Sign-In endpoint "${closed}" \\(from AWS_ENDPOINT_URL_SIGNIN\\) does ` +
          `not answer \\(Connection refused`,
      ),
    );
    assert.ok(!stderr.includes("/v1/authorize?") && !LINK_RE.test(stderr), stderr);
    await assertNothingWritten(t, undefined);
  }
});

Deno.test("login checks the endpoint's host against the permission set before the browser opens", async () => {
  await using t = await setup();
  // A valid https endpoint whose host is not in the "default" set's net list.
  const env = { ...t.env, BROWSER: await t.followingBrowser() };
  const { code, stderr } = await runLogin(
    [
      "--region",
      "us-east-1",
      "--endpoint-url",
      "https://signin.example.com:8443",
      "--timeout",
      "5",
    ],
    env,
  );
  assert.equal(code, EXIT.config, stderr);
  assert.match(stderr, /Deno permissions do not allow connecting to "signin\.example\.com:8443"/);
  assert.match(
    stderr,
    /deno run -P --allow-net=127\.0\.0\.1,localhost,\[::1\],signin\.example\.com:8443/,
  );
  assert.ok(!/v1\/authorize|Cannot reach|network/i.test(stderr), stderr);
  assert.equal(await Deno.stat(t.paths.browserLog).then(() => true, () => false), false);
  await assertNothingWritten(t, undefined);
});

Deno.test("login without write permission for the config says so before the browser opens", async () => {
  await using t = await setup();
  const elsewhere = await Deno.makeTempDir();
  try {
    const out = await outputBounded(Deno.execPath(), {
      args: [
        "run",
        "-q",
        "--no-prompt",
        "--allow-net=127.0.0.1",
        "--allow-env",
        "--allow-read",
        "--allow-run",
        "--allow-sys=uid,gid",
        `--allow-write=${elsewhere}`,
        `${ROOT}main.ts`,
        "login",
        "--region",
        "us-east-1",
        "--timeout",
        "5",
      ],
      env: { ...t.env, BROWSER: await t.followingBrowser() },
      clearEnv: true,
      cwd: ROOT,
    });
    const stderr = out.stderr;
    assert.equal(out.code, EXIT.config, stderr);
    // Checked before anything else (write scoped elsewhere is not the set's write).
    assert.match(stderr, /Deno does not grant the permissions aws-login needs \(--allow-write\)/);
    assert.match(stderr, /deno run -P main\.ts/);
    assert.ok(!stderr.includes("/v1/authorize"), stderr);
    assert.equal(await Deno.stat(t.paths.browserLog).then(() => true, () => false), false);
    await assertNothingWritten(t, undefined);
  } finally {
    await Deno.remove(elsewhere, { recursive: true });
  }
});

Deno.test("login --timeout gives up when no callback arrives (exit 7)", async () => {
  await using t = await setup();
  const { code, stderr } = await runLogin(
    ["--region", "us-east-1", "--timeout", "1"],
    { ...t.env, BROWSER: "true" },
  );
  assert.equal(code, EXIT.login);
  assert.match(stderr, /No sign-in arrived from the browser within 1 s/);
  await assertNothingWritten(t, undefined);
});

Deno.test({
  name: 'login says "Sign-in cancelled." on Ctrl-C and writes nothing (exit 130)',
  // Deno cannot send SIGINT to a child on Windows.
  ignore: Deno.build.os === "windows",
  async fn() {
    await using t = await setup({ autoApprove: null });
    const run = startLogin(["--region", "us-east-1", "--no-browser"], t.env);
    assert.ok(await run.url, "no authorize URL was printed");
    run.kill("SIGINT");
    const { code, stderr } = await run.result;
    assert.equal(code, 130, stderr);
    assert.ok(stderr.endsWith("\nSign-in cancelled.\n"), stderr);
    await assertNothingWritten(t, undefined);
  },
});

Deno.test("login ends with exit 7 when the user cancels on the sign-in page", async () => {
  await using t = await setup({ autoApprove: null });
  await using run = startLogin(["--region", "us-east-1", "--no-browser"], t.env);
  await run.closeStdin();
  const url = (await run.url)!;
  const jar = new CookieJar();
  const page = (await browse(url, { jar })).body;
  const requestId = /name="request_id" value="([^"]+)"/.exec(page)?.[1];
  assert.ok(requestId, "no sign-in page");
  const back = await fetch(`${t.emulator.url}/v1/authorize`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ request_id: requestId, action: "deny" }),
    redirect: "manual",
  });
  await back.body?.cancel();
  const callbackPage = (await browse(back.headers.get("location")!, { jar })).body;
  assert.match(callbackPage, /Sign-in failed/);
  const { code, stderr } = await run.result;
  assert.equal(code, EXIT.login);
  assert.match(stderr, /"access_denied" \(The user cancelled the sign-in\)/);
  await assertNothingWritten(t, undefined);
});

Deno.test("login with a bad option is a usage error (exit 2)", async () => {
  await using t = await setup();
  for (
    const args of [
      ["--redirect-port", "0"],
      ["--redirect-port", "70000"],
      ["--timeout", "soon"],
      ["--remote", "--redirect-port", "8080"],
      ["--bogus"],
    ]
  ) {
    const { code } = await runLogin(args, t.env);
    assert.equal(code, EXIT.usage, args.join(" "));
  }
});
