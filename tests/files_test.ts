import assert from "node:assert/strict";
import {
  dirname,
  joinPath,
  readOwnFile,
  readTextIfExists,
  UnsafePathError,
  writeFileAtomic,
} from "../lib/files.ts";
import {
  canFillDisk,
  canMakeReadOnly,
  withFullDisk,
  withReadOnlyDir,
} from "./helpers/fs_faults.ts";
import { outputBounded, spawnBounded } from "./helpers/bounded.ts";
import { foreignOwner, giveAway } from "./helpers/foreign_owner.ts";

const posix = Deno.build.os !== "windows";

Deno.test("readTextIfExists() returns undefined for a missing file and the text otherwise", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await readTextIfExists(joinPath(dir, "nope")), undefined);
    await Deno.writeTextFile(joinPath(dir, "f"), "hello");
    assert.equal(await readTextIfExists(joinPath(dir, "f")), "hello");
    await assert.rejects(() => readTextIfExists(dir)); // a directory is an error, not "missing"
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() creates parent directories 0700 and the file 0600", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = joinPath(dir, "a", "b", "file.json");
    writeFileAtomic(path, "{}\n");
    assert.equal(await Deno.readTextFile(path), "{}\n");
    if (posix) {
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(joinPath(dir, "a", "b"))).mode! & 0o777, 0o700);
    }
    assert.deepEqual([...Deno.readDirSync(joinPath(dir, "a", "b"))].map((e) => e.name), [
      "file.json",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() replaces a 0644 file and leaves it 0600", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = joinPath(dir, "config");
    await Deno.writeTextFile(path, "old", { mode: 0o644 });
    if (posix) await Deno.chmod(path, 0o644);
    writeFileAtomic(path, "new");
    assert.equal(await Deno.readTextFile(path), "new");
    if (posix) assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "writeFileAtomic() keeps the old file when the directory is read-only",
  ignore: !canMakeReadOnly,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = joinPath(dir, "config");
      await withReadOnlyDir(dir, () => Deno.writeTextFile(path, "old"), async () => {
        assert.throws(() => writeFileAtomic(path, "new"));
        assert.equal(await Deno.readTextFile(path), "old");
        assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["config"]);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "writeFileAtomic() keeps the old file and leaves no temp file when the disk is full",
  ignore: !canFillDisk,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = joinPath(dir, "config");
      await withFullDisk(dir, () => Deno.writeTextFile(path, "old"), async () => {
        assert.throws(() => writeFileAtomic(path, "x".repeat(64 * 1024)));
        assert.equal(await Deno.readTextFile(path), "old");
        const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
        assert.deepEqual(names, [".filler", "config"]);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "writeFileAtomic() follows the user's own symlink and writes its target",
  ignore: !posix,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(joinPath(dir, "real"), "old");
      await Deno.symlink(joinPath(dir, "real"), joinPath(dir, "link"));
      writeFileAtomic(joinPath(dir, "link"), "new");
      assert.equal(await Deno.readTextFile(joinPath(dir, "real")), "new");
      assert.ok((await Deno.lstat(joinPath(dir, "link"))).isSymlink);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "writeFileAtomic() refuses a symlink in a directory another user owns",
  ignore: !posix,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const victim = joinPath(dir, "victim");
      await Deno.writeTextFile(victim, "precious");
      const shared = joinPath(dir, "shared");
      await Deno.mkdir(shared);
      await Deno.symlink(victim, joinPath(shared, "config"));
      using _theirs = giveAway(shared);
      assert.throws(
        () => writeFileAtomic(joinPath(shared, "config"), "evil"),
        UnsafePathError,
      );
      assert.equal(await Deno.readTextFile(victim), "precious");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

const isRoot = Deno.build.os === "linux" && Deno.uid() === 0;

/** `chown -h`: gives a link itself to another user (Deno.chown follows links). */
async function chownLink(path: string, uid: number): Promise<void> {
  const out = await outputBounded("chown", { args: ["-h", String(uid), path] });
  assert.ok(out.success);
}

Deno.test({
  name: "readOwnFile() refuses a file swapped for another user's link between its check and open",
  ignore: !isRoot, // needs chown to another user
  async fn() {
    const dir = await Deno.makeTempDir();
    const openSync = Deno.openSync;
    try {
      const path = joinPath(dir, "t.json");
      await Deno.writeTextFile(path, "mine");
      const other = joinPath(dir, "other.json");
      await Deno.writeTextFile(other, "not what this name held"); // the user's, but another file
      // Another user wins the race once: between the lstat and the open.
      let swapped = false;
      Deno.openSync = (p, options) => {
        if (String(p) === path && !swapped) {
          swapped = true;
          Deno.removeSync(path);
          Deno.symlinkSync(other, path);
          new Deno.Command("chown", { args: ["-h", "65534", path] }).outputSync();
        }
        return openSync(p, options);
      };
      assert.throws(() => readOwnFile(path), UnsafePathError);
      assert.ok(swapped);
    } finally {
      Deno.openSync = openSync;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "readOwnFile() refuses a file swapped between its check and open, as an ordinary user",
  ignore: !posix,
  async fn() {
    const dir = await Deno.makeTempDir();
    const openSync = Deno.openSync;
    try {
      // As above, where the link's owner is faked (the seam), so it runs without root.
      const path = joinPath(dir, "t.json");
      await Deno.writeTextFile(path, "mine");
      const other = joinPath(dir, "other.json");
      await Deno.writeTextFile(other, "not what this name held");
      using owner = foreignOwner();
      let swapped = false;
      Deno.openSync = (p, options) => {
        if (String(p) === path && !swapped) {
          swapped = true;
          Deno.removeSync(path);
          Deno.symlinkSync(other, path);
          owner.mark(path);
        }
        return openSync(p, options);
      };
      assert.throws(() => readOwnFile(path), UnsafePathError);
      assert.ok(swapped);
      // Swapped at every open (a writer replacing the file each time, or someone else): refused
      // after three tries rather than read.
      Deno.openSync = (p, options) => {
        if (String(p) === other) {
          Deno.writeTextFileSync(`${other}.new`, "another file again");
          Deno.renameSync(`${other}.new`, other);
        }
        return openSync(p, options);
      };
      assert.throws(() => readOwnFile(other), /it was replaced while it was being opened/);
    } finally {
      Deno.openSync = openSync;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "readOwnFile() reads the user's file, and through the user's own link",
  ignore: !posix,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(joinPath(dir, "real"), "hello");
      await Deno.symlink(joinPath(dir, "real"), joinPath(dir, "link"));
      for (const name of ["real", "link"]) {
        assert.equal(new TextDecoder().decode(readOwnFile(joinPath(dir, name))), "hello");
      }
      assert.throws(() => readOwnFile(joinPath(dir, "nope")), Deno.errors.NotFound);
      if (isRoot) {
        await chownLink(joinPath(dir, "link"), 65534);
        assert.throws(() => readOwnFile(joinPath(dir, "link")), UnsafePathError);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "writeFileAtomic() neither chmods nor renames a temp file someone swapped meanwhile",
  ignore: !posix,
  async fn() {
    const dir = await Deno.makeTempDir();
    const syncSync = Deno.FsFile.prototype.syncSync;
    try {
      const path = joinPath(dir, "config");
      await Deno.writeTextFile(path, "old");
      const victim = joinPath(dir, "victim");
      await Deno.writeTextFile(victim, "precious", { mode: 0o644 });
      await Deno.chmod(victim, 0o644);
      // In a directory others can write to, the temp name is replaced by a link while we write.
      Deno.FsFile.prototype.syncSync = function () {
        syncSync.call(this);
        for (const entry of Deno.readDirSync(dir)) {
          if (!entry.name.endsWith(".tmp")) continue;
          Deno.removeSync(joinPath(dir, entry.name));
          Deno.symlinkSync(victim, joinPath(dir, entry.name));
        }
      };
      assert.throws(() => writeFileAtomic(path, "new"), UnsafePathError);
      assert.equal(await Deno.readTextFile(path), "old");
      assert.ok(!(await Deno.lstat(path)).isSymlink);
      assert.equal((await Deno.stat(victim)).mode! & 0o777, 0o644);
    } finally {
      Deno.FsFile.prototype.syncSync = syncSync;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "writeFileAtomic(): readers and a SIGKILL mid-write find the old file or the new one, whole",
  ignore: !posix,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = joinPath(dir, "config");
      // A writer that rewrites the file in place (truncate, then write) shows a torn file to the
      // reads below in nearly every run, and often leaves one when killed. Large writes widen that
      // window; with a temp file and a rename there is none.
      const size = 1 << 20;
      const module = new URL("../lib/files.ts", import.meta.url).href;
      const code = `
        const { writeFileAtomic } = await import(${JSON.stringify(module)});
        const a = new Uint8Array(${size}).fill(65);
        const b = new Uint8Array(${size}).fill(66);
        writeFileAtomic(${JSON.stringify(path)}, a);
        console.log("writing");
        for (let i = 0;; i++) writeFileAtomic(${JSON.stringify(path)}, i % 2 ? a : b);`;
      const assertWhole = (bytes: Uint8Array, when: string) => {
        assert.equal(bytes.length, size, `${when}: torn (${bytes.length} bytes)`);
        const first = bytes[0]!;
        assert.ok(first === 65 || first === 66);
        assert.ok(bytes.every((b) => b === first), `${when}: a mix of old and new`);
      };
      for (let round = 0; round < 2; round++) {
        await using writer = spawnBounded(Deno.execPath(), {
          args: ["eval", "-q", code],
          stdin: "null",
          stdout: "piped",
          stderr: "inherit",
        });
        const reader = writer.stdout.pipeThrough(new TextDecoderStream()).getReader();
        assert.equal((await reader.read()).value, "writing\n");
        for (let read = 0; read < 20; read++) {
          assertWhole(await Deno.readFile(path), `round ${round}, read ${read}`);
        }
        writer.kill("SIGKILL");
        await writer.status;
        await reader.cancel();
        assertWhole(await Deno.readFile(path), `round ${round}, after SIGKILL`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("dirname() and joinPath() handle the edge cases", () => {
  assert.equal(dirname("/a/b/c"), "/a/b");
  assert.equal(dirname("/a"), "/");
  assert.equal(dirname("file"), ".");
  if (posix) assert.equal(joinPath("/a/", "b", "", "c"), "/a/b/c");
});
