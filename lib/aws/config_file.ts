/**
 * The editor of the AWS shared config and credentials files: it changes keys of one profile while
 * keeping every other byte, and refuses an edit that would leave a file the AWS SDKs read
 * differently. The format and its parser are in `config_syntax.ts`.
 *
 * Writes go through `writeFileAtomic` (temp file, fsync, rename; file 0600, new directories 0700),
 * so the old file stays intact when anything fails.
 *
 * @see docs/PROTOCOL.md §8
 * @module
 */
import { ConfigError } from "../errors.ts";
import { DIR_MODE, FILE_MODE, UnsafePathError, writeFileAtomic } from "../files.ts";
import {
  COMMENT_RE,
  type ConfigFileKind,
  type Line,
  NAME_RE,
  osReason,
  parseLines,
  readConfigFile,
  splitLines,
  syntaxError,
} from "./config_syntax.ts";

/** Keys the editor writes: plain words, so every SDK reads them back the same. */
const WRITABLE_KEY_RE = /^[A-Za-z0-9_.\-]+$/;

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
// Editing

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
