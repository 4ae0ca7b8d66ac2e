/**
 * `aws-login emulator`: runs the local AWS Sign-In emulator (and STS GetCallerIdentity and
 * AssumeRole) on
 * 127.0.0.1 until SIGINT or SIGTERM. The first stdout line is exactly
 * `listening on http://127.0.0.1:PORT`; then one line per request, never with a secret.
 *
 * @module
 */
import { intOption, parseArgs } from "../cli/args.ts";
import type { Deps } from "../cli/deps.ts";
import { EmulatorError, EXIT, UsageError } from "../errors.ts";
import type { EmulatorOptions } from "../emulator/server.ts";
import { arnProblem, type TokenFailure } from "../emulator/state.ts";
import { parseRoles, ROLES_FILE_EXAMPLE, type RolesFileEntry } from "../emulator/roles.ts";

export const help = `Usage: aws-login emulator [options]

Run a local AWS Sign-In emulator for demos and tests: no AWS account needed, nothing leaves this
machine. Point the CLI or an AWS SDK at it with AWS_ENDPOINT_URL_SIGNIN=http://127.0.0.1:PORT; it
also answers STS GetCallerIdentity and AssumeRole (POST /, for AWS_ENDPOINT_URL_STS) and the token
revocation and introspection calls (POST /v1/revoke, /v1/introspect), each SigV4-signed with the
credentials it issued (AssumeRole's role credentials included), and the console's federation
endpoint (GET /federation?Action=getSigninToken and Action=login, GET /oauth?Action=logout) for
"aws-login console", whose login lands on a small page naming the identity.

The first line on stdout is "listening on http://127.0.0.1:PORT", then one line per request.
Stop it with Ctrl-C (SIGINT) or SIGTERM.

Options:
  --port N              Port on 127.0.0.1 (default 0: any free port)
  --auto-approve ARN    Approve every sign-in at once as ARN (no sign-in page)
  --access-ttl S        Credential lifetime in seconds, 1 to 900 (default 900)
  --session-ttl S       How long a session can be refreshed, in seconds (default 43200)
  --accounts FILE       JSON array of {"arn": "...", "name": "..."} identities the page offers
                        (default: arn:aws:iam::123456789012:user/demo; not with --auto-approve)
  --roles FILE          JSON array of the roles AssumeRole knows (default: any role in any
                        account trusts every identity and role session of the emulator, for at
                        most 1 h; a role assumed by a role session: 1 h at most). Each role:
                          {"arn": "arn:aws:iam::210987654321:role/Admin",
                           "trustedPrincipals": ["arn:aws:iam::123456789012:user/demo"],
                           "maxSessionDuration": 7200, "externalId": "partner-7",
                           "mfaSerial": "arn:aws:iam::123456789012:mfa/demo", "mfaCode": "123456"}
                        Only "arn" is required; principals are ARNs or 12-digit account ids;
                        "maxSessionDuration" 3600 to 43200 (default 3600)
  --clock-offset S      Run the emulator clock S seconds ahead (negative: behind)
  --fail-next N         Fail the next N token calls, as the --fail-* options below say
  --fail-error VALUE    ... with this error value (TOKEN_EXPIRED, INVALID_REQUEST,
                        server_error, ...)
  --fail-status CODE    ... with this HTTP status (e.g. 500, 429)
  --fail-retry-after S  ... with Retry-After: S (429 unless --fail-status says otherwise)
  --fail-delay MS       ... after waiting MS milliseconds (alone: answer normally after the wait)
  --fail-reset          ... by dropping the connection without a response (with --fail-delay
                        only: the other --fail-* options describe a response)
  --debug               Log what happens to stderr (secrets are never logged)
  -h, --help            Show this help

Test controls at runtime (loopback, JSON):
  GET  /__admin/counters                          requests so far, token calls by grant type,
                                                   STS calls (AssumeRole also on its own)
  POST /__admin/clock  {"offsetMs": 600000}       set the clock offset
  POST /__admin/fail   {"count": 1, "error": "TOKEN_EXPIRED"}  (also status, retryAfterSeconds,
                                                   delayMs, reset) fail the next token calls
  POST /__admin/deny   {"actions": ["signin:RevokeOAuth2TokenWithIAM"]}  deny IAM actions
`;

/** Options of `emulator`. */
export interface EmulatorCommandOptions {
  readonly port: number;
  readonly autoApprove?: string;
  readonly accessTtlSeconds?: number;
  readonly sessionTtlSeconds?: number;
  readonly accountsFile?: string;
  readonly rolesFile?: string;
  readonly clockOffsetMs: number;
  readonly failNext?: { count: number; failure: TokenFailure };
}

const FAIL_OPTIONS = ["fail-error", "fail-status", "fail-retry-after", "fail-delay"] as const;

/**
 * @throws {UsageError} On an unknown option, a malformed value, or options of which one would be
 *   ignored (`--auto-approve` with `--accounts`, `--fail-reset` with what a response carries).
 */
export function parse(argv: readonly string[]): EmulatorCommandOptions {
  const args = parseArgs(argv, {
    boolean: ["fail-reset"],
    string: [
      "port",
      "auto-approve",
      "access-ttl",
      "session-ttl",
      "accounts",
      "roles",
      "clock-offset",
      "fail-next",
      ...FAIL_OPTIONS,
    ],
    conflicts: [
      ["auto-approve", "accounts", "--auto-approve shows no sign-in page to offer the accounts"],
      ["fail-reset", "fail-error", "--fail-reset sends no response to carry the error"],
      ["fail-reset", "fail-status", "--fail-reset sends no response to carry the status"],
      ["fail-reset", "fail-retry-after", "--fail-reset sends no response to carry Retry-After"],
    ],
  });
  const v = args.values;
  const autoApprove = v["auto-approve"];
  const problem = autoApprove === undefined ? undefined : arnProblem(autoApprove);
  if (problem) {
    // problem reads "it is not an ARN"; here the value is the subject.
    throw new UsageError(
      `Option "--auto-approve" takes an ARN with a 12-digit account id, like ` +
        `"arn:aws:iam::123456789012:user/demo": "${autoApprove}" ${problem.replace(/^it /, "")}`,
    );
  }
  const offset = v["clock-offset"];
  if (offset !== undefined && !/^-?\d{1,9}$/.test(offset)) {
    throw new UsageError(
      `Option "--clock-offset" takes a whole number of seconds (may be negative), not "${offset}"`,
    );
  }
  const count = intOption("fail-next", v["fail-next"], { min: 1, max: 1_000_000 });
  const failure: TokenFailure = {};
  const error = v["fail-error"];
  if (error !== undefined) failure.error = error;
  const status = intOption("fail-status", v["fail-status"], { min: 400, max: 599 });
  if (status !== undefined) failure.status = status;
  const retryAfter = intOption("fail-retry-after", v["fail-retry-after"], { min: 0, max: 86_400 });
  if (retryAfter !== undefined) failure.retryAfterSeconds = retryAfter;
  const delay = intOption("fail-delay", v["fail-delay"], { min: 0, max: 600_000 });
  if (delay !== undefined) failure.delayMs = delay;
  if (args.flags["fail-reset"]) failure.reset = true;
  if (count === undefined && Object.keys(failure).length > 0) {
    throw new UsageError(`The --fail-* options need "--fail-next N"`);
  }
  if (count !== undefined && Object.keys(failure).length === 0) {
    throw new UsageError(
      `Option "--fail-next" needs one of --fail-error, --fail-status, ` +
        `--fail-retry-after, --fail-delay or --fail-reset`,
    );
  }
  return {
    port: intOption("port", v.port, { min: 0, max: 65535 }) ?? 0,
    autoApprove,
    accessTtlSeconds: intOption("access-ttl", v["access-ttl"], { min: 1, max: 900 }),
    sessionTtlSeconds: intOption("session-ttl", v["session-ttl"], { min: 1, max: 31_622_400 }),
    accountsFile: v.accounts,
    rolesFile: v.roles,
    clockOffsetMs: offset === undefined ? 0 : Number(offset) * 1000,
    failNext: count === undefined ? undefined : { count, failure },
  };
}

/**
 * Reads a JSON file given on the command line; `fail` words the error (what the file must hold).
 *
 * @throws {EmulatorError} From `fail`, when the file cannot be read or is not JSON.
 */
async function readJsonFile(
  path: string,
  fail: (why: string, cause?: unknown) => EmulatorError,
): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw fail(
      err instanceof Deno.errors.NotFound ? "it does not exist" : "it cannot be read",
      err,
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw fail("it is not valid JSON", err);
  }
}

/**
 * Reads an accounts file: a non-empty JSON array of `{arn, name?}`.
 *
 * @throws {EmulatorError} When it cannot be read or is not such an array.
 */
async function readAccounts(path: string): Promise<{ arn: string; name?: string }[]> {
  const fail = (why: string, cause?: unknown) =>
    new EmulatorError(
      `Cannot use the accounts file "${path}": ${why}. It must be a JSON array like ` +
        `[{"arn": "arn:aws:iam::123456789012:user/Alice", "name": "Alice"}].`,
      { cause },
    );
  const value = await readJsonFile(path, fail);
  if (!Array.isArray(value) || value.length === 0) throw fail("it is not a non-empty array");
  return value.map((entry, i) => {
    if (
      typeof entry !== "object" || entry === null || typeof entry.arn !== "string" ||
      (entry.name !== undefined && typeof entry.name !== "string")
    ) {
      throw fail(`entry ${i + 1} is not {"arn": string, "name"?: string}`);
    }
    return entry.name === undefined ? { arn: entry.arn } : { arn: entry.arn, name: entry.name };
  });
}

/**
 * Reads a roles file (lib/emulator/roles.ts says what it holds).
 *
 * @throws {EmulatorError} When it cannot be read or a role in it is malformed.
 */
async function readRoles(path: string): Promise<RolesFileEntry[]> {
  const fail = (why: string, cause?: unknown) =>
    new EmulatorError(
      `Cannot use the roles file "${path}": ${why}. It must be a JSON array like ` +
        `${ROLES_FILE_EXAMPLE}.`,
      { cause },
    );
  const value = await readJsonFile(path, fail);
  const problem = parseRoles(value);
  if (typeof problem === "string") throw fail(problem);
  return value as RolesFileEntry[];
}

/** Starts the emulator, logs requests to stdout, and stops cleanly on SIGINT or SIGTERM. */
export async function run(options: EmulatorCommandOptions, deps: Deps): Promise<number> {
  const { startEmulator } = await import("../emulator/server.ts");
  const emulatorOptions: EmulatorOptions = {
    port: options.port,
    autoApprove: options.autoApprove,
    accessTtlSeconds: options.accessTtlSeconds,
    sessionTtlSeconds: options.sessionTtlSeconds,
    clockOffsetMs: options.clockOffsetMs,
    log: (line) => deps.stdout.write(`${line}\n`),
  };
  if (options.accountsFile !== undefined) {
    emulatorOptions.accounts = await readAccounts(options.accountsFile);
  }
  if (options.rolesFile !== undefined) emulatorOptions.roles = await readRoles(options.rolesFile);
  const emulator = await startEmulator(emulatorOptions);
  if (options.failNext) {
    emulator.controls.failNextTokenCalls(options.failNext.count, options.failNext.failure);
  }
  // Listen for signals before announcing the port: a caller may signal as soon as it reads it.
  const stopped = new Promise<Deno.Signal>((resolve) => {
    const signals: Deno.Signal[] = Deno.build.os === "windows"
      ? ["SIGINT", "SIGBREAK"]
      : ["SIGINT", "SIGTERM"];
    const handlers = signals.map((name) => {
      const handler = () => {
        for (const [n, h] of handlers) Deno.removeSignalListener(n, h);
        resolve(name);
      };
      Deno.addSignalListener(name, handler);
      return [name, handler] as const;
    });
  });
  deps.stdout.write(`listening on ${emulator.url}\n`);
  const signal = await stopped;
  deps.debug(`received ${signal}, stopping`);
  await emulator.close();
  return EXIT.ok;
}
