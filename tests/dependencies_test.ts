/**
 * The product fetches only what it uses. Deno downloads every npm package of the lock file on a
 * first run, so `deno.lock` must hold exactly the closure of `deno.json`'s import map, and `main.ts`'s
 * module graph (dynamic imports included) nothing from tests: the AWS SDK that only tests and tools
 * use lives in `tests/dev_deps.ts`, resolved in `tests/deno.lock`.
 */
import assert from "node:assert/strict";
import { outputBounded } from "./helpers/bounded.ts";
import { DEV_LOCK, ROOT } from "./helpers/cli.ts";

interface Lock {
  specifiers?: Record<string, string>;
  npm?: Record<string, { dependencies?: string[]; integrity?: string }>;
  workspace?: { dependencies?: string[] };
}

const HOW_TO_FIX =
  "A test-only package belongs in tests/dev_deps.ts, resolved in tests/deno.lock " +
  '(run what imports it with "--lock=tests/deno.lock", as deno task test does); ' +
  'restore the product lock with "git checkout deno.lock".';

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(path));
}

/** The npm specifiers of deno.json's import map (`npm:jose@6.2.18`). */
async function productNpmImports(): Promise<string[]> {
  const config = await readJson<{ imports?: Record<string, string> }>(`${ROOT}deno.json`);
  return Object.values(config.imports ?? {}).filter((s) => s.startsWith("npm:"));
}

/** The lock's packages (`name@version` keys) reachable from the given npm specifiers. */
function closure(lock: Lock, specifiers: readonly string[]): Set<string> {
  const npm = lock.npm ?? {};
  // Dependencies are listed as "name" (or "name@version" when several versions are locked).
  const keyOf = (dep: string) =>
    dep in npm ? dep : Object.keys(npm).find((key) => key.startsWith(`${dep}@`));
  const todo = specifiers.map((s) => {
    const name = s.replace(/^npm:/, "").replace(/(.)@[^@]*$/, "$1");
    return `${name}@${lock.specifiers?.[s]}`;
  });
  const seen = new Set<string>();
  while (todo.length > 0) {
    const key = keyOf(todo.pop()!);
    if (key === undefined || seen.has(key)) continue;
    seen.add(key);
    todo.push(...(npm[key]!.dependencies ?? []));
  }
  return seen;
}

async function devPackages(): Promise<string[]> {
  const source = await Deno.readTextFile(`${ROOT}tests/dev_deps.ts`);
  return [...source.matchAll(/"npm:(@?[^@"]+)@[^"]+"/g)].map((m) => m[1]!);
}

/** Every module under lib/, as a file URL. */
async function libModules(dir = `${ROOT}lib`): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...await libModules(path));
    else if (entry.name.endsWith(".ts")) found.push(new URL(`file://${path}`).href);
  }
  return found;
}

Deno.test("main.ts's module graph has no test dependency and no file from tests/ or tools/", async () => {
  // main.ts loads its commands through a variable specifier (so Deno does not prepare them all up
  // front), which `deno info` cannot follow: the product's graph is that of main.ts and of every
  // command module together.
  const roots = [
    "main.ts",
    ...[...Deno.readDirSync(`${ROOT}lib/commands`)].map((e) => `lib/commands/${e.name}`),
  ];
  const files = new Set<string>();
  const npm = new Set<string>();
  for (const root of roots) {
    const out = await outputBounded(Deno.execPath(), {
      // --frozen: the product lock must already hold everything the graph needs.
      args: ["info", "--json", "--frozen", root],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
    });
    assert.equal(out.code, 0, out.stderr);
    const info = JSON.parse(out.stdout) as {
      modules: { specifier: string }[];
      npmPackages?: Record<string, unknown>;
    };
    for (const m of info.modules) if (m.specifier.startsWith("file:")) files.add(m.specifier);
    for (const p of Object.keys(info.npmPackages ?? {})) npm.add(p);
  }
  const missing = (await libModules()).filter((m) => !files.has(m));
  assert.deepEqual(missing, [], "every module under lib/ is in the graph checked here");
  assert.deepEqual([...files].filter((s) => /\/(tests|tools|bench)\//.test(s)), []);
  for (const name of await devPackages()) {
    assert.ok(![...npm].some((p) => p.startsWith(`${name}@`)), `main.ts's graph has ${name}`);
  }
  const allowed = closure(await readJson<Lock>(`${ROOT}deno.lock`), await productNpmImports());
  assert.deepEqual(
    [...npm].filter((p) => !allowed.has(p)),
    [],
    "npm packages outside deno.json's imports",
  );
});

Deno.test("deno.lock holds exactly what deno.json's import map needs", async () => {
  const lock = await readJson<Lock>(`${ROOT}deno.lock`);
  const imports = await productNpmImports();
  assert.deepEqual(Object.keys(lock.specifiers ?? {}).sort(), [...imports].sort(), HOW_TO_FIX);
  assert.deepEqual(lock.workspace?.dependencies?.slice().sort(), [...imports].sort(), HOW_TO_FIX);
  const needed = closure(lock, imports);
  const extra = Object.keys(lock.npm ?? {}).filter((key) => !needed.has(key));
  assert.deepEqual(extra, [], `deno.lock holds packages the product does not use. ${HOW_TO_FIX}`);
  assert.ok(needed.size > 0);
});

Deno.test("tests/deno.lock resolves the product's packages exactly as deno.lock does", async () => {
  const product = await readJson<Lock>(`${ROOT}deno.lock`);
  const dev = await readJson<Lock>(DEV_LOCK);
  for (const [key, entry] of Object.entries(product.npm ?? {})) {
    assert.deepEqual(dev.npm?.[key], entry, `tests/deno.lock differs from deno.lock on ${key}`);
  }
  for (const name of await devPackages()) {
    assert.ok(
      Object.keys(dev.specifiers ?? {}).some((s) => s.startsWith(`npm:${name}@`)),
      `tests/deno.lock does not pin ${name}`,
    );
  }
});
