/**
 * The layering of lib/, read from the import statements. Arrows point down:
 *
 *   commands/ → login/, session/, emulator/ → sts/, signin/ → aws/, cli/, net/, errors.ts, files.ts
 *
 * login/ may use session/ (to store what it got); session/ never imports login/; nothing imports
 * commands/ or main.ts; the emulator shares only signin/'s codecs and aws/arn.ts with the client.
 * A module may always import from its own room.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const LIB = new URL("../lib/", import.meta.url);

/** What each room may import besides itself, as path prefixes relative to lib/. */
const ALLOWED: Record<string, readonly string[]> = {
  "commands/": [
    "login/",
    "session/",
    "sts/",
    "emulator/",
    "signin/",
    "aws/",
    "cli/",
    "net/",
    "errors.ts",
    "files.ts",
    "version.ts",
  ],
  "login/": ["session/", "signin/", "aws/", "cli/", "net/", "errors.ts", "files.ts"],
  "session/": ["sts/", "signin/", "aws/", "cli/", "net/", "errors.ts", "files.ts"],
  "sts/": ["session/utc_time.ts", "aws/", "cli/", "net/", "errors.ts", "files.ts"],
  "emulator/": ["signin/pkce.ts", "signin/dpop.ts", "aws/arn.ts", "errors.ts"],
  "signin/": ["aws/", "cli/", "errors.ts", "files.ts"],
  // service_reply.ts quotes a server's text through cli/output.ts's `printable` (a leaf).
  "aws/": ["cli/output.ts", "errors.ts", "files.ts"],
  "cli/": ["errors.ts", "files.ts"],
  // The loopback HTTP server under login's callback and the credential endpoint: a leaf.
  "net/": [],
  "errors.ts": [],
  "files.ts": [],
  "version.ts": [],
};

/** Every relative specifier a module imports, statically or dynamically, or re-exports. */
export function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm;
  for (const match of source.matchAll(pattern)) specifiers.push(match[1]!);
  return specifiers;
}

function roomOf(path: string): string {
  const slash = path.indexOf("/");
  return slash === -1 ? path : path.slice(0, slash + 1);
}

async function* modules(dir: URL, prefix = ""): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) {
      yield* modules(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`);
    } else if (entry.name.endsWith(".ts")) yield `${prefix}${entry.name}`;
  }
}

/** The imports of lib/ that go against the layering, as "file imports target" lines. */
async function violations(): Promise<string[]> {
  const found: string[] = [];
  for await (const path of modules(LIB)) {
    const room = roomOf(path);
    const allowed = ALLOWED[room];
    if (allowed === undefined) {
      found.push(`lib/${path} is in a room the layering does not know (${room})`);
      continue;
    }
    const source = await Deno.readTextFile(new URL(path, LIB));
    for (const specifier of importsOf(source)) {
      const target = fileURLToPath(new URL(specifier, new URL(path, LIB)));
      const relative = target.startsWith(fileURLToPath(LIB))
        ? target.slice(fileURLToPath(LIB).length).replaceAll("\\", "/")
        : undefined;
      if (relative === undefined) {
        found.push(`lib/${path} imports ${specifier}, outside lib/ (main.ts or beyond)`);
      } else if (roomOf(relative) !== room && !allowed.some((p) => relative.startsWith(p))) {
        found.push(`lib/${path} imports lib/${relative}, against the layering`);
      }
    }
  }
  return found;
}

Deno.test("no module under lib/ imports against the layering", async () => {
  assert.deepEqual(await violations(), []);
});

/**
 * tools/ (demo, smoke, install) runs from a checkout and in the release workflow: it may use lib/
 * and its own modules, and the declared dev dependencies (tests/dev_deps.ts), but no test helper,
 * which would make the tools break whenever the tests are reorganized.
 */
Deno.test("tools/ imports no test module", async () => {
  const tools = new URL("../tools/", import.meta.url);
  const found: string[] = [];
  for await (const path of modules(tools)) {
    const source = await Deno.readTextFile(new URL(path, tools));
    for (const specifier of importsOf(source)) {
      const target = new URL(specifier, new URL(path, tools)).href;
      const tests = new URL("../tests/", import.meta.url).href;
      if (target.startsWith(tests) && target !== `${tests}dev_deps.ts`) {
        found.push(`tools/${path} imports ${specifier}`);
      }
    }
  }
  assert.deepEqual(found, []);
});

Deno.test("importsOf() sees static, dynamic, type-only and re-exporting imports", () => {
  const source = [
    `import { a } from "../login/a.ts";`,
    `import type { B } from "./b.ts";`,
    `export { c } from "../commands/c.ts";`,
    `import "../side_effect.ts";`,
    `const { d } = await import("../session/d.ts");`,
    `import { e } from "npm:jose";`,
    `import {\n  f,\n} from "../signin/f.ts";`,
  ].join("\n");
  assert.deepEqual(importsOf(source), [
    "../login/a.ts",
    "./b.ts",
    "../commands/c.ts",
    "../side_effect.ts",
    "../session/d.ts",
    "../signin/f.ts",
  ]);
});
