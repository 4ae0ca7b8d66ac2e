/**
 * `aws-login console` in a real browser: the command runs as a subprocess against the emulator with
 * BROWSER set to a driver that runs headless Chromium or Chrome over the DevTools protocol. The
 * browser opens the one-time 127.0.0.1 link, which forwards it through the emulator's console
 * logout to the federation login with the sign-in token; it lands on the emulator's console page
 * as the assumed role. Found and skipped as the login's real-browser test (find_browser.ts).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { EXIT } from "../../lib/errors.ts";
import { cliResult, spawnCli } from "../helpers/cli.ts";
import { addProfile, denoDir, sessionFixture } from "../helpers/session.ts";
import { browserEntry } from "../../tools/browser.ts";
import { findBrowser } from "./find_browser.ts";

const DRIVER = fileURLToPath(new URL("./console_driver.ts", import.meta.url));
const CI = Deno.env.get("CI") === "true";
const BROWSER = await findBrowser();
const MISSING = "no Chromium or Chrome found: install one (Debian: apt-get install -y chromium) " +
  "or set CHROME_PATH to its executable";
const SKIPPED = BROWSER === undefined && !CI;

async function readResult(path: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 600; i++) {
    try {
      return JSON.parse(await Deno.readTextFile(path));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`the browser driver wrote no result to ${path}`);
}

Deno.test({
  name: "console --profile <role> lands in headless Chromium on the console page as the role" +
    (SKIPPED ? ` (skipped: ${MISSING})` : ""),
  ignore: SKIPPED,
  fn: async () => {
    assert.ok(BROWSER, `${MISSING} (CI=true: the real-browser test must run)`);
    await using t = await sessionFixture({ arn: "arn:aws:iam::111111111111:user/Carol" });
    await addProfile(t.home.home, "admin", {
      role_arn: "arn:aws:iam::222222222222:role/Admin",
      source_profile: "dev",
      region: "eu-central-1",
    });
    const resultPath = `${t.home.home}/console-result.json`;
    const env = {
      ...t.session.env,
      AWS_ENDPOINT_URL_STS: t.emulator.url,
      DENO_DIR: await denoDir(),
      BROWSER: browserEntry([Deno.execPath(), "run", "-A", DRIVER, "--out", resultPath]),
      CHROME_PATH: BROWSER,
    };
    // The driver outlives the command: it and Chromium are killed with its process group at
    // scope end.
    await using child = spawnCli(["console", "--profile", "admin", "--destination", "ec2"], {
      env,
    });
    const { code, stdout, stderr } = await cliResult(child);
    const result = await readResult(resultPath).catch((err) => {
      throw new Error(`${err.message}; console exited with ${code}:\n${stderr}`);
    });
    assert.equal(result.ok, true, `driver failed: ${result.error}\nconsole said:\n${stderr}`);
    assert.equal(code, EXIT.ok, stderr);
    // Chromium was started with the local link only: no sign-in token on its command line.
    const argv = result.argv as string[];
    assert.match(argv.at(-1)!, /^http:\/\/127\.0\.0\.1:\d+\/[\w-]{43}$/);
    assert.equal(result.url, `${t.emulator.url}/federation`);
    assert.equal(result.identity, "arn:aws:sts::222222222222:assumed-role/Admin/Carol");
    assert.equal(
      result.destination,
      "https://eu-central-1.console.aws.amazon.com/ec2/home?region=eu-central-1",
    );
    assert.match(stdout, /Opened the AWS console in your browser as arn:aws:sts::222222222222:/);
    assert.equal(t.emulator.controls.counters().signin_token, 1);
  },
});
