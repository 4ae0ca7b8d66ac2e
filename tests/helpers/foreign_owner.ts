/**
 * A seam for owner checks in tests that run as an ordinary user, as GitHub's runners do: only root
 * can give a file to someone else, so instead the files chosen here look owned by another user to
 * every stat call (`Deno.lstatSync`, `Deno.statSync`, `FsFile#statSync` and their async forms) while
 * the seam is in place. Files are chosen by device and inode, so a link is marked itself, not its
 * target, and a renamed file stays marked. A file created after a marked one was removed may get
 * its inode, and look marked too: give it a new name.
 *
 * @module
 */

/** The uid the marked files appear to have: `nobody`, never the user running the tests. */
export const OTHER_UID = Deno.uid() === 65534 ? 65533 : 65534;

/** The seam: mark files with {@link ForeignOwner.mark}; `using` restores the stat calls. */
export interface ForeignOwner extends Disposable {
  /** Makes the file (or link) now at `path` look owned by {@link OTHER_UID}. */
  mark(path: string): void;
}

/** Installs the seam, marking the files (or links) now at `paths`. */
export function foreignOwner(...paths: string[]): ForeignOwner {
  const marked = new Set<string>();
  const key = (info: Deno.FileInfo) => `${info.dev}:${info.ino}`;
  const disguise = (info: Deno.FileInfo): Deno.FileInfo =>
    marked.has(key(info)) ? { ...info, uid: OTHER_UID } : info;
  const original = {
    lstatSync: Deno.lstatSync,
    statSync: Deno.statSync,
    lstat: Deno.lstat,
    stat: Deno.stat,
    fileStatSync: Deno.FsFile.prototype.statSync,
    fileStat: Deno.FsFile.prototype.stat,
  };
  Deno.lstatSync = (path) => disguise(original.lstatSync(path));
  Deno.statSync = (path) => disguise(original.statSync(path));
  Deno.lstat = async (path) => disguise(await original.lstat(path));
  Deno.stat = async (path) => disguise(await original.stat(path));
  Deno.FsFile.prototype.statSync = function () {
    return disguise(original.fileStatSync.call(this));
  };
  Deno.FsFile.prototype.stat = async function () {
    return disguise(await original.fileStat.call(this));
  };
  const seam: ForeignOwner = {
    mark(path) {
      marked.add(key(original.lstatSync(path)));
    },
    [Symbol.dispose]() {
      Deno.lstatSync = original.lstatSync;
      Deno.statSync = original.statSync;
      Deno.lstat = original.lstat;
      Deno.stat = original.stat;
      Deno.FsFile.prototype.statSync = original.fileStatSync;
      Deno.FsFile.prototype.stat = original.fileStat;
    },
  };
  for (const path of paths) seam.mark(path);
  return seam;
}

/**
 * Gives the files (or links, or directories) at `paths` to another user for the test's scope: for
 * real (`chown -h`) when the tests run as root on Linux, else through the {@link foreignOwner}
 * seam, so the test runs either way. Use with `using`.
 */
export function giveAway(...paths: string[]): Disposable {
  if (Deno.build.os === "linux" && Deno.uid() === 0) {
    const out = new Deno.Command("chown", { args: ["-h", String(OTHER_UID), ...paths] })
      .outputSync();
    if (!out.success) throw new Error(`chown failed: ${new TextDecoder().decode(out.stderr)}`);
    return { [Symbol.dispose]() {} };
  }
  return foreignOwner(...paths);
}
