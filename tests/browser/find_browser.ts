/**
 * Finds a Chromium or Google Chrome for the real-browser test, the usual way: `CHROME_PATH`, then
 * `BROWSER_BIN` (a path set there must exist), then each browser's standard install locations on
 * this OS, then (Linux and other Unix) the usual command names on `PATH`. Nothing is downloaded.
 *
 * @module
 */

/** What the search reads: the environment, the OS, and whether a path is an existing file. */
export interface FindBrowserDeps {
  env: { get(name: string): string | undefined };
  os: typeof Deno.build.os;
  isFile(path: string): Promise<boolean>;
}

/** A path named by CHROME_PATH or BROWSER_BIN that does not exist. */
export class BrowserPathError extends Error {
  constructor(readonly variable: string, readonly path: string) {
    super(`${variable}="${path}" is not a file`);
    this.name = "BrowserPathError";
  }
}

const UNIX_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

/** The standard locations on `os`, most likely first. */
export function standardLocations(
  os: typeof Deno.build.os,
  env: { get(name: string): string | undefined },
): string[] {
  switch (os) {
    case "darwin": {
      const apps = ["/Applications"];
      const home = env.get("HOME");
      if (home) apps.push(`${home}/Applications`);
      return apps.flatMap((dir) => [
        `${dir}/Google Chrome.app/Contents/MacOS/Google Chrome`,
        `${dir}/Chromium.app/Contents/MacOS/Chromium`,
      ]);
    }
    case "windows": {
      const roots = ["PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA"]
        .map((name) => env.get(name))
        .filter((dir): dir is string => Boolean(dir));
      return roots.flatMap((dir) => [
        `${dir}\\Google\\Chrome\\Application\\chrome.exe`,
        `${dir}\\Chromium\\Application\\chrome.exe`,
      ]);
    }
    default:
      return [
        ...UNIX_NAMES.map((name) => `/usr/bin/${name}`),
        "/snap/bin/chromium",
        "/usr/local/bin/chromium",
      ];
  }
}

/**
 * The browser executable to use, or undefined when none is installed.
 *
 * @throws {BrowserPathError} When CHROME_PATH or BROWSER_BIN names a missing file: a setting that
 *   is wrong must not silently fall back to another browser.
 */
export async function findBrowser(
  deps: FindBrowserDeps = defaultDeps(),
): Promise<string | undefined> {
  for (const variable of ["CHROME_PATH", "BROWSER_BIN"]) {
    const path = deps.env.get(variable);
    if (!path) continue;
    if (await deps.isFile(path)) return path;
    throw new BrowserPathError(variable, path);
  }
  for (const path of standardLocations(deps.os, deps.env)) {
    if (await deps.isFile(path)) return path;
  }
  if (deps.os === "windows") return undefined;
  for (const dir of (deps.env.get("PATH") ?? "").split(":").filter(Boolean)) {
    for (const name of UNIX_NAMES) {
      const path = `${dir.replace(/\/$/, "")}/${name}`;
      if (await deps.isFile(path)) return path;
    }
  }
  return undefined;
}

function defaultDeps(): FindBrowserDeps {
  return {
    env: { get: (name) => Deno.env.get(name) },
    os: Deno.build.os,
    isFile: (path) => Deno.stat(path).then((info) => info.isFile, () => false),
  };
}
