/**
 * findBrowser(): CHROME_PATH, then BROWSER_BIN, then the standard locations of each OS, then (Unix)
 * the usual names on PATH; a variable naming a missing file is an error, not a silent fallback.
 */
import assert from "node:assert/strict";
import { BrowserPathError, findBrowser, type FindBrowserDeps } from "./find_browser.ts";

function deps(os: typeof Deno.build.os, files: string[], env: Record<string, string> = {}) {
  const result: FindBrowserDeps = {
    os,
    env: { get: (name) => env[name] },
    isFile: (path) => Promise.resolve(files.includes(path)),
  };
  return result;
}

Deno.test("findBrowser() prefers CHROME_PATH, then BROWSER_BIN, over installed browsers", async () => {
  const files = ["/opt/chrome", "/opt/other", "/usr/bin/chromium"];
  assert.equal(
    await findBrowser(
      deps("linux", files, { CHROME_PATH: "/opt/chrome", BROWSER_BIN: "/opt/other" }),
    ),
    "/opt/chrome",
  );
  assert.equal(
    await findBrowser(deps("linux", files, { BROWSER_BIN: "/opt/other" })),
    "/opt/other",
  );
});

Deno.test("findBrowser() refuses a CHROME_PATH or BROWSER_BIN that is not a file", async () => {
  for (const variable of ["CHROME_PATH", "BROWSER_BIN"]) {
    await assert.rejects(
      () => findBrowser(deps("linux", ["/usr/bin/chromium"], { [variable]: "/nope" })),
      (err) =>
        err instanceof BrowserPathError && err.message === `${variable}="/nope" is not a file`,
    );
  }
});

Deno.test("findBrowser() knows each OS's standard locations", async () => {
  assert.equal(
    await findBrowser(deps("linux", ["/usr/bin/google-chrome"])),
    "/usr/bin/google-chrome",
  );
  assert.equal(await findBrowser(deps("linux", ["/snap/bin/chromium"])), "/snap/bin/chromium");
  const mac = "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome";
  assert.equal(await findBrowser(deps("darwin", [mac])), mac);
  const userMac = "/Users/a/Applications/Chromium.app/Contents/MacOS/Chromium";
  assert.equal(await findBrowser(deps("darwin", [userMac], { HOME: "/Users/a" })), userMac);
  const win = "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe";
  assert.equal(
    await findBrowser(deps("windows", [win], { PROGRAMFILES: "C:\\Program Files" })),
    win,
  );
  const local = "C:\\Users\\a\\AppData\\Local\\Chromium\\Application\\chrome.exe";
  assert.equal(
    await findBrowser(deps("windows", [local], { LOCALAPPDATA: "C:\\Users\\a\\AppData\\Local" })),
    local,
  );
});

Deno.test("findBrowser() looks on PATH on Unix and returns undefined when there is none", async () => {
  const env = { PATH: "/home/a/bin:/opt/tools/" };
  assert.equal(
    await findBrowser(deps("linux", ["/opt/tools/chromium-browser"], env)),
    "/opt/tools/chromium-browser",
  );
  assert.equal(await findBrowser(deps("linux", [], env)), undefined);
  assert.equal(await findBrowser(deps("darwin", ["/usr/bin/chromium"], {})), undefined);
  assert.equal(
    await findBrowser(deps("windows", ["/usr/bin/chromium"], { PATH: "/usr/bin" })),
    undefined,
  );
});
