/**
 * Where the AWS shared files live: the home directory (HOME, else USERPROFILE), `~` expansion, the
 * config and credentials files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE) and the login token
 * cache directory (AWS_LOGIN_CACHE_DIRECTORY). Pure functions of the environment.
 *
 * @module
 */
import { joinPath } from "../files.ts";
import { ConfigError } from "../errors.ts";

/** The environment lookups paths need. */
export interface EnvLike {
  get(name: string): string | undefined;
}

/**
 * The user's home directory: HOME, else USERPROFILE, else HOMEDRIVE+HOMEPATH.
 *
 * @throws {ConfigError} When none is set.
 */
export function homeDir(env: EnvLike): string {
  const home = env.get("HOME") || env.get("USERPROFILE") ||
    ((env.get("HOMEDRIVE") ?? "") + (env.get("HOMEPATH") ?? ""));
  if (!home) {
    throw new ConfigError(
      "ERR_CONFIG_IO",
      "Cannot find the home directory: set HOME (or USERPROFILE on Windows)",
    );
  }
  return home;
}

/** Expands a leading `~` (alone or followed by a separator) to the home directory. */
export function expandHome(path: string, env: EnvLike): string {
  if (path === "~") return homeDir(env);
  if (path.startsWith("~/") || path.startsWith("~\\")) return joinPath(homeDir(env), path.slice(2));
  return path;
}

/** `AWS_CONFIG_FILE`, else `~/.aws/config`. */
export function configFilePath(env: EnvLike): string {
  const custom = env.get("AWS_CONFIG_FILE");
  return custom ? expandHome(custom, env) : joinPath(homeDir(env), ".aws", "config");
}

/** `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`. */
export function credentialsFilePath(env: EnvLike): string {
  const custom = env.get("AWS_SHARED_CREDENTIALS_FILE");
  return custom ? expandHome(custom, env) : joinPath(homeDir(env), ".aws", "credentials");
}

/** `AWS_LOGIN_CACHE_DIRECTORY`, else `~/.aws/login/cache`. */
export function loginCacheDir(env: EnvLike): string {
  const custom = env.get("AWS_LOGIN_CACHE_DIRECTORY");
  return custom ? expandHome(custom, env) : joinPath(homeDir(env), ".aws", "login", "cache");
}
