/**
 * The AWS shared config and credentials files (the "AWS SDKs and Tools" INI format): a strict
 * parser, and an editor that changes one key of one profile while keeping every other byte.
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
 * Writes go through `writeFileAtomic` (temp file, fsync, rename; file 0600, new directories 0700),
 * so the old file stays intact when anything fails. Only `Deno.*`: this is on the credential path.
 *
 * @see docs/PROTOCOL.md §8
 * @module
 */
import { ConfigError } from "../errors.ts";
import { DIR_MODE, FILE_MODE, UnsafePathError, writeFileAtomic } from "../files.ts";

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
interface Line {
  text: string;
  eol: string;
}

/** A property as found, with where it sits, for the editor. */
interface KeyRecord {
  readonly value: string;
  readonly line: number; // 0-based index of the `key = value` line
  readonly indent: number;
  lastLine: number; // 0-based index of its last sub-property line (= line when it has none)
}

interface ParsedSection {
  readonly kind: ConfigSection["kind"];
  readonly name: string;
  readonly header: number; // 0-based
  readonly keys: Map<string, KeyRecord>;
  readonly subKeys: Map<string, Map<string, string>>;
  lastLine: number; // 0-based index of the section's last property line (the header when none)
}

/** Names the JS SDK accepts after `profile`/`sso-session`/`services`. */
const NAME_RE = /^[\w\-@+.%:/]+$/;
/** Keys the editor writes: plain words, so every SDK reads them back the same. */
const WRITABLE_KEY_RE = /^[A-Za-z0-9_.\-]+$/;
const SECTION_WORDS = ["profile", "sso-session", "services"] as const;
/** An inline comment starts at whitespace (or the line start) followed by `#` or `;` (the JS rule). */
const COMMENT_RE = /(^|\s)[#;]/;

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
  return parseLines(splitLines(text), path, kind).map((s) => ({
    kind: s.kind,
    name: s.name,
    keys: Object.fromEntries([...s.keys].map(([k, r]) => [k, r.value])),
    subKeys: Object.fromEntries([...s.subKeys].map(([k, m]) => [k, Object.fromEntries(m)])),
    line: s.header + 1,
  }));
}

/**
 * Sets keys of one profile in a file's text, keeping every other byte: an existing `key = value`
 * line gets the new value in place (its inline comment, if any, is dropped); a new key goes after
 * the section's last property; a missing section is appended after one blank line (`[default]` or
 * `[profile NAME]` in config, `[NAME]` in credentials). New lines use the file's line ending.
 *
 * @param text Current contents ("" for a missing file).
 * @param profile Profile name.
 * @param entries Keys and values, set in this order; empty = text returned unchanged.
 * @param kind Which file it is.
 * @param options.path The file's path, for error messages.
 * @returns The new contents.
 * @throws {TypeError} For a key that is not a plain word, or a value that would not read back the
 *   same (empty, a line break, surrounding spaces, or ` #`/` ;`).
 * @throws {ConfigError} `ERR_CONFIG_SYNTAX` when the text does not parse or the key exists with
 *   sub-properties or in another case; `ERR_CONFIG_PROFILE` for a profile name that cannot be
 *   written as a section header.
 */
export function setProfileKeysInText(
  text: string,
  profile: string,
  entries: Readonly<Record<string, string>>,
  kind: ConfigFileKind,
  options: { path?: string } = {},
): string {
  const path = options.path ?? kind;
  checkWritableProfile(profile, path, kind);
  const pairs = Object.entries(entries);
  for (const [key, value] of pairs) checkWritableEntry(key, value);
  if (pairs.length === 0) return text;

  const lines = splitLines(text);
  const fileEol = lines.find((l) => l.eol !== "")?.eol ?? "\n";
  for (const [key, value] of pairs) {
    const section = parseLines(lines, path, kind).find((s) =>
      s.name === profile && s.kind === (kind === "config" ? "profile" : "credentials")
    );
    if (section === undefined) {
      appendSection(lines, profile, kind, fileEol);
      lines.push({ text: `${key} = ${value}`, eol: fileEol });
      continue;
    }
    const existing = section.keys.get(key);
    if (existing !== undefined) {
      if (existing.lastLine !== existing.line) {
        throw syntaxError(
          path,
          existing.line,
          `"${key}" holds sub-properties, so it cannot be set to a value. Remove them first`,
        );
      }
      replaceValue(lines[existing.line]!, value);
      continue;
    }
    const clash = [...section.keys].find(([k]) => k.toLowerCase() === key.toLowerCase());
    if (clash !== undefined) {
      throw syntaxError(
        path,
        clash[1].line,
        `"${clash[0]}" would clash with "${key}" (the AWS CLI ignores case in keys). ` +
          `Rename it to "${key}" or remove it`,
      );
    }
    const after = lines[section.lastLine]!;
    const eol = after.eol || fileEol;
    after.eol ||= fileEol;
    lines.splice(section.lastLine + 1, 0, { text: `${key} = ${value}`, eol });
  }
  const result = joinLines(lines);
  parseLines(splitLines(result), path, kind); // the edit must leave a file every SDK reads alike
  return result;
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
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new ConfigError("ERR_CONFIG_IO", `Cannot read "${path}": ${osReason(err)}`, {
      cause: err,
    });
  }
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

/**
 * Sets keys of one profile in a config or credentials file (see `setProfileKeysInText`). A missing
 * file is created 0600 (its directory 0700); the file is replaced atomically, so a failed write
 * leaves the old one intact. Nothing is written when nothing changes.
 *
 * @param path The file.
 * @param profile Profile name.
 * @param entries Keys and values to set.
 * @param kind Which file it is (default `config`).
 * @throws {ConfigError} `ERR_CONFIG_IO` when the file cannot be read or written (an unsafe
 *   symlink included), and the errors of `setProfileKeysInText`.
 * @throws {TypeError} As `setProfileKeysInText`.
 */
export async function setProfileKeys(
  path: string,
  profile: string,
  entries: Readonly<Record<string, string>>,
  kind: ConfigFileKind = "config",
): Promise<void> {
  const before = await readConfigFile(path);
  const after = setProfileKeysInText(before ?? "", profile, entries, kind, { path });
  if (after === (before ?? "")) return;
  try {
    writeFileAtomic(path, after, { mode: FILE_MODE, dirMode: DIR_MODE });
  } catch (err) {
    if (err instanceof UnsafePathError) {
      throw new ConfigError(
        "ERR_CONFIG_IO",
        `Refusing to write "${path}": it is a symlink in a place another user controls. ` +
          `Replace it with a regular file you own`,
        { cause: err },
      );
    }
    throw new ConfigError(
      "ERR_CONFIG_IO",
      `Cannot write "${path}": ${osReason(err)}. The file was left unchanged`,
      { cause: err },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

function parseLines(lines: readonly Line[], path: string, fileKind: ConfigFileKind) {
  const sections: ParsedSection[] = [];
  const seen = new Map<string, number>(); // `${kind} ${name}` → header index
  let section: ParsedSection | undefined;
  let parent: { key: string; record: KeyRecord } | undefined; // the section's latest key
  for (let i = 0; i < lines.length; i++) {
    let raw = lines[i]!.text;
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

function parseHeader(
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

function describe(s: { kind: ConfigSection["kind"]; name: string }, fileKind: ConfigFileKind) {
  if (s.kind === "other") return `Section [${s.name}]`;
  if (fileKind === "credentials") return `Profile "${s.name}"`;
  return s.kind === "profile" ? `Profile "${s.name}"` : `The ${s.kind} "${s.name}"`;
}

function syntaxError(path: string, index: number, reason: string): ConfigError {
  return new ConfigError(
    "ERR_CONFIG_SYNTAX",
    `Cannot parse "${path}", line ${index + 1}: ${reason}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Editing

function splitLines(text: string): Line[] {
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

function joinLines(lines: readonly Line[]): string {
  return lines.map((l) => l.text + l.eol).join("");
}

/** Puts `value` after the line's `=` and the spaces that followed it; drops the rest. */
function replaceValue(line: Line, value: string): void {
  const eq = line.text.indexOf("=");
  const gap = /^[ \t]*/.exec(line.text.slice(eq + 1))![0] ||
    (line.text[eq - 1] === " " || line.text[eq - 1] === "\t" ? " " : "");
  line.text = line.text.slice(0, eq + 1) + gap + value;
}

function appendSection(lines: Line[], profile: string, kind: ConfigFileKind, eol: string): void {
  const last = lines.at(-1);
  if (last !== undefined) {
    last.eol ||= eol;
    if (last.text.trim() !== "" && last.text !== "\uFEFF") lines.push({ text: "", eol });
  }
  const header = kind === "credentials" || profile === "default"
    ? `[${profile}]`
    : `[profile ${profile}]`;
  lines.push({ text: header, eol });
}

function checkWritableProfile(profile: string, path: string, kind: ConfigFileKind): void {
  const ok = kind === "config"
    ? NAME_RE.test(profile)
    : profile !== "" && !/[\s[\]]/.test(profile) && profile !== "DEFAULT";
  if (!ok || profile === "__proto__") {
    throw new ConfigError(
      "ERR_CONFIG_PROFILE",
      `Cannot write profile "${profile}" to "${path}": use a name made of letters, digits and ` +
        `_ - @ + . % : /`,
    );
  }
}

function checkWritableEntry(key: string, value: string): void {
  if (!WRITABLE_KEY_RE.test(key)) {
    throw new TypeError(`Cannot write key "${key}": use letters, digits, "_", "-" or "."`);
  }
  if (/[\r\n]/.test(value)) {
    throw new TypeError(`Cannot write the value of "${key}": it contains a line break`);
  }
  if (value === "" || value !== value.trim() || COMMENT_RE.test(value)) {
    throw new TypeError(
      `Cannot write the value of "${key}": it is empty, has surrounding spaces, or holds a ` +
        `comment marker (" #", " ;") that the AWS SDKs would cut off`,
    );
  }
}

/** Deno's error text without its "(os error N): op 'path'" tail; the caller names the path. */
function osReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s*\(os error \d+\).*$/s, "") || message;
}
