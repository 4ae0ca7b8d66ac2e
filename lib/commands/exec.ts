/**
 * `aws-login exec [--profile NAME] [--no-server] -- CMD ARGS…`: runs a command with the session's
 * credentials available for its whole run.
 *
 * By default the child gets a credential endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI`,
 * `AWS_CONTAINER_AUTHORIZATION_TOKEN`, see `lib/session/credential_server.ts`) that answers with
 * credentials refreshed as they expire, and no static keys — the SDKs read static keys first and
 * would never ask the endpoint. With `--no-server` it gets today's static `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` and `AWS_CREDENTIAL_EXPIRATION`, which last at most
 * 15 minutes. Either way it gets `AWS_ACCOUNT_ID`, `AWS_REGION`/`AWS_DEFAULT_REGION` (when a
 * region is known) and `AWS_LOGIN_PROFILE`; `AWS_PROFILE` and `AWS_DEFAULT_PROFILE` are removed
 * so SDKs inside do not resolve the profile again. Stdio, the exit code and signals pass through;
 * the endpoint stops when the child exits. Whatever fails in the endpoint while the child runs
 * (even an uncaught error) never ends the child: exec says that credentials can no longer be
 * served, stops the endpoint and still returns the child's exit status.
 *
 * @module
 */
import { parseArgs } from "../cli/args.ts";
import type { Deps } from "../cli/deps.ts";
import { UsageError } from "../errors.ts";
import { resolveProfileCredentials } from "../session/profile_credentials.ts";
import type { ResolvedCredentials } from "../session/credential_types.ts";
import { credentialVariables, quotePosix } from "../session/export_formats.ts";
import { runChild } from "../session/child_process.ts";

export const help = `Usage: aws-login exec [--profile NAME] [--no-server] -- COMMAND [ARGS...]

Run COMMAND with the login session's credentials, refreshed for as long as it runs.
A role profile (role_arn + source_profile, ending in a login session) gives the role's
credentials, assumed with AWS STS and kept in the AWS CLI's role cache (~/.aws/cli/cache); the
role is assumed again before it expires, and AWS_ACCOUNT_ID is the role's account.

COMMAND gets a local credential endpoint that every current AWS SDK, the AWS CLI and Terraform
read: AWS_CONTAINER_CREDENTIALS_FULL_URI (http://127.0.0.1:PORT/PATH, for this run only) and
AWS_CONTAINER_AUTHORIZATION_TOKEN (a random token it must send), and no static keys. The endpoint
answers with credentials refreshed when 5 minutes or less remain, until the session ends, and
stops when COMMAND exits. Should the endpoint fail, COMMAND keeps running: aws-login says on stderr
that it can no longer serve credentials, and still exits with COMMAND's status.

With --no-server, COMMAND gets static AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
and AWS_CREDENTIAL_EXPIRATION instead (refreshed first when they expire within 5 minutes), for
tools that read only those; they are not refreshed while it runs and last up to 15 minutes.

Either way COMMAND gets AWS_ACCOUNT_ID, AWS_REGION and AWS_DEFAULT_REGION (when the profile has a
region) and AWS_LOGIN_PROFILE; AWS_PROFILE and AWS_DEFAULT_PROFILE are removed. Standard input and
output, signals and the exit code pass through (128 + N when a signal N ended the command; 127
when it is not found).

Options:
  --profile NAME  Profile to use (default: AWS_PROFILE, AWS_DEFAULT_PROFILE, then "default")
  --no-server     Static credential variables instead of the credential endpoint
  --debug         Log what happens to stderr (secrets are never logged)
  -h, --help      Show this help

Examples:
  aws-login exec --profile dev -- terraform apply
  aws-login exec --profile dev --no-server -- ./script-that-reads-AWS_ACCESS_KEY_ID.sh
`;

/** Options of `exec`. */
export interface ExecOptions {
  readonly profile?: string;
  /** Serve refreshed credentials from a local endpoint (default), or set static variables. */
  readonly server: boolean;
  /** The command and its arguments. */
  readonly command: readonly [string, ...string[]];
}

const SPEC = { boolean: ["no-server"], string: ["profile"], passthrough: true } as const;

/**
 * @throws {UsageError} When there is no `-- COMMAND`; a command given without `--`
 *   (`exec --profile dev sh -c true`) gets the line with `--` put in.
 */
export function parse(argv: readonly string[]): ExecOptions {
  const start = argv.includes("--") ? undefined : commandStart(argv);
  if (start !== undefined) {
    parseArgs(argv.slice(0, start), SPEC); // an unknown option is reported as such
    const fixed = [...argv.slice(0, start), "--", ...argv.slice(start)].map(quotePosix);
    throw new UsageError(
      `Put "--" before the command to run, so its options stay its own: ` +
        `"aws-login exec ${fixed.join(" ")}"`,
    );
  }
  const args = parseArgs(argv, SPEC);
  const [command, ...rest] = args.passthrough ?? [];
  if (command === undefined || command === "") {
    throw new UsageError(`Missing the command to run: aws-login exec [--profile NAME] -- COMMAND`);
  }
  return {
    profile: args.values.profile,
    server: !args.flags["no-server"],
    command: [command, ...rest],
  };
}

/** Variables of other credential sources an outer environment may hold; none survive into the child. */
const CREDENTIAL_SOURCES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  // The old name of AWS_SESSION_TOKEN, still read by some tools (boto 2, older SDKs): a stale one
  // would pair another session's token with these keys.
  "AWS_SECURITY_TOKEN",
  "AWS_CREDENTIAL_EXPIRATION",
  "AWS_ACCOUNT_ID",
  // The relative URI and the token file win over the full URI and the token in every SDK.
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

/**
 * The child's environment: the parent's, minus the profile selectors and any other credential
 * source, plus either the endpoint's two variables or the static credentials.
 *
 * @param parent The current environment.
 * @param creds The resolved session.
 * @param endpoint The credential endpoint's variables; undefined for static credentials.
 */
export function childEnvironment(
  parent: Record<string, string>,
  creds: ResolvedCredentials,
  endpoint?: readonly [string, string][],
): Record<string, string> {
  const env = { ...parent };
  delete env.AWS_PROFILE;
  delete env.AWS_DEFAULT_PROFILE;
  for (const name of CREDENTIAL_SOURCES) delete env[name];
  if (endpoint === undefined) {
    for (const [name, value] of credentialVariables(creds)) env[name] = value;
  } else {
    for (const [name, value] of endpoint) env[name] = value;
    if (creds.accountId) env.AWS_ACCOUNT_ID = creds.accountId;
  }
  if (creds.region) {
    env.AWS_REGION = creds.region;
    env.AWS_DEFAULT_REGION = creds.region;
  }
  env.AWS_LOGIN_PROFILE = creds.profile;
  return env;
}

/** Resolves the credentials, runs the command and returns its exit status. */
export async function run(options: ExecOptions, deps: Deps): Promise<number> {
  const outer = deps.env.get("AWS_LOGIN_PROFILE");
  // Resolved first either way: a missing or ended session fails before the command starts.
  const creds = await resolveProfileCredentials(deps, { profile: options.profile });
  if (outer !== undefined) {
    deps.stderr.write(
      `aws-login: warning: already inside "aws-login exec" for profile "${outer}"; ` +
        `running with the credentials of profile "${creds.profile}"\n`,
    );
  }
  const [command, ...args] = options.command;
  if (!options.server) {
    deps.debug(`exec: running "${command}" with the credentials of profile "${creds.profile}"`);
    return report(
      await runChild(command, args, childEnvironment(deps.env.toObject(), creds)),
      deps,
    );
  }
  const { startCredentialServer } = await import("../session/credential_server.ts");
  const server = startCredentialServer(deps, { profile: creds.profile });
  server.sessionOver.then((err) => {
    deps.stderr.write(
      `aws-login: the credential endpoint can no longer answer "${command}": ${err.message}\n`,
    );
  });
  // Nothing that goes wrong in the endpoint may take the command down with it (a `terraform
  // apply` killed halfway): say that credentials cannot be served any more and keep waiting.
  let lost = false;
  const cannotServe = (what: string, err: unknown) => {
    // The error's name only: a message could hold the endpoint's path or token.
    deps.debug(`exec: ${what}: ${err instanceof Error ? err.name : typeof err}`);
    if (lost) return;
    lost = true;
    deps.stderr.write(
      `aws-login: ${what}; "${command}" keeps running, but aws-login can no longer serve it ` +
        `credentials\n`,
    );
    server.close().catch(() => {});
  };
  server.failed.then((err) => cannotServe("the credential endpoint stopped", err));
  const stopGuard = guardUncaught((err) => cannotServe("the credential endpoint failed", err));
  try {
    deps.debug(
      `exec: running "${command}" with a credential endpoint on 127.0.0.1:${server.port} for ` +
        `profile "${creds.profile}"`,
    );
    const env = childEnvironment(deps.env.toObject(), creds, server.variables());
    return report(await runChild(command, args, env), deps);
  } finally {
    stopGuard();
    await server.close().catch(() => {});
  }
}

/**
 * Catches what would otherwise end the process (an uncaught exception, an unhandled rejection)
 * until the returned function is called: while the child runs, that can only come from the
 * endpoint's code.
 */
function guardUncaught(onError: (err: unknown) => void): () => void {
  const onException = (event: ErrorEvent) => {
    event.preventDefault();
    onError(event.error);
  };
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    onError(event.reason);
  };
  globalThis.addEventListener("error", onException);
  globalThis.addEventListener("unhandledrejection", onRejection);
  return () => {
    globalThis.removeEventListener("error", onException);
    globalThis.removeEventListener("unhandledrejection", onRejection);
  };
}

function report(result: Awaited<ReturnType<typeof runChild>>, deps: Deps): number {
  if (typeof result === "number") return result;
  deps.stderr.write(`aws-login: ${result.message}\n`);
  return result.exitCode;
}

/**
 * Where a command given without `--` starts: the first argument that is neither an option nor the
 * value of `--profile`; undefined when there is none.
 */
function commandStart(argv: readonly string[]): number | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--profile") i++;
    else if (!arg.startsWith("-") || arg === "-") return i;
  }
  return undefined;
}
