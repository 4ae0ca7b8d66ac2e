/**
 * File primitives shared by the config and token-cache readers and writers: read-if-present; a
 * careful read that takes only a regular file the user owns; an atomic replace (temp file in the
 * same directory, fsync, rename) so a crash or a full disk leaves the old file or the new one, never
 * a torn one; and a careful open for lock files. Only `Deno.*`, so the credential hot path stays
 * light, and only sync calls but for {@link readTextIfExists}: measured in a refresh, the same
 * calls made asynchronously took about 4 ms more (a fresh process's first asynchronous file calls
 * are slow), while each sync call takes microseconds and nothing else needs to run meanwhile.
 *
 * @module
 */

/** Owner-only file mode for files holding credentials or configuration. */
export const FILE_MODE = 0o600;
/** Owner-only directory mode. */
export const DIR_MODE = 0o700;

const isWindows = Deno.build.os === "windows";

/**
 * Reads a text file, or returns undefined when it does not exist.
 *
 * @throws Deno's own errors for anything but NotFound (permission denied, a directory, ...).
 */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** The directory part of a path (either separator). */
export function dirname(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), isWindows ? path.lastIndexOf("\\") : -1);
  if (i < 0) return ".";
  if (i === 0) return path.slice(0, 1);
  return path.slice(0, i);
}

/** Joins path segments with the platform separator. */
export function joinPath(...parts: string[]): string {
  const sep = isWindows ? "\\" : "/";
  return parts.filter((p) => p !== "").join(sep).replace(/([\\/])[\\/]+/g, "$1");
}

/** Largest file {@link readOwnFile} reads: far above any cache file, far below a memory problem. */
export const MAX_READ_BYTES = 1 << 20;

/**
 * A read or write refused because the path is not what the user's own file would be: a symlink
 * someone else could have planted, another user's file, a FIFO or device, a file swapped meanwhile.
 */
export class UnsafePathError extends Error {
  constructor(readonly path: string, readonly reason: string, action: "read" | "write" = "write") {
    super(`Refusing to ${action} "${path}": ${reason}`);
    this.name = "UnsafePathError";
  }
}

/**
 * Where a write to `path` should land. A symlink the user owns, in a directory the user owns (a
 * dotfiles setup), is followed to its target; a link owned by someone else, or sitting in a directory
 * someone else owns (a shared /tmp), could have been planted there and is refused.
 *
 * @throws {UnsafePathError} For a link that is not the user's.
 */
export function resolveWriteTarget(path: string): string {
  return inspectWriteTarget(path).target;
}

/** {@link resolveWriteTarget}, with what lstat says of the target (undefined when it is missing). */
function inspectWriteTarget(path: string): { target: string; info?: Deno.FileInfo } {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { target: path };
    throw err;
  }
  if (!info.isSymlink) return { target: path, info };
  const uid = userId();
  if (uid !== null) {
    const dirInfo = Deno.statSync(dirname(path));
    if (info.uid !== uid || dirInfo.uid !== uid) {
      throw new UnsafePathError(path, "it is a symlink in a place another user controls");
    }
  }
  const target = Deno.realPathSync(path);
  return { target, info: unless(Deno.errors.NotFound, () => Deno.lstatSync(target)) };
}

/**
 * Reads a file as carefully as {@link writeFileAtomic} writes one: only a regular file the user
 * owns, named directly or through a symlink {@link resolveWriteTarget} accepts, and at most
 * `maxBytes`. Another user's file (behind a planted link or not), a FIFO (whose open would block
 * forever) or a device is refused.
 *
 * Deno cannot open with O_NOFOLLOW or O_NONBLOCK, so the name is examined first with lstat (which
 * never blocks), and the opened file (fstat) must be the one examined: a swap in between is caught.
 * @throws {UnsafePathError} For a file that is not the user's own regular file, or is too large.
 * @throws Deno's own errors (NotFound, IsADirectory, PermissionDenied, ...).
 */
export function readOwnFile(path: string, maxBytes = MAX_READ_BYTES): Uint8Array {
  for (let attempt = 1;; attempt++) {
    let target = path;
    let info = Deno.lstatSync(path);
    if (info.isSymlink) {
      target = resolveWriteTarget(path); // the user's own link, else refused
      info = Deno.lstatSync(target);
    }
    checkOwnFile(path, info, "read");
    using file = Deno.openSync(target);
    const opened = file.statSync();
    if (sameFile(opened, info)) return readCapped(file, opened.size, maxBytes, path);
    // Replaced between lstat and open: by an atomic writer (look again) or by someone else.
    if (attempt === 3) {
      throw new UnsafePathError(path, "it was replaced while it was being opened", "read");
    }
  }
}

/**
 * Opens `path` for reading and writing, creating it (mode `mode`) when missing, as a lock file is
 * opened: never creating or opening anything through a symlink planted after the check, and
 * refusing anything that is not the user's own regular file (a FIFO, socket or device is refused
 * before it is opened, and the opened file is checked again).
 *
 * @throws {UnsafePathError} For a symlink another user could have planted, or a file that is not
 *   the user's own regular file.
 * @throws Deno's own errors.
 */
export function openOwnFile(path: string, mode = FILE_MODE): Deno.FsFile {
  const { target, info } = inspectWriteTarget(path);
  // A socket or device is refused unopened: opening one fails oddly (a socket), or may block or
  // act (a device). What is opened is checked again below.
  if (info !== undefined) checkOwnFile(path, info, "write");
  let file: Deno.FsFile | undefined;
  for (let attempt = 1; file === undefined; attempt++) {
    if (attempt > 3) throw new UnsafePathError(path, "it keeps changing while it is being opened");
    // Without `create`, a link planted since the check cannot make us create its target. (On
    // Linux, opening a FIFO for reading and writing does not block.)
    file = unless(Deno.errors.NotFound, () => Deno.openSync(target, { read: true, write: true }));
    // createNew (O_EXCL) follows no link, not even a dangling one. It fails when another process
    // has just created the file: then look again.
    file ??= unless(
      Deno.errors.AlreadyExists,
      () => Deno.openSync(target, { read: true, write: true, createNew: true, mode }),
    );
  }
  try {
    checkOwnFile(path, file.statSync(), "write");
    return file;
  } catch (err) {
    file.close();
    throw err;
  }
}

/**
 * Replaces `path` with `data` atomically: writes a temp file beside it (mode `mode`), fsyncs it,
 * then renames it over the target. Creates missing parent directories with `dirMode`. A symlink is
 * followed only when `resolveWriteTarget` says it is the user's own.
 *
 * @param path Target file.
 * @param data Full new contents.
 * @param options.mode File mode on POSIX (default 0600).
 * @param options.dirMode Mode for directories it creates (default 0700).
 * @throws {UnsafePathError} For a symlink another user could have planted.
 * @throws Deno's own errors (PermissionDenied, no space, read-only, ...); the target is untouched.
 */
export function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  options: { mode?: number; dirMode?: number } = {},
): void {
  const mode = options.mode ?? FILE_MODE;
  Deno.mkdirSync(dirname(target), { recursive: true, mode: options.dirMode ?? DIR_MODE });
  const path = resolveWriteTarget(target);
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const suffix = crypto.getRandomValues(new Uint32Array(2)).join("");
  const temp = `${path}.${suffix}.tmp`;
  let file: Deno.FsFile | undefined;
  try {
    // createNew refuses to follow an attacker's pre-planted temp name.
    file = Deno.openSync(temp, { write: true, createNew: true, mode });
    const created = file.statSync();
    let written = 0;
    while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
    file.syncSync();
    file.close();
    file = undefined;
    // In a directory others can write to, the temp name could have been swapped since: rename
    // only the file written here, and chmod (which follows links) only that one.
    if (!sameFile(Deno.lstatSync(temp), created)) {
      throw new UnsafePathError(target, "its temporary file was replaced by someone else");
    }
    // The umask may have narrowed the mode (chmod follows links: hence after the check).
    if (!isWindows && (created.mode! & 0o777) !== mode) Deno.chmodSync(temp, mode);
    Deno.renameSync(temp, path);
  } catch (err) {
    file?.close();
    removeTempFile(temp);
    throw err;
  }
}

/**
 * Whether the open `file` is still the file named `path` (same device and inode, links followed as
 * {@link openOwnFile} follows the user's own): false once the name was removed, or now names
 * another file. Always true on Windows, where inode numbers are not compared, unless the name is
 * gone.
 *
 * @throws Deno's own errors for anything but NotFound.
 */
export function stillAt(file: Deno.FsFile, path: string): boolean {
  let named: Deno.FileInfo;
  try {
    named = Deno.statSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
  return sameFile(file.statSync(), named);
}

/** Removes a temporary file this process made, if it is still there; never throws. */
export function removeTempFile(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // never created, or already gone
  }
}

function userId(): number | null {
  return isWindows ? null : Deno.uid();
}

/** Refuses what is not a regular file owned by the user (ownership is not checked on Windows). */
function checkOwnFile(path: string, info: Deno.FileInfo, action: "read" | "write"): void {
  // A directory is a mistake, not a trap: the error open/read would give.
  if (info.isDirectory) throw new Deno.errors.IsADirectory(`Is a directory: "${path}"`);
  if (!info.isFile) {
    throw new UnsafePathError(path, "it is not a regular file (a FIFO, socket or device)", action);
  }
  const uid = userId();
  if (uid !== null && info.uid !== uid) {
    throw new UnsafePathError(path, "it belongs to another user", action);
  }
}

/** Whether two stats are of one file (always true on Windows, where this is not checked). */
function sameFile(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  return isWindows || (a.ino === b.ino && a.dev === b.dev);
}

/** What `fn` returns, or undefined when it throws an error of one kind (the rest are rethrown). */
function unless<T>(kind: new (...args: never[]) => Error, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (err instanceof kind) return undefined;
    throw err;
  }
}

/** Reads to the end, refusing more than `maxBytes` (the file may grow after fstat). */
function readCapped(file: Deno.FsFile, size: number, maxBytes: number, path: string): Uint8Array {
  let buffer = new Uint8Array(Math.min(size, maxBytes) + 1);
  let length = 0;
  for (;;) {
    const n = file.readSync(buffer.subarray(length));
    if (n === null) return buffer.subarray(0, length);
    length += n;
    if (length === buffer.length) {
      if (length > maxBytes) {
        throw new UnsafePathError(path, `it is larger than ${maxBytes} bytes`, "read");
      }
      const bigger = new Uint8Array(Math.min(length * 2, maxBytes + 1));
      bigger.set(buffer);
      buffer = bigger;
    }
  }
}
