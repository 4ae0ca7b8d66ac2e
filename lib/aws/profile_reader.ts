/**
 * One profile out of the shared config and credentials files, read the quick way: the credential
 * hot path (`credential-process`, `export-env`) runs once per SDK call, so it reads both files
 * synchronously and scans them line by line instead of building the strict parser's structures
 * (`config_file.ts`, which also serves the line-preserving editor of `login`).
 *
 * The scan understands only the plain shape nearly every file has: unindented `key = value` lines
 * without `#` or `;`, full-line comments, blank lines and the headers `[default]`, `[profile NAME]`,
 * `[sso-session NAME]`, `[services NAME]` (config) or `[NAME]` (credentials) with plain names.
 * Anything else — an indented line (sub-properties), a possible inline comment, a quoted or unusual
 * header, a duplicate section or key, a BOM, bytes that are not UTF-8, a read error — hands both
 * files to the strict parser, so every answer and every error is the strict parser's.
 *
 * @see docs/PROTOCOL.md §8; lib/aws/config_file.ts for the full format
 * @module
 */
import type { ProfileConfig } from "./profile.ts";
import type { ConfigSection } from "./config_file.ts";
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
 * Reads one profile: its config keys merged with its credentials-file keys (credentials win), and
 * the `[services NAME]` section its `services` key names. Same answers and errors as
 * `loadProfile` in `profile.ts`, which it falls back to for anything but the plain shape.
 *
 * @throws {ConfigError} `ERR_CONFIG_IO` or `ERR_CONFIG_SYNTAX` naming the file.
 */
export async function readProfile(env: EnvLike, name: string): Promise<ProfileConfig> {
  const config = scanFile(configFilePath(env), "config", name);
  const credentials = config && scanFile(credentialsFilePath(env), "credentials", name);
  if (config === undefined || credentials === undefined) {
    // A variable specifier, so Deno reads the strict parser only when it is needed (it prepares
    // every literal `import("…")` of a module up front).
    const strict = "./profile.ts";
    const { loadProfile }: typeof import("./profile.ts") = await import(strict);
    return await loadProfile(env, name);
  }
  const keys = { ...config.profile, ...credentials.profile };
  const services = keys.services ? config.services.get(keys.services) : undefined;
  return {
    name,
    exists: config.profile !== undefined || credentials.profile !== undefined,
    keys,
    ...(services ? { services } : {}),
  };
}

/** What the scan keeps of one file. */
interface Scanned {
  /** The profile's keys, when the file has its section. */
  profile?: Record<string, string>;
  /** `[services NAME]` sections (config file only). */
  services: Map<string, ConfigSection>;
}

/** Scans one file; undefined means "not the plain shape: ask the strict parser". */
function scanFile(path: string, kind: "config" | "credentials", profile: string) {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { services: new Map() } as Scanned;
    return undefined; // the strict reader names the error
  }
  return scanText(text, kind, profile);
}

/**
 * Scans a file's text for one profile's keys (and, in config, the services sections).
 *
 * @returns The keys found, or undefined when the text is not of the plain shape.
 */
export function scanText(
  text: string,
  kind: "config" | "credentials",
  profile: string,
): Scanned | undefined {
  // A BOM, or bytes that were not UTF-8 (decoded to U+FFFD): the strict reader decides.
  if (text.startsWith("\uFEFF") || text.includes("\uFFFD")) return undefined;
  const result: Scanned = { services: new Map() };
  const sectionIds = new Set<string>();
  let keys: Record<string, string> | undefined;
  let lowerKeys = new Set<string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    const first = line.trimStart()[0];
    if (first === undefined || first === "#" || first === ";") continue; // blank or comment
    // Indented lines (sub-properties) and anything that may hold an inline comment: strict parser.
    if (first !== line[0] || line.includes("#") || line.includes(";")) return undefined;
    const content = line.trimEnd();
    if (first === "[") {
      const section = headerOf(content, kind);
      if (section === undefined) return undefined;
      const id = `${section.kind} ${section.name}`;
      if (sectionIds.has(id)) return undefined;
      sectionIds.add(id);
      keys = {};
      lowerKeys = new Set();
      if (section.kind === "services") {
        result.services.set(section.name, {
          kind: "services",
          name: section.name,
          keys,
          subKeys: {},
          line: i + 1,
        });
      } else if (section.kind === (kind === "config" ? "profile" : "credentials")) {
        if (section.name === profile) result.profile = keys;
      }
      continue;
    }
    const eq = content.indexOf("=");
    if (keys === undefined || eq < 1) return undefined;
    const key = content.slice(0, eq).trim();
    if (key === "" || key.includes(":") || key === "__proto__") return undefined;
    const lower = key.toLowerCase();
    if (lowerKeys.has(lower)) return undefined;
    lowerKeys.add(lower);
    keys[key] = content.slice(eq + 1).trim();
  }
  return result;
}

const SECTION_WORDS = ["profile", "sso-session", "services"] as const;

/** The kind and name of a plain header, or undefined for anything else. */
function headerOf(
  content: string,
  kind: "config" | "credentials",
): { kind: ConfigSection["kind"]; name: string } | undefined {
  if (!content.endsWith("]")) return undefined;
  const inner = content.slice(1, -1);
  if (kind === "credentials") {
    return isPlainName(inner) && inner !== "DEFAULT"
      ? { kind: "credentials", name: inner }
      : undefined;
  }
  if (inner === "default") return { kind: "profile", name: "default" };
  const space = inner.indexOf(" ");
  const word = SECTION_WORDS.find((w) => w === inner.slice(0, space));
  const name = inner.slice(space + 1);
  return word !== undefined && isPlainName(name) ? { kind: word, name } : undefined;
}

/** Letters, digits and `_ - @ + . % : /` (the names every SDK reads alike), not `__proto__`. */
function isPlainName(name: string): boolean {
  if (name === "" || name === "__proto__") return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!alnum && !"_-@+.%:/".includes(name[i]!)) return false;
  }
  return true;
}
