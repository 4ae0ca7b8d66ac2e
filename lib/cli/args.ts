/**
 * A small typed argv parser, in place of `@std/cli` (JSR is out of reach, and start-up time matters
 * on the credential hot path). Supports `--flag`, `--name value`, `--name=value`, `-h`, and `--`
 * (everything after it is passed through untouched). Anything it does not know is a UsageError.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { withSuggestion } from "./suggest.ts";

/** What a command accepts. `--help`/`-h` and `--debug` are always accepted. */
export interface ArgSpec<B extends string, S extends string> {
  /** Options without a value. */
  readonly boolean?: readonly B[];
  /** Options that take one value. */
  readonly string?: readonly S[];
  /** Most positional arguments allowed before `--` (default 0). */
  readonly positionals?: number;
  /** Whether `--` and the arguments after it are allowed (exec). */
  readonly passthrough?: boolean;
  /**
   * Pairs of options that cannot be given together (one would be ignored, or they ask for opposite
   * things), with why, for the message: refused, so nothing runs on a guess.
   */
  readonly conflicts?: readonly (readonly [B | S, B | S, string])[];
}

/** The parsed command line. */
export interface ParsedArgs<B extends string, S extends string> {
  readonly flags: Readonly<Record<B | "help" | "debug", boolean>>;
  readonly values: Readonly<Partial<Record<S, string>>>;
  readonly positionals: readonly string[];
  /** The arguments after `--`, or undefined when there was no `--`. */
  readonly passthrough: readonly string[] | undefined;
}

/**
 * Parses `argv` against `spec`.
 *
 * @param argv The arguments after the command name.
 * @param spec The options the command accepts.
 * @returns Flags, option values, positionals and the `--` tail.
 * @throws {UsageError} On an unknown option, a missing value, a repeated option, a stray argument
 *   or two options of a pair in `spec.conflicts`.
 */
export function parseArgs<const B extends string = never, const S extends string = never>(
  argv: readonly string[],
  spec: ArgSpec<B, S>,
): ParsedArgs<B, S> {
  const booleans = new Set<string>([...(spec.boolean ?? []), "help", "debug"]);
  const strings = new Set<string>(spec.string ?? []);
  const flags: Record<string, boolean> = {};
  for (const name of booleans) flags[name] = false;
  const values: Record<string, string> = {};
  const positionals: string[] = [];
  let passthrough: string[] | undefined;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      if (!spec.passthrough) throw new UsageError(`Unexpected "--"`);
      passthrough = argv.slice(i + 1);
      break;
    }
    if (arg === "-h") {
      flags.help = true;
      continue;
    }
    if (!arg.startsWith("--") || arg === "-") {
      if (arg.startsWith("-") && arg !== "-") throw new UsageError(`Unknown option "${arg}"`);
      if (positionals.length >= (spec.positionals ?? 0)) {
        throw new UsageError(`Unexpected argument "${arg}"`);
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (booleans.has(name)) {
      if (eq !== -1) throw new UsageError(`Option "--${name}" takes no value`);
      flags[name] = true;
    } else if (strings.has(name)) {
      if (name in values) throw new UsageError(`Option "--${name}" is given more than once`);
      let value: string | undefined;
      if (eq !== -1) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) value = argv[++i];
      if (value === undefined || value === "") {
        throw new UsageError(`Option "--${name}" needs a value`);
      }
      values[name] = value;
    } else {
      const known = [...booleans, ...strings].map((option) => `--${option}`);
      throw new UsageError(withSuggestion(`Unknown option "--${name}"`, `--${name}`, known));
    }
  }
  const given = (name: string) => flags[name] === true || name in values;
  for (const [a, b, why] of spec.conflicts ?? []) {
    if (given(a) && given(b)) {
      throw new UsageError(`Options "--${a}" and "--${b}" cannot be used together: ${why}`);
    }
  }
  return {
    flags: flags as Record<B | "help" | "debug", boolean>,
    values: values as Partial<Record<S, string>>,
    positionals,
    passthrough,
  };
}

/**
 * Reads an integer option within bounds.
 *
 * @param name The option's name, for the message.
 * @param value The raw value, or undefined when the option was not given.
 * @param bounds Inclusive minimum and maximum.
 * @returns The number, or undefined when the option was not given.
 * @throws {UsageError} When the value is not a whole number within bounds.
 */
export function intOption(
  name: string,
  value: string | undefined,
  bounds: { min: number; max: number },
): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < bounds.min || n > bounds.max) {
    throw new UsageError(
      `Option "--${name}" takes a whole number from ${bounds.min} to ${bounds.max}, not "${value}"`,
    );
  }
  return n;
}

/**
 * Reads an option restricted to a fixed set of words.
 *
 * @throws {UsageError} When the value is not one of `choices`.
 */
export function choiceOption<const C extends string>(
  name: string,
  value: string | undefined,
  choices: readonly C[],
): C | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`Option "--${name}" takes one of ${choices.join(", ")}, not "${value}"`);
  }
  return value as C;
}
