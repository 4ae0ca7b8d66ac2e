/**
 * Runs a child process the way a shell would for `exec`: stdio inherited, the signals a terminal or
 * a supervisor sends (SIGINT, SIGTERM, SIGHUP, SIGQUIT) passed on to the child, and the child's fate
 * turned into an exit status — its own code, or 128 + the signal number when a signal ended it, or
 * 127 / 126 when the command cannot be found / run (the shell's convention).
 *
 * @module
 */

const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** Signals forwarded to the child. Windows delivers only SIGINT and SIGBREAK to a process. */
const FORWARDED: readonly Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT", "SIGBREAK"]
  : ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

/** The exit status a shell reports for a child that ended with `status`. */
export function exitStatusOf(status: Deno.CommandStatus): number {
  if (status.signal) return 128 + (SIGNAL_NUMBERS[status.signal] ?? 0);
  return status.code;
}

/** Why a command could not be started, or undefined when it did start. */
export interface SpawnFailure {
  /** 127 when not found, 126 when not runnable. */
  readonly exitCode: number;
  readonly message: string;
}

/**
 * Runs `command` with `args` and exactly `env`, stdio inherited, forwarding signals until it ends.
 *
 * @returns The exit status (see {@link exitStatusOf}), or a failure when it could not start.
 */
export async function runChild(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<number | SpawnFailure> {
  // Listen before spawning: once the child runs, a signal to us must reach it, not end us and
  // orphan it (listening after spawn() left a window a busy machine hit). Listeners run on the
  // event loop, so they see the child: spawn() returns before they can run.
  let child: Deno.ChildProcess | undefined;
  const listeners = FORWARDED.map((signal) => {
    const listener = () => {
      try {
        child?.kill(signal);
      } catch {
        // The child has already exited.
      }
    };
    Deno.addSignalListener(signal, listener);
    return () => Deno.removeSignalListener(signal, listener);
  });
  const removeListeners = () => {
    for (const remove of listeners) remove();
  };
  try {
    child = new Deno.Command(command, {
      args: [...args],
      env,
      clearEnv: true,
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
  } catch (err) {
    removeListeners();
    if (err instanceof Deno.errors.NotFound) {
      return { exitCode: 127, message: `Cannot run "${command}": command not found` };
    }
    if (err instanceof Deno.errors.PermissionDenied) {
      return { exitCode: 126, message: `Cannot run "${command}": permission denied` };
    }
    throw err;
  }
  try {
    return exitStatusOf(await child.status);
  } finally {
    removeListeners();
  }
}
