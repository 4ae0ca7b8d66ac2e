/**
 * Test helper: another program rewriting a cache file in place, as the AWS CLI and the AWS SDK for
 * JavaScript do (truncate, then write; no lock, no rename), only far more often and in two chunks
 * with a pause between, so a reader often finds the file empty or half-written.
 *
 * {@link startInPlaceWriter} runs this module as a subprocess:
 * `deno run -A in_place_writer.ts PATH MAX_MS` rewrites PATH with its current contents (first half,
 * 2 ms pause, second half, 3 ms pause, again) until its stdin closes or MAX_MS have passed, then
 * prints how many rewrites it made. {@link startSteppedWriter} runs it as
 * `deno run -A in_place_writer.ts PATH MAX_MS stepped`: one half-written rewrite per command, so a
 * test decides exactly when the file is torn and when it is whole again, whatever the load.
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

/** A writer that rewrites the file in place one step at a time, when told to. */
export interface SteppedWriter extends AsyncDisposable {
  /**
   * Truncates the file and writes its first `bytes` bytes (default: half); resolves once it is
   * torn so.
   */
  tear(bytes?: number): Promise<void>;
  /** Writes the rest and closes the file; resolves once it is whole again. */
  finish(): Promise<void>;
}

/**
 * Starts a writer in another process that tears and finishes the file only when told to.
 *
 * @param path A file holding the contents to rewrite.
 * @param maxMs Bound on the writer's life, whatever happens to the test (default 60 s).
 */
export function startSteppedWriter(path: string, maxMs = 60_000): SteppedWriter {
  const child = spawnBounded(Deno.execPath(), {
    args: ["run", "-q", "-A", import.meta.filename!, path, String(maxMs), "stepped"],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
    deadlineMs: maxMs + 30_000,
  });
  const commands = child.stdin.getWriter();
  const replies = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  const step = async (command: string, reply: string) => {
    await commands.write(new TextEncoder().encode(`${command}\n`));
    while (!pending.includes("\n")) {
      const { value, done } = await replies.read();
      if (done) throw new Error(`The stepped writer ended before "${reply}": ${pending}`);
      pending += value;
    }
    const line = pending.slice(0, pending.indexOf("\n"));
    pending = pending.slice(line.length + 1);
    if (line !== reply) throw new Error(`The stepped writer said "${line}", not "${reply}"`);
  };
  return {
    tear: (bytes) => step(`tear ${bytes ?? ""}`.trim(), "torn"),
    finish: () => step("finish", "whole"),
    async [Symbol.asyncDispose]() {
      await commands.close().catch(() => {});
      await replies.cancel().catch(() => {});
      await child[Symbol.asyncDispose]();
    },
  };
}

async function stepped(path: string): Promise<void> {
  const bytes = Deno.readFileSync(path);
  let file: Deno.FsFile | undefined;
  let written = 0;
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let buffered = "";
  for await (const chunk of lines) {
    buffered += chunk;
    for (let end; (end = buffered.indexOf("\n")) >= 0;) {
      const command = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      const [verb, count] = command.split(" ");
      if (verb === "tear" && file === undefined) {
        written = count === undefined ? Math.floor(bytes.length / 2) : Number(count);
        file = Deno.openSync(path, { write: true, truncate: true });
        writeAll(file, bytes.subarray(0, written));
        console.log("torn");
      } else if (verb === "finish" && file !== undefined) {
        writeAll(file, bytes.subarray(written));
        file.close();
        file = undefined;
        console.log("whole");
      } else {
        console.log(`unexpected ${command}`);
      }
    }
  }
  file?.close();
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
  if (Deno.args[2] === "stepped") {
    const bound = setTimeout(() => Deno.exit(1), Number(Deno.args[1]));
    await stepped(Deno.args[0]!);
    clearTimeout(bound);
  } else await main(Deno.args[0]!, Number(Deno.args[1]));
  Deno.exit(0); // without waiting for stdin to close
}
