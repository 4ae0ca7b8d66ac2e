/**
 * The documents a newcomer follows say what is true: every `docs/PROTOCOL.md §N` citation in the
 * code and docs names a section that exists in the repository's own docs/PROTOCOL.md (no citation
 * of a file outside the repository), and the README's relative links lead to files that exist.
 */
import assert from "node:assert/strict";
import { outputBounded } from "./helpers/bounded.ts";
import { ROOT, tempHome } from "./helpers/cli.ts";

const PROTOCOL = "docs/PROTOCOL.md";
/** This file talks about citations without making any. */
const SELF = "tests/docs_test.ts";

/** Files that may cite the protocol: sources and Markdown, outside dependencies and build output. */
async function* citingFiles(dir = ROOT, prefix = ""): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory) {
      if ([".git", "node_modules", "dist", ".node", "testdata"].includes(entry.name)) continue;
      yield* citingFiles(`${dir}${entry.name}/`, `${path}/`);
    } else if (/\.(ts|md|yml|json)$/.test(entry.name) && path !== PROTOCOL && path !== SELF) {
      yield path;
    }
  }
}

/** The section numbers docs/PROTOCOL.md has ("4", "4.1", …), from its headings. */
async function sections(): Promise<Set<string>> {
  const text = await Deno.readTextFile(`${ROOT}${PROTOCOL}`);
  return new Set([...text.matchAll(/^#{2,3} (\d+(?:\.\d+)?)\.? /gm)].map((m) => m[1]!));
}

/**
 * The sections one citation names: after "PROTOCOL.md", a list of `§N` or `§N–§M` items separated
 * by commas or "and", each maybe followed by a parenthesis; anything else ends the list.
 */
export function citedSections(rest: string): string[] {
  const found: string[] = [];
  const item = /^\s*(?:,|and)?\s*§(\d+(?:\.\d+)?)(?:\s*[–-]\s*§?(\d+(?:\.\d+)?))?(?:\s*\([^)]*\))?/;
  let text = rest;
  for (let m = item.exec(text); m !== null; m = item.exec(text)) {
    const [from, to] = [m[1]!, m[2]];
    if (to === undefined) found.push(from);
    else {
      for (let n = Number(from); n <= Number(to); n++) found.push(String(n));
    }
    text = text.slice(m[0].length);
  }
  return found;
}

Deno.test("citedSections() reads lists, ranges and parentheses, and stops at other text", () => {
  assert.deepEqual(citedSections(" §2 (endpoints), §8 (profiles)"), ["2", "8"]);
  assert.deepEqual(citedSections(" §4, §4.1"), ["4", "4.1"]);
  assert.deepEqual(citedSections(" §1–§3"), ["1", "2", "3"]);
  assert.deepEqual(citedSections(" §3; RFC 9449 §4.3"), ["3"]);
  assert.deepEqual(citedSections(" §12 vector byte for byte"), ["12"]);
  assert.deepEqual(citedSections(" describes it"), []);
});

Deno.test("every PROTOCOL.md citation points into docs/PROTOCOL.md at a section it has", async () => {
  const known = await sections();
  assert.ok(known.has("4.1") && known.has("12"), "docs/PROTOCOL.md lost its numbered headings");
  const problems: string[] = [];
  let citations = 0;
  for await (const path of citingFiles()) {
    const lines = (await Deno.readTextFile(`${ROOT}${path}`)).split("\n");
    lines.forEach((line, i) => {
      for (const m of line.matchAll(/([\w./-]*)PROTOCOL\.md/g)) {
        const where = `${path}:${i + 1}`;
        if (m[1] !== "docs/") {
          problems.push(`${where} cites "${m[0]}", not ${PROTOCOL}`);
          continue;
        }
        citations++;
        for (const section of citedSections(line.slice(m.index! + m[0].length))) {
          if (!known.has(section)) {
            problems.push(`${where} cites §${section}, which it does not have`);
          }
        }
      }
    });
  }
  assert.deepEqual(problems, []);
  assert.ok(citations > 20, `only ${citations} citations found: the scan is broken`);
});

Deno.test("README.md's relative links lead to files in the repository", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!)
    .filter((target) => !/^[a-z]+:/i.test(target));
  assert.ok(links.includes(PROTOCOL), "README.md does not link docs/PROTOCOL.md");
  for (const target of links) {
    const exists = await Deno.stat(`${ROOT}${target}`).then(() => true, () => false);
    assert.ok(exists, `README.md links ${target}, which does not exist`);
  }
});

/** `sh` runs the README's pattern: POSIX only. */
const posix = { test: Deno.build.os === "windows" ? Deno.test.ignore : Deno.test };

posix.test('the README\'s export-env pattern stops when aws-login fails; eval "$(…)" would not', async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const safe = 'creds=$(aws-login export-env --profile dev) && eval "$creds"';
  assert.ok(readme.includes(safe), "README.md lost the safe pattern");
  await using home = await tempHome();
  const cli = [Deno.execPath(), "run", "-q", "-P", "--no-prompt", `${ROOT}main.ts`]
    .map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(" ");
  const shell = async (script: string) => {
    const out = await outputBounded("sh", {
      args: ["-c", `aws_login() { ${cli} "$@"; }\n${script}\necho "reached $?"`],
      cwd: ROOT,
      env: home.env,
      clearEnv: true,
      stderr: "null",
    });
    return out.stdout;
  };
  // No profile "dev" in the empty HOME: export-env fails.
  const pattern = safe.replaceAll("aws-login", "aws_login");
  assert.equal(await shell(pattern), "reached 3\n");
  assert.equal(await shell('eval "$(aws_login export-env --profile dev)"'), "reached 0\n");
});
