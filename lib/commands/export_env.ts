/**
 * `aws-login export-env [--profile NAME] [--format FORMAT] [--output FILE]`: prints the session's
 * credentials as shell variables (or credential_process JSON) with the names and syntax of
 * `aws configure export-credentials`, plus `AWS_ACCOUNT_ID`; see `lib/session/export_formats.ts`.
 * `--output` writes them into an owner-only file instead; in the formats meant for files, a
 * redirection into a file others can read gets a warning.
 *
 * @see docs/PROTOCOL.md §10
 * @module
 */
import { choiceOption, parseArgs } from "../cli/args.ts";
import type { Deps } from "../cli/deps.ts";
import { exposedStdoutWarning, writeOutputFile } from "../cli/output_file.ts";
import { EXIT } from "../errors.ts";
import { resolveProfileCredentials } from "../session/profile_credentials.ts";
import { EXPORT_FORMATS, type ExportFormat, formatCredentials } from "../session/export_formats.ts";

export const help = `Usage: aws-login export-env [--profile NAME] [--format FORMAT] [--output FILE]

Print the login session's credentials, refreshing them first when they expire within 5 minutes.
A role profile (role_arn + source_profile, ending in a login session) gives the role's
credentials, assumed with AWS STS and kept in the AWS CLI's role cache (~/.aws/cli/cache).

Formats (default env):
  env            export AWS_ACCESS_KEY_ID=...        (bash, zsh, sh:
                   creds=$(aws-login export-env) && eval "$creds")
  env-no-export  AWS_ACCESS_KEY_ID=...               (.env files, docker --env-file)
  powershell     $Env:AWS_ACCESS_KEY_ID="..."        (Invoke-Expression)
  windows-cmd    set AWS_ACCESS_KEY_ID=...
  fish           set -gx AWS_ACCESS_KEY_ID "..."     (aws-login export-env --format fish | source)
  process, json  credential_process JSON (Version 1, AccessKeyId, ..., Expiration, AccountId)

Variables: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
AWS_CREDENTIAL_EXPIRATION, AWS_ACCOUNT_ID. Values are quoted for their shell.

Options:
  --profile NAME   Profile to use (default: AWS_PROFILE, AWS_DEFAULT_PROFILE, then "default")
  --format FORMAT  One of ${EXPORT_FORMATS.join(", ")}
  --output FILE    Write to FILE (created 0600, replaced whole; not a symlink or another user's
                   file) instead of standard output: a redirection (> FILE) under the usual
                   umask 022 leaves the credentials readable by every local user
  --debug          Log what happens to stderr (secrets are never logged)
  -h, --help       Show this help

Example (a .env file for docker --env-file, readable by you only):
  aws-login export-env --profile dev --format env-no-export --output .env
`;

/** Options of `export-env`. */
export interface ExportEnvOptions {
  readonly profile?: string;
  readonly format: ExportFormat;
  /** Where to write instead of stdout. */
  readonly output?: string;
}

/** @throws {UsageError} On an unknown option or format. */
export function parse(argv: readonly string[]): ExportEnvOptions {
  const args = parseArgs(argv, { string: ["profile", "format", "output"] });
  return {
    profile: args.values.profile,
    format: choiceOption("format", args.values.format, EXPORT_FORMATS) ?? "env",
    output: args.values.output,
  };
}

/** The formats written to files (`.env`, JSON), whose redirection into a file is checked. */
const STORED_FORMATS: ReadonlySet<ExportFormat> = new Set(["env-no-export", "process", "json"]);

/** Resolves the credentials and prints them in the chosen format. */
export async function run(options: ExportEnvOptions, deps: Deps): Promise<number> {
  const creds = await resolveProfileCredentials(deps, { profile: options.profile });
  // Format before writing anything, so a refused value leaves stdout empty.
  const text = formatCredentials(creds, options.format);
  if (options.output !== undefined) {
    writeOutputFile(options.output, text);
    return EXIT.ok;
  }
  // Telling a file from a pipe costs tens of milliseconds (see fileMode): spent only for the
  // formats meant to be stored, not on every `creds=$(aws-login export-env)`.
  if (STORED_FORMATS.has(options.format)) {
    const warning = exposedStdoutWarning(await deps.stdout.fileMode?.());
    if (warning) deps.stderr.write(warning);
  }
  deps.stdout.write(text);
  return EXIT.ok;
}
