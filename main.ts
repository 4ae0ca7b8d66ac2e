/**
 * aws-login: the AWS CLI's `aws login` without the AWS CLI. This file only parses the command line,
 * loads the one command module asked for (dynamic import, so each command loads only its own code)
 * and turns a thrown error into one stderr line and an exit code.
 *
 * @module
 */
import { defaultDeps, type Deps } from "./lib/cli/deps.ts";
import { AwsLoginError, EXIT, UsageError } from "./lib/errors.ts";

/** What every command module exports. */
interface CommandModule {
  help: string;
  parse(argv: readonly string[]): unknown;
  run(options: never, deps: Deps): Promise<number>;
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  login: {
    summary: "Sign in through the browser and store a refreshable session for a profile",
    load: () => import("./lib/commands/login.ts"),
  },
  "export-env": {
    summary: "Print the session's credentials as shell variables (or JSON)",
    load: () => import("./lib/commands/export_env.ts"),
  },
  "credential-process": {
    summary: "Print credentials as credential_process JSON, for SDKs and tools",
    load: () => import("./lib/commands/credential_process.ts"),
  },
  exec: {
    summary: "Run a command with the session's credentials in its environment",
    load: () => import("./lib/commands/exec.ts"),
  },
  status: {
    summary: "Show every profile with a login session, its identity and expiry",
    load: () => import("./lib/commands/status.ts"),
  },
  logout: {
    summary: "Remove cached login credentials for a profile, or all of them",
    load: () => import("./lib/commands/logout.ts"),
  },
  emulator: {
    summary: "Run a local AWS Sign-In emulator for demos and tests (no AWS account needed)",
    load: () => import("./lib/commands/emulator.ts"),
  },
};

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
    "  -h, --help     Show help (also after a command)",
    "  -V, --version  Show the version",
    "  --debug        Log what happens to stderr (secrets are never logged)",
    "",
  ].join("\n");
}

async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    const target = first === "help" ? rest[0] : undefined;
    if (target === undefined) {
      defaultDeps().stdout.write(usage());
      return first === undefined ? EXIT.usage : EXIT.ok;
    }
    return await main([target, "--help"]);
  }
  if (first === "--version" || first === "-V") {
    const { VERSION } = await import("./lib/version.ts");
    defaultDeps().stdout.write(`aws-login ${VERSION}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS[first];
  if (command === undefined) {
    throw new UsageError(
      first.startsWith("-") ? `Unknown option "${first}"` : `Unknown command "${first}"`,
    );
  }
  // Options after "--" belong to the command exec runs, not to us.
  const own = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
  const module = await command.load();
  if (own.includes("--help") || own.includes("-h")) {
    defaultDeps().stdout.write(module.help);
    return EXIT.ok;
  }
  const options = module.parse(rest);
  return await module.run(
    options as never,
    defaultDeps({ debug: own.includes("--debug"), openBrowser: openSystemBrowser }),
  );
}

/** The system browser, loaded only when a login opens it. */
async function openSystemBrowser(url: string): Promise<void> {
  const { openBrowser } = await import("./lib/login/browser.ts");
  await openBrowser(url, { get: (name) => Deno.env.get(name) });
}

try {
  Deno.exitCode = await main(Deno.args);
} catch (err) {
  const stderr = defaultDeps().stderr;
  if (err instanceof AwsLoginError) {
    stderr.write(`aws-login: ${err.message}\n`);
    if (err instanceof UsageError) stderr.write(`Run "aws-login --help" for usage.\n`);
    Deno.exitCode = err.exitCode;
  } else if (err instanceof Deno.errors.NotCapable) {
    stderr.write(`aws-login: missing permission: ${(err as Error).message}\n`);
    Deno.exitCode = EXIT.failure;
  } else {
    stderr.write(`aws-login: unexpected error: ${err instanceof Error ? err.message : err}\n`);
    if (Deno.args.includes("--debug") && err instanceof Error) stderr.write(`${err.stack}\n`);
    Deno.exitCode = EXIT.failure;
  }
}
