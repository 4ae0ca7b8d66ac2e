/**
 * What `login` checks before the browser opens, so a person never signs in only to see the tool
 * fail afterwards: Deno's permission set allows the Sign-In endpoint's host, and the directories the
 * config file and the token cache are written to accept a new file. A missing Deno permission is
 * reported as such ({@link PermissionError}), never as a network or file-system failure.
 *
 * @module
 */
import {
  CacheError,
  ConfigError,
  netNotAllowed,
  PERMISSION_HINT,
  PermissionError,
} from "../errors.ts";
import { dirname, joinPath } from "../files.ts";

/**
 * Runs every check.
 *
 * @param p.base The Sign-In base URL.
 * @param p.configPath The config file `login_session` is written to.
 * @param p.cacheDir The token cache directory.
 * @throws {PermissionError} When the permission set lacks the host or the write access.
 * @throws {ConfigError} `ERR_CONFIG_IO` when the config file's directory cannot take a new file.
 * @throws {CacheError} `ERR_CACHE_IO` when the cache directory cannot take a new file.
 */
export async function checkBeforeSignIn(
  p: { base: string; configPath: string; cacheDir: string },
): Promise<void> {
  await checkNetAllowed(p.base);
  const configDir = dirname(await Deno.realPath(p.configPath).catch(() => p.configPath));
  await checkWritable(configDir, (why, cause) =>
    new ConfigError(
      "ERR_CONFIG_IO",
      `Cannot write the config file "${p.configPath}": ${why}. Fix that before signing in`,
      { cause },
    ));
  await checkWritable(p.cacheDir, (why, cause) =>
    new CacheError(
      "ERR_CACHE_IO",
      `Cannot write the login cache "${p.cacheDir}": ${why}. Fix that before signing in (or set ` +
        `AWS_LOGIN_CACHE_DIRECTORY)`,
      { cause },
    ));
}

/**
 * Whether the permission set allows a connection to the URL's host and port (what fetch asks for).
 *
 * @throws {PermissionError} When it does not.
 */
export async function checkNetAllowed(url: string): Promise<void> {
  const parsed = new URL(url);
  const port = parsed.port || (parsed.protocol === "https:" ? "443" : "80");
  const host = `${parsed.hostname}:${port}`;
  const { state } = await Deno.permissions.query({ name: "net", host });
  if (state !== "granted") throw netNotAllowed(host);
}

/**
 * Creates and removes an empty probe file in `dir`, or in its nearest existing ancestor when `dir`
 * does not exist yet (the writers create it). Only a real write tells: mode bits miss read-only
 * mounts, ACLs and root.
 */
async function checkWritable(
  dir: string,
  fail: (why: string, cause: unknown) => Error,
): Promise<void> {
  let existing = dir;
  for (;;) {
    try {
      await Deno.stat(existing);
      break;
    } catch (err) {
      const parent = dirname(existing);
      if (!(err instanceof Deno.errors.NotFound) || parent === existing) break;
      existing = parent;
    }
  }
  const probe = joinPath(existing, `.aws-login-probe-${crypto.randomUUID()}`);
  try {
    (await Deno.open(probe, { write: true, createNew: true, mode: 0o600 })).close();
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable) {
      throw new PermissionError(
        `aws-login's Deno permissions do not allow writing in "${existing}". ${PERMISSION_HINT}`,
        { cause: err },
      );
    }
    const why = err instanceof Deno.errors.PermissionDenied
      ? `"${existing}" is not writable (permission denied)`
      : err instanceof Deno.errors.NotADirectory
      ? `"${existing}" is not a directory`
      : `"${existing}" does not take a new file (${
        err instanceof Error ? err.message.replace(/\s+/g, " ") : err
      })`;
    throw fail(why, err);
  }
  await Deno.remove(probe).catch(() => {});
}
