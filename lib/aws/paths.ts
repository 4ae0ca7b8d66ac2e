/**
 * Where the AWS shared files live: the home directory (HOME, else USERPROFILE), the config and
 * credentials files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE) and the login token cache
 * directory (AWS_LOGIN_CACHE_DIRECTORY). A path from one of those variables is expanded as the AWS
 * CLI expands it (botocore's `raw_config_parse` and `get_login_token_cache_directory`): environment
 * variables first (`os.path.expandvars`), then `~` (`os.path.expanduser`). The CLI's `login` writes
 * the config to a path with only `~` expanded; we read and write the same path. Pure functions of
 * the environment.
 *
 * @module
 */
import { joinPath } from "../files.ts";
import { ConfigError } from "../errors.ts";

const isWindows = Deno.build.os === "windows";

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

/**
 * Expands environment variables as Python's `os.path.expandvars` does, which the AWS CLI applies
 * to these paths: `$NAME` and `${NAME}` (NAME of ASCII letters, digits and `_`); on Windows
 * (`ntpath`) also `%NAME%`, `-` in a bare `$NAME`, `$$` and `%%` for a literal sign, and no
 * expansion inside single quotes. A variable that is not set stays as written.
 */
export function expandVars(path: string, env: EnvLike, windows = isWindows): string {
  if (!windows) {
    return path.replace(/\$(\w+|\{[^}]*\})/g, (whole, raw: string) => {
      const name = raw.startsWith("{") ? raw.slice(1, -1) : raw;
      return (name === "" ? undefined : env.get(name)) ?? whole;
    });
  }
  return expandVarsWindows(path, env);
}

/** `ntpath.expandvars`, token by token. */
function expandVarsWindows(path: string, env: EnvLike): string {
  let out = "";
  let i = 0;
  const lookup = (name: string, whole: string) =>
    (name === "" ? undefined : env.get(name)) ?? whole;
  while (i < path.length) {
    const c = path[i]!;
    const next = path[i + 1];
    if (c === "'") {
      const end = path.indexOf("'", i + 1);
      const stop = end === -1 ? path.length : end + 1;
      out += path.slice(i, stop);
      i = stop;
    } else if (c === "%" && next === "%") {
      out += "%";
      i += 2;
    } else if (c === "%") {
      const end = path.indexOf("%", i + 1);
      if (end === -1) {
        out += path.slice(i);
        break;
      }
      out += lookup(path.slice(i + 1, end), path.slice(i, end + 1));
      i = end + 1;
    } else if (c === "$" && next === "$") {
      out += "$";
      i += 2;
    } else if (c === "$" && next === "{") {
      const end = path.indexOf("}", i + 2);
      if (end === -1) {
        out += path.slice(i);
        break;
      }
      out += lookup(path.slice(i + 2, end), path.slice(i, end + 1));
      i = end + 1;
    } else if (c === "$") {
      const name = /^[A-Za-z0-9_-]*/.exec(path.slice(i + 1))![0];
      out += lookup(name, `$${name}`);
      i += 1 + name.length;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** A path from the environment, expanded as the AWS CLI does: variables, then `~`. */
function expandPath(path: string, env: EnvLike): string {
  return expandHome(expandVars(path, env), env);
}

/** `AWS_CONFIG_FILE` (expanded), else `~/.aws/config`. */
export function configFilePath(env: EnvLike): string {
  const custom = env.get("AWS_CONFIG_FILE");
  return custom ? expandPath(custom, env) : joinPath(homeDir(env), ".aws", "config");
}

/** `AWS_SHARED_CREDENTIALS_FILE` (expanded), else `~/.aws/credentials`. */
export function credentialsFilePath(env: EnvLike): string {
  const custom = env.get("AWS_SHARED_CREDENTIALS_FILE");
  return custom ? expandPath(custom, env) : joinPath(homeDir(env), ".aws", "credentials");
}

/** `AWS_LOGIN_CACHE_DIRECTORY` (expanded), else `~/.aws/login/cache`. */
export function loginCacheDir(env: EnvLike): string {
  const custom = env.get("AWS_LOGIN_CACHE_DIRECTORY");
  return custom ? expandPath(custom, env) : joinPath(homeDir(env), ".aws", "login", "cache");
}

/** The AWS CLI's role cache, `~/.aws/cli/cache` (the CLI has no setting to move it). */
export function roleCacheDir(env: EnvLike): string {
  return joinPath(homeDir(env), ".aws", "cli", "cache");
}
