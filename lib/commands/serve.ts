/**
 * `aws-login serve [--profile NAME] [--port N] [--format FORMAT] [--output FILE]`: runs the
 * container credential endpoint of `exec` (see `lib/session/credential_server.ts`) in the
 * foreground, for tools `exec` cannot start: containers, IDEs, long-lived shells. It prints the two
 * variables to give them, in the `export-env` formats, on stdout (the only output there: the token
 * is meant to be copied) or into an owner-only `--output` file, and
 * answers on 127.0.0.1 until SIGINT or SIGTERM (exit 0) or until the session is over (the request
 * that found out gets a 403 saying to log in again; serve says so on stderr and exits with the
 * refusal's code).
 *
 * @module
 */
import { choiceOption, intOption, parseArgs } from "../cli/args.ts";
import type { Deps } from "../cli/deps.ts";
import { exposedStdoutWarning, writeOutputFile } from "../cli/output_file.ts";
import { EXIT, NetworkError } from "../errors.ts";
import { resolveProfileCredentials } from "../session/profile_credentials.ts";
import { formatVariables, SHELL_FORMATS, type ShellFormat } from "../session/export_formats.ts";

export const help =
  `Usage: aws-login serve [--profile NAME] [--port N] [--format FORMAT] [--output FILE]

Serve the login session's credentials, refreshed until the session ends, from a local endpoint
that every current AWS SDK, the AWS CLI and Terraform read. Prints the two variables to give a
tool, then answers on 127.0.0.1 only until Ctrl-C (SIGINT) or SIGTERM, or until the session is
over (then it says so and exits: run "aws-login login" and start it again).
A role profile (role_arn + source_profile, ending in a login session) gives the role's
credentials, assumed with AWS STS and kept in the AWS CLI's role cache (~/.aws/cli/cache). An
MFA role is assumed again with a prompt on the terminal; without one the endpoint answers 403
saying how.

  AWS_CONTAINER_CREDENTIALS_FULL_URI  http://127.0.0.1:PORT/PATH (a new random path each run)
  AWS_CONTAINER_AUTHORIZATION_TOKEN   a new random token each run: keep it secret

Formats (default env): ${SHELL_FORMATS.join(", ")}, as for export-env.

Options:
  --profile NAME   Profile to use (default: AWS_PROFILE, AWS_DEFAULT_PROFILE, then "default")
  --port N         Port on 127.0.0.1 (default 0: any free port)
  --format FORMAT  How to print the variables
  --output FILE    Write the variables to FILE (created 0600, replaced whole; not a symlink or
                   another user's file) instead of standard output: a redirection (> FILE) under
                   the usual umask 022 leaves the token readable by every local user
  --debug          Log each request to stderr (method and status; secrets are never logged)
  -h, --help       Show this help

Example (a container on the host network reaches 127.0.0.1):
  aws-login serve --profile dev --format env-no-export --output creds.env &
  docker run --network host --env-file creds.env amazon/aws-cli sts get-caller-identity
`;

/** Options of `serve`. */
export interface ServeOptions {
  readonly profile?: string;
  readonly port: number;
  readonly format: ShellFormat;
  /** Where to write the variables instead of stdout. */
  readonly output?: string;
}

/** @throws {UsageError} On an unknown option, a bad port or format. */
export function parse(argv: readonly string[]): ServeOptions {
  const args = parseArgs(argv, { string: ["profile", "port", "format", "output"] });
  return {
    profile: args.values.profile,
    port: intOption("port", args.values.port, { min: 0, max: 65535 }) ?? 0,
    format: choiceOption("format", args.values.format, SHELL_FORMATS) ?? "env",
    output: args.values.output,
  };
}

/** Serves until a signal (exit 0) or the end of the session (its error). */
export async function run(options: ServeOptions, deps: Deps): Promise<number> {
  // A missing or ended session fails here, before anything is printed.
  const creds = await resolveProfileCredentials(deps, { profile: options.profile });
  const { startCredentialServer } = await import("../session/credential_server.ts");
  let server;
  try {
    server = startCredentialServer(deps, { profile: creds.profile, port: options.port });
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) {
      // Not a usage error: the command line is right and the port is busy now. A listener that
      // cannot listen is a network failure (exit 6).
      throw new NetworkError(
        "ERR_NETWORK",
        `Cannot listen on 127.0.0.1:${options.port}: the port is in use. ` +
          `Choose another --port, or 0 for any free port`,
        { cause: err },
      );
    }
    throw err;
  }
  await using _ = server;
  const stop = waitForSignal();
  try {
    // Format before printing anything, so a value a shell cannot take leaves stdout empty.
    const text = formatVariables(server.variables(), options.format);
    if (options.output !== undefined) {
      writeOutputFile(options.output, text);
      deps.stderr.write(`aws-login: wrote the endpoint's variables to ${options.output}\n`);
    } else {
      const warning = exposedStdoutWarning(await deps.stdout.fileMode?.());
      if (warning) deps.stderr.write(warning);
      deps.stdout.write(text);
    }
    deps.stderr.write(
      `aws-login: serving the credentials of profile "${creds.profile}" on 127.0.0.1:` +
        `${server.port} until Ctrl-C or SIGTERM\n`,
    );
    const failed = server.failed.then((err) => ({ failed: err }));
    const ended = await Promise.race([stop.signal, server.sessionOver, failed]);
    if (typeof ended === "string") {
      deps.debug(`received ${ended}, stopping`);
      return EXIT.ok;
    }
    if (!(ended instanceof Error)) {
      // The listener is gone for good (not a failure to accept: that is retried). Its name only:
      // a message could hold the endpoint's path.
      const name = ended.failed instanceof Error ? ended.failed.name : typeof ended.failed;
      deps.stderr.write(`aws-login: stopped serving credentials: the endpoint failed (${name})\n`);
      return EXIT.failure;
    }
    await server.close();
    deps.stderr.write(
      `aws-login: stopped serving credentials: the login session of profile ` +
        `"${creds.profile}" is over\n`,
    );
    throw ended;
  } finally {
    stop.remove();
  }
}

/** The first SIGINT or SIGTERM (SIGBREAK on Windows), and a way to stop listening. */
function waitForSignal(): { signal: Promise<Deno.Signal>; remove(): void } {
  const names: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT", "SIGBREAK"]
    : ["SIGINT", "SIGTERM"];
  let handlers: [Deno.Signal, () => void][] = [];
  const remove = () => {
    for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
    handlers = [];
  };
  const signal = new Promise<Deno.Signal>((resolve) => {
    handlers = names.map((name) => {
      const handler = () => {
        remove();
        resolve(name);
      };
      Deno.addSignalListener(name, handler);
      return [name, handler];
    });
  });
  return { signal, remove };
}
