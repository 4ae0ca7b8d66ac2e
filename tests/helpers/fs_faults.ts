/**
 * Test helpers that make writes fail the way real machines do: a read-only directory and a full disk.
 * As root (CI here), mode bits do not stop writes, so a small tmpfs is mounted instead (read-only, or
 * filled to the last byte); as a normal user, a read-only directory is made with chmod.
 *
 * @module
 */

import { outputBounded } from "./bounded.ts";

const isRoot = Deno.build.os === "linux" && Deno.uid() === 0;

/** Whether this machine can simulate a full disk (root on Linux: tmpfs). */
export const canFillDisk = isRoot;
/** Whether this machine can make a directory read-only for this user. */
export const canMakeReadOnly = isRoot || (Deno.build.os !== "windows" && Deno.uid() !== 0);

async function sh(...args: string[]): Promise<void> {
  const out = await outputBounded(args[0]!, { args: args.slice(1), stdout: "null" });
  if (!out.success) throw new Error(`${args.join(" ")}: ${out.stderr}`);
}

/**
 * Runs `fn` with `dir` mounted on a fresh tmpfs (root) so that `prepare` can place files in it before
 * the fault is applied. Returns after unmounting; `dir` is left empty.
 */
async function withTmpfs(
  dir: string,
  fault: "readonly" | "full",
  prepare: () => void | Promise<void>,
  fn: () => Promise<void>,
): Promise<void> {
  await sh("mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", dir);
  try {
    await prepare();
    if (fault === "readonly") await sh("mount", "-o", "remount,ro", dir);
    else {
      // Fill every block: a failed write of the filler is expected once the disk is full.
      await sh("sh", "-c", `dd if=/dev/zero of='${dir}/.filler' bs=4k 2>/dev/null; true`);
    }
    await fn();
  } finally {
    await sh("umount", dir);
  }
}

/**
 * Makes `dir` read-only after `prepare` has written what it needs, runs `fn`, then restores it.
 * `prepare` and `fn` see the same directory contents.
 */
export async function withReadOnlyDir(
  dir: string,
  prepare: () => void | Promise<void>,
  fn: () => Promise<void>,
): Promise<void> {
  if (isRoot) return await withTmpfs(dir, "readonly", prepare, fn);
  await prepare();
  await Deno.chmod(dir, 0o500);
  try {
    await fn();
  } finally {
    await Deno.chmod(dir, 0o700);
  }
}

/** Fills the disk under `dir` after `prepare` ran, runs `fn`, then frees it (root on Linux only). */
export async function withFullDisk(
  dir: string,
  prepare: () => void | Promise<void>,
  fn: () => Promise<void>,
): Promise<void> {
  if (!isRoot) throw new Error("withFullDisk needs root on Linux (see canFillDisk)");
  await withTmpfs(dir, "full", prepare, fn);
}
