/**
 * `aws-login exec [--profile NAME] -- CMD ARGS…`: runs a command with the session's credentials in
 * its environment, for tools that read only environment variables. The child gets
 * `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_CREDENTIAL_EXPIRATION`,
 * `AWS_ACCOUNT_ID`, `AWS_REGION`/`AWS_DEFAULT_REGION` (when a region is known) and
 * `AWS_LOGIN_PROFILE`; `AWS_PROFILE` and `AWS_DEFAULT_PROFILE` are removed so SDKs inside do not
 * resolve the profile again. Stdio, the exit code and signals pass through.
 *
 * @module
 */
import { parseArgs } from "../cli/args.ts";
import type { Deps } from "../cli/deps.ts";
import { UsageError } from "../errors.ts";
import { resolveCredentials, type SessionCredentials } from "../session/credentials.ts";
import { credentialVariables } from "../session/export_formats.ts";
import { runChild } from "../session/child_process.ts";

export const help = `Usage: aws-login exec [--profile NAME] -- COMMAND [ARGS...]

Run COMMAND with the login session's credentials in its environment, refreshing them first when
they expire within 5 minutes.

The command gets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
AWS_CREDENTIAL_EXPIRATION, AWS_ACCOUNT_ID, AWS_REGION and AWS_DEFAULT_REGION (when the profile has
a region) and AWS_LOGIN_PROFILE; AWS_PROFILE and AWS_DEFAULT_PROFILE are removed. Standard input
and output, signals and the exit code pass through (128 + N when a signal N ended the command;
127 when it is not found). The credentials are not refreshed while the command runs: they last
up to 15 minutes.

Options:
  --profile NAME  Profile to use (default: AWS_PROFILE, AWS_DEFAULT_PROFILE, then "default")
  --debug         Log what happens to stderr (secrets are never logged)
  -h, --help      Show this help

Example:
  aws-login exec --profile dev -- terraform plan
`;

/** Options of `exec`. */
export interface ExecOptions {
  readonly profile?: string;
  /** The command and its arguments. */
  readonly command: readonly [string, ...string[]];
}

/** @throws {UsageError} When there is no `-- COMMAND`. */
export function parse(argv: readonly string[]): ExecOptions {
  const args = parseArgs(argv, { string: ["profile"], passthrough: true });
  const [command, ...rest] = args.passthrough ?? [];
  if (command === undefined || command === "") {
    throw new UsageError(`Missing the command to run: aws-login exec [--profile NAME] -- COMMAND`);
  }
  return { profile: args.values.profile, command: [command, ...rest] };
}

/**
 * The child's environment: the parent's, minus the profile selectors, plus the credentials.
 *
 * @param parent The current environment.
 * @param creds The resolved session.
 */
export function childEnvironment(
  parent: Record<string, string>,
  creds: SessionCredentials,
): Record<string, string> {
  const env = { ...parent };
  delete env.AWS_PROFILE;
  delete env.AWS_DEFAULT_PROFILE;
  // Stale values from an outer exec must not survive when this session lacks them.
  delete env.AWS_CREDENTIAL_EXPIRATION;
  delete env.AWS_ACCOUNT_ID;
  // The old name of AWS_SESSION_TOKEN, still read by some tools (boto 2, older SDKs): a stale one
  // would pair another session's token with these keys.
  delete env.AWS_SECURITY_TOKEN;
  for (const [name, value] of credentialVariables(creds)) env[name] = value;
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
  const creds = await resolveCredentials(deps, { profile: options.profile });
  if (outer !== undefined) {
    deps.stderr.write(
      `aws-login: warning: already inside "aws-login exec" for profile "${outer}"; ` +
        `running with the credentials of profile "${creds.profile}"\n`,
    );
  }
  const [command, ...args] = options.command;
  deps.debug(`exec: running "${command}" with the credentials of profile "${creds.profile}"`);
  const result = await runChild(command, args, childEnvironment(deps.env.toObject(), creds));
  if (typeof result === "number") return result;
  deps.stderr.write(`aws-login: ${result.message}\n`);
  return result.exitCode;
}
