/**
 * Whether aws-login runs with the Deno permissions it needs, and the one hint that gets them when it
 * does not, for main.ts: asked before a command's module loads (a missing read permission would
 * otherwise fail the module loading itself), and used to word any permission failure met later.
 * `Deno.*` only: this runs on every start, the credential hot path included.
 *
 * @module
 */
import { AwsLoginError, PERMISSION_HINT, PermissionError } from "../errors.ts";

/** How aws-login was started, as far as permissions go. */
export interface Launch {
  /** The command `deno task install` installed: its files are scoped, its fix is to install again. */
  readonly installed: boolean;
  /** The directory of main.ts, which a command's modules are loaded from. */
  readonly mainDir: string | undefined;
}

/**
 * What a command needs from its start that Deno does not grant, named as `deno run` flags name it.
 * From a checkout: the "default" set's read, write, env and sys (uid, gid), and run for a command
 * that keeps it (exec, login). The installed command's files are scoped to what the install
 * granted, so only its own code is checked here and other paths where they are used. Net is not
 * checked here: which hosts a command needs is known only later, and `--allow-net` may replace the
 * set's list on purpose (README, Permissions).
 *
 * @param needsRun Whether the command starts programs (it does not revoke run at its start).
 * @returns The missing permissions, e.g. `["--allow-read", "--allow-sys=uid,gid"]`; empty when none.
 */
export function missingAtStart(launch: Launch, needsRun: boolean): string[] {
  type Want = [flag: string, descriptors: Deno.PermissionDescriptor[]];
  const wanted: Want[] = [
    launch.installed && launch.mainDir !== undefined
      ? [`--allow-read=${launch.mainDir}`, [{ name: "read", path: launch.mainDir }]]
      : ["--allow-read", [{ name: "read" }]],
  ];
  if (!launch.installed) wanted.push(["--allow-write", [{ name: "write" }]]);
  wanted.push(
    ["--allow-env", [{ name: "env" }]],
    ["--allow-sys=uid,gid", [{ name: "sys", kind: "uid" }, { name: "sys", kind: "gid" }]],
  );
  if (needsRun) wanted.push(["--allow-run", [{ name: "run" }]]);
  return wanted
    .filter(([, descriptors]) =>
      descriptors.some((d) => Deno.permissions.querySync(d).state !== "granted")
    )
    .map(([flag]) => flag);
}

/**
 * The error for {@link missingAtStart}'s answer.
 *
 * @param missing What is missing, as flags.
 */
export function missingError(missing: readonly string[]): PermissionError {
  return new PermissionError(
    `Deno does not grant the permissions aws-login needs (${
      missing.join(", ")
    }). ${PERMISSION_HINT}`,
  );
}

/**
 * Whether the network part of the "default" set is in effect: it allows all of 127.0.0.1, so a host
 * refused then is outside the set (the fix is to add it), and otherwise the set is not in use (the
 * fix is to run with it). Ask before main.ts revokes anything.
 */
export function netSetInEffect(): boolean {
  return Deno.permissions.querySync({ name: "net", host: "127.0.0.1" }).state === "granted";
}

/** Deno's own advice ("run again with the --allow-read flag") fixes one permission, not the run. */
function withoutDenoAdvice(message: string): string {
  return message.replace(/, run again with the --allow-[\w-]+ flag/g, "").replace(/\.$/, "");
}

/**
 * The one line (without `aws-login: `) main.ts prints for a permission failure
 * (`isPermissionFailure`): what was refused and the one hint that works for how aws-login was
 * started.
 *
 * @param netSet {@link netSetInEffect}, asked at the start.
 */
export function permissionMessage(err: unknown, launch: Launch, netSet: boolean): string {
  if (err instanceof PermissionError && err.host !== undefined && (launch.installed || !netSet)) {
    const refused = `aws-login's Deno permissions do not allow connecting to "${err.host}" (the ` +
      `Sign-In endpoint)`;
    if (!launch.installed) return `${refused}. ${PERMISSION_HINT}.`;
    const where = launch.mainDir === undefined ? "the checkout" : launch.mainDir;
    return `${refused}: add "${err.host}" to "net" in the "default" permission set of deno.json ` +
      `in ${where}, then run "deno task install" there again.`;
  }
  const message = err instanceof Error ? withoutDenoAdvice(err.message) : String(err);
  if (message.includes(PERMISSION_HINT)) return `${message}.`;
  if (err instanceof PermissionError) return `${message}.`;
  if (err instanceof AwsLoginError) return `${message}. ${PERMISSION_HINT}.`;
  return `missing Deno permission: ${message}. ${PERMISSION_HINT}.`;
}
