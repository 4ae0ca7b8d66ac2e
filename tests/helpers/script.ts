/**
 * Writes an executable script that a test then runs (POSIX).
 *
 * Not with `Deno.writeTextFile`: while this process holds the file open for writing, any child
 * another test starts meanwhile (`deno test --parallel` runs test files as threads of one process)
 * inherits that descriptor until it execs, and Linux refuses to run a file anyone has open for
 * writing (ETXTBSY, "Text file busy"). The script is written by a `sh` that has exited before it
 * returns, so no process holds it open for writing when it runs.
 *
 * @module
 */
import { outputBounded } from "./bounded.ts";

/** Writes `text` to `path` with mode 0755 and returns `path`. */
export async function writeScript(path: string, text: string): Promise<string> {
  const out = await outputBounded("/bin/sh", {
    args: ["-c", 'cat > "$1" && chmod 755 "$1"', "sh", path],
    stdinText: text,
  });
  if (out.code !== 0) throw new Error(`Cannot write the script ${path}: ${out.stderr}`);
  return path;
}
