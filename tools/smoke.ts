/**
 * `deno task smoke [BINARY]`: the release smoke test. Runs one aws-login — a compiled binary, or
 * without an argument `deno run -P main.ts` from this checkout — through what a new user does, with
 * nothing but itself: `--version`; its own `emulator` (auto-approving); `login` with a browser
 * stand-in as BROWSER (tools/browser.ts: it follows redirects and keeps cookies like a
 * browser); `credential-process`; `logout`, after which `credential-process` has no session. Everything runs in a temporary HOME
 * that is removed at the end; every step has a time limit. Exits 0 when all steps pass.
 *
 * The release workflow runs it on each native runner against the binary built for it.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { browserCommandLine } from "./browser.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const ARN = "arn:aws:iam::123456789012:user/smoke";
const PROFILE = "smoke";
/** A guard per step against a hang, not a speed goal. */
const STEP_LIMIT_MS = 120_000;

class SmokeFailure extends Error {}

function resolve(dir: string, path: string): string {
  return /^([A-Za-z]:)?[\\/]/.test(path) ? path : `${dir}/${path}`;
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** How to start the aws-login under test. */
function command(binary: string | undefined): { program: string; prefix: string[] } {
  if (binary !== undefined) return { program: binary, prefix: [] };
  return { program: Deno.execPath(), prefix: ["run", "-q", "-P", "--no-prompt", `${ROOT}main.ts`] };
}

function check(ok: boolean, what: string, result?: Result): asserts ok {
  if (ok) return;
  const detail = result === undefined
    ? ""
    : `\n  exit ${result.code}\n  stdout: ${result.stdout.trim()}\n  stderr: ${result.stderr.trim()}`;
  throw new SmokeFailure(`${what}${detail}`);
}

async function denoDir(): Promise<string> {
  const fromEnv = Deno.env.get("DENO_DIR");
  if (fromEnv) return fromEnv;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir;
}

/** Reads lines from a stream until one matches, within the step limit. */
async function waitForLine(
  stream: ReadableStream<Uint8Array>,
  pattern: RegExp,
): Promise<RegExpExecArray> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const timer = setTimeout(() => reader.cancel("timeout").catch(() => {}), STEP_LIMIT_MS);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new SmokeFailure(`no line matching ${pattern} (got: ${seen.trim()})`);
      seen += value;
      const match = pattern.exec(seen);
      if (match) {
        // Keep draining so the process never blocks on a full pipe.
        (async () => {
          try {
            while (!(await reader.read()).done) { /* discard */ }
          } catch { /* cancelled */ }
        })();
        return match;
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The URLs the browser stand-in visited, from the record it writes once it is done. Waited for:
 * login stops waiting for a browser after a few seconds and may exit 0 before a slow stand-in
 * (a loaded machine) has written it — reading at once then found nothing.
 */
async function browserVisits(record: string): Promise<{ url: string }[]> {
  const deadline = Date.now() + STEP_LIMIT_MS;
  for (;;) {
    try {
      return JSON.parse(await Deno.readTextFile(record)).visits;
    } catch (err) {
      // The stand-in renames its record into place, so a record that exists is whole.
      if (!(err instanceof Deno.errors.NotFound) || Date.now() > deadline) return [];
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the smoke test; `log` receives one line per step. */
export async function smoke(binary: string | undefined, log: (line: string) => void) {
  const { program, prefix } = command(binary);
  const home = await Deno.makeTempDir({ prefix: "aws-login-smoke-" });
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(Deno.env.toObject())) {
    if (!key.startsWith("AWS_") && key !== "BROWSER") env[key] = value;
  }
  Object.assign(env, {
    HOME: home,
    USERPROFILE: home,
    NO_COLOR: "1",
    // `deno run` under a new HOME would start an empty module cache (and fetch jose again).
    DENO_DIR: await denoDir(),
  });
  const run = async (args: string[], extra: Record<string, string> = {}): Promise<Result> => {
    const out = await new Deno.Command(program, {
      args: [...prefix, ...args],
      env: { ...env, ...extra },
      clearEnv: true,
      cwd: home,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(STEP_LIMIT_MS),
    }).output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  };

  let emulator: Deno.ChildProcess | undefined;
  try {
    const { version } = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
    const v = await run(["--version"]);
    check(
      v.code === 0 && v.stdout === `aws-login ${version}\n`,
      `--version is not "aws-login ${version}"`,
      v,
    );
    log(`ok  --version: ${v.stdout.trim()}`);

    emulator = new Deno.Command(program, {
      args: [...prefix, "emulator", "--port", "0", "--auto-approve", ARN],
      env,
      clearEnv: true,
      cwd: home,
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const url =
      (await waitForLine(emulator.stdout, /listening on (http:\/\/127\.0\.0\.1:\d+)\n/))[1]!;
    log(`ok  emulator: listening on ${url}`);

    const record = `${home}/browser.json`;
    const login = await run(
      ["login", "--profile", PROFILE, "--region", "us-east-1", "--timeout", "60"],
      { AWS_ENDPOINT_URL_SIGNIN: url, BROWSER: browserCommandLine(record) },
    );
    check(
      login.code === 0 &&
        login.stdout.includes(`Updated profile ${PROFILE} to use ${ARN} credentials.`),
      "login did not sign in",
      login,
    );
    const visits = await browserVisits(record);
    check(
      visits[0]?.url.startsWith("http://127.0.0.1:") === true &&
        visits.some((v) => new URL(v.url).pathname === "/oauth/callback"),
      `login did not go through the browser (it visited: ${visits.map((v) => v.url).join(" → ")})`,
      login,
    );
    log(`ok  login: signed in as ${ARN} through the browser stand-in`);

    const session = { AWS_ENDPOINT_URL_SIGNIN: url };
    const c = await run(["credential-process", "--profile", PROFILE], session);
    check(c.code === 0, "credential-process failed", c);
    let creds: Record<string, unknown> = {};
    try {
      creds = JSON.parse(c.stdout);
    } catch { /* checked below */ }
    check(
      creds.Version === 1 && typeof creds.AccessKeyId === "string" &&
        typeof creds.SecretAccessKey === "string" && typeof creds.SessionToken === "string" &&
        Date.parse(String(creds.Expiration)) > Date.now(),
      "credential-process did not print credential_process JSON with a future Expiration",
      { ...c, stdout: c.stdout.replace(/"(SecretAccessKey|SessionToken)": "[^"]*"/g, '"$1": "…"') },
    );
    log(
      `ok  credential-process: ${String(creds.AccessKeyId).slice(0, 4)}… until ${creds.Expiration}`,
    );

    const out = await run(["logout", "--profile", PROFILE], session);
    check(out.code === 0, "logout failed", out);
    const after = await run(["credential-process", "--profile", PROFILE], session);
    check(
      after.code !== 0 && after.stdout === "",
      "credential-process still worked after logout",
      after,
    );
    log(`ok  logout: the session is gone (credential-process now exits ${after.code})`);
  } finally {
    if (emulator !== undefined) {
      try {
        emulator.kill(Deno.build.os === "windows" ? "SIGKILL" : "SIGTERM");
      } catch { /* already gone */ }
      await emulator.status;
    }
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const args = Deno.args.filter((a) => a !== "--");
  if (args.length > 1 || args[0]?.startsWith("-")) {
    console.error("usage: deno task smoke [BINARY]   (without BINARY: deno run -P main.ts)");
    Deno.exit(2);
  }
  // `deno task` runs in the checkout; a relative path is meant from where the user ran it.
  const binary = args[0] === undefined
    ? undefined
    : await Deno.realPath(resolve(Deno.env.get("INIT_CWD") ?? Deno.cwd(), args[0]));
  console.log(`smoke test of ${binary ?? "deno run -P main.ts"}`);
  try {
    await smoke(binary, (line) => console.log(line));
    console.log("smoke test passed");
  } catch (err) {
    console.error(`FAILED ${err instanceof SmokeFailure ? err.message : err}`);
    Deno.exitCode = 1;
  }
}
