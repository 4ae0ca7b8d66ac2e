/**
 * The same-device login in a real browser: `aws-login login` as a subprocess with BROWSER set to a
 * driver that runs headless Chromium or Chrome over the DevTools protocol. The browser opens the
 * one-time sign-in link, which redirects it to the emulator's sign-in page (no auto-approval) and
 * sets the listener's cookie; the driver clicks the identity like a user, the browser follows the
 * redirect to the 127.0.0.1 callback with that cookie and renders aws-login's page.
 *
 * The browser is found as find_browser.ts says (CHROME_PATH, BROWSER_BIN, standard locations);
 * nothing is downloaded. Without one the test fails under CI=true (.ci/run installs Chromium, GitHub's
 * runners have Chrome) and is skipped elsewhere, with the reason in the test's name.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { EXIT } from "../../lib/errors.ts";
import { cliResult, spawnCli, tempHome } from "../helpers/cli.ts";
import { denoDir, startEmulator } from "../helpers/session.ts";
import { browserEntry } from "../../tools/browser.ts";
import { findBrowser } from "./find_browser.ts";

const ARN = "arn:aws:iam::123456789012:user/Carol";
const DRIVER = fileURLToPath(new URL("./driver.ts", import.meta.url));

/** Waits for the driver's result file (it finishes after the callback page has rendered). */
async function readResult(path: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 300; i++) {
    try {
      return JSON.parse(await Deno.readTextFile(path));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`the browser driver wrote no result to ${path}`);
}

const CI = Deno.env.get("CI") === "true";
const BROWSER = await findBrowser();
const MISSING = "no Chromium or Chrome found: install one (Debian: apt-get install -y chromium) " +
  "or set CHROME_PATH to its executable";
const SKIPPED = BROWSER === undefined && !CI;

Deno.test({
  name: "login signs in through headless Chromium clicking the emulator's sign-in page" +
    (SKIPPED ? ` (skipped: ${MISSING})` : ""),
  ignore: SKIPPED,
  fn: signInThroughTheBrowser,
});

async function signInThroughTheBrowser(): Promise<void> {
  assert.ok(BROWSER, `${MISSING} (CI=true: the real-browser test must run)`);
  await using home = await tempHome();
  await using emulator = await startEmulator({
    accounts: [{ arn: "arn:aws:iam::123456789012:user/demo" }, { arn: ARN, name: "Carol" }],
  });
  const resultPath = `${home.home}/browser-result.json`;
  // No ARN on the command line: BROWSER is split at colons.
  const browser = browserEntry([Deno.execPath(), "run", "-A", DRIVER, "--out", resultPath]);
  const env = {
    ...home.env,
    AWS_ENDPOINT_URL_SIGNIN: emulator.url,
    DENO_DIR: await denoDir(),
    BROWSER: browser,
    DRIVER_ARN: ARN,
    CHROME_PATH: BROWSER,
  };
  // The driver outlives login (it reports after the callback page renders): it and Chromium are
  // killed with login's process group at scope end, not when login exits.
  await using login = spawnCli(
    ["login", "--profile", "browser", "--region", "us-east-1", "--timeout", "60"],
    { env },
  );
  const { code, stdout, stderr } = await cliResult(login);
  const result = await readResult(resultPath).catch((err) => {
    throw new Error(`${err.message}; login exited with ${code}:\n${stderr}`);
  });
  assert.equal(result.ok, true, `browser driver failed: ${result.error}\nlogin said:\n${stderr}`);
  assert.equal(code, EXIT.ok, stderr);

  // Chromium was started with the local link only: its argv holds neither state nor challenge.
  const argv = result.argv as string[];
  assert.match(argv.at(-1)!, /^http:\/\/127\.0\.0\.1:\d+\/[\w-]{43}$/);
  const authorize = new URL(String(result.authorizeUrl));
  assert.equal(authorize.origin + authorize.pathname, `${emulator.url}/v1/authorize`);
  for (const name of ["state", "code_challenge"]) {
    assert.ok(!JSON.stringify(argv).includes(authorize.searchParams.get(name)!), name);
  }
  // The link's cookie, as a real browser keeps it: HttpOnly, SameSite=Lax, for the callback only.
  const port = new URL(argv.at(-1)!).port;
  const cookies = result.cookies as Record<string, unknown>[];
  assert.deepEqual(
    cookies.map((c) => [c.name, c.domain, c.path, c.httpOnly, c.sameSite]),
    [[`aws_login_${port}`, "127.0.0.1", "/oauth/callback", true, "Lax"]],
  );
  assert.equal(result.script, "");
  assert.match(String(result.url), /^http:\/\/127\.0\.0\.1:\d+\/oauth\/callback$/);
  assert.equal(result.title, "Signed in");
  assert.match(String(result.text), /You can close this tab and return to the terminal/);
  assert.match(stdout, new RegExp(`Updated profile browser to use ${ARN} credentials\\.`));

  const cacheDir = `${home.home}/.aws/login/cache`;
  const files = [...Deno.readDirSync(cacheDir)].map((e) => e.name);
  assert.equal(files.length, 1);
  const token = JSON.parse(await Deno.readTextFile(`${cacheDir}/${files[0]}`));
  assert.equal(token.accessToken.accountId, "123456789012");
  assert.equal(token.clientId, "arn:aws:signin:::devtools/same-device");
  assert.equal(
    await Deno.readTextFile(`${home.home}/.aws/config`),
    `[profile browser]\nlogin_session = ${ARN}\nregion = us-east-1\n`,
  );
  assert.equal(emulator.controls.counters().authorization_code, 1);
}
