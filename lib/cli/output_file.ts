/**
 * Where `serve` and `export-env` put what they print when it holds a secret (the endpoint's token,
 * credentials): `--output FILE`, created owner-only (0600) with an atomic write, never through a
 * symlink and never over another user's file; and the warning for a secret redirected into a file
 * others can read (`> creds.env` under umask 022 makes it 0644). Only `Deno.*` and files.ts.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { dirname, FILE_MODE, UnsafePathError, writeFileAtomic } from "../files.ts";

/**
 * Writes `text` to `path` as a new owner-only file, atomically (a crash leaves the old file or the
 * new one, never a torn one or a readable temp file).
 *
 * @param options.uid The user the file must belong to (tests fake another owner with it; default
 *   this process's user; null skips the check, as on Windows).
 * @throws {UsageError} When `path` is a symlink, not a regular file, another user's file, or
 *   cannot be written; nothing is written then.
 */
export function writeOutputFile(
  path: string,
  text: string,
  options: { uid?: number | null } = {},
): void {
  const uid = options.uid !== undefined
    ? options.uid
    : Deno.build.os === "windows"
    ? null
    : Deno.uid();
  const refuse = (why: string, cause?: unknown) =>
    new UsageError(`Refusing to write --output "${path}": ${why}`, { cause });
  let info: Deno.FileInfo | undefined;
  try {
    info = Deno.lstatSync(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw refuse(describe(err), err);
  }
  if (info !== undefined) {
    // A link could point anywhere (another user's file, a file others can read): name the file.
    if (info.isSymlink) throw refuse("it is a symbolic link; give the path of a file instead");
    if (!info.isFile) throw refuse("it is not a regular file");
    if (uid !== null && info.uid !== uid) throw refuse("it belongs to another user");
  }
  try {
    Deno.statSync(dirname(path));
  } catch (err) {
    throw refuse(
      err instanceof Deno.errors.NotFound ? "its directory does not exist" : describe(err),
      err,
    );
  }
  try {
    writeFileAtomic(path, text, { mode: FILE_MODE });
  } catch (err) {
    if (err instanceof UnsafePathError) throw refuse(err.reason, err);
    throw refuse(describe(err), err);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The warning to give when standard output is a regular file that group or others may read
 * (`serve … > creds.env` under umask 022), else undefined.
 *
 * @param mode The permission bits of the file standard output writes to, undefined when it is not
 *   a regular file (a terminal, a pipe) or cannot be told.
 * @param option How the command writes a file safely instead (`--output FILE`).
 */
export function exposedStdoutWarning(mode: number | undefined): string | undefined {
  if (mode === undefined || (mode & 0o077) === 0) return undefined;
  return `aws-login: warning: standard output is a file others can read ` +
    `(mode ${(mode & 0o777).toString(8).padStart(3, "0")}), and what is written there is ` +
    `secret: use --output FILE (created 0600) instead of a redirection, or run "umask 077" ` +
    `first (and remove the file)\n`;
}
