/**
 * How this process was started, for main.ts: whether the Deno running it is new enough, whether
 * `deno task` ran it from a checkout (then the commands a hint suggests are `deno task login`, not
 * `aws-login login`), and whether it is the command `deno task install` installed (then a missing
 * permission means running the install again). No file access: this runs on every start.
 *
 * @module
 */
import { PERMISSION_HINT } from "../errors.ts";

/**
 * The oldest Deno this runs on: the oldest on which `deno task test` passes (README and deno.json's
 * "minimumDenoVersion" say the same). Older ones fail in ways that look like our bugs (the emulator
 * never answers, a dropped connection goes unseen), so they are refused up front.
 */
export const MINIMUM_DENO = "2.9.6";

/** Whether Deno `version` ("2.10.1", "2.9.6+1a2b3c") is older than `minimum`, by numbers. */
export function olderThan(version: string, minimum: string): boolean {
  const have = version.split(/[.+-]/, 3).map(Number);
  const need = minimum.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const a = have[i] ?? 0, b = need[i] ?? 0;
    if (Number.isNaN(a)) return false; // an unknown format: do not stand in the way
    if (a !== b) return a < b;
  }
  return false;
}

/**
 * Whether `deno task` ran main.ts in this checkout: it sets `npm_config_user_agent` to `deno/…` and
 * runs tasks in the directory of deno.json, which holds main.ts. A compiled binary's or an installed
 * command's main.ts is not in the working directory.
 *
 * @param mainDir The directory of main.ts (its `import.meta.dirname`).
 */
export function runByDenoTask(mainDir: string | undefined): boolean {
  try {
    return (Deno.env.get("npm_config_user_agent") ?? "").startsWith("deno/") &&
      mainDir === Deno.cwd();
  } catch {
    return false; // no env or read permission: assume the installed command
  }
}

/**
 * A rewriter of output text: `aws-login <command>` → `deno task <command>`, except in a
 * `credential_process =` line, which names the installed command on purpose (a tool runs it from
 * any directory, where `deno task` finds no deno.json). Run by `deno task`, there may be no
 * `aws-login` command yet, so such a line gets a comment line above it (a comment in the config
 * file too) saying where that command comes from.
 */
export function taskHints(commands: readonly string[]): (text: string) => string {
  const hint = new RegExp(
    `(?<!credential_process = )\\baws-login (?=(?:${commands.join("|")})\\b)`,
    "g",
  );
  const processLine = /^([ \t]*)(credential_process = aws-login )/gm;
  return (text) =>
    text.includes("aws-login ")
      ? text.replace(hint, "deno task ").replace(
        processLine,
        `$1# the aws-login command: run "deno task install" first\n$1$2`,
      )
      : text;
}

/**
 * The first argument of every run of the command `deno task install` installs (tools/install.ts
 * bakes it into the command). It only changes how a missing permission is explained: that command's
 * file access is limited to what the install granted, so the fix is to install again, not `-P`.
 */
export const INSTALLED_FLAG = "--installed-by-deno-task-install";

/** The arguments without {@link INSTALLED_FLAG}, and whether it was there. */
export function installedArgs(args: readonly string[]): { installed: boolean; args: string[] } {
  return args[0] === INSTALLED_FLAG
    ? { installed: true, args: args.slice(1) }
    : { installed: false, args: [...args] };
}

/** What the installed command says about a missing permission, instead of {@link PERMISSION_HINT}. */
export function installedPermissionHint(checkout: string | undefined): string {
  const where = checkout === undefined ? "in the checkout" : `in ${checkout}`;
  return `This aws-login was installed by "deno task install", which allows files only in your ` +
    `home directory and the paths AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE and ` +
    `AWS_LOGIN_CACHE_DIRECTORY named when it ran: use a path in your home directory (an --output ` +
    `file), or set those variables as you need them and run "deno task install" again ${where}`;
}

/**
 * A rewriter of output text for the installed command: the permission hint becomes
 * {@link installedPermissionHint}, and Deno's own advice (`run again with the --allow-read flag`)
 * is dropped, as the installed command takes no such flag.
 */
export function installedHints(checkout: string | undefined): (text: string) => string {
  const hint = installedPermissionHint(checkout);
  return (text) =>
    text.replaceAll(PERMISSION_HINT, hint).replace(/, run again with the --allow-\w+ flag/g, "");
}
