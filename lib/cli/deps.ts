/**
 * The seams every command takes: environment, clock, network, output streams, standard input and the
 * browser opener. `defaultDeps()` wires them to the real process using `Deno.*` only, so the credential
 * hot path loads nothing else; tests pass their own. The browser opener is handed in by the caller
 * (main.ts), so this module stays a leaf that imports nothing of the product.
 *
 * @module
 */

/** A sink for text: standard output, standard error, or a test's buffer. */
export interface TextSink {
  write(text: string): void;
  /** Whether the sink is an interactive terminal (spinners, prompts). */
  readonly isTerminal: boolean;
  /**
   * The permission bits of the regular file the sink writes to (a `> file` redirection), or
   * undefined for a terminal, a pipe, a buffer, or when it cannot be told.
   */
  fileMode?(): Promise<number | undefined>;
}

/** Read-only view of the process environment. */
export interface Env {
  get(name: string): string | undefined;
  toObject(): Record<string, string>;
}

/**
 * A point in a command after which it needs fewer permissions: main.ts revokes what its table says
 * the command no longer needs (least privilege at run time).
 * - `credentials-fresh`: the cached credentials are fresh, so no refresh (no network) will follow;
 * - `authorized`: `login` has its authorization code, so it opens no browser any more;
 * - `no-programs`: the command starts no program from here on (`login --no-browser` once its
 *   callback listener, and the reader of /proc it starts, run).
 */
export type Milestone = "credentials-fresh" | "authorized" | "no-programs";

/** What a command needs from the outside world. */
export interface Deps {
  readonly env: Env;
  readonly fetch: typeof fetch;
  /** Milliseconds since the epoch. */
  now(): number;
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** Standard input: a byte stream, and whether it is a terminal. */
  readonly stdin: { readonly readable: ReadableStream<Uint8Array>; readonly isTerminal: boolean };
  /** Opens `url` in the user's browser; throws when no browser could be started. */
  openBrowser(url: string): Promise<void>;
  /** Writes a `--debug` line to stderr when debugging is on; never pass a secret. */
  debug(message: string): void;
  /** Tells main.ts that a {@link Milestone} was passed (tests leave it out). */
  reached?(milestone: Milestone): void;
}

const encoder = new TextEncoder();

function sinkFor(
  file: typeof Deno.stdout | typeof Deno.stderr,
  rewrite?: (text: string) => string,
): TextSink {
  let isTerminal: boolean | undefined;
  return {
    write(text: string): void {
      const bytes = encoder.encode(rewrite ? rewrite(text) : text);
      let written = 0;
      while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
    },
    get isTerminal(): boolean {
      return isTerminal ??= file.isTerminal();
    },
    async fileMode(): Promise<number | undefined> {
      if (Deno.build.os === "windows" || file.isTerminal()) return undefined;
      try {
        // Deno's stdio has no stat(), and its permissions refuse /dev/stdout and /proc/self/fd:
        // node:fs's fstat is the one way. Loaded only here: it costs tens of milliseconds.
        const { fstatSync } = await import("node:fs");
        const info = fstatSync(file === Deno.stdout ? 1 : 2);
        return info.isFile() ? info.mode & 0o777 : undefined;
      } catch {
        return undefined; // cannot be told: no warning
      }
    },
  };
}

/**
 * The real process: `Deno.env`, global fetch, the system clock, stdio and the given browser opener.
 *
 * @param options.debug Whether `debug()` writes to stderr.
 * @param options.openBrowser The system browser opener; without one, opening a browser fails.
 * @param options.rewrite Applied to everything written to stdout and stderr (main.ts words the
 *   hints for a checkout with it).
 * @param options.reached Called when a command passes a {@link Milestone}.
 */
export function defaultDeps(
  options: {
    debug?: boolean;
    openBrowser?: (url: string) => Promise<void>;
    rewrite?: (text: string) => string;
    reached?: (milestone: Milestone) => void;
  } = {},
): Deps {
  const stderr = sinkFor(Deno.stderr, options.rewrite);
  return {
    env: {
      get: (name) => Deno.env.get(name),
      toObject: () => Deno.env.toObject(),
    },
    fetch: globalThis.fetch,
    now: () => Date.now(),
    stdout: sinkFor(Deno.stdout, options.rewrite),
    stderr,
    stdin: {
      get readable() {
        return Deno.stdin.readable;
      },
      get isTerminal() {
        return Deno.stdin.isTerminal();
      },
    },
    openBrowser: options.openBrowser ??
      (() => Promise.reject(new Error("no browser opener was configured"))),
    debug: options.debug ? (message) => stderr.write(`debug: ${message}\n`) : () => {},
    reached: options.reached,
  };
}
