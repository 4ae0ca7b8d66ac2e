/**
 * `deno task demo`: the whole aws-login story for a newcomer, without an AWS account. Starts the
 * AWS Sign-In emulator, makes a temporary HOME, and runs the real CLI (`deno run -P main.ts …`,
 * the shipped permission set) against the emulator: `login` (auto-approved), `status`,
 * `export-env`, a forced refresh with the keys visibly changing, an STS GetCallerIdentity signed
 * (SigV4) with the issued credentials and answered by the emulator, and a role profile in another
 * account on top of the session (the emulator's STS AssumeRole answers). Then it stops the emulator and
 * removes the temporary HOME, also when stopped early by Ctrl-C or SIGTERM (it ends the CLI it is
 * running first, so nothing writes into the HOME after it is gone). Secrets are masked in what it
 * prints.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { startEmulator } from "../lib/emulator/server.ts";
import { browse } from "./browser.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const ARN = "arn:aws:iam::123456789012:user/demo";
const PROFILE = "demo";
const REGION = "us-east-1";
const ROLE_PROFILE = "admin";
const ROLE_ARN = "arn:aws:iam::210987654321:role/Admin";

const bold = (s: string) => Deno.noColor ? s : `\x1b[1m${s}\x1b[22m`;
const dim = (s: string) => Deno.noColor ? s : `\x1b[2m${s}\x1b[22m`;

function say(text = ""): void {
  console.log(text);
}

function step(n: number, title: string): void {
  say();
  say(bold(`${n}. ${title}`));
}

/** Masks every long secret-looking value after `=`, `"…":` or `: ` to its last 4 characters. */
function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 4) out = out.replaceAll(secret, `****************${secret.slice(-4)}`);
  }
  return out;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI processes running now, ended first when the demo is stopped. */
const children = new Set<Deno.ChildProcess>();

function track(child: Deno.ChildProcess): Deno.ChildProcess {
  children.add(child);
  child.status.finally(() => children.delete(child));
  return child;
}

/** Runs the real CLI under its shipped permissions with the demo's environment. */
async function cli(args: string[], env: Record<string, string>): Promise<Run> {
  const out = await track(
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-q", "-P", "--no-prompt", MAIN, ...args],
      env,
      clearEnv: true,
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).spawn(),
  ).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

function show(command: string, run: Run, secrets: readonly string[] = []): void {
  say(dim(`   $ aws-login ${command}`));
  const text = maskSecrets(run.stdout + run.stderr, secrets).trimEnd();
  for (const line of text.split("\n")) say(`   ${line}`);
  if (run.code !== 0) throw new Error(`"aws-login ${command}" exited with ${run.code}`);
}

/** The CLI's environment: the temporary HOME, the emulator, and the host's Deno cache. */
async function demoEnv(home: string, url: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "SystemRoot", "TMPDIR", "TEMP", "TMP"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return {
    ...env,
    HOME: home,
    USERPROFILE: home,
    NO_COLOR: "1",
    AWS_ENDPOINT_URL_SIGNIN: url,
    AWS_ENDPOINT_URL_STS: url,
    // Else Deno would start an empty cache in the temporary HOME and fetch jose again.
    DENO_DIR: Deno.env.get("DENO_DIR") ?? await hostDenoDir(),
  };
}

async function hostDenoDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir;
}

async function main(): Promise<void> {
  say(bold("aws-login demo") + " — sign in, use and refresh a session against a local emulator");
  say("No AWS account is needed and nothing leaves this machine.");

  step(1, "Start the AWS Sign-In emulator (it also answers STS GetCallerIdentity and AssumeRole)");
  const emulator = await startEmulator({ port: 0, autoApprove: ARN });
  say(`   listening on ${emulator.url}; it approves every sign-in as ${ARN}`);
  const home = await Deno.makeTempDir({ prefix: "aws-login-demo-" });
  const cleanUp = async () => {
    for (const child of children) {
      try {
        child.kill("SIGKILL");
      } catch {
        // It has just ended.
      }
    }
    await Promise.allSettled([...children].map((child) => child.status));
    await Deno.remove(home, { recursive: true }).catch(() => {});
    await emulator.close().catch(() => {});
  };
  const stopOn = stopSignals(cleanUp);
  try {
    await story(emulator.url, home);
  } finally {
    stopOn.remove();
    await cleanUp();
  }
  say();
  say(bold("Done.") + " The emulator is stopped and the temporary HOME is removed.");
  say(`Next: "deno task login" signs you in to AWS for real.`);
}

/**
 * On Ctrl-C or SIGTERM (Windows: Ctrl-C, Ctrl-Break): clean up, say so, exit 128 + the signal.
 *
 * @returns A handle that removes the listeners once the demo has ended by itself.
 */
function stopSignals(cleanUp: () => Promise<void>): { remove(): void } {
  const signals: [Deno.Signal, number][] = Deno.build.os === "windows"
    ? [["SIGINT", 130], ["SIGBREAK", 149]]
    : [["SIGINT", 130], ["SIGTERM", 143]];
  let stopping = false;
  const listeners = signals.map(([signal, code]) => {
    const listener = () => {
      if (stopping) return;
      stopping = true;
      cleanUp().finally(() => {
        console.error(
          `\ndemo stopped (${signal}): the emulator is stopped and the temporary ` +
            `HOME is removed.`,
        );
        Deno.exit(code);
      });
    };
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  return {
    remove() {
      for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
    },
  };
}

/** Steps 2 to 9: the CLI against the emulator in the temporary HOME. */
async function story(url: string, home: string): Promise<void> {
  const env = await demoEnv(home, url);
  step(2, "A temporary HOME, so your own ~/.aws is never touched");
  say(`   HOME=${home}`);
  say(`   AWS_ENDPOINT_URL_SIGNIN=${url}   (send Sign-In calls to the emulator)`);
  say(`   AWS_ENDPOINT_URL_STS=${url}      (and STS calls)`);

  step(3, `Log in (the emulator approves at once, like clicking "Allow" in the browser)`);
  await login(env);

  step(4, "Where things stand: identity, expiry, keys masked to their last 4 characters");
  show(`status --profile ${PROFILE}`, await cli(["status", "--profile", PROFILE], env));

  step(5, 'Credentials for your shell: creds=$(aws-login export-env) && eval "$creds"');
  const exported = await cli(["export-env", "--profile", PROFILE], env);
  const creds = parseExports(exported.stdout);
  show(`export-env --profile ${PROFILE}`, exported, [
    creds.AWS_SECRET_ACCESS_KEY ?? "",
    creds.AWS_SESSION_TOKEN ?? "",
  ]);
  say(dim("   (secret key and session token masked here; the real output has them in full)"));

  step(6, "A forced refresh: new keys from the refresh token, signed with the DPoP key");
  show(
    `status --profile ${PROFILE} --refresh`,
    await cli(["status", "--profile", PROFILE, "--refresh"], env),
  );
  const after = parseExports((await cli(["export-env", "--profile", PROFILE], env)).stdout);
  const changed = after.AWS_ACCESS_KEY_ID !== creds.AWS_ACCESS_KEY_ID;
  say(
    `   access key ${mask(creds.AWS_ACCESS_KEY_ID!)} → ${mask(after.AWS_ACCESS_KEY_ID!)} ` +
      (changed ? "(changed)" : "(UNCHANGED: the refresh did not happen)"),
  );
  if (!changed) throw new Error("The forced refresh did not change the keys");

  step(7, "Use them: STS GetCallerIdentity, signed with SigV4, answered by the emulator");
  const identity = await callerIdentity(url, after);
  say(`   Arn:     ${identity.Arn}`);
  say(`   Account: ${identity.Account}`);
  say(`   UserId:  ${identity.UserId}`);

  step(8, "A role in another account: a role profile on top of the session");
  await roleProfile(url, home, env);

  step(9, "Log out (removes the cached session, and the role credentials that came from it)");
  show(`logout --profile ${PROFILE}`, await cli(["logout", "--profile", PROFILE], env));
}

/** Step 8: a role profile with the session as its source; its credentials and who they are. */
async function roleProfile(url: string, home: string, env: Record<string, string>): Promise<void> {
  const section =
    `[profile ${ROLE_PROFILE}]\nrole_arn = ${ROLE_ARN}\nsource_profile = ${PROFILE}\n` +
    `region = ${REGION}\n`;
  await Deno.writeTextFile(`${home}/.aws/config`, `\n${section}`, { append: true });
  say(dim("   added to ~/.aws/config:"));
  for (const line of section.trimEnd().split("\n")) say(`   ${line}`);
  const exported = await cli(["export-env", "--profile", ROLE_PROFILE], env);
  const creds = parseExports(exported.stdout);
  show(`export-env --profile ${ROLE_PROFILE}`, exported, [
    creds.AWS_SECRET_ACCESS_KEY ?? "",
    creds.AWS_SESSION_TOKEN ?? "",
  ]);
  say(dim("   (an STS AssumeRole signed with the session's credentials; the AWS CLI's role cache"));
  say(dim("   keeps the result, so the next command does not assume the role again)"));
  show(`status --profile ${ROLE_PROFILE}`, await cli(["status", "--profile", ROLE_PROFILE], env));
  const identity = await callerIdentity(url, creds);
  say(`   GetCallerIdentity with the role's credentials:`);
  say(`   Arn:     ${identity.Arn}`);
  say(`   Account: ${identity.Account}`);
}

function mask(value: string): string {
  return `****************${value.slice(-4)}`;
}

/** Parses `export NAME=value` lines (values bare or single-quoted). */
function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(line);
    if (!m) continue;
    const raw = m[2]!;
    out[m[1]!] = raw.startsWith("'") ? raw.slice(1, -1).replaceAll(`'\\''`, "'") : raw;
  }
  return out;
}

/**
 * Runs `login`, playing the browser: opens the one-time sign-in link it prints, following the
 * redirects and keeping the link's cookie for the callback, as a browser does.
 */
async function login(env: Record<string, string>): Promise<void> {
  const command = `login --profile ${PROFILE} --region ${REGION} --no-browser`;
  say(dim(`   $ aws-login ${command}`));
  const child = track(
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-q", "-P", "--no-prompt", MAIN, ...command.split(" ")],
      env,
      clearEnv: true,
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn(),
  );
  const lines: string[] = [];
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let i;
      while ((i = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        lines.push(line);
        say(`   ${line}`);
        const url = /^(http:\/\/127\.0\.0\.1:\d+\/[\w-]{43})$/.exec(line.trim())?.[1];
        if (url) {
          say(dim("   (the demo plays the browser: it opens that link)"));
          await browse(url);
        }
      }
    }
    if (buffer) say(`   ${buffer}`);
  };
  await Promise.all([collect(child.stdout), collect(child.stderr)]);
  const status = await child.status;
  if (!status.success) throw new Error(`"aws-login ${command}" exited with ${status.code}`);
}

/** GetCallerIdentity through the official AWS SDK's STS client, pointed at the emulator. */
async function callerIdentity(
  url: string,
  creds: Record<string, string>,
): Promise<{ Arn?: string; Account?: string; UserId?: string }> {
  const { STSClient, GetCallerIdentityCommand } = await import("../tests/dev_deps.ts");
  const sts = new STSClient({
    region: REGION,
    endpoint: url,
    credentials: {
      accessKeyId: creds.AWS_ACCESS_KEY_ID!,
      secretAccessKey: creds.AWS_SECRET_ACCESS_KEY!,
      sessionToken: creds.AWS_SESSION_TOKEN,
    },
  });
  try {
    return await sts.send(new GetCallerIdentityCommand({}));
  } finally {
    sts.destroy();
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (err) {
    console.error(`demo failed: ${err instanceof Error ? err.message : err}`);
    Deno.exitCode = 1;
  }
}
