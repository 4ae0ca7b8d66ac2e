/**
 * Careful reads of the cache files other programs share with us (the login cache, the AWS CLI's
 * role cache): only the user's own regular file, a size cap, and re-reads of a file that looks
 * torn, since the AWS CLI and the JS SDK rewrite cache files in place (truncate, then write). Also
 * the error shapes every cache module uses for a file that cannot be read or written.
 *
 * On the credential hot path: `Deno.*` only. Messages name files, never their contents.
 *
 * @module
 */
import { CacheError, loginCommand, type ProfileMessage } from "../errors.ts";
import { readOwnFile, UnsafePathError } from "../files.ts";

/**
 * How long a cache file that looks damaged is re-read before it is reported. An in-place writer
 * leaves it torn for a fraction of a millisecond typically; on 2 busy cores the JS SDK's writer
 * (`fs.writeFile`) was measured torn for up to 17 ms, the AWS CLI's for up to 8 ms.
 */
export const TORN_READ_WINDOW_MS = 50;
/**
 * How long, in all, re-reading goes on while the file was modified within that time: a writer the
 * OS has paused mid-write (measured: up to 180 ms with the CPU overcommitted 4 times).
 */
export const TORN_WRITE_WAIT_MS = 1000;

/** What to say when the file does not exist. */
export type MissingError = (path: string, cause: Deno.errors.NotFound) => CacheError;

/**
 * Reads a cache file the way every reader must: only the user's own regular file, at most 1 MiB
 * (see `readOwnFile`). When `parse` throws — the file is empty, not JSON, or lacks fields — the
 * AWS CLI or an SDK may be rewriting it in place (truncate, then write): it is read again, with
 * pauses growing to 20 ms, for {@link TORN_READ_WINDOW_MS}, and for up to
 * {@link TORN_WRITE_WAIT_MS} while it was modified that recently, before `parse`'s error is thrown
 * (an `ERR_CACHE_CORRUPT` one with a "try again" note when the file was written just before).
 * It is always read at least twice: a reader the OS paused for the whole short window during its
 * first read has not yet given the writer any time. No pause when the first read parses.
 *
 * @param path The cache file.
 * @param parse Turns the text into the value; throws when the text is not (yet) valid.
 * @param options.missing The error for a missing file (default: `ERR_CACHE_MISSING` naming it).
 * @param options.reread Whether to read again when `parse` throws (default true).
 * @param options.sleep The pause between reads (default: a real timer); a test seam.
 * @param options.now The clock the windows are measured with (default `Date.now`); a test seam.
 * @throws {CacheError} `ERR_CACHE_MISSING` when there is no file, `ERR_CACHE_UNSAFE` when it is
 *   not the user's own regular file, `ERR_CACHE_IO` when it cannot be read; whatever `parse`
 *   throws last.
 */
export async function readCacheFile<T>(
  path: string,
  parse: (text: string) => T,
  options: {
    missing?: MissingError;
    reread?: boolean;
    /** What the file is and what to do about an unsafe one (default: a login token cache). */
    describe?: { action: string; unsafeHint: string };
    sleep?: (ms: number) => Promise<void>;
    now?: () => number;
  } = {},
): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = now();
  for (let pause = 1, reads = 1;; pause = Math.min(pause * 2, 20), reads++) {
    const text = readCacheText(path, options.missing, options.describe);
    try {
      return parse(text);
    } catch (err) {
      if (options.reread === false) throw err;
      const waited = now() - started;
      const writing = waited < TORN_WRITE_WAIT_MS &&
        modifiedWithin(path, TORN_WRITE_WAIT_MS, now());
      if (reads > 1 && waited >= TORN_READ_WINDOW_MS && !writing) {
        // Written since shortly before the first read: its writer may only be paused.
        const paused = modifiedWithin(path, waited + TORN_WRITE_WAIT_MS, now());
        throw paused ? stillWriting(path, err) : err;
      }
      await sleep(pause);
    }
  }
}

/**
 * `parse`'s error for a file still torn after {@link TORN_WRITE_WAIT_MS} that was written just
 * before the reads began, with a note: its writer may only be paused, the session fine.
 */
function stillWriting(path: string, err: unknown): unknown {
  if (!(err instanceof CacheError) || err.code !== "ERR_CACHE_CORRUPT") return err;
  return new CacheError(
    "ERR_CACHE_CORRUPT",
    (profile) =>
      `${err.messageFor(profile)} "${path}" was rewritten moments ago: if another program (such ` +
      "as the AWS CLI or an AWS SDK) is still writing it, try again in a moment.",
    { cause: err },
  );
}

/** Whether `path` was modified less than `ms` before `now` (false when that cannot be told). */
function modifiedWithin(path: string, ms: number, now: number): boolean {
  try {
    const mtime = Deno.statSync(path).mtime;
    return mtime !== null && now - mtime.getTime() < ms;
  } catch {
    return false;
  }
}

function readCacheText(
  path: string,
  missing: MissingError | undefined,
  describe: { action: string; unsafeHint: string } | undefined,
): string {
  try {
    return new TextDecoder().decode(readOwnFile(path));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw missing?.(path, err) ??
        new CacheError("ERR_CACHE_MISSING", `No cache file "${path}"`, { cause: err });
    }
    throw describe === undefined
      ? cacheFileError(path, err, "Cannot read token cache")
      : cacheFileError(path, err, describe.action, describe.unsafeHint);
  }
}

/**
 * The CacheError for a failed file operation: `ERR_CACHE_UNSAFE` for a path another user could
 * have planted (with `unsafeHint`, what to do), `ERR_CACHE_IO` for anything else.
 */
export function cacheFileError(
  path: string,
  err: unknown,
  action: string,
  unsafeHint: string | ProfileMessage = (profile) =>
    `Remove it, then run "${loginCommand(profile)}" again.`,
): CacheError {
  if (err instanceof CacheError) return err;
  if (err instanceof UnsafePathError) {
    const hint = unsafeHint;
    const head = `${action} "${path}": ${err.reason}.`;
    return new CacheError(
      "ERR_CACHE_UNSAFE",
      typeof hint === "string" ? `${head} ${hint}` : (profile) => `${head} ${hint(profile)}`,
      { cause: err },
    );
  }
  return new CacheError("ERR_CACHE_IO", `${action} "${path}": ${ioReason(err)}`, { cause: err });
}

/** A short reason for a Deno I/O error (its message names the OS error, not file contents). */
export function ioReason(err: unknown): string {
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (err instanceof Deno.errors.NotCapable) return "aws-login lacks the file permission";
  if (err instanceof Deno.errors.IsADirectory) return "it is a directory";
  if (err instanceof Error) return err.message.replace(/\s+/g, " ").trim() || err.name;
  return String(err);
}
