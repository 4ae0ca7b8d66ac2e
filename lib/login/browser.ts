/**
 * Opening the sign-in URL in the user's browser. `BROWSER` wins, read as Python's `webbrowser`
 * reads it: a list of command lines separated by the path separator (`:`; `;` on Windows), each
 * tried in turn until one starts and exits with status 0 (or keeps running: a browser in the
 * foreground). `%s` in a command line is replaced by the URL, otherwise the URL is appended. The
 * command line is split into words without a shell (single and double quotes; backslash escapes
 * except on Windows, where a backslash separates path parts), so the URL is never interpreted by
 * one. A plain line with spaces is also tried whole, as a program path (`/opt/My Browser/run`),
 * as Python's `webbrowser` reads it. Without `BROWSER`: `xdg-open` (Linux and other Unix),
 * `open` (macOS), `rundll32 url.dll,FileProtocolHandler` or `cmd /c start` (Windows).
 *
 * Callers print the URL anyway, so a failure here only means "open it by hand".
 *
 * @module
 */
import { printable } from "../cli/output.ts";
import { LoginError } from "../errors.ts";

/** One way to start a browser: a program and its arguments (the URL already in place). */
export interface BrowserCommand {
  readonly program: string;
  readonly args: readonly string[];
}

/**
 * Splits a command line into words as a POSIX shell would, without running one: whitespace
 * separates words; `'…'` is literal; `"…"` allows `\"` and `\\`; a backslash outside quotes escapes
 * the next character. No variables, globs or redirections.
 *
 * @param options.escapes Whether a backslash escapes (default true; false for Windows paths).
 * @returns The words.
 * @throws {SyntaxError} On an unterminated quote or a trailing backslash.
 */
export function splitCommandLine(line: string, options: { escapes?: boolean } = {}): string[] {
  const escapes = options.escapes ?? true;
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) throw new SyntaxError("Unterminated single quote");
      word += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (escapes && line[j] === "\\" && (line[j + 1] === '"' || line[j + 1] === "\\")) j++;
        word += line[j];
      }
      if (j >= line.length) throw new SyntaxError("Unterminated double quote");
      i = j;
      inWord = true;
    } else if (c === "\\" && escapes) {
      if (i + 1 >= line.length) throw new SyntaxError("Trailing backslash");
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/**
 * The commands to try, in order, for `url`.
 *
 * @param url The URL to open.
 * @param env Where `BROWSER` is read.
 * @param os The operating system (default: this one).
 * @returns The commands; a `BROWSER` entry that cannot be split is left out.
 */
export function browserCommands(
  url: string,
  env: { get(name: string): string | undefined },
  os: typeof Deno.build.os = Deno.build.os,
): BrowserCommand[] {
  const browser = env.get("BROWSER")?.trim();
  if (browser) {
    return browser.split(os === "windows" ? ";" : ":").flatMap((line) =>
      commandsForLine(line, url, os)
    );
  }
  switch (os) {
    case "darwin":
      return [{ program: "open", args: [url] }];
    case "windows":
      // rundll32 takes the URL verbatim; cmd would split it at "&" unless escaped.
      return [
        { program: "rundll32", args: ["url.dll,FileProtocolHandler", url] },
        { program: "cmd", args: ["/c", "start", '""', url.replace(/[&^|<>()]/g, "^$&")] },
      ];
    default:
      return [{ program: "xdg-open", args: [url] }];
  }
}

/** The commands one `BROWSER` entry stands for: none when it cannot be split. */
function commandsForLine(line: string, url: string, os: typeof Deno.build.os): BrowserCommand[] {
  const escapes = os !== "windows";
  let words: string[];
  try {
    words = splitCommandLine(line, { escapes });
  } catch {
    return [];
  }
  if (words.length === 0) return [];
  const hasPlaceholder = words.some((w) => w.includes("%s"));
  const filled = hasPlaceholder ? words.map((w) => w.replaceAll("%s", url)) : [...words, url];
  const commands = [{ program: filled[0]!, args: filled.slice(1) }];
  // An unquoted program path with spaces (`/opt/My Browser/run`): also try the line whole.
  const whole = line.trim();
  if (words.length > 1 && !hasPlaceholder && !(escapes ? /["'\\]/ : /["']/).test(whole)) {
    commands.push({ program: whole, args: [url] });
  }
  return commands;
}

/**
 * Opens `url` in the user's browser, trying each of {@link browserCommands} in turn.
 *
 * Each command's output is discarded (stdout carries our own output). A command counts as a
 * success when it exits with status 0 or is still running after `graceMs` (a browser running in the
 * foreground); from then on its process does not keep aws-login alive.
 *
 * @param url The URL to open.
 * @param env Where `BROWSER` is read.
 * @param options.os The operating system (default: this one).
 * @param options.graceMs How long to wait for a command to exit (default 3000).
 * @throws {LoginError} `ERR_LOGIN_BROWSER` when no command could be started successfully; the
 *   message names what was tried.
 */
export async function openBrowser(
  url: string,
  env: { get(name: string): string | undefined },
  options: { os?: typeof Deno.build.os; graceMs?: number } = {},
): Promise<void> {
  const commands = browserCommands(url, env, options.os);
  const failures: string[] = [];
  for (const command of commands) {
    const failure = await tryCommand(command, options.graceMs ?? 3000);
    if (failure === undefined) return;
    failures.push(`"${command.program}" ${failure}`);
  }
  const tried = failures.length > 0 ? failures.join("; ") : "BROWSER holds no usable command line";
  throw new LoginError(
    "ERR_LOGIN_BROWSER",
    `Cannot open a browser (${tried}). Set BROWSER to a command that opens one.`,
  );
}

/** Starts one command; undefined on success, else why it failed. */
async function tryCommand(command: BrowserCommand, graceMs: number): Promise<string | undefined> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command.program, {
      args: [...command.args],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "was not found";
    return `could not start: ${spawnFailure(err)}`;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stillRunning = new Promise<"running">((resolve) => {
    timer = setTimeout(() => resolve("running"), graceMs);
  });
  try {
    const outcome = await Promise.race([child.status, stillRunning]);
    if (outcome === "running") {
      child.unref(); // a browser in the foreground must not keep aws-login alive
      return undefined;
    }
    if (outcome.success) return undefined;
    return outcome.signal
      ? `was killed by ${outcome.signal}`
      : `exited with status ${outcome.code}`;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Why a program did not start, in the OS's words ("Text file busy (os error 26)"): Deno's class
 * name alone is a bare "Error" for most causes. The program is named by the caller already.
 */
function spawnFailure(err: unknown): string {
  if (!(err instanceof Error)) return printable(String(err)) || "unknown error";
  const reason = /^Failed to spawn '.*': (.+)$/s.exec(err.message)?.[1] ?? err.message;
  return printable(reason) || err.name;
}
