/**
 * `deno task install [--root DIR]`: installs an `aws-login` command from this checkout, where
 * `deno install -g` puts commands, running `main.ts` with the permissions of the "default" set in
 * `deno.json` — the set `deno task …`, the tests and the release binaries use — but with file
 * access narrowed to what the command needs on this machine, which only an install knows
 * ({@link fileScope}): the home directory, the checkout (read) and the AWS paths the environment
 * names now. That set goes into a config file beside the command ({@link installedConfig}), which
 * runs `deno run -P` with it, `--no-prompt` (a missing permission fails, never asks) and the
 * checkout's lock file (`--frozen`). The command's first argument tells main.ts it is the installed
 * one ({@link INSTALLED_FLAG}), so a missing permission says to run this task again.
 *
 * Not `deno install -g`: it leaves `-P` out of the command (which then runs with no permissions),
 * and runs it with a copy of deno.json and without the checkout's lock file (`--lock` is left out,
 * and `--frozen` then fails on a lock file it made). Nor the set as `--allow-*` flags: the net list
 * alone is longer than the 8191 characters a Windows `.cmd` line may have.
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
/** The installed command's config file, in the install directory beside the command. */
const CONFIG_NAME = ".aws-login.deno.json";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
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
 * - outside Windows `/dev/tty`, read (a role's MFA code is read from the terminal, as under -P).
 * Deno needs nothing else for the commands (checked by running them; its cache is read without a
 * permission). Not `/proc/net/tcp`, nor writing `/dev/tty`: Deno opens nothing under `/proc/<pid>`
 * and no terminal device for writing without `--allow-all`, whatever `--allow-read` and
 * `--allow-write` name (login's owner check reads /proc through a child process,
 * lib/login/peer_owner.ts). Relative AWS paths are taken from `cwd`, as the AWS CLI does.
 */
export function fileScope(
  env: EnvLike,
  options: { cwd?: string; os?: typeof Deno.build.os } = {},
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
  if ((options.os ?? Deno.build.os) !== "windows") read.push("/dev/tty");
  return { read: unique(read), write: unique(write) };
}

function unique(paths: string[]): string[] {
  return [...new Set(paths)];
}

/**
 * The config file the installed command runs with: deno.json's import map (the code's bare
 * specifiers) and its "default" permission set with {@link fileScope}'s read and write.
 *
 * @param options.env Where the home directory and the AWS paths come from (default: this process).
 * @param options.cwd What relative AWS paths are relative to (default: where the task was started).
 * @throws {TypeError} When deno.json has no "default" permission set.
 */
export async function installedConfig(
  options: { env?: EnvLike; cwd?: string } = {},
): Promise<{ imports: unknown; permissions: { default: Record<string, unknown> } }> {
  const config = JSON.parse(await Deno.readTextFile(CONFIG));
  const set = config.permissions?.default;
  if (!isPlainObject(set)) throw new TypeError(`${CONFIG} has no "default" permission set`);
  const env = options.env ?? { get: (name: string) => Deno.env.get(name) };
  const scope = fileScope(env, { cwd: options.cwd ?? env.get("INIT_CWD") ?? Deno.cwd() });
  return {
    imports: config.imports,
    permissions: { default: { ...set, read: scope.read, write: scope.write } },
  };
}

/**
 * The `deno run` arguments of the `aws-login` command, after `deno`.
 *
 * @param configPath Where {@link installedConfig} was written.
 */
export function runArgs(configPath: string): string[] {
  return [
    "run",
    "--quiet",
    "--no-prompt",
    "--frozen",
    `--lock=${LOCK}`,
    "--config",
    configPath,
    "-P",
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
  const configPath = `${bin}/${CONFIG_NAME}`;
  const config = `${JSON.stringify(await installedConfig(), null, 2)}\n`;
  await Deno.mkdir(bin, { recursive: true });
  // Each replaced atomically, the config first: a tool may be running the command right now.
  for (
    const [name, text, mode] of [
      [CONFIG_NAME, config, 0o644],
      [exe, commandFile(runArgs(configPath), Deno.build.os), 0o755],
    ] as const
  ) {
    const path = `${bin}/${name}`;
    const temp = `${bin}/.${name.replace(/^\./, "")}.${crypto.randomUUID()}.tmp`;
    try {
      await Deno.writeTextFile(temp, text, { mode });
      await Deno.rename(temp, path);
    } catch (err) {
      await Deno.remove(temp).catch(() => {});
      console.error(`install: cannot write ${path}: ${err instanceof Error ? err.message : err}`);
      return 1;
    }
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
