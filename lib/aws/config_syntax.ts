/**
 * The AWS shared config and credentials files (the "AWS SDKs and Tools" INI format): reading them
 * and the strict parser. The one set of rules for what a section header, a property and a comment
 * are: the whole-file parse here, the per-profile reading of `profile_reader.ts` and the
 * line-preserving editor of `config_file.ts` all use them.
 *
 * Format, as the AWS CLI (botocore, Python `configparser`) and the JS SDK
 * (`@smithy/shared-ini-file-loader`, now in `@smithy/core`) read it:
 * - Sections: in the config file `[default]`, `[profile NAME]` (also `[profile "NAME"]` or
 *   `[profile 'NAME']`), `[sso-session NAME]`, `[services NAME]`; any other section is kept but is
 *   not a profile. In the credentials file every `[NAME]` is a profile. A section ends at the next
 *   header; nothing inherits from `[default]`. A header the JS SDK does not read as a profile —
 *   `[profile]`, a name with spaces or other characters it refuses (`[profile "my name"]`), spaces
 *   inside the brackets, a credentials-file name with spaces — is kept as an `other` section: it is
 *   not a profile here, and it does not stop the rest of the file from being used.
 * - Properties: `key = value`, both trimmed; a key may hold inner spaces (`foo bar = 1`). A key
 *   with an empty value followed by lines indented deeper than it holds sub-properties
 *   (`signin =` / `  endpoint_url = …`).
 * - Comments: lines whose first non-blank character is `#` or `;`, and inline comments starting
 *   at whitespace followed by `#` or `;` (the JS SDK strips those; Python does not, which is why
 *   the editor never writes one). Blank lines are ignored. CRLF line endings are accepted.
 *
 * Where the SDKs read the same text differently, or one of them rejects it, the parser raises a
 * ConfigError `ERR_CONFIG_SYNTAX` naming the file and line rather than guess:
 * - a property before any section header (Python refuses it; JS drops it);
 * - a header without its closing `]`, or with text after it (JS then reads the line as nothing and
 *   keeps filling the previous section);
 * - a line that is none of header, property, comment, blank or sub-property (Python refuses it);
 *   this includes `key: value`, which Python accepts and JS ignores, and a key containing `:`;
 * - an indented line under a key that has a value (Python appends it to the value, JS reads a new
 *   key or nothing), a sub-property without `=` or without a value, and an indented key that is
 *   not indented deeper than the empty-valued key above it (JS nests it, Python does not);
 * - a duplicate section (`[profile a]` twice, or `[default]` with `[profile default]`, or
 *   `[profile a]` with `[profile "a"]`) or a duplicate key within a section, keys compared without
 *   case (Python refuses both; JS merges them);
 * - `[DEFAULT]` (Python copies its keys into every section; JS ignores it), a section word such as
 *   `[profiles x]` that Python reads as a profile and JS ignores, and the name or key `__proto__`
 *   (the JS SDK refuses it).
 * Keys are case-sensitive (as the JS SDK; Python lowercases them), so `Region` is not `region`.
 *
 * Only `Deno.*`: this is on the credential path.
 *
 * @see docs/PROTOCOL.md §8
 * @module
 */
import { ConfigError } from "../errors.ts";

/** One section of a config or credentials file. */
export interface ConfigSection {
  /** `profile` for `[default]`/`[profile x]` in config; `credentials` for every credentials section. */
  readonly kind: "profile" | "sso-session" | "services" | "credentials" | "other";
  /** The name without the kind word or quotes (`default` for `[default]`); the raw text for `other`. */
  readonly name: string;
  /** Top-level keys; a key that holds sub-properties has the value "". */
  readonly keys: Readonly<Record<string, string>>;
  /** Sub-properties by their parent key (`signin` → `endpoint_url` → URL). */
  readonly subKeys: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** 1-based line number of the header. */
  readonly line: number;
}

/** Which of the two shared files a text is. */
export type ConfigFileKind = "config" | "credentials";

/** A line of the file: its text without the line ending, and the ending itself ("" on the last). */
export interface Line {
  text: string;
  eol: string;
}

/** A property as found, with where it sits, for the editor. */
export interface KeyRecord {
  readonly value: string;
  readonly line: number; // 0-based index of the `key = value` line
  readonly indent: number;
  lastLine: number; // 0-based index of its last sub-property line (= line when it has none)
}

export interface ParsedSection {
  readonly kind: ConfigSection["kind"];
  readonly name: string;
  readonly header: number; // 0-based
  readonly keys: Map<string, KeyRecord>;
  readonly subKeys: Map<string, Map<string, string>>;
  lastLine: number; // 0-based index of the section's last property line (the header when none)
}

/** Names the JS SDK accepts after `profile`/`sso-session`/`services`. */
export const NAME_RE = /^[\w\-@+.%:/]+$/;
export const SECTION_WORDS = ["profile", "sso-session", "services"] as const;
/** An inline comment starts at whitespace (or the line start) followed by `#` or `;` (the JS rule). */
export const COMMENT_RE = /(^|\s)[#;]/;

/**
 * Parses a config or credentials file.
 *
 * @param text The file's contents.
 * @param path The file's path, for error messages.
 * @param kind Which file it is: section names differ (`[profile x]` vs `[x]`).
 * @returns Its sections in file order.
 * @throws {ConfigError} `ERR_CONFIG_SYNTAX` naming the file and line, for anything malformed or
 *   read differently by the AWS SDKs (see the module doc).
 */
export function parseConfigText(
  text: string,
  path: string,
  kind: ConfigFileKind,
): ConfigSection[] {
  return parseLines(splitLines(text), path, kind).map(sectionOf);
}

/** A parsed section as {@link parseConfigText} gives it. */
export function sectionOf(s: ParsedSection): ConfigSection {
  return {
    kind: s.kind,
    name: s.name,
    keys: Object.fromEntries([...s.keys].map(([k, r]) => [k, r.value])),
    subKeys: Object.fromEntries([...s.subKeys].map(([k, m]) => [k, Object.fromEntries(m)])),
    line: s.header + 1,
  };
}

/**
 * Reads a config or credentials file as text, byte for byte (a BOM is kept, so a rewrite keeps it).
 *
 * @returns The text, or undefined when the file does not exist.
 * @throws {ConfigError} `ERR_CONFIG_IO` when it cannot be read; `ERR_CONFIG_SYNTAX` when it is not
 *   UTF-8.
 */
export async function readConfigFile(path: string): Promise<string | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    return readFailure(path, err);
  }
  return decodeConfigFile(path, bytes);
}

/**
 * {@link readConfigFile}, synchronously: the credential hot path reads both files this way.
 *
 * @throws {ConfigError} As {@link readConfigFile}.
 */
export function readConfigFileSync(path: string): string | undefined {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (err) {
    return readFailure(path, err);
  }
  return decodeConfigFile(path, bytes);
}

function readFailure(path: string, err: unknown): undefined {
  if (err instanceof Deno.errors.NotFound) return undefined;
  throw new ConfigError("ERR_CONFIG_IO", `Cannot read "${path}": ${osReason(err)}`, {
    cause: err,
  });
}

function decodeConfigFile(path: string, bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (err) {
    throw new ConfigError(
      "ERR_CONFIG_SYNTAX",
      `Cannot parse "${path}": it is not UTF-8 text. Save it as UTF-8`,
      { cause: err },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/**
 * Parses lines of a file into sections, keeping where each key sits (for the editor).
 *
 * @param lines The lines, from the file's start or, with `base`, from a header on.
 * @param path The file's path, for error messages.
 * @param fileKind Which file it is.
 * @param base The 0-based index in the file of `lines[0]`: line numbers in the result and in
 *   errors count from the file's start. Only a text that starts at a header (or the file's start)
 *   parses as it would within the whole file.
 * @throws {ConfigError} As {@link parseConfigText}.
 */
export function parseLines(
  lines: readonly Line[],
  path: string,
  fileKind: ConfigFileKind,
  base = 0,
): ParsedSection[] {
  const sections: ParsedSection[] = [];
  const seen = new Map<string, number>(); // `${kind} ${name}` → header index
  let section: ParsedSection | undefined;
  let parent: { key: string; record: KeyRecord } | undefined; // the section's latest key
  for (let j = 0; j < lines.length; j++) {
    const i = base + j;
    let raw = lines[j]!.text;
    if (i === 0 && raw.startsWith("\uFEFF")) raw = raw.slice(1);
    const content = raw.split(COMMENT_RE)[0]!.trim();
    if (content === "") continue; // blank or comment
    const indent = raw.length - raw.trimStart().length;

    if (section !== undefined && parent !== undefined && indent > parent.record.indent) {
      parseSubProperty(content, i, path, section, parent);
      continue;
    }
    if (content.startsWith("[")) {
      const header = parseHeader(content, i, path, fileKind);
      const id = `${header.kind} ${header.name}`;
      const first = seen.get(id);
      if (first !== undefined) {
        throw syntaxError(
          path,
          i,
          `${describe(header, fileKind)} is already defined on line ${first + 1}. ` +
            `Merge the two sections`,
        );
      }
      seen.set(id, i);
      section = { ...header, header: i, keys: new Map(), subKeys: new Map(), lastLine: i };
      sections.push(section);
      parent = undefined;
      continue;
    }
    if (parent?.record.value === "" && indent > 0 && indent <= parent.record.indent) {
      // JS nests any indented line under an empty-valued key; Python only a deeper one.
      throw syntaxError(
        path,
        i,
        `indent this line more than "${parent.key}" (line ${parent.record.line + 1}) to make it ` +
          `a sub-property, or not at all`,
      );
    }
    const [key, value] = parseProperty(content, i, path);
    if (section === undefined) {
      throw syntaxError(
        path,
        i,
        `"${key}" comes before any section header. Put it under a section such as ` +
          (fileKind === "config" ? "[default] or [profile NAME]" : "[default] or [NAME]"),
      );
    }
    for (const [k, r] of section.keys) {
      if (k.toLowerCase() === key.toLowerCase()) {
        throw syntaxError(
          path,
          i,
          `"${key}" is already set on line ${r.line + 1} of this section. Keep one of them`,
        );
      }
    }
    const record: KeyRecord = { value, line: i, indent, lastLine: i };
    section.keys.set(key, record);
    section.lastLine = i;
    parent = { key, record };
  }
  return sections;
}

function parseSubProperty(
  content: string,
  i: number,
  path: string,
  section: ParsedSection,
  parent: { key: string; record: KeyRecord },
): void {
  if (parent.record.value !== "") {
    throw syntaxError(
      path,
      i,
      `this indented line continues the value of "${parent.key}", which the AWS SDKs read ` +
        `differently. Put the value on one line, or remove the indent`,
    );
  }
  const [key, value] = parseProperty(content, i, path, parent.key);
  if (value === "") {
    throw syntaxError(path, i, `sub-property "${key}" of "${parent.key}" has no value`);
  }
  let subs = section.subKeys.get(parent.key);
  if (subs === undefined) section.subKeys.set(parent.key, subs = new Map());
  for (const k of subs.keys()) {
    if (k.toLowerCase() === key.toLowerCase()) {
      throw syntaxError(path, i, `"${key}" is already set under "${parent.key}". Keep one of them`);
    }
  }
  subs.set(key, value);
  parent.record.lastLine = i;
  section.lastLine = i;
}

/** Splits `key = value`; the key must be a name every SDK reads the same. */
function parseProperty(content: string, i: number, path: string, under?: string): [string, string] {
  const eq = content.indexOf("=");
  if (eq < 0) {
    const what = under === undefined
      ? `a [section] header, "name = value" or a comment`
      : `"name = value" (a sub-property of "${under}")`;
    throw syntaxError(path, i, `expected ${what}`);
  }
  const key = content.slice(0, eq).trim();
  if (key === "") throw syntaxError(path, i, `the property has no name before "="`);
  if (key.includes(":")) {
    throw syntaxError(
      path,
      i,
      `"${key}" is not a valid key: keys have no ":" (the AWS CLI also reads ":" as "=")`,
    );
  }
  if (key === "__proto__") throw syntaxError(path, i, `"__proto__" is not allowed as a key`);
  return [key, content.slice(eq + 1).trim()];
}

/**
 * A section header's kind and name (`content`: the line without indent, comment and trailing
 * blanks). A header no SDK reads as a profile is an `other` section.
 *
 * @throws {ConfigError} `ERR_CONFIG_SYNTAX` for a header the SDKs read differently.
 */
export function parseHeader(
  content: string,
  i: number,
  path: string,
  fileKind: ConfigFileKind,
): { kind: ConfigSection["kind"]; name: string } {
  if (!content.endsWith("]")) {
    throw syntaxError(
      path,
      i,
      content.includes("]")
        ? `unexpected text after "]" in the section header`
        : `the section header is missing its closing "]"`,
    );
  }
  const inner = content.slice(1, -1);
  if (inner === "") throw syntaxError(path, i, "the section header has no name");
  if (/[[\]]/.test(inner)) throw syntaxError(path, i, `a section name cannot contain "[" or "]"`);
  if (inner === "DEFAULT") {
    throw syntaxError(
      path,
      i,
      `[DEFAULT] is special to the AWS CLI (its keys apply to every section) and ignored by ` +
        `the other SDKs. Rename it, e.g. to [default]`,
    );
  }
  // No SDK reads these as profiles (Python keeps the spaces in the name); neither do we.
  if (inner !== inner.trim()) return { kind: "other", name: inner };
  if (fileKind === "credentials") {
    if (/\s/.test(inner)) return { kind: "other", name: inner };
    return { kind: "credentials", name: checkName(inner, i, path) };
  }
  if (inner === "default") return { kind: "profile", name: "default" };
  const word = /^\S+/.exec(inner)![0];
  const kind = SECTION_WORDS.find((w) => w === word);
  if (kind === undefined) {
    const near = SECTION_WORDS.find((w) => word.startsWith(w));
    if (near !== undefined && word !== inner) {
      // Python reads any section starting with the word as one of its kind; JS ignores it.
      throw syntaxError(path, i, `"${content}" is not a valid section. Write it as [${near} NAME]`);
    }
    return { kind: "other", name: inner };
  }
  const m = /^\S+[ \t](["']?)(.*)\1$/.exec(inner);
  const name = m?.[2] ?? "";
  // The JS SDK ignores a name it cannot read (Python may read `[profile "a b"]`): not a profile.
  if (!NAME_RE.test(name)) return { kind: "other", name: inner };
  return { kind, name: checkName(name, i, path) };
}

function checkName(name: string, i: number, path: string): string {
  if (name === "__proto__") throw syntaxError(path, i, `"__proto__" is not allowed as a name`);
  return name;
}

/** How messages name a section: `Profile "dev"`, `The services "local"`, `Section [x]`. */
export function describe(
  s: { kind: ConfigSection["kind"]; name: string },
  fileKind: ConfigFileKind,
) {
  if (s.kind === "other") return `Section [${s.name}]`;
  if (fileKind === "credentials") return `Profile "${s.name}"`;
  return s.kind === "profile" ? `Profile "${s.name}"` : `The ${s.kind} "${s.name}"`;
}

/** `Cannot parse "PATH", line N: REASON` (`index` is 0-based). */
export function syntaxError(path: string, index: number, reason: string): ConfigError {
  return new ConfigError(
    "ERR_CONFIG_SYNTAX",
    `Cannot parse "${path}", line ${index + 1}: ${reason}`,
  );
}

/** The lines of a text, each with its line ending ("" on a last line without one). */
export function splitLines(text: string): Line[] {
  const out: Line[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf("\n", start);
    if (nl < 0) {
      out.push({ text: text.slice(start), eol: "" });
      break;
    }
    const cr = nl > start && text[nl - 1] === "\r";
    out.push({ text: text.slice(start, cr ? nl - 1 : nl), eol: cr ? "\r\n" : "\n" });
    start = nl + 1;
  }
  return out;
}

/** Deno's error text without its "(os error N): op 'path'" tail; the caller names the path. */
export function osReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s*\(os error \d+\).*$/s, "") || message;
}
