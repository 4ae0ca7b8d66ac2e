/**
 * The shared config and credentials files, read once, and profiles looked up in them: what the
 * credential hot path (`credential-process`, `export-env`, once per SDK call) and a chain of
 * profiles need. Organisations generate config files with thousands of profiles, so a look-up
 * parses only the sections it needs — the profile's section in each file and the `[services NAME]`
 * section it names — with the strict parser's rules (`config_syntax.ts`), as strictly as a
 * whole-file parse would: the same answers, the same errors with their file and line, for what is
 * read. Sections are found with a native search (a regular expression over the text), not a
 * line-by-line loop in JavaScript, which is what made a 250 KB config cost a warm run 30 %.
 *
 * What the whole-file parse would refuse anywhere is still checked where it can change what a
 * profile reads: the lines before the first section (Python refuses a key there) and `[DEFAULT]`
 * (Python copies its keys into every section). A header that names the profile but is indented —
 * whose meaning depends on the lines above it — hands the look-up to the whole-file parse.
 *
 * @see docs/PROTOCOL.md §8; lib/aws/config_syntax.ts for the format
 * @module
 */
import {
  COMMENT_RE,
  type ConfigFileKind,
  type ConfigSection,
  describe,
  parseConfigText,
  parseHeader,
  parseLines,
  readConfigFileSync,
  sectionOf,
  splitLines,
  syntaxError,
} from "./config_syntax.ts";
import type { ProfileConfig, SharedFiles } from "./profile_config.ts";
import { configFilePath, credentialsFilePath, type EnvLike } from "./paths.ts";

/** The profile to use: `--profile`, AWS_PROFILE, AWS_DEFAULT_PROFILE, else `default`. */
export function profileName(env: EnvLike, flag?: string): string {
  return flag || env.get("AWS_PROFILE") || env.get("AWS_DEFAULT_PROFILE") || "default";
}

/** The region: `--region`, AWS_REGION, AWS_DEFAULT_REGION, then the profile's `region`. */
export function resolveRegion(
  env: EnvLike,
  flag: string | undefined,
  keys: Readonly<Record<string, string>>,
): string | undefined {
  return flag || env.get("AWS_REGION") || env.get("AWS_DEFAULT_REGION") || keys.region ||
    undefined;
}

/**
 * A profile out of its sections: the config section's keys merged with the credentials section's
 * (credentials win), and the services section its `services` key names.
 */
export function profileOf(
  name: string,
  config: ConfigSection | undefined,
  credentials: ConfigSection | undefined,
  findServices: (name: string) => ConfigSection | undefined,
): ProfileConfig {
  const keys = { ...config?.keys, ...credentials?.keys };
  const services = keys.services ? findServices(keys.services) : undefined;
  return {
    name,
    exists: config !== undefined || credentials !== undefined,
    keys,
    ...(services ? { services } : {}),
  };
}

/** Both shared files, read once; any number of profiles looked up in them. */
export interface ProfileFiles {
  readonly configPath: string;
  readonly credentialsPath: string;
  /**
   * A profile: its config keys merged with its credentials-file keys (credentials win), and the
   * `[services NAME]` section its `services` key names. Parses only those sections (each once).
   *
   * @throws {ConfigError} `ERR_CONFIG_SYNTAX` naming the file and line, for what it reads.
   */
  profile(name: string): ProfileConfig;
  /**
   * A section of the config file other than a profile (`sso-session`, `services`).
   *
   * @throws {ConfigError} `ERR_CONFIG_SYNTAX` naming the file and line, for what it reads.
   */
  configSection(kind: "sso-session" | "services", name: string): ConfigSection | undefined;
  /**
   * Both files parsed whole (every profile's name, for a listing or a did-you-mean).
   *
   * @throws {ConfigError} `ERR_CONFIG_SYNTAX` for anything malformed anywhere in them.
   */
  shared(): SharedFiles;
}

/**
 * Reads the config (AWS_CONFIG_FILE) and credentials (AWS_SHARED_CREDENTIALS_FILE) files, once; a
 * missing file has no sections.
 *
 * @throws {ConfigError} `ERR_CONFIG_IO` when a file cannot be read, `ERR_CONFIG_SYNTAX` when it is
 *   not UTF-8, naming the file.
 */
export function readProfileFiles(env: EnvLike): ProfileFiles {
  const configPath = configFilePath(env);
  const credentialsPath = credentialsFilePath(env);
  const config = new FileSections(readText(configPath), configPath, "config");
  const credentials = new FileSections(readText(credentialsPath), credentialsPath, "credentials");
  const profiles = new Map<string, ProfileConfig>();
  return {
    configPath,
    credentialsPath,
    profile(name) {
      let profile = profiles.get(name);
      if (profile === undefined) {
        profile = profileOf(
          name,
          config.find("profile", name),
          credentials.find("credentials", name),
          (services) => config.find("services", services),
        );
        profiles.set(name, profile);
      }
      return profile;
    },
    configSection: (kind, name) => config.find(kind, name),
    shared: () => ({
      configPath,
      credentialsPath,
      config: config.all(),
      credentials: credentials.all(),
    }),
  };
}

/**
 * A shared file's text ("" when missing), with `readConfigFileSync`'s errors. Deno's text reader
 * is about twice as fast as a strict decoder on a large file; it turns bytes that are not UTF-8
 * into U+FFFD, and only then is the file read again strictly.
 */
function readText(path: string): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "";
    return readConfigFileSync(path) ?? ""; // names the error
  }
  return text.includes("\uFFFD") ? readConfigFileSync(path) ?? "" : text;
}

/**
 * Reads one profile (see {@link ProfileFiles.profile}); for more than one, read the files once
 * with {@link readProfileFiles}.
 *
 * @throws {ConfigError} `ERR_CONFIG_IO` or `ERR_CONFIG_SYNTAX` naming the file.
 */
// deno-lint-ignore require-await -- async, so that an error is a rejection like the other readers'
export async function readProfile(env: EnvLike, name: string): Promise<ProfileConfig> {
  return readProfileFiles(env).profile(name);
}

/** One file's text, whose sections are parsed when asked for. */
export class FileSections {
  readonly #text: string;
  #sections?: ConfigSection[];
  /** Whether a look-up must parse the whole file (undefined: not checked yet). */
  #whole?: boolean;

  /**
   * @param text The file's contents (a BOM is dropped, as the parser drops it).
   * @param path The file's path, for error messages.
   * @param kind Which file it is.
   */
  constructor(text: string, readonly path: string, readonly kind: ConfigFileKind) {
    this.#text = text.startsWith("\uFEFF") ? text.slice(1) : text;
  }

  /**
   * Every section, as `parseConfigText` gives them.
   *
   * @throws {ConfigError} As `parseConfigText`.
   */
  all(): ConfigSection[] {
    return this.#sections ??= parseConfigText(this.#text, this.path, this.kind);
  }

  /**
   * The section of this kind and name, parsed from its header to the next unindented header (a
   * line that starts with `[` is always a header, so the section ends there in any reading).
   *
   * @throws {ConfigError} `ERR_CONFIG_SYNTAX` for that section, a duplicate of it, a header that
   *   mentions its name, or the checks of the module doc.
   */
  find(kind: ConfigSection["kind"], name: string): ConfigSection | undefined {
    const whole = () => this.all().find((s) => s.kind === kind && s.name === name);
    this.#whole ??= this.#needsWhole();
    if (this.#whole) return whole();
    const text = this.#text;
    const starts = new Set<number>(); // where the lines of its headers start
    for (const part of headerParts(this.kind, kind, name)) {
      for (let at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
        // A longer name (`[profile ab]` for `a`) is not this one.
        if (NAME_CHAR_RE.test(text[at + part.length] ?? "")) continue;
        const start = text.lastIndexOf("\n", at - 1) + 1;
        const lead = text.slice(start, at);
        const trimmed = lead.trimStart();
        // Only a line that starts with `[` is a header: elsewhere it is a value or a comment.
        if (part.startsWith("[") ? trimmed !== "" : !trimmed.startsWith("[")) continue;
        if (trimmed.length !== lead.length) return whole(); // indented: maybe a sub-property
        const header = this.#headerAt(start); // a malformed header that names it is refused here
        if (header.kind === kind && header.name === name) starts.add(start);
      }
    }
    const [first, second] = [...starts].sort((a, b) => a - b);
    if (first === undefined) return undefined;
    const section = this.#sectionAt(first);
    if (second !== undefined) {
      throw syntaxError(
        this.path,
        this.#lineIndex(second),
        `${describe({ kind, name }, this.kind)} is already defined on line ` +
          `${this.#lineIndex(first) + 1}. Merge the two sections`,
      );
    }
    return section;
  }

  /** `[DEFAULT]` anywhere, or anything but comments before the first header: ask the whole parse. */
  #needsWhole(): boolean {
    const text = this.#text;
    if (text.includes("[DEFAULT]")) return true;
    let first = text.length; // where the line of the first header starts
    for (let at = text.indexOf("["); at >= 0; at = text.indexOf("[", at + 1)) {
      const start = text.lastIndexOf("\n", at - 1) + 1;
      if (text.slice(start, at).trim() === "") {
        first = start;
        break;
      }
    }
    const prefix = text.slice(0, first);
    // Blank lines and comments, nearly always; anything else parses alone as in the whole file,
    // which throws what it would.
    if (prefix.split("\n").some((l) => !/^\s*([#;]|$)/.test(l))) {
      parseLines(splitLines(prefix), this.path, this.kind);
    }
    return false;
  }

  /** The kind and name of the header line at `start` (an unindented `[` line). */
  #headerAt(start: number): { kind: ConfigSection["kind"]; name: string } {
    const end = this.#text.indexOf("\n", start);
    const line = this.#text.slice(start, end < 0 ? undefined : end).replace(/\r$/, "");
    const plain = plainHeader(line.trimEnd(), this.kind);
    if (plain !== undefined) return plain;
    const content = line.split(COMMENT_RE)[0]!.trim();
    try {
      return parseHeader(content, 0, this.path, this.kind);
    } catch {
      // Count the lines only for the message.
      return parseHeader(content, this.#lineIndex(start), this.path, this.kind);
    }
  }

  /** The section whose header starts at `start`. */
  #sectionAt(start: number): ConfigSection {
    const next = this.#text.indexOf("\n[", start);
    const text = this.#text.slice(start, next < 0 ? undefined : next + 1);
    const { kind, name } = this.#headerAt(start);
    const plain = plainKeys(text);
    const { keys, subKeys } = plain === undefined
      ? this.#strictSection(text, start)
      : { keys: plain, subKeys: {} };
    const lineIndex = () => this.#lineIndex(start);
    return {
      kind,
      name,
      keys,
      subKeys,
      // Counting lines costs a loop over the file: only when asked.
      get line() {
        return lineIndex() + 1;
      },
    };
  }

  /** The section in `text` (from its header on) as the strict parser reads it. */
  #strictSection(text: string, start: number): ConfigSection {
    const lines = splitLines(text);
    try {
      return sectionOf(parseLines(lines, this.path, this.kind)[0]!);
    } catch {
      // Count the lines only for the message: parsed again from the right line, it throws.
      return sectionOf(parseLines(lines, this.path, this.kind, this.#lineIndex(start))[0]!);
    }
  }

  /** The 0-based line of the text's offset `at`. */
  #lineIndex(at: number): number {
    let lines = 0;
    for (
      let i = this.#text.indexOf("\n");
      i !== -1 && i < at;
      i = this.#text.indexOf("\n", i + 1)
    ) {
      lines++;
    }
    return lines;
  }
}

/** A character of a section name (the JS SDK's set). */
const NAME_CHAR_RE = /[\w\-@+.%:/]/;

/*
 * The plain shape nearly every file has, read without the strict parser's code (a warm run then
 * compiles none of it): `[profile NAME]`, `[default]` or `[NAME]` with a plain name, and
 * unindented `key = value` lines without `#` or `;`, full-line comments and blank lines. On these
 * the strict parser gives the same answer (the fuzz test checks it); on anything else it decides.
 */

/** The header line's kind and name when it is a plain header (no comment, quotes or blanks). */
function plainHeader(
  line: string,
  file: ConfigFileKind,
): { kind: ConfigSection["kind"]; name: string } | undefined {
  if (!line.endsWith("]")) return undefined;
  const inner = line.slice(1, -1);
  if (file === "credentials") {
    return plainName(inner) && inner !== "DEFAULT"
      ? { kind: "credentials", name: inner }
      : undefined;
  }
  if (inner === "default") return { kind: "profile", name: "default" };
  const space = inner.indexOf(" ");
  const word = inner.slice(0, space);
  const name = inner.slice(space + 1);
  return (word === "profile" || word === "services" || word === "sso-session") && plainName(name)
    ? { kind: word, name }
    : undefined;
}

/** A name every SDK reads alike (the strict parser's name characters), not `__proto__`. */
function plainName(name: string): boolean {
  return name !== "" && name !== "__proto__" && !NOT_NAME_RE.test(name);
}
const NOT_NAME_RE = /[^\w\-@+.%:/]/;

/**
 * The keys of a section of the plain shape (`text` from its header line on); undefined for any
 * other shape, or a duplicate key, which the strict parser then reads or refuses.
 */
function plainKeys(text: string): Record<string, string> | undefined {
  const lines = text.split("\n");
  const keys: Record<string, string> = {};
  const seen = new Set<string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.endsWith("\r") ? lines[i]!.slice(0, -1) : lines[i]!;
    const first = line.trimStart()[0];
    if (first === undefined || first === "#" || first === ";") continue; // blank or comment
    if (first !== line[0] || line.includes("#") || line.includes(";")) return undefined;
    const eq = line.indexOf("=");
    if (eq < 1) return undefined;
    const key = line.slice(0, eq).trim();
    const lower = key.toLowerCase();
    if (key === "" || key.includes(":") || key === "__proto__" || seen.has(lower)) {
      return undefined;
    }
    seen.add(lower);
    keys[key] = line.slice(eq + 1).trim();
  }
  return keys;
}

/**
 * Text that every header of a section holds, in the parser's rules: `[NAME` in the credentials
 * file; in the config file the word and one blank before the name, or the name in quotes (and
 * `[default` for the default profile). Found with `indexOf`, which runs natively: a regular
 * expression over the whole text, or a loop over its lines, runs in V8's interpreters in a
 * process this short and costs milliseconds on 250 KB.
 */
function headerParts(file: ConfigFileKind, kind: ConfigSection["kind"], name: string): string[] {
  if (file === "credentials") return [`[${name}`];
  const parts = [`[${kind} ${name}`, `[${kind}\t${name}`, `"${name}"`, `'${name}'`];
  return kind === "profile" && name === "default" ? ["[default", ...parts] : parts;
}
