/**
 * Credentials as text for other programs: the shell formats and the `credential_process` JSON of
 * `aws configure export-credentials`, plus `AWS_ACCOUNT_ID`, which current SDKs read.
 *
 * Variables come in the CLI's order — `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
 * `AWS_SESSION_TOKEN`, `AWS_CREDENTIAL_EXPIRATION` — then `AWS_ACCOUNT_ID`, each only when known.
 * Every value is quoted for its shell, so a hostile value can never run a command:
 * - `env`, `env-no-export`: bare when the value holds only `A-Za-z0-9_@%+=:,./-` (Python's
 *   `shlex.quote` rule, so real credentials print exactly as the AWS CLI prints them and the
 *   `env-no-export` lines still work as a `docker --env-file`), else single-quoted with `'\''`;
 *   `env-no-export` refuses a value with a line break or NUL, which an env file (one variable a
 *   line, no quoting) would read as more variables;
 * - `powershell`: double quotes, with `` ` ``, `$` and the double quotes escaped by a backtick;
 * - `fish`: double quotes, with `\`, `$` and `"` escaped by a backslash;
 * - `windows-cmd`: `set NAME=value` when the value holds only `A-Za-z0-9_+/=.:@-` (as the CLI prints
 *   it), else `set "NAME=value"`, where `& | < > ^` are literal; `cmd.exe` cannot quote `%`, `!`,
 *   `"` or line breaks, so such a value is refused rather than mangled;
 * - `process` and `json`: the `credential_process` JSON (they are the same output; `json` is the
 *   name aws-vault users know).
 *
 * @see docs/PROTOCOL.md §10, https://docs.aws.amazon.com/cli/latest/reference/configure/export-credentials.html
 * @module
 */
import { UsageError } from "../errors.ts";
import { pythonIsoformat } from "./utc_time.ts";

export { pythonIsoformat };

/** Every `--format` value. */
export const EXPORT_FORMATS = [
  "env",
  "env-no-export",
  "powershell",
  "windows-cmd",
  "fish",
  "process",
  "json",
] as const;

/** One output format. */
export type ExportFormat = typeof EXPORT_FORMATS[number];

/** The formats that print variables (all but the JSON ones). */
export const SHELL_FORMATS = ["env", "env-no-export", "powershell", "windows-cmd", "fish"] as const;

/** A format that prints variables. */
export type ShellFormat = typeof SHELL_FORMATS[number];

/** What can be exported. */
export interface ExportableCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** Expiry in milliseconds since the epoch. */
  readonly expiresAtMs?: number;
  readonly accountId?: string;
}

/** The variables to export, in order, each only when it has a value. */
export function credentialVariables(creds: ExportableCredentials): [string, string][] {
  const vars: [string, string | undefined][] = [
    ["AWS_ACCESS_KEY_ID", creds.accessKeyId],
    ["AWS_SECRET_ACCESS_KEY", creds.secretAccessKey],
    ["AWS_SESSION_TOKEN", creds.sessionToken],
    [
      "AWS_CREDENTIAL_EXPIRATION",
      creds.expiresAtMs === undefined ? undefined : pythonIsoformat(creds.expiresAtMs),
    ],
    ["AWS_ACCOUNT_ID", creds.accountId],
  ];
  return vars.filter((entry): entry is [string, string] => !!entry[1]);
}

/** Quotes a value for a POSIX shell: bare when safe (shlex.quote's set), else single quotes. */
export function quotePosix(value: string): string {
  if (value !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Quotes a value as a PowerShell double-quoted string (backtick escapes). */
export function quotePowershell(value: string): string {
  // PowerShell also treats the typographic double quotes as quote characters.
  return `"${value.replace(/[`$"\u201C\u201D\u201E]/g, (c) => "`" + c)}"`;
}

/** Quotes a value as a fish double-quoted string. */
export function quoteFish(value: string): string {
  return `"${value.replace(/[\\$"]/g, (c) => "\\" + c)}"`;
}

/**
 * Writes `set NAME=value` for cmd.exe, or `set "NAME=value"` (where the quotes make `& | < > ^`
 * literal) when the value holds anything but the plain characters.
 *
 * @throws {UsageError} When the value holds a character cmd.exe cannot take literally.
 */
export function cmdSet(name: string, value: string): string {
  const bad = /[%!"\r\n\0]/.exec(value);
  if (bad) {
    const shown = JSON.stringify(bad[0]);
    throw new UsageError(
      `Cannot write ${name} for windows-cmd: its value contains ${shown}, which cmd.exe cannot ` +
        `quote. Use --format powershell or --format process instead`,
    );
  }
  return /^[A-Za-z0-9_+/=.:@-]+$/.test(value) ? `set ${name}=${value}` : `set "${name}=${value}"`;
}

/**
 * Writes `NAME=value` for an env file (`docker --env-file`, dotenv), quoted as for a POSIX shell.
 *
 * @throws {UsageError} When the value holds CR, LF or NUL: an env file has no way to quote them,
 *   and the rest of the line would become a variable of its own.
 */
export function envFileLine(name: string, value: string): string {
  const bad = /[\r\n\0]/.exec(value);
  if (bad) {
    throw new UsageError(
      `Cannot write ${name} for env-no-export: its value contains ${JSON.stringify(bad[0])}, ` +
        `which an env file cannot hold. Use --format env or --format process instead`,
    );
  }
  return `${name}=${quotePosix(value)}`;
}

/**
 * The `credential_process` JSON: Version 1, the keys, Expiration (when known) and AccountId (when
 * known); 2-space indent and a trailing newline, like the AWS CLI's `--format process`.
 *
 * @see https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-sourcing-external.html
 */
export function credentialProcessJson(creds: ExportableCredentials): string {
  const out: Record<string, string | number> = {
    Version: 1,
    AccessKeyId: creds.accessKeyId,
    SecretAccessKey: creds.secretAccessKey,
  };
  if (creds.sessionToken) out.SessionToken = creds.sessionToken;
  if (creds.expiresAtMs !== undefined) out.Expiration = pythonIsoformat(creds.expiresAtMs);
  if (creds.accountId) out.AccountId = creds.accountId;
  return `${JSON.stringify(out, null, 2)}\n`;
}

/**
 * Formats credentials for `format`.
 *
 * @param creds The credentials.
 * @param format One of {@link EXPORT_FORMATS}.
 * @returns The text to print, ending with a newline.
 * @throws {UsageError} For windows-cmd when a value cannot be written safely.
 */
export function formatCredentials(creds: ExportableCredentials, format: ExportFormat): string {
  if (format === "process" || format === "json") return credentialProcessJson(creds);
  return formatVariables(credentialVariables(creds), format);
}

/**
 * Formats variables as assignments for a shell, each value quoted for it.
 *
 * @param vars Names and values, in order.
 * @param format One of {@link SHELL_FORMATS}.
 * @returns One line per variable, each ending with a newline.
 * @throws {UsageError} For windows-cmd when a value cannot be written safely.
 */
export function formatVariables(
  vars: readonly (readonly [string, string])[],
  format: ShellFormat,
): string {
  const lines = vars.map(([name, value]) => {
    switch (format) {
      case "env":
        return `export ${name}=${quotePosix(value)}`;
      case "env-no-export":
        return envFileLine(name, value);
      case "powershell":
        return `$Env:${name}=${quotePowershell(value)}`;
      case "windows-cmd":
        return cmdSet(name, value);
      case "fish":
        return `set -gx ${name} ${quoteFish(value)}`;
    }
  });
  return lines.map((line) => `${line}\n`).join("");
}
