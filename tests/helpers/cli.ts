/**
 * Test helpers: a temporary HOME that is removed afterwards, and the CLI run as a subprocess under
 * exactly the permission set the compiled binary gets (`deno run -P`), so a missing permission
 * fails a test.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { type BoundedChild, collectOutput, spawnBounded } from "./bounded.ts";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
/**
 * The lock file of tests and tools (`tests/dev_deps.ts`): a child `deno` that loads them must use
 * it, or it would add the test-only packages to the product's `deno.lock`.
 */
export const DEV_LOCK = fileURLToPath(new URL("../deno.lock", import.meta.url));

/** A temporary home directory with the environment that points every AWS path into it. */
export interface TempHome extends AsyncDisposable {
  readonly home: string;
  /** HOME/USERPROFILE set to `home`; AWS_* variables that could leak in from the host removed. */
  readonly env: Record<string, string>;
}

const HOST_AWS_VARIABLES = [
  "AWS_PROFILE",
  "AWS_DEFAULT_PROFILE",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_LOGIN_CACHE_DIRECTORY",
  "AWS_ENDPOINT_URL",
  "AWS_ENDPOINT_URL_SIGNIN",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "BROWSER",
  // Set by `deno task` (deno task test): the CLI would word its hints for a checkout.
  "npm_config_user_agent",
  "INIT_CWD",
];

/** Makes a temporary HOME; `await using home = await tempHome()` removes it at scope end. */
export async function tempHome(): Promise<TempHome> {
  const home = await Deno.makeTempDir({ prefix: "aws-login-test-" });
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(Deno.env.toObject())) {
    if (!HOST_AWS_VARIABLES.includes(key)) env[key] = value;
  }
  env.HOME = home;
  env.USERPROFILE = home;
  env.NO_COLOR = "1";
  return {
    home,
    env,
    async [Symbol.asyncDispose]() {
      await Deno.remove(home, { recursive: true }).catch(() => {});
    },
  };
}

/** What a finished CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of a CLI run. */
export interface CliOptions {
  /** The whole environment (not merged with the host's). */
  env: Record<string, string>;
  /** Text written to standard input, which is then closed (default: nothing). */
  stdin?: string;
  cwd?: string;
  /**
   * Kill it and all it started after this long (default: the deadline of `spawnBounded`); the run
   * then throws.
   */
  timeoutMs?: number;
  /** A module Deno runs before main.ts (`--preload`), e.g. a test payload. */
  preload?: string;
}

function preloadArgs(preload: string | undefined): string[] {
  return preload ? ["--preload", preload] : [];
}

/**
 * Starts `main.ts` with `args` under the "default" permission set, stdio piped, as a bounded child:
 * `await using` kills it and whatever it started (a browser, a command) at scope end.
 */
export function spawnCli(args: string[], options: CliOptions): BoundedChild {
  return spawnBounded(Deno.execPath(), {
    args: ["run", "-q", "-P", "--no-prompt", ...preloadArgs(options.preload), MAIN, ...args],
    env: options.env,
    clearEnv: true,
    cwd: options.cwd ?? ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    deadlineMs: options.timeoutMs,
  });
}

/** Feeds a {@link spawnCli} child its `stdin` and returns what it printed and its exit code. */
export async function cliResult(child: BoundedChild, stdin = ""): Promise<CliResult> {
  const { code, stdout, stderr } = await collectOutput(child, { stdinText: stdin });
  return { code, stdout, stderr };
}

/** Runs `main.ts` with `args` to its end, then kills whatever it left running. */
export async function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  const child = spawnCli(args, options);
  try {
    return await cliResult(child, options.stdin);
  } finally {
    await child[Symbol.asyncDispose]().catch(() => {});
  }
}
