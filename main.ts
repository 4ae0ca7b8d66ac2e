/**
 * aws-login: the AWS CLI's `aws login` without the AWS CLI. This file only parses the command line,
 * loads the one command module asked for (dynamic import, so each command loads only its own code)
 * and turns a thrown error into one stderr line and an exit code.
 *
 * @module
 */
import { defaultDeps, type Deps, type Milestone, type TextSink } from "./lib/cli/deps.ts";
import { AwsLoginError, EXIT, isPermissionFailure, UsageError } from "./lib/errors.ts";
import {
  missingAtStart,
  missingError,
  netSetInEffect,
  permissionMessage,
} from "./lib/cli/permissions.ts";
import {
  installedArgs,
  installedHints,
  MINIMUM_DENO,
  olderThan,
  runByDenoTask,
  taskHints,
} from "./lib/cli/invocation.ts";

/** What every command module exports. */
interface CommandModule {
  help: string;
  parse(argv: readonly string[]): unknown;
  run(options: never, deps: Deps): Promise<number>;
}

/** A permission a command can give up once it no longer needs it. */
type Droppable = "run" | "net";

/**
 * Least privilege at run time: which permissions of the "default" set (deno.json) a command gives
 * up, and when. A payload smuggled in through a dependency can then not start programs or reach
 * the network where the command itself has no need to.
 * - `atStart`: revoked before the command's module is loaded;
 * - `withOption`: the same, when the command is given that option (`login --remote` starts no
 *   program at all);
 * - `browserStarted`: once the browser opener has run (login opens a browser, then only listens);
 * - a {@link Milestone}: when the command reports it (e.g. `credentials-fresh`: no refresh follows).
 * Deno can only revoke a whole permission, so `net` stays for commands that may call Sign-In.
 */
interface Privileges {
  readonly atStart?: readonly Droppable[];
  readonly withOption?: Readonly<Record<string, readonly Droppable[]>>;
  readonly browserStarted?: readonly Droppable[];
  readonly milestones?: Partial<Record<Milestone, readonly Droppable[]>>;
}

interface Command {
  readonly summary: string;
  /** The module, relative to this file. */
  readonly module: string;
  readonly drops: Privileges;
}

const COMMANDS: Record<string, Command> = {
  login: {
    summary: "Sign in through the browser and store a refreshable session for a profile",
    module: "./lib/commands/login.ts",
    drops: {
      browserStarted: ["run"],
      // --no-browser: once the callback listener (with its /proc reader, Linux) runs.
      milestones: { authorized: ["run"], "no-programs": ["run"] },
      // Reading a pasted code starts no program: a payload cannot either.
      withOption: { "--remote": ["run"] },
    },
  },
  "export-env": {
    summary: "Print the session's credentials as shell variables (or JSON)",
    module: "./lib/commands/export_env.ts",
    drops: { atStart: ["run"], milestones: { "credentials-fresh": ["net"] } },
  },
  "credential-process": {
    summary: "Print credentials as credential_process JSON, for SDKs and tools",
    module: "./lib/commands/credential_process.ts",
    drops: { atStart: ["run"], milestones: { "credentials-fresh": ["net"] } },
  },
  exec: {
    summary: "Run a command with credentials served on a local endpoint (or as variables)",
    module: "./lib/commands/exec.ts",
    drops: {}, // runs the command, and may refresh for it
  },
  serve: {
    summary: "Serve refreshed credentials on 127.0.0.1 for containers, IDEs, any tool",
    module: "./lib/commands/serve.ts",
    drops: { atStart: ["run"] }, // listens on loopback and refreshes at Sign-In
  },
  console: {
    summary: "Open the AWS console in the browser as a profile: a role, or the session",
    module: "./lib/commands/console.ts",
    // Starts the link's /proc reader (Linux) and the browser, then only listens on 127.0.0.1;
    // with --print it starts no program at all.
    drops: { browserStarted: ["run"], withOption: { "--print": ["run"] } },
  },
  status: {
    summary: "Show every profile with a login session, its identity, expiry and end",
    module: "./lib/commands/status.ts",
    drops: { atStart: ["run"] }, // --refresh calls Sign-In
  },
  logout: {
    summary: "Revoke the session at AWS Sign-In and remove its cached credentials",
    module: "./lib/commands/logout.ts",
    drops: { atStart: ["run"] },
  },
  emulator: {
    summary: "Run a local AWS Sign-In emulator for demos and tests (no AWS account needed)",
    module: "./lib/commands/emulator.ts",
    drops: { atStart: ["run"] },
  },
};

/** Revokes permissions for good; later use throws NotCapable. */
function drop(names: readonly Droppable[] | undefined): void {
  for (const name of names ?? []) Deno.permissions.revokeSync({ name });
}

/**
 * Loads a command's module. The specifier is a variable on purpose: Deno prepares every module a
 * literal `import("…")` names before the program starts (the whole product, npm packages
 * included), which made every command pay for all the others; a variable is resolved only when
 * called. `deno compile` needs `--include lib/commands` for the same reason.
 */
function loadCommand(command: Command): Promise<CommandModule> {
  const specifier = command.module;
  return import(specifier);
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, { summary }]) =>
    `  ${name.padEnd(width)}  ${summary}`
  );
  return [
    "aws-login: sign in to AWS with your console identity and hand short-lived credentials to any tool",
    "",
    "Usage: aws-login <command> [options]",
    "",
    "Commands:",
    ...lines,
    "",
    "Options:",
    "  -h, --help     Show help (also after a command; or: aws-login help <command>)",
    "  -V, --version  Show the version",
    "  --debug        Log what happens to stderr (secrets are never logged)",
    "",
  ].join("\n");
}

/** The command being run, once known: a usage error points to its own --help. */
let commandName: string | undefined;

/** Options every command takes, so they may come before it (`aws-login --debug status`). */
const GLOBAL_FLAGS = ["--debug", "--help", "-h"];

/**
 * Puts the command first when options come before it, as the AWS CLI allows
 * (`aws-login --profile dev status`): the command is the first command name not taken as the value
 * of an option before it (`--profile dev` takes `dev`; `--debug` takes nothing).
 *
 * @returns The arguments, command first, or undefined when no command can be told apart.
 */
function commandFirst(argv: readonly string[]): readonly string[] | undefined {
  const end = argv.includes("--") ? argv.indexOf("--") : argv.length;
  for (let i = 1; i < end; i++) {
    if (!Object.hasOwn(COMMANDS, argv[i]!)) continue;
    const before = argv[i - 1]!;
    const takesIt = before.startsWith("-") && !before.includes("=") &&
      !GLOBAL_FLAGS.includes(before);
    if (!takesIt) return [argv[i]!, ...argv.slice(0, i), ...argv.slice(i + 1)];
  }
  return undefined;
}

async function main(argv: readonly string[], out: Outputs): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    const target = first === "help" ? rest[0] : undefined;
    if (target === undefined) {
      out.stdout.write(usage());
      return first === undefined ? EXIT.usage : EXIT.ok;
    }
    return await main([target, "--help"], out);
  }
  if (first === "--version" || first === "-V") {
    const { VERSION } = await import("./lib/version.ts");
    out.stdout.write(`aws-login ${VERSION}\n`);
    return EXIT.ok;
  }
  const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (command === undefined) {
    // `--version` after another leading option (`aws-login --debug -V`), as the AWS CLI takes it.
    const leading = argv.includes("--") ? argv.slice(0, argv.indexOf("--")) : argv;
    const asksVersion = leading.includes("-V") || leading.includes("--version");
    if (asksVersion && !leading.some((arg) => Object.hasOwn(COMMANDS, arg))) {
      return await main(["--version"], out);
    }
    const reordered = first.startsWith("-") ? commandFirst(argv) : undefined;
    if (reordered !== undefined) return await main(reordered, out);
    throw await unknownCommand(argv);
  }
  commandName = first;
  // Options after "--" belong to the command exec runs, not to us.
  const own = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
  // Before the module loads (which needs read) and before anything is revoked: one hint for all.
  const dropsNow = [
    ...(command.drops.atStart ?? []),
    ...Object.entries(command.drops.withOption ?? {})
      .flatMap(([option, names]) => own.includes(option) ? names : []),
  ];
  const missing = missingAtStart(launch, !dropsNow.includes("run"));
  if (missing.length > 0) throw missingError(missing);
  netSet = netSetInEffect();
  drop(dropsNow);
  const module = await loadCommand(command);
  // `aws-login login help`, as `aws login help` shows the help.
  if (own.includes("--help") || own.includes("-h") || own[0] === "help") {
    out.stdout.write(module.help);
    return EXIT.ok;
  }
  const options = module.parse(rest);
  if (first === "login") Deno.addSignalListener("SIGINT", () => cancelSignIn(out));
  const { browserStarted, milestones } = command.drops;
  return await module.run(
    options as never,
    defaultDeps({
      debug: own.includes("--debug"),
      openBrowser: async (url) => {
        try {
          await openSystemBrowser(url);
        } finally {
          drop(browserStarted);
        }
      },
      reached: (milestone) => drop(milestones?.[milestone]),
      rewrite: out.rewrite,
    }),
  );
}

/** The usage error for a first argument that is neither a command nor a leading option. */
async function unknownCommand(argv: readonly string[]): Promise<UsageError> {
  const first = argv[0]!;
  const { withSuggestion } = await import("./lib/cli/suggest.ts");
  if (!first.startsWith("-")) {
    return new UsageError(
      withSuggestion(`Unknown command "${first}"`, first, Object.keys(COMMANDS)),
    );
  }
  if (GLOBAL_FLAGS.includes(first)) {
    return new UsageError(`"${first}" goes with a command: "aws-login <command> ${first}"`);
  }
  const named = argv.find((arg) => Object.hasOwn(COMMANDS, arg));
  if (named !== undefined) {
    return new UsageError(
      `Options go after the command: "aws-login ${named} ${
        argv.filter((arg) => arg !== named).join(" ")
      }"`,
    );
  }
  const known = ["--version", ...GLOBAL_FLAGS];
  return new UsageError(
    withSuggestion(`Unknown option "${first}"`, first, known) +
      ` (options go after the command: "aws-login <command> [options]")`,
  );
}

/** Ctrl-C while signing in: say so, instead of dying mid-line (130 = 128 + SIGINT). */
function cancelSignIn(out: Outputs): void {
  if (out.stderr.isTerminal) out.stderr.write("\r\x1b[K"); // the spinner's line
  out.stderr.write("Sign-in cancelled.\n");
  Deno.exit(130);
}

/** The system browser, loaded only when a login opens it. */
async function openSystemBrowser(url: string): Promise<void> {
  const { openBrowser } = await import("./lib/login/browser.ts");
  await openBrowser(url, { get: (name) => Deno.env.get(name) });
}

/** Where main writes, with the hints rewritten for a checkout when run by `deno task`. */
interface Outputs {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  readonly rewrite: ((text: string) => string) | undefined;
}

function outputs(installed: boolean): Outputs {
  const rewrite = installed
    ? installedHints(import.meta.dirname)
    : runByDenoTask(import.meta.dirname)
    ? taskHints(Object.keys(COMMANDS))
    : undefined;
  const deps = defaultDeps({ rewrite });
  return { stdout: deps.stdout, stderr: deps.stderr, rewrite };
}

// The command `deno task install` installs says so in its first argument (tools/install.ts).
const { installed, args } = installedArgs(Deno.args);
const out = outputs(installed);
const launch = { installed, mainDir: import.meta.dirname };
/** Whether deno.json's net list is in effect, asked before a command revokes any of it. */
let netSet = true;

if (olderThan(Deno.version.deno, MINIMUM_DENO)) {
  out.stderr.write(
    `aws-login: needs Deno ${MINIMUM_DENO} or newer, this is Deno ${Deno.version.deno}; ` +
      `run "deno upgrade" (or install Deno from https://deno.com)\n`,
  );
  Deno.exit(EXIT.failure);
}

try {
  Deno.exitCode = await main(args, out);
} catch (err) {
  const stderr = out.stderr;
  if (isPermissionFailure(err)) {
    // Wherever it was met (a module, a file, a host): the one hint that works for this launch.
    stderr.write(`aws-login: ${permissionMessage(err, launch, netSet)}\n`);
    Deno.exitCode = EXIT.config;
  } else if (err instanceof AwsLoginError) {
    stderr.write(`aws-login: ${err.message}\n`);
    if (err instanceof UsageError) {
      const help = commandName === undefined
        ? "aws-login --help"
        : `aws-login ${commandName} --help`;
      stderr.write(`Run "${help}" for usage.\n`);
    }
    Deno.exitCode = err.exitCode;
  } else {
    stderr.write(`aws-login: unexpected error: ${err instanceof Error ? err.message : err}\n`);
    if (args.includes("--debug") && err instanceof Error) stderr.write(`${err.stack}\n`);
    Deno.exitCode = EXIT.failure;
  }
}
