/**
 * Seeded property tests for the config file parser and editor: random valid files parse to the
 * model they were built from; setting one key changes only that key and keeps every other line
 * byte for byte; random garbage only ever raises ConfigError. The seed is in each test's name, so
 * a failure can be replayed.
 */
import assert from "node:assert/strict";
import { type ConfigFileKind, parseConfigText } from "../../lib/aws/config_syntax.ts";
import { setProfileKeysInText } from "../../lib/aws/config_file.ts";
import { ConfigError } from "../../lib/errors.ts";
import { FileSections } from "../../lib/aws/profile_reader.ts";

const SEED = 0x5eed_c0f1;

/** mulberry32: small, fast, good enough to pick cases. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number) => next() < p;
  return { int, pick, chance };
}
type Rng = ReturnType<typeof rng>;

interface ModelSection {
  kind: string;
  name: string;
  keys: Record<string, string>;
  subKeys: Record<string, Record<string, string>>;
}

const KEYS = [
  "region",
  "output",
  "login_session",
  "sso_session",
  "role_arn",
  "source_profile",
  "endpoint_url",
  "services",
  "s3",
  "signin",
  "cli_pager",
  "aws_access_key_id",
  "Mixed_Case",
  "max.attempts",
];
const VALUES = [
  "us-east-1",
  "json",
  "arn:aws:iam::123456789012:user/Alice",
  "http://127.0.0.1:4566/pfx/",
  "http://x/#frag",
  "a=b=c",
  "semi;colon",
  "with inner spaces",
  "\u00e9t\u00e9",
  "[not-a-section]",
];
const NAMES = ["dev", "prod", "a.b", "x@y", "team/ops", "p%1", "one:two", "under_score", "Z-9"];

function comment(r: Rng): string {
  return `${r.pick(["", " ", "\t", "    "])}${r.pick(["#", ";"])}${r.pick(["", " note", "# x"])}`;
}
function inline(r: Rng): string {
  return r.chance(0.25) ? `${r.pick([" ", "\t", "  "])}${r.pick(["#", ";"])} trailing` : "";
}
function eq(r: Rng): string {
  return r.pick(["=", " = ", " =", "= ", "\t=\t", "  =  "]);
}

/** A random valid file and the sections it must parse to. */
function randomFile(r: Rng, kind: ConfigFileKind): { text: string; model: ModelSection[] } {
  const eol = r.pick(["\n", "\r\n"]);
  const lines: string[] = [];
  const filler = () => {
    for (let n = r.int(3); n > 0; n--) lines.push(r.chance(0.5) ? comment(r) : r.pick(["", "  "]));
  };
  const model: ModelSection[] = [];
  const used = new Set<string>();
  filler();
  for (let s = r.int(6); s >= 0; s--) {
    let header: string;
    let section: ModelSection;
    if (kind === "credentials") {
      const name = r.chance(0.2) ? "default" : r.pick(NAMES);
      if (used.has(name)) continue;
      used.add(name);
      header = `[${name}]`;
      section = { kind: "credentials", name, keys: {}, subKeys: {} };
    } else {
      const k = r.pick(["default", "profile", "profile", "sso-session", "services", "other"]);
      const name = k === "default"
        ? "default"
        : k === "other"
        ? r.pick(["plugins", "preview"])
        : r.pick(NAMES);
      const modelKind = k === "default" ? "profile" : k;
      if (used.has(`${modelKind} ${name}`)) continue;
      used.add(`${modelKind} ${name}`);
      const q = r.pick(["", "", '"', "'"]);
      header = k === "default" || k === "other" ? `[${name}]` : `[${k} ${q}${name}${q}]`;
      section = { kind: modelKind, name, keys: {}, subKeys: {} };
    }
    // An indented header after a key would continue that key in Python, so only the first may be.
    lines.push((model.length === 0 ? r.pick(["", " ", "\t"]) : "") + header + inline(r));
    model.push(section);
    const indent = r.pick(["", "", "", " ", "  "]);
    const keys = new Set<string>();
    for (let n = r.int(5); n > 0; n--) {
      const key = r.pick(KEYS);
      if (keys.has(key.toLowerCase())) continue;
      keys.add(key.toLowerCase());
      // Sub-properties only under unindented keys: JS nests any indented line under them.
      if (indent === "" && r.chance(0.2)) {
        lines.push(`${indent}${key}${r.pick(["=", " =", " = "])}${inline(r)}`);
        section.keys[key] = "";
        const subs: Record<string, string> = {};
        for (let m = r.int(3) + 1; m > 0; m--) {
          const sub = r.pick(KEYS);
          if (
            sub.toLowerCase() in subs ||
            Object.keys(subs).some((k) => k.toLowerCase() === sub.toLowerCase())
          ) continue;
          const value = r.pick(VALUES);
          lines.push(
            `${indent}${r.pick(["  ", "\t", "    ", " "])}${sub}${eq(r)}${value}${inline(r)}`,
          );
          subs[sub] = value;
          if (r.chance(0.2)) lines.push(comment(r));
        }
        section.subKeys[key] = subs;
      } else {
        const value = r.pick(VALUES);
        lines.push(`${indent}${key}${eq(r)}${value}${inline(r)}`);
        section.keys[key] = value;
      }
      if (r.chance(0.2)) filler();
    }
    filler();
  }
  const text = lines.join(eol) + (r.chance(0.8) || lines.length === 0 ? eol : "");
  return { text, model };
}

function view(text: string, kind: ConfigFileKind): ModelSection[] {
  return parseConfigText(text, "fuzz", kind).map((s) => ({
    kind: s.kind,
    name: s.name,
    keys: { ...s.keys },
    subKeys: Object.fromEntries(Object.entries(s.subKeys).map(([k, v]) => [k, { ...v }])),
  }));
}

/** Lines with their endings, so byte-identical comparison includes CRLF. */
function linesOf(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

Deno.test(`config fuzz (seed ${SEED.toString(16)}): random valid files parse to their model`, () => {
  const r = rng(SEED);
  for (let i = 0; i < 1000; i++) {
    const kind: ConfigFileKind = r.chance(0.7) ? "config" : "credentials";
    const { text, model } = randomFile(r, kind);
    assert.deepEqual(view(text, kind), model, `case ${i}:\n${JSON.stringify(text)}`);
  }
});

Deno.test(`config fuzz (seed ${(SEED + 1).toString(16)}): setting one key changes only that key, bytes kept`, () => {
  const r = rng(SEED + 1);
  for (let i = 0; i < 1000; i++) {
    const kind: ConfigFileKind = r.chance(0.7) ? "config" : "credentials";
    const { text, model } = randomFile(r, kind);
    const profileKind = kind === "config" ? "profile" : "credentials";
    const profiles = model.filter((s) => s.kind === profileKind);
    const profile = profiles.length > 0 && r.chance(0.8)
      ? r.pick(profiles).name
      : r.pick(["new", "default", "dev"]);
    const section = model.find((s) => s.kind === profileKind && s.name === profile);
    const candidates = KEYS.filter((k) => /^[a-z0-9_.-]+$/.test(k)).filter((k) =>
      !(section && (k in section.subKeys)) &&
      !(section &&
        Object.keys(section.keys).some((e) => e !== k && e.toLowerCase() === k.toLowerCase()))
    );
    const key = r.pick(candidates);
    const value = r.pick(["eu-west-2", "arn:aws:iam::1:user/New", "http://h/#x", "a=b"]);
    const label = `case ${i}: set ${key} of ${profile}\n${JSON.stringify(text)}`;

    const out = setProfileKeysInText(text, profile, { [key]: value }, kind);

    // Only that key changed.
    const expected = structuredClone(model);
    let target = expected.find((s) => s.kind === profileKind && s.name === profile);
    if (!target) {
      target = { kind: profileKind, name: profile, keys: {}, subKeys: {} };
      expected.push(target);
    }
    const existed = key in target.keys;
    target.keys[key] = value;
    assert.deepEqual(view(out, kind), expected, label);

    // Every other line is byte-identical and in order; the last may have gained a line ending.
    const before = linesOf(text);
    const after = linesOf(out);
    const same = (i: number, line: string | undefined) =>
      line === before[i] ||
      (i === before.length - 1 && !before[i]!.endsWith("\n") &&
        line?.replace(/\r?\n$/, "") === before[i]);
    const differing = before.map((_, i) => i).filter((i) => !same(i, after[i]));
    if (existed) {
      assert.equal(after.length, before.length, label);
      assert.ok(differing.length <= 1, label);
      for (const i of differing) {
        assert.match(after[i]!, new RegExp(`^\\s*${key.replace(".", "\\.")}\\s*=\\s*`), label);
        assert.ok(after[i]!.endsWith(`${value}${before[i]!.match(/\r?\n$/)?.[0] ?? ""}`), label);
      }
    } else if (section) {
      const k = differing[0] ?? before.length;
      assert.equal(after[k]!.replace(/\r?\n$/, ""), `${key} = ${value}`, label);
      assert.ok(before.slice(k).every((_line, i) => same(k + i, after[k + 1 + i])), label);
      assert.equal(after.length, before.length + 1, label);
    } else {
      assert.deepEqual(differing, [], label);
      const header = kind === "credentials" || profile === "default"
        ? `[${profile}]`
        : `[profile ${profile}]`;
      const tail = after.slice(before.length).map((l) => l.replace(/\r?\n$/, ""));
      const blank = before.length > 0 && !/^\s*$/.test(before.at(-1)!) ? [""] : [];
      assert.deepEqual(tail, [...blank, header, `${key} = ${value}`], label);
    }
  }
});

const GARBAGE = [
  "[",
  "]",
  "=",
  " ",
  "\t",
  "\n",
  "\r\n",
  "\r",
  "#",
  ";",
  "a",
  "key",
  "profile ",
  "default",
  "sso-session ",
  "services ",
  '"',
  "'",
  ":",
  "\uFEFF",
  "__proto__",
  "DEFAULT",
  "\u00a0",
  "\u{1F600}",
  "\0",
];

Deno.test(`config fuzz (seed ${(SEED + 2).toString(16)}): garbage only ever raises ConfigError`, () => {
  const r = rng(SEED + 2);
  const check = (text: string, kind: ConfigFileKind) => {
    for (
      const run of [() => parseConfigText(text, "fuzz", kind), () => {
        const out = setProfileKeysInText(text, "dev", { region: "us-east-1" }, kind, {
          path: "fuzz",
        });
        const dev = view(out, kind).find((s) =>
          s.name === "dev" && (s.kind === "profile" || s.kind === "credentials")
        );
        assert.equal(dev?.keys.region, "us-east-1");
      }]
    ) {
      try {
        run();
      } catch (err) {
        if (!(err instanceof ConfigError) || err.code !== "ERR_CONFIG_SYNTAX") {
          assert.fail(`${JSON.stringify(text)} (${kind}) threw ${err}`);
        }
        assert.match(err.message, /^Cannot parse "fuzz", line \d+: /);
      }
    }
  };
  for (let i = 0; i < 3000; i++) {
    const kind: ConfigFileKind = r.chance(0.5) ? "config" : "credentials";
    let text = "";
    for (let n = r.int(30); n > 0; n--) text += r.pick(GARBAGE);
    check(text, kind);
    // Near-valid: a valid file with a few characters inserted or removed.
    let near = randomFile(r, kind).text;
    for (let n = r.int(3) + 1; n > 0; n--) {
      const at = r.int(near.length + 1);
      near = r.chance(0.5)
        ? near.slice(0, at) + r.pick(GARBAGE) + near.slice(at)
        : near.slice(0, at) + near.slice(at + 1);
    }
    check(near, kind);
  }
});

/**
 * The hot path's reader (profile_reader.ts, which parses only the sections it looks up) against
 * the whole-file parse: whenever the whole file parses, every look-up gives the section the whole
 * parse gives, line number included; whenever a look-up refuses, the whole parse refuses too (the
 * reader never invents an error). Names include parts of others ("de", "ev"), which must not match.
 */
function checkReader(text: string, kind: ConfigFileKind, label: string): void {
  let strict: ReturnType<typeof parseConfigText> | undefined;
  try {
    strict = parseConfigText(text, "fuzz", kind);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
  }
  const kinds = kind === "config"
    ? (["profile", "services", "sso-session"] as const)
    : (["credentials"] as const);
  for (const sectionKind of kinds) {
    for (const name of [...NAMES, "default", "missing", "de", "ev", "a", "b"]) {
      const what = `${label}: [${sectionKind} ${name}]`;
      let found;
      try {
        found = new FileSections(text, "fuzz", kind).find(sectionKind, name);
      } catch (err) {
        assert.ok(err instanceof ConfigError, `${what}: ${err}`);
        assert.ok(strict === undefined, `${what}: the reader refused a file that parses: ${err}`);
        continue;
      }
      if (strict === undefined) continue;
      const expected = strict.find((s) => s.kind === sectionKind && s.name === name);
      assert.deepEqual(found && { ...found }, expected && { ...expected }, what);
    }
  }
}

Deno.test(`config fuzz (seed ${(SEED + 3).toString(16)}): the hot path's reader agrees with the parser`, () => {
  const r = rng(SEED + 3);
  for (let i = 0; i < 2000; i++) {
    const kind: ConfigFileKind = r.chance(0.6) ? "config" : "credentials";
    const { text } = randomFile(r, kind);
    checkReader(text, kind, `case ${i}: ${JSON.stringify(text)}`);
    let near = text;
    for (let n = r.int(3) + 1; n > 0; n--) {
      const at = r.int(near.length + 1);
      near = r.chance(0.5)
        ? near.slice(0, at) + r.pick(GARBAGE) + near.slice(at)
        : near.slice(0, at) + near.slice(at + 1);
    }
    checkReader(near, kind, `near ${i}: ${JSON.stringify(near)}`);
  }
});
