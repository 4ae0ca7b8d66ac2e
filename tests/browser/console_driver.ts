/**
 * The BROWSER of the real-browser console test: `deno run -A console_driver.ts --out FILE URL`.
 * Launches headless Chromium or Chrome (CHROME_PATH, else find_browser.ts), opens URL (the one-time
 * console link `aws-login console` starts its browser with), follows it to the console page (the
 * emulator's, after its logout and federation login), and writes `{ ok, argv, url, identity,
 * destination, text }` (or `{ ok: false, error }`) as JSON to FILE. Exits 0 once started, like a
 * browser launcher.
 *
 * @module
 */
import { launchChromium } from "./cdp.ts";
import { findBrowser } from "./find_browser.ts";

const i = Deno.args.indexOf("--out");
const out = i === -1 ? undefined : Deno.args[i + 1];
const url = Deno.args[Deno.args.length - 1];
if (!out || !url) {
  console.error("usage: console_driver.ts --out FILE URL");
  Deno.exit(2);
}

async function drive(): Promise<Record<string, unknown>> {
  const executable = await findBrowser();
  if (executable === undefined) throw new Error("no Chromium or Chrome found (set CHROME_PATH)");
  await using browser = await launchChromium(executable);
  const page = await browser.cdp.newPage();
  await page.navigate(url!);
  await page.waitFor(
    `document.getElementById("identity") || document.getElementById("error")`,
    "the emulator's console page",
  );
  const text = (id: string) =>
    page.evaluate<string>(`document.getElementById(${JSON.stringify(id)})?.textContent ?? ""`);
  return {
    ok: true,
    argv: Deno.args,
    url: await page.evaluate<string>("location.origin + location.pathname"),
    identity: await text("identity"),
    destination: await text("destination"),
    text: await page.evaluate<string>("document.body.innerText"),
  };
}

let result: Record<string, unknown>;
try {
  result = await drive();
} catch (err) {
  result = { ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) };
}
await Deno.writeTextFile(`${out}.tmp`, JSON.stringify(result));
await Deno.rename(`${out}.tmp`, out);
