/**
 * Test helpers that keep a test from waiting forever on what it started. A child process runs in
 * its own process group, so a grandchild it leaves behind (which would keep a pipe open) dies with
 * it; past its deadline the whole group is killed and the test fails saying so; `await using` kills
 * the group at scope end. An in-process server is closed at its deadline, which fails the requests
 * and waits that depend on it.
 *
 * A group of its own is out of reach of the terminal's Ctrl-C, so a watchdog process (one per test
 * module) kills the groups still alive when the test runner ends, however it ends.
 *
 * @module
 */

/** How long anything a test starts may live: far above a test's run time, even under load. */
export const DEADLINE_MS = 120_000;

const posix = Deno.build.os !== "windows";

/**
 * The groups not killed yet, one empty file per process group id, and the watchdog that kills them
 * when its standard input (held by this process, never written) closes: at the runner's exit, crash
 * or kill. It runs in a session of its own, out of reach of a kill aimed at the runner's group.
 * Started at import, outside any test, so no test sees it as a leak.
 */
const groupsDir = posix ? Deno.makeTempDirSync({ prefix: "aws-login-test-groups-" }) : "";
const watchdog = posix
  ? new Deno.Command("sh", {
    args: [
      "-c",
      `cat >/dev/null
     for f in "$0"/*; do [ -e "$f" ] && kill -KILL -"\${f##*/}" 2>/dev/null; done
     rm -rf "$0"`,
      groupsDir,
    ],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn()
  : undefined;
// Not awaited by anything: the runner may exit while it waits.
watchdog?.unref();

/** Options of {@link spawnBounded}: the command's, plus the bound. */
export interface BoundedOptions extends Deno.CommandOptions {
  /** Milliseconds before the whole process group is killed (default {@link DEADLINE_MS}). */
  readonly deadlineMs?: number;
}

/** A child process that cannot outlive its deadline. */
export interface BoundedChild extends AsyncDisposable {
  readonly pid: number;
  /** The child's piped standard input (throws when it is not piped). */
  readonly stdin: WritableStream<Uint8Array>;
  /** The child's piped standard output (throws when it is not piped). */
  readonly stdout: ReadableStream<Uint8Array>;
  /** The child's piped standard error (throws when it is not piped). */
  readonly stderr: ReadableStream<Uint8Array>;
  /** The exit status; rejects when the deadline killed the child. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Sends `signal` to the child alone (not to what it started); harmless once it has exited. */
  kill(signal?: Deno.Signal): void;
  /** SIGKILL to the child and everything it started (its process group), once; then a no-op. */
  killAll(): void;
  /** Kills the group and waits for the child; rejects when the deadline had killed it. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Spawns `command` in a process group of its own with a deadline. Use with `await using`, so the
 * group is killed when the test ends, whichever way it ends.
 *
 * On POSIX a shell becomes the leader of a new session, starts an anchor (a `sleep` with no stdio)
 * in that group and then execs `command`, so the child keeps its pid. Pids wrap quickly on a busy
 * machine: while the anchor lives, no other process can take the group's id, so killing the group
 * reaches only what this child started. The group is killed once, anchor included.
 *
 * @param command The program (looked up in PATH, as `Deno.Command` does).
 * @param options Deno's command options and `deadlineMs`.
 */
export function spawnBounded(command: string, options: BoundedOptions = {}): BoundedChild {
  const { deadlineMs = DEADLINE_MS, ...commandOptions } = options;
  const args = commandOptions.args?.map(String) ?? [];
  const what = [command, ...args].join(" ").slice(0, 200);
  // The shell registers its group for the watchdog before anything in it runs.
  const launch = `: > "$0/$$"; sleep ${
    Math.ceil(deadlineMs / 1000) + 60
  } </dev/null >/dev/null 2>&1 &
    command=$1; shift; exec "$command" "$@"`;
  const child = posix
    ? new Deno.Command("/bin/sh", {
      ...commandOptions,
      args: ["-c", launch, groupsDir, command, ...args],
      detached: true,
    }).spawn()
    : new Deno.Command(command, commandOptions).spawn();
  const groupFile = `${groupsDir}/${child.pid}`;
  let exited = false;
  let killed = false;
  let timedOut = false;
  // The watchdog forgets the group once it is killed and its shell has surely ended (so cannot
  // register it after that).
  const forget = () => {
    if (!posix || !killed || !exited) return;
    try {
      Deno.removeSync(groupFile);
    } catch {
      // Killed before it registered.
    }
  };
  const killAll = () => {
    if (killed) return;
    killed = true;
    clearTimeout(timer);
    try {
      if (posix) Deno.kill(-child.pid, "SIGKILL");
      else if (!exited) child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    forget();
  };
  // Ends what is left even when the child has exited (a grandchild) and nobody disposed of it.
  const timer = setTimeout(() => {
    timedOut = !exited;
    killAll();
  }, deadlineMs);
  const status = child.status.then((s) => {
    exited = true;
    forget();
    if (timedOut) throw new Error(`Killed after ${deadlineMs} ms: ${what}`);
    return s;
  });
  // A test that never looks at the status still fails through `await using`.
  status.catch(() => {});
  return {
    pid: child.pid,
    get stdin() {
      return child.stdin;
    },
    get stdout() {
      return child.stdout;
    },
    get stderr() {
      return child.stderr;
    },
    status,
    kill(signal = "SIGTERM") {
      if (exited) return;
      try {
        child.kill(signal);
      } catch {
        // It exited meanwhile.
      }
    },
    killAll,
    async [Symbol.asyncDispose]() {
      killAll();
      await status;
    },
  };
}

/** What a finished command printed, as text, and how it ended. */
export interface BoundedOutput {
  readonly code: number;
  readonly signal: Deno.Signal | null;
  readonly success: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Waits for a bounded child to end and collects its output: writes `stdinText` to its (piped)
 * standard input and closes it, and reads the streams it pipes. Kills nothing: the caller decides
 * when what the child started may go.
 *
 * @param options.stdinText Text for standard input, which must then be piped.
 * @param options.stdout Whether stdout is piped and read (default true); likewise `stderr`.
 * @throws {Error} When the deadline killed it.
 */
export async function collectOutput(
  child: BoundedChild,
  options: { stdinText?: string; stdout?: boolean; stderr?: boolean } = {},
): Promise<BoundedOutput> {
  const read = (stream: ReadableStream<Uint8Array>) => new Response(stream).text();
  const stdout = options.stdout === false ? Promise.resolve("") : read(child.stdout);
  const stderr = options.stderr === false ? Promise.resolve("") : read(child.stderr);
  if (options.stdinText !== undefined) {
    const writer = child.stdin.getWriter();
    // The child may exit without reading its input.
    await writer.write(new TextEncoder().encode(options.stdinText)).catch(() => {});
    await writer.close().catch(() => {});
  }
  const status = await child.status;
  return {
    code: status.code,
    signal: status.signal,
    success: status.success,
    stdout: await stdout,
    stderr: await stderr,
  };
}

/**
 * Runs `command` to its end, like `Deno.Command#output()`, within a deadline; then kills whatever
 * it left running. Standard input is `options.stdinText` (then closed) or nothing; stdout and
 * stderr are captured unless set otherwise.
 *
 * @throws {Error} When the deadline killed it.
 */
export async function outputBounded(
  command: string,
  options: Omit<BoundedOptions, "stdin"> & { stdinText?: string } = {},
): Promise<BoundedOutput> {
  const { stdinText, ...rest } = options;
  const stdout = rest.stdout ?? "piped";
  const stderr = rest.stderr ?? "piped";
  const child = spawnBounded(command, {
    ...rest,
    stdout,
    stderr,
    stdin: stdinText === undefined ? "null" : "piped",
  });
  try {
    return await collectOutput(child, {
      stdinText,
      stdout: stdout === "piped",
      stderr: stderr === "piped",
    });
  } finally {
    // A deadline error is already on its way; disposing only ends what is left.
    await child[Symbol.asyncDispose]().catch(() => {});
  }
}

/**
 * Polls `condition` every 10 ms until it holds.
 *
 * @throws {Error} After `timeoutMs` (default {@link DEADLINE_MS}), naming `what` it waited for.
 */
export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = DEADLINE_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Closes an in-process server (the emulator, a callback listener) at its deadline unless it was
 * closed before; closing it by hand or with `await using` clears the deadline.
 *
 * @param server Anything with an idempotent `close()`.
 * @param deadlineMs Milliseconds before it is closed (default {@link DEADLINE_MS}).
 */
export function closeAtDeadline<T extends { close(): Promise<void> }>(
  server: T,
  deadlineMs = DEADLINE_MS,
): T & AsyncDisposable {
  const close = server.close.bind(server);
  const timer = setTimeout(() => {
    console.error(`A test server was still open after ${deadlineMs} ms: closing it`);
    close().catch(() => {});
  }, deadlineMs);
  const closeNow = () => {
    clearTimeout(timer);
    return close();
  };
  return Object.assign(server, { close: closeNow, [Symbol.asyncDispose]: closeNow });
}
