/**
 * `deno task install [--root DIR]`: installs an `aws-login` command from this checkout with
 * `deno install -g`, running `main.ts` with the permissions of the "default" set in `deno.json` —
 * the set `deno task …`, the tests and the release binaries use — but with file access narrowed to
 * what the command needs on this machine, which only an install knows ({@link fileScope}): the home
 * directory, the checkout (read), the AWS paths the environment names now, and a few system files.
 * `deno install -g -P` does not work for this: Deno 2.9 accepts the flag but leaves it out of the
 * installed shim, which then runs with no permissions at all. So the set is written out as explicit
 * `--allow-*` flags, with `--no-prompt` (a missing permission fails, never asks) and the checkout's
 * lock file (`--frozen`). The command's first argument tells main.ts it is the installed one
 * ({@link INSTALLED_FLAG}), so a missing permission says to run this task again.
 *
 * The command runs the checkout's code (changes take effect at once); after a `git pull` that
 * changes `deno.json`, or a change of AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE or
 * AWS_LOGIN_CACHE_DIRECTORY to a path outside the home directory, run the task again.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import {
  configFilePath,
  credentialsFilePath,
  type EnvLike,
  homeDir,
  loginCacheDir,
} from "../lib/aws/paths.ts";
import { INSTALLED_FLAG } from "../lib/cli/invocation.ts";
import { dirname } from "../lib/files.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CONFIG = `${ROOT}deno.json`;
const MAIN = `${ROOT}main.ts`;
const LOCK = `${ROOT}deno.lock`;

/** Permission names that take a list in `deno.json` and a flag each (`--allow-read=…`). */
const KINDS = ["read", "write", "net", "env", "run", "sys", "ffi", "import"] as const;
/** Kinds whose list entries are paths, relative to the config file's directory. */
const PATH_KINDS = new Set(["read", "write", "ffi"]);
/** Kinds Deno can also ignore (`--ignore-read`, `--ignore-env`). */
const IGNORABLE = new Set(["read", "env"]);

type Value = boolean | string[];

/**
 * The `deno run` flags that grant what a permission set from `deno.json` grants.
 *
 * @param set The set, e.g. `config.permissions.default`.
 * @param configDir Directory of the config file: relative paths in the set are relative to it.
 * @returns Flags such as `--allow-read`, `--allow-net=127.0.0.1,*.amazonaws.com`.
 * @throws {TypeError} On a key or value the flags cannot express (a comma in an entry).
 */
export function permissionFlags(set: Record<string, unknown>, configDir: string): string[] {
  if (set.all === true) return ["--allow-all"];
  const flags: string[] = [];
  for (const [kind, value] of Object.entries(set)) {
    if (kind === "all") continue;
    if (!(KINDS as readonly string[]).includes(kind)) {
      throw new TypeError(`Unknown permission "${kind}" in the permission set`);
    }
    const parts: Record<string, unknown> = isPlainObject(value) ? value : { allow: value };
    for (const [action, part] of Object.entries(parts)) {
      if (
        action !== "allow" && action !== "deny" && !(action === "ignore" && IGNORABLE.has(kind))
      ) {
        throw new TypeError(`Unknown entry "${action}" for the permission "${kind}"`);
      }
      const flag = flagFor(
        `--${action}-${kind}`,
        asValue(kind, part),
        PATH_KINDS.has(kind),
        configDir,
      );
      if (flag !== undefined) flags.push(flag);
    }
  }
  return flags;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asValue(kind: string, value: unknown): Value {
  if (typeof value === "boolean") return value;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  throw new TypeError(`The permission "${kind}" must be true, false or a list of strings`);
}

function flagFor(
  name: string,
  value: Value,
  paths: boolean,
  configDir: string,
): string | undefined {
  if (value === false) return undefined;
  if (value === true) return name;
  if (value.length === 0) return undefined;
  const entries = value.map((entry) => {
    if (entry.includes(",")) {
      throw new TypeError(`"${entry}" cannot be passed in ${name}: it has a comma`);
    }
    return paths ? resolvePath(entry, configDir) : entry;
  });
  return `${name}=${entries.join(",")}`;
}

function resolvePath(path: string, configDir: string): string {
  if (/^([A-Za-z]:)?[\\/]/.test(path)) return path;
  return `${configDir.replace(/[\\/]$/, "")}/${path}`;
}

/** The paths the installed command may read and write: see {@link fileScope}. */
export interface FileScope {
  readonly read: string[];
  readonly write: string[];
}

/**
 * The file access the installed command gets, instead of the set's global `read` and `write`:
 * - the home directory, read and write (`~/.aws`, `--output` files, the default paths);
 * - the checkout, read (main.ts loads each command's module when it runs);
 * - the file AWS_SHARED_CREDENTIALS_FILE names (read), the directory of the file AWS_CONFIG_FILE
 *   names and the directory AWS_LOGIN_CACHE_DIRECTORY names (read and write: files there are
 *   replaced atomically through a temporary file beside them), as set now;
 * Deno needs nothing else for the commands (checked by running them; its cache is read without a
 * permission). Not `/proc/net/tcp` or `/dev/tty`: Deno opens nothing under `/proc/<pid>` or `/dev`
 * without `--allow-all`, whatever `--allow-read` names (login's owner check reads /proc through a
 * child process, lib/login/peer_owner.ts). Relative AWS paths are taken from `cwd`, as the AWS CLI
 * does.
 */
export function fileScope(
  env: EnvLike,
  options: { cwd?: string } = {},
): FileScope {
  const absolute = (path: string) =>
    /^([A-Za-z]:)?[\\/]/.test(path) || options.cwd === undefined
      ? path
      : `${options.cwd.replace(/[\\/]$/, "")}/${path}`;
  const home = homeDir(env);
  const read = [home, ROOT.replace(/[\\/]$/, "")];
  const write = [home];
  if (env.get("AWS_CONFIG_FILE")) {
    const dir = dirname(absolute(configFilePath(env)));
    read.push(dir);
    write.push(dir);
  }
  if (env.get("AWS_SHARED_CREDENTIALS_FILE")) read.push(absolute(credentialsFilePath(env)));
  if (env.get("AWS_LOGIN_CACHE_DIRECTORY")) {
    const dir = absolute(loginCacheDir(env));
    read.push(dir);
    write.push(dir);
  }
  return { read: unique(read), write: unique(write) };
}

function unique(paths: string[]): string[] {
  return [...new Set(paths)];
}

/**
 * The `deno run` arguments of the `aws-login` command, after `deno`.
 *
 * @param options.env Where the home directory and the AWS paths come from (default: this process).
 * @param options.cwd What relative AWS paths are relative to (default: where the task was started).
 */
export async function runArgs(
  options: { env?: EnvLike; cwd?: string } = {},
): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(CONFIG));
  const set = config.permissions?.default;
  if (!isPlainObject(set)) throw new TypeError(`${CONFIG} has no "default" permission set`);
  const env = options.env ?? { get: (name: string) => Deno.env.get(name) };
  const scope = fileScope(env, { cwd: options.cwd ?? env.get("INIT_CWD") ?? Deno.cwd() });
  return [
    "run",
    "--quiet",
    "--no-prompt",
    "--frozen",
    `--lock=${LOCK}`,
    "--config",
    CONFIG,
    ...permissionFlags({ ...set, read: scope.read, write: scope.write }, ROOT),
    MAIN,
    INSTALLED_FLAG,
  ];
}

/**
 * The command file that runs `deno` with `args` and the caller's arguments: a POSIX shell script,
 * or a `.cmd` file on Windows, as `deno install -g` writes them. Not `deno install -g` itself: it
 * runs the command with a copy of deno.json in the install directory and without the checkout's
 * lock file (it leaves `--lock` out, and `--frozen` then fails on a lock file it made).
 */
export function commandFile(args: readonly string[], os: typeof Deno.build.os): string {
  if (os === "windows") {
    // cmd.exe: quote every argument, double % (variables) and " cannot appear in our arguments.
    const quoted = args.map((arg) => `"${arg.replaceAll("%", "%%")}"`);
    return `@REM generated by deno task install\r\n@deno ${quoted.join(" ")} %*\r\n`;
  }
  const quoted = args.map((arg) => `'${arg.replaceAll("'", "'\\''")}'`);
  return `#!/bin/sh\n# generated by deno task install\nexec deno ${quoted.join(" ")} "$@"\n`;
}

/**
 * Where the command goes, where `deno install -g` puts commands: `--root`, else DENO_INSTALL_ROOT,
 * else ~/.deno; + bin.
 */
function binDirectory(root: string | undefined): string {
  const base = root ?? Deno.env.get("DENO_INSTALL_ROOT") ??
    `${Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? "~"}/.deno`;
  return `${base.replace(/[\\/]$/, "")}/bin`;
}

async function main(args: string[]): Promise<number> {
  let root: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--root" && args[i + 1] !== undefined) root = args[++i];
    else if (args[i]?.startsWith("--root=")) root = args[i]!.slice("--root=".length);
    else {
      console.error(`usage: deno task install [--root DIR]   (unexpected "${args[i]}")`);
      return 2;
    }
  }
  const bin = binDirectory(root);
  const exe = Deno.build.os === "windows" ? "aws-login.cmd" : "aws-login";
  const text = commandFile(await runArgs(), Deno.build.os);
  await Deno.mkdir(bin, { recursive: true });
  // Replaced atomically: a tool may be running the command right now.
  const temp = `${bin}/.${exe}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(temp, text, { mode: 0o755 });
    await Deno.rename(temp, `${bin}/${exe}`);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    console.error(
      `install: cannot write ${bin}/${exe}: ${err instanceof Error ? err.message : err}`,
    );
    return 1;
  }
  console.log(
    `Installed ${bin}/${exe}, running ${MAIN} with the "default" permission set, files limited ` +
      `to your home directory and the AWS paths set now (run this again when they change).`,
  );
  const path = Deno.env.get("PATH") ?? "";
  const onPath = path.split(Deno.build.os === "windows" ? ";" : ":")
    .some((dir) => dir.replace(/[\\/]$/, "").replaceAll("\\", "/") === bin.replaceAll("\\", "/"));
  if (!onPath) console.log(`Add ${bin} to PATH to run it as "aws-login".`);
  return 0;
}

if (import.meta.main) Deno.exitCode = await main(Deno.args);
