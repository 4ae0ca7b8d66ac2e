/**
 * How this process was started, for main.ts: whether the Deno running it is new enough, and
 * whether `deno task` ran it from a checkout (then the commands a hint suggests are
 * `deno task login`, not `aws-login login`). No file access: this runs on every start.
 *
 * @module
 */

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
 * `credential_process =` line, which names the installed command on purpose.
 */
export function taskHints(commands: readonly string[]): (text: string) => string {
  const hint = new RegExp(
    `(?<!credential_process = )\\baws-login (?=(?:${commands.join("|")})\\b)`,
    "g",
  );
  return (text) => text.includes("aws-login ") ? text.replace(hint, "deno task ") : text;
}
