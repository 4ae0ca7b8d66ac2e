/**
 * Progress output on stderr: a spinner while the user is busy elsewhere (the browser sign-in) when
 * stderr is a terminal, one plain line otherwise (logs, CI, pipes). `Deno.*`-free and tiny.
 *
 * @module
 */
import type { TextSink } from "./deps.ts";

/** A running progress indicator. */
export interface Spinner {
  /** Writes a line (ending in a newline) without garbling the spinner. */
  note(line: string): void;
  /** Stops it and clears its line (terminal); idempotent. */
  stop(): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * Shows `text` with a spinner on a terminal, redrawn every `intervalMs`; on anything else writes
 * `text` once as a line.
 *
 * @param sink Where to write (stderr).
 * @param text The message, or a function giving it (e.g. with the time left), called per frame.
 * @param options.intervalMs Redraw interval (default 100).
 * @returns The spinner; call `stop()` before writing anything else.
 */
export function startSpinner(
  sink: TextSink,
  text: string | (() => string),
  options: { intervalMs?: number } = {},
): Spinner {
  const message = typeof text === "string" ? () => text : text;
  if (!sink.isTerminal) {
    sink.write(`${message()}\n`);
    return { note: (line) => sink.write(line), stop() {} };
  }
  let frame = 0;
  const draw = () => sink.write(`\r\x1b[K${FRAMES[frame++ % FRAMES.length]} ${message()}`);
  draw();
  let timer: ReturnType<typeof setInterval> | undefined = setInterval(
    draw,
    options.intervalMs ?? 100,
  );
  return {
    note(line) {
      if (timer === undefined) return sink.write(line);
      sink.write(`\r\x1b[K${line}`);
      draw();
    },
    stop() {
      if (timer === undefined) return;
      clearInterval(timer);
      timer = undefined;
      sink.write("\r\x1b[K");
    },
  };
}

/**
 * Characters that could forge, hide or reorder what a terminal shows: controls (C0, DEL and C1,
 * including the one-byte CSI U+009B), format characters (bidi overrides and isolates, zero-width
 * characters), line and paragraph separators, lone surrogates; private-use and unassigned code
 * points (the noncharacters U+FFFE/FFFF, U+FDD0–FDEF… are unassigned too), whose look depends on
 * the font; what Unicode says to draw as nothing (Default_Ignorable_Code_Point: the Hangul fillers
 * U+115F, U+1160, U+3164, U+FFA0, variation selectors U+FE00–FE0F and U+E0100–E01EF, Khmer
 * U+17B4/17B5, tag characters); and the blank braille pattern U+2800, which fonts draw empty.
 */
const UNPRINTABLE =
  /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}\u2800]+/gu;

/** Combining marks past 4 on one base character: "Zalgo" text that spills over other lines. */
const MARK_PILE = /(\p{M}{4})\p{M}+/gu;

/**
 * Untrusted text (a server's error, a cache or config field) made safe for one line of a message
 * or a `status` field: unprintable or invisible characters and runs of whitespace become one space,
 * at most 4 combining marks are kept on a base character, and text longer than `max` is cut there
 * with `…`.
 *
 * @example
 * printable("bad\u001b[2J\u202etext") // "bad [2J text"
 */
export function printable(raw: string, max = 300): string {
  const text = raw.replace(UNPRINTABLE, " ").replace(MARK_PILE, "$1").replace(/\s+/g, " ").trim();
  if (text.length <= max) return text;
  // Never cut a surrogate pair in half.
  const cut = text.slice(0, max).replace(/[\uD800-\uDBFF]$/, "");
  return `${cut}…`;
}
