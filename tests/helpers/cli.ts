/**
 * Test helpers: a temporary HOME that is removed afterwards, and the CLI run as a subprocess under
 * exactly the permission set the compiled binary gets (`deno run -P`), so a missing permission
 * fails a test.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

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

/**
 * Runs `main.ts` with `args` under the "default" permission set.
 *
 * @param args Command-line arguments.
 * @param options.env The whole environment (not merged with the host's).
 * @param options.stdin Text written to standard input, which is then closed.
 * @param options.timeoutMs Kill it (SIGTERM) after this long: a guard against a hang, for runs that
 *   start long-lived children.
 * @param options.preload A module Deno runs before main.ts (`--preload`), e.g. a test payload.
 */
export async function runCli(
  args: string[],
  options: {
    env: Record<string, string>;
    stdin?: string;
    cwd?: string;
    timeoutMs?: number;
    preload?: string;
  },
): Promise<CliResult> {
  const preload = options.preload ? ["--preload", options.preload] : [];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-P", "--no-prompt", ...preload, MAIN, ...args],
    env: options.env,
    clearEnv: true,
    cwd: options.cwd ?? ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs),
  }).spawn();
  const writer = child.stdin.getWriter();
  if (options.stdin !== undefined) await writer.write(new TextEncoder().encode(options.stdin));
  await writer.close();
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
