import assert from "node:assert/strict";
import { exposedStdoutWarning, writeOutputFile } from "../../lib/cli/output_file.ts";
import { UsageError } from "../../lib/errors.ts";

const posix = { test: Deno.build.os === "windows" ? Deno.test.ignore : Deno.test };

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "aws-login-output-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

function modeOf(path: string): number {
  return Deno.statSync(path).mode! & 0o777;
}

posix.test("writeOutputFile() creates an owner-only file even under umask 022", async () => {
  await using dir = await tempDir();
  const old = Deno.umask(0o022);
  try {
    writeOutputFile(`${dir.path}/creds.env`, "SECRET=1\n");
  } finally {
    Deno.umask(old);
  }
  assert.equal(await Deno.readTextFile(`${dir.path}/creds.env`), "SECRET=1\n");
  assert.equal(modeOf(`${dir.path}/creds.env`), 0o600);
  // Nothing else is left in the directory (no temp file).
  assert.deepEqual((await Array.fromAsync(Deno.readDir(dir.path))).map((e) => e.name), [
    "creds.env",
  ]);
});

posix.test("writeOutputFile() replaces the user's own readable file with an owner-only one", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/.env`;
  await Deno.writeTextFile(path, "OLD=1\n", { mode: 0o644 });
  await Deno.chmod(path, 0o644);
  writeOutputFile(path, "NEW=1\n");
  assert.equal(await Deno.readTextFile(path), "NEW=1\n");
  assert.equal(modeOf(path), 0o600);
});

posix.test("writeOutputFile() refuses a symlink, even to the user's own file, and writes nothing", async () => {
  await using dir = await tempDir();
  const target = `${dir.path}/target`;
  await Deno.writeTextFile(target, "KEEP\n");
  await Deno.symlink(target, `${dir.path}/link`);
  assert.throws(
    () => writeOutputFile(`${dir.path}/link`, "SECRET=1\n"),
    (err) =>
      err instanceof UsageError && /Refusing to write --output ".*link": it is a symbolic link/
        .test(err.message),
  );
  assert.equal(await Deno.readTextFile(target), "KEEP\n");
  assert.ok(Deno.lstatSync(`${dir.path}/link`).isSymlink);
  // A dangling link (a name planted for the file to be created through) too.
  await Deno.symlink(`${dir.path}/nowhere`, `${dir.path}/dangling`);
  assert.throws(() => writeOutputFile(`${dir.path}/dangling`, "SECRET=1\n"), UsageError);
  await assert.rejects(() => Deno.lstat(`${dir.path}/nowhere`), Deno.errors.NotFound);
});

posix.test("writeOutputFile() refuses a file another user owns (faked owner), and writes nothing", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/theirs.env`;
  await Deno.writeTextFile(path, "THEIRS\n");
  // The file is ours; the seam says we are someone else, as it would be for another user's file.
  assert.throws(
    () => writeOutputFile(path, "SECRET=1\n", { uid: Deno.uid()! + 1 }),
    (err) => err instanceof UsageError && /it belongs to another user/.test(err.message),
  );
  assert.equal(await Deno.readTextFile(path), "THEIRS\n");
  // A new file is not anyone's yet: the check is for existing files only.
  writeOutputFile(`${dir.path}/new.env`, "X=1\n", { uid: Deno.uid()! + 1 });
});

posix.test("writeOutputFile() refuses a directory, a FIFO and a missing directory with one line", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/sub`);
  await new Deno.Command("mkfifo", { args: [`${dir.path}/fifo`] }).output();
  for (
    const [path, why] of [
      [`${dir.path}/sub`, /it is not a regular file/],
      [`${dir.path}/fifo`, /it is not a regular file/],
      [`${dir.path}/missing/creds.env`, /its directory does not exist/],
    ] as const
  ) {
    assert.throws(
      () => writeOutputFile(path, "SECRET=1\n"),
      (err) => err instanceof UsageError && why.test(err.message) && !err.message.includes("\n"),
    );
  }
  await assert.rejects(() => Deno.stat(`${dir.path}/missing`), Deno.errors.NotFound);
});

Deno.test("exposedStdoutWarning() warns for a file group or others can read, naming the fixes", () => {
  for (const mode of [0o644, 0o640, 0o604, 0o660, 0o666]) {
    const warning = exposedStdoutWarning(mode);
    assert.ok(warning, mode.toString(8));
    assert.match(warning, /^aws-login: warning: standard output is a file others can read/);
    assert.match(warning, new RegExp(`mode ${mode.toString(8)}`));
    assert.match(warning, /--output FILE/);
    assert.match(warning, /umask 077/);
  }
  assert.equal(exposedStdoutWarning(0o600), undefined);
  assert.equal(exposedStdoutWarning(0o400), undefined);
  assert.equal(exposedStdoutWarning(undefined), undefined);
});
