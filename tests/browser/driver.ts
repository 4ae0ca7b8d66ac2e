/**
 * The BROWSER of the real-browser login test: `deno run -A driver.ts --out FILE [--deny] URL`, with
 * the identity to click in the environment variable DRIVER_ARN (an ARN has colons, and BROWSER is
 * split at colons). Launches headless Chromium or Chrome (CHROME_PATH, else find_browser.ts), opens
 * URL (the one-time sign-in link `login` gives its browser), waits for the emulator's sign-in page,
 * clicks the identity (or Cancel), waits for aws-login's callback page and writes `{ ok, argv,
 * authorizeUrl, cookies, script, url, title, text }` (or `{ ok: false, error }`) as JSON to FILE:
 * what the browser was started with, where the link led, the cookies the browser holds for the
 * callback, what the page's scripts can see of them, and the page it ended on. Then closes the
 * browser and removes its profile. Exits 0 once it has started the work, like a browser launcher.
 *
 * @module
 */
import { launchChromium } from "./cdp.ts";
import { findBrowser } from "./find_browser.ts";

function option(name: string): string | undefined {
  const i = Deno.args.indexOf(`--${name}`);
  return i === -1 ? undefined : Deno.args[i + 1];
}

const out = option("out");
const arn = Deno.env.get("DRIVER_ARN");
const deny = Deno.args.includes("--deny");
const url = Deno.args[Deno.args.length - 1];
if (!out || !url) {
  console.error("usage: DRIVER_ARN=ARN driver.ts --out FILE [--deny] URL");
  Deno.exit(2);
}

async function drive(): Promise<Record<string, unknown>> {
  const executable = await findBrowser();
  if (executable === undefined) throw new Error("no Chromium or Chrome found (set CHROME_PATH)");
  await using browser = await launchChromium(executable);
  const page = await browser.cdp.newPage();
  await page.send("Network.enable");
  await page.navigate(url!);
  await page.waitFor(`document.querySelector("button.identity")`, "the sign-in page");
  const authorizeUrl = await page.evaluate<string>("location.href");
  const redirectUri = new URL(authorizeUrl).searchParams.get("redirect_uri") ?? "";
  const { cookies } = await page.send("Network.getCookies", { urls: [redirectUri] });
  const target = deny
    ? "#cancel"
    : arn
    ? `button.identity[data-arn=${JSON.stringify(arn)}]`
    : "button.identity";
  await page.click(target);
  await page.waitFor(
    `location.pathname === "/oauth/callback" && document.getElementById("title")`,
    "the aws-login callback page",
  );
  return {
    ok: true,
    argv: Deno.args,
    authorizeUrl,
    cookies,
    // The callback page's scripts (none run there; an HttpOnly cookie is hidden from them anyway).
    script: await page.evaluate<string>("document.cookie"),
    url: await page.evaluate<string>("location.origin + location.pathname"),
    title: await page.evaluate<string>(`document.getElementById("title").textContent`),
    text: await page.evaluate<string>("document.body.innerText"),
  };
}

let result: Record<string, unknown>;
try {
  result = await drive();
} catch (err) {
  result = { ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) };
}
// Write to a temporary name first: the test polls for the file.
await Deno.writeTextFile(`${out}.tmp`, JSON.stringify(result));
await Deno.rename(`${out}.tmp`, out);
