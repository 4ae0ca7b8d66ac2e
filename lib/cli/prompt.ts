/**
 * Questions on the terminal: the question goes to stderr, the answer is one line of standard input
 * (a terminal or a pipe). One {@link LineReader} per run keeps what was read past a line for the
 * next question.
 *
 * @module
 */
import type { TextSink } from "./deps.ts";

/** Longest line kept; longer input is cut there (answers here are short). */
const MAX_LINE = 64 * 1024;

/** Reads standard input line by line. */
export class LineReader {
  readonly #stream: ReadableStream<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = "";
  #ended = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#stream = stream;
  }

  /**
   * The next line without its line ending, or undefined at the end of input with nothing left.
   * A last line without a newline is returned as a line.
   */
  async readLine(): Promise<string | undefined> {
    while (!this.#buffer.includes("\n") && !this.#ended && this.#buffer.length < MAX_LINE) {
      const reader = this.#stream.getReader();
      try {
        const { value, done } = await reader.read();
        if (done) {
          this.#ended = true;
          this.#buffer += this.#decoder.decode();
        } else this.#buffer += this.#decoder.decode(value, { stream: true });
      } finally {
        reader.releaseLock();
      }
    }
    const newline = this.#buffer.indexOf("\n");
    if (newline === -1) {
      if (this.#buffer === "" && this.#ended) return undefined;
      const line = this.#buffer.slice(0, MAX_LINE);
      this.#buffer = this.#buffer.slice(line.length);
      return line.replace(/\r$/, "");
    }
    const line = this.#buffer.slice(0, newline);
    this.#buffer = this.#buffer.slice(newline + 1);
    return line.replace(/\r$/, "");
  }
}

/**
 * Asks `question` on stderr and reads the answer from standard input.
 *
 * @param io stderr, and whether standard input is a terminal: when it is not, nobody typed the
 *   answer's newline, so one is written after the question to keep the next output on its own line.
 * @returns The answer line, or undefined at the end of input.
 */
export async function ask(
  io: { readonly stderr: TextSink; readonly stdin: { readonly isTerminal: boolean } },
  input: LineReader,
  question: string,
): Promise<string | undefined> {
  io.stderr.write(question);
  const answer = await input.readLine();
  if (answer === undefined || !io.stdin.isTerminal) io.stderr.write("\n");
  return answer;
}
