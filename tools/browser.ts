/**
 * A stand-in for the user's browser, for the tests and for the tools (`demo`, `smoke`), so it lives
 * here rather than under tests/. Like a browser, it follows redirects and keeps cookies — the
 * login's loopback listener needs both: its sign-in link redirects to the authorize URL and sets a
 * cookie that the callback must carry.
 *
 * In-process: `await browse(url)`, or one {@link CookieJar} shared by several `browse` calls (the
 * same browser). As a `BROWSER` command:
 *
 *   deno run -A tools/browser.ts --log FILE [--no-open] URL
 *
 * writes `{ argv, env, visits }` as JSON to FILE — what a process listing shows of the browser, and
 * every URL it visited — after following URL (or without opening it, with `--no-open`: a browser
 * that has not fetched the link yet). With `BROWSER_STAND_IN_RECORD_LATE=1` in its environment it
 * writes the record only a second after the process that started it has exited: what a slow browser
 * on a loaded machine does, since `login` stops waiting for a browser after a few seconds.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** One request the browser made. */
export interface Visit {
  readonly url: string;
  readonly status: number;
  /** The Cookie header it sent, if any. */
  readonly cookie?: string;
}

/** Where a navigation ended, and how it got there. */
export interface Browsed {
  readonly visits: Visit[];
  /** The final response's status and body. */
  readonly status: number;
  readonly body: string;
}

interface Cookie {
  readonly value: string;
  readonly path: string;
}

/** Cookies per host name (browsers do not separate ports), by name. */
export class CookieJar {
  readonly #hosts = new Map<string, Map<string, Cookie>>();

  /** The Cookie header for `url`, or undefined. */
  header(url: URL): string | undefined {
    const pairs = [...(this.#hosts.get(url.hostname) ?? new Map<string, Cookie>())]
      .filter(([, c]) =>
        url.pathname === c.path ||
        url.pathname.startsWith(c.path.endsWith("/") ? c.path : `${c.path}/`)
      )
      .map(([name, c]) => `${name}=${c.value}`);
    return pairs.length > 0 ? pairs.join("; ") : undefined;
  }

  /** Stores the response's Set-Cookie headers (Path and Max-Age=0 honoured). */
  store(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";").map((s) => s.trim());
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const attribute = (key: string) =>
        attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
      const cookies = this.#hosts.get(url.hostname) ?? new Map<string, Cookie>();
      this.#hosts.set(url.hostname, cookies);
      if (attribute("max-age") === "0") cookies.delete(name);
      else cookies.set(name, { value: pair.slice(eq + 1), path: attribute("path") ?? "/" });
    }
  }
}

/**
 * Opens `url` as a browser would: GET, following redirects, sending and keeping cookies.
 *
 * @param options.jar The browser's cookies (default: a new, empty jar).
 * @param options.stopAt Stop before requesting a URL for which this returns true (it is then the
 *   last visit, with status 0).
 */
export async function browse(
  url: string,
  options: { jar?: CookieJar; stopAt?: (url: URL) => boolean } = {},
): Promise<Browsed> {
  const jar = options.jar ?? new CookieJar();
  const visits: Visit[] = [];
  let next = new URL(url);
  for (let hop = 0; hop < 10; hop++) {
    if (options.stopAt?.(next)) {
      visits.push({ url: next.href, status: 0 });
      return { visits, status: 0, body: "" };
    }
    const cookie = jar.header(next);
    const reply = await fetch(next, {
      redirect: "manual",
      headers: cookie === undefined ? {} : { cookie },
    });
    jar.store(next, reply.headers);
    visits.push({ url: next.href, status: reply.status, ...(cookie ? { cookie } : {}) });
    const location = reply.headers.get("location");
    if (reply.status >= 300 && reply.status < 400 && location !== null) {
      await reply.body?.cancel();
      next = new URL(location, next);
      continue;
    }
    return { visits, status: reply.status, body: await reply.text() };
  }
  throw new Error(`Too many redirects from ${url}`);
}

/**
 * One `BROWSER` entry that runs `words` with the URL appended, quoted for how aws-login reads
 * `BROWSER` on this OS: entries separated by ":" (";" on Windows), words in quotes (no backslash
 * escapes on Windows, where a path cannot hold a double quote).
 *
 * @throws {Error} When a word holds the entry separator and so cannot be put in `BROWSER`.
 */
export function browserEntry(words: readonly string[]): string {
  const windows = Deno.build.os === "windows";
  const quoted = words.map((word) => {
    if (word.includes(windows ? ";" : ":")) {
      throw new Error(`"${word}" cannot be part of BROWSER: it holds the entry separator`);
    }
    return windows ? `"${word}"` : `'${word.replaceAll("'", `'\\''`)}'`;
  });
  return [...quoted, "%s"].join(" ");
}

/** The `BROWSER` that runs this stand-in, recording to `log` (see the module doc). */
export function browserCommandLine(log: string): string {
  return browserEntry([
    Deno.execPath(),
    "run",
    "-q",
    "-A",
    fileURLToPath(import.meta.url),
    "--log",
    log,
  ]);
}

if (import.meta.main) {
  const args = Deno.args;
  const log = args.includes("--log") ? args[args.indexOf("--log") + 1] : undefined;
  const url = args.at(-1);
  if (!url || !log) {
    console.error("usage: browser.ts --log FILE [--no-open] URL");
    Deno.exit(2);
  }
  const visits = args.includes("--no-open") ? [] : (await browse(url)).visits;
  const record = { argv: args, env: Deno.env.toObject(), visits };
  if (Deno.env.get("BROWSER_STAND_IN_RECORD_LATE") === "1") {
    const parent = Deno.ppid;
    while (Deno.ppid === parent) await new Promise((r) => setTimeout(r, 20));
    // A second later still: written right at login's exit, the record was often there before a
    // reader that does not wait looked for it, so the smoke test's wait went untested.
    await new Promise((r) => setTimeout(r, 1_000));
  }
  // Write to a temporary name first: tests poll for the file.
  await Deno.writeTextFile(`${log}.tmp`, JSON.stringify(record));
  await Deno.rename(`${log}.tmp`, log);
}
