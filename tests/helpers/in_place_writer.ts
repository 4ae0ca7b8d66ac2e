/**
 * Test helper: another program rewriting a cache file in place, as the AWS CLI and the AWS SDK for
 * JavaScript do (truncate, then write; no lock, no rename), only far more often and in two chunks
 * with a pause between, so a reader often finds the file empty or half-written.
 *
 * {@link startInPlaceWriter} runs this module as a subprocess:
 * `deno run -A in_place_writer.ts PATH MAX_MS` rewrites PATH with its current contents (first half,
 * 2 ms pause, second half, 3 ms pause, again) until its stdin closes or MAX_MS have passed, then
 * prints how many rewrites it made.
 *
 * @module
 */
import { spawnBounded } from "./bounded.ts";

/** The writer subprocess; disposing of it stops it after a whole rewrite. */
export interface InPlaceWriter extends AsyncDisposable {
  /** Stops the writer and returns how many times it rewrote the file. */
  stop(): Promise<number>;
}

/**
 * Starts rewriting `path` in place from another process; resolves once the first rewrite is done.
 *
 * @param path A file holding the contents to keep rewriting.
 * @param maxMs Bound on the writer's life, whatever happens to the test (default 60 s).
 */
export async function startInPlaceWriter(path: string, maxMs = 60_000): Promise<InPlaceWriter> {
  const child = spawnBounded(Deno.execPath(), {
    args: ["run", "-q", "-A", import.meta.filename!, path, String(maxMs)],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
    deadlineMs: maxMs + 30_000,
  });
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) break;
    out += value;
  }
  if (!out.startsWith("writing")) {
    await child[Symbol.asyncDispose]().catch(() => {});
    throw new Error(`The in-place writer did not start: ${out}`);
  }
  let stopped: Promise<number> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      await child.stdin.close();
      for (;;) {
        const { value, done } = await lines.read();
        if (done) break;
        out += value;
      }
      await child[Symbol.asyncDispose]();
      return Number(out.match(/rewrites (\d+)/)?.[1] ?? NaN);
    })();
  return { stop, [Symbol.asyncDispose]: async () => void await stop() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(path: string, maxMs: number): Promise<void> {
  const bytes = Deno.readFileSync(path);
  const half = Math.floor(bytes.length / 2);
  const deadline = Date.now() + maxMs;
  let stop = false;
  Deno.stdin.readable.pipeTo(new WritableStream()).finally(() => stop = true);
  let rewrites = 0;
  while (!stop && Date.now() < deadline) {
    const file = Deno.openSync(path, { write: true, truncate: true });
    try {
      writeAll(file, bytes.subarray(0, half));
      await sleep(2);
      writeAll(file, bytes.subarray(half));
    } finally {
      file.close();
    }
    if (rewrites++ === 0) console.log("writing");
    await sleep(3);
  }
  console.log(`rewrites ${rewrites}`);
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}

if (import.meta.main) {
  await main(Deno.args[0]!, Number(Deno.args[1]));
  Deno.exit(0); // without waiting for stdin to close
}
