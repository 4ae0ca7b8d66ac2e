/**
 * `aws-login credential-process [--profile NAME]`: prints the session's credentials as the
 * `credential_process` JSON (Version 1, AccessKeyId, SecretAccessKey, SessionToken, Expiration,
 * AccountId) and nothing else on stdout, so a profile with
 * `credential_process = aws-login credential-process --profile X` works in every SDK and in tools
 * that do not know `login_session`. Warnings and errors go to stderr.
 *
 * @see https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-sourcing-external.html
 * @module
 */
import { parseArgs } from "../cli/args.ts";
import type { Deps } from "../cli/deps.ts";
import { EXIT } from "../errors.ts";
import { resolveProfileCredentials } from "../session/profile_credentials.ts";
import { credentialProcessJson } from "../session/export_formats.ts";

export const help = `Usage: aws-login credential-process [--profile NAME]

Print the login session's credentials as credential_process JSON on standard output, refreshing
them first when they expire within 5 minutes. For SDKs and tools that do not read login_session,
add a second profile to ~/.aws/config:

  [profile dev-process]
  credential_process = aws-login credential-process --profile dev

The --profile of that line names the profile with the login session (dev), not the profile the
line is in (dev-process), which would run itself without end.

It may also name a role profile (role_arn + source_profile = dev): then the role's credentials are
printed, assumed with AWS STS and kept in the AWS CLI's role cache (~/.aws/cli/cache) — how
Terraform and the Go SDK reach roles in other accounts:

  [profile admin]
  role_arn = arn:aws:iam::222222222222:role/Admin
  source_profile = dev
  [profile admin-process]
  credential_process = aws-login credential-process --profile admin

A tool that runs credential_process captures its stderr, so an MFA role (mfa_serial) cannot ask
for its code there: run "aws-login status --refresh --profile admin" in a terminal first, which
fills the role cache for the role's lifetime.

Options:
  --profile NAME  Profile with the login session, or a role profile from it (default:
                  AWS_PROFILE, AWS_DEFAULT_PROFILE, then "default")
  --debug         Log what happens to stderr (secrets are never logged)
  -h, --help      Show this help
`;

/** Options of `credential-process`. */
export interface CredentialProcessOptions {
  readonly profile?: string;
}

/** @throws {UsageError} On an unknown option. */
export function parse(argv: readonly string[]): CredentialProcessOptions {
  return { profile: parseArgs(argv, { string: ["profile"] }).values.profile };
}

/** Resolves the credentials and prints the JSON. */
export async function run(options: CredentialProcessOptions, deps: Deps): Promise<number> {
  const creds = await resolveProfileCredentials(deps, { profile: options.profile });
  deps.stdout.write(credentialProcessJson(creds));
  return EXIT.ok;
}
