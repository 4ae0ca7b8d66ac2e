/**
 * File primitives shared by the config and token-cache writers: read-if-present, and an atomic
 * replace (temp file in the same directory, fsync, rename) so a crash or a full disk leaves the old
 * file or the new one, never a torn one. Only `Deno.*`, so the credential hot path stays light.
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

/** A write refused because the path is a symlink someone else could have planted. */
export class UnsafePathError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`Refusing to write "${path}": ${reason}`);
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
export async function resolveWriteTarget(path: string): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return path;
    throw err;
  }
  if (!info.isSymlink) return path;
  const uid = isWindows ? null : Deno.uid();
  if (uid !== null) {
    const dirInfo = await Deno.stat(dirname(path));
    if (info.uid !== uid || dirInfo.uid !== uid) {
      throw new UnsafePathError(path, "it is a symlink in a place another user controls");
    }
  }
  return await Deno.realPath(path);
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
export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  options: { mode?: number; dirMode?: number } = {},
): Promise<void> {
  const mode = options.mode ?? FILE_MODE;
  await Deno.mkdir(dirname(target), { recursive: true, mode: options.dirMode ?? DIR_MODE });
  const path = await resolveWriteTarget(target);
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const suffix = crypto.getRandomValues(new Uint32Array(2)).join("");
  const temp = `${path}.${suffix}.tmp`;
  let file: Deno.FsFile | undefined;
  try {
    // createNew refuses to follow an attacker's pre-planted temp name.
    file = await Deno.open(temp, { write: true, createNew: true, mode });
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
    file.close();
    file = undefined;
    if (!isWindows) await Deno.chmod(temp, mode); // the umask may have narrowed or widened it
    await Deno.rename(temp, path);
  } catch (err) {
    file?.close();
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
}
