/**
 * `deno task install [--root DIR]`: installs an `aws-login` command from this checkout with
 * `deno install -g`, running `main.ts` with exactly the permissions of the "default" set in
 * `deno.json` — the set `deno task …`, the tests and the release binaries use. `deno install -g -P`
 * does not work for this: Deno 2.9 accepts the flag but leaves it out of the installed shim, which
 * then runs with no permissions at all. So the set is written out as explicit `--allow-*` flags.
 *
 * The command runs the checkout's code (changes take effect at once); after a `git pull` that
 * changes `deno.json`, run the task again.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CONFIG = `${ROOT}deno.json`;
const MAIN = `${ROOT}main.ts`;

/** Permission names that take a list in `deno.json` and a flag each (`--allow-read=…`). */
const KINDS = ["read", "write", "net", "env", "run", "sys", "ffi", "import"] as const;
/** Kinds whose list entries are paths, relative to the config file's directory. */
const PATH_KINDS = new Set(["read", "write", "ffi"]);
/** Kinds Deno can also ignore (`--ignore-read`, `--ignore-env`). */
const IGNORABLE = new Set(["read", "env"]);

type Value = boolean | string[];

/**
 * The `deno run` flags that grant what a permission set from `deno.json` grants.
 *
 * @param set The set, e.g. `config.permissions.default`.
 * @param configDir Directory of the config file: relative paths in the set are relative to it.
 * @returns Flags such as `--allow-read`, `--allow-net=127.0.0.1,*.amazonaws.com`.
 * @throws {TypeError} On a key or value the flags cannot express (a comma in an entry).
 */
export function permissionFlags(set: Record<string, unknown>, configDir: string): string[] {
  if (set.all === true) return ["--allow-all"];
  const flags: string[] = [];
  for (const [kind, value] of Object.entries(set)) {
    if (kind === "all") continue;
    if (!(KINDS as readonly string[]).includes(kind)) {
      throw new TypeError(`Unknown permission "${kind}" in the permission set`);
    }
    const parts: Record<string, unknown> = isPlainObject(value) ? value : { allow: value };
    for (const [action, part] of Object.entries(parts)) {
      if (
        action !== "allow" && action !== "deny" && !(action === "ignore" && IGNORABLE.has(kind))
      ) {
        throw new TypeError(`Unknown entry "${action}" for the permission "${kind}"`);
      }
      const flag = flagFor(
        `--${action}-${kind}`,
        asValue(kind, part),
        PATH_KINDS.has(kind),
        configDir,
      );
      if (flag !== undefined) flags.push(flag);
    }
  }
  return flags;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asValue(kind: string, value: unknown): Value {
  if (typeof value === "boolean") return value;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  throw new TypeError(`The permission "${kind}" must be true, false or a list of strings`);
}

function flagFor(
  name: string,
  value: Value,
  paths: boolean,
  configDir: string,
): string | undefined {
  if (value === false) return undefined;
  if (value === true) return name;
  if (value.length === 0) return undefined;
  const entries = value.map((entry) => {
    if (entry.includes(",")) {
      throw new TypeError(`"${entry}" cannot be passed in ${name}: it has a comma`);
    }
    return paths ? resolvePath(entry, configDir) : entry;
  });
  return `${name}=${entries.join(",")}`;
}

function resolvePath(path: string, configDir: string): string {
  if (/^([A-Za-z]:)?[\\/]/.test(path)) return path;
  return `${configDir.replace(/[\\/]$/, "")}/${path}`;
}

/** The `deno install` arguments for the `aws-login` command. */
export async function installArgs(options: { root?: string } = {}): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(CONFIG));
  const set = config.permissions?.default;
  if (!isPlainObject(set)) throw new TypeError(`${CONFIG} has no "default" permission set`);
  return [
    "install",
    "--global",
    "--force",
    "--quiet",
    "--name",
    "aws-login",
    "--config",
    CONFIG,
    ...(options.root === undefined ? [] : ["--root", options.root]),
    ...permissionFlags(set, ROOT),
    MAIN,
  ];
}

/** Where `deno install -g` puts commands: `--root`, else DENO_INSTALL_ROOT, else ~/.deno; + bin. */
function binDirectory(root: string | undefined): string {
  const base = root ?? Deno.env.get("DENO_INSTALL_ROOT") ??
    `${Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? "~"}/.deno`;
  return `${base.replace(/[\\/]$/, "")}/bin`;
}

async function main(args: string[]): Promise<number> {
  let root: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--root" && args[i + 1] !== undefined) root = args[++i];
    else if (args[i]?.startsWith("--root=")) root = args[i]!.slice("--root=".length);
    else {
      console.error(`usage: deno task install [--root DIR]   (unexpected "${args[i]}")`);
      return 2;
    }
  }
  const status = await new Deno.Command(Deno.execPath(), {
    args: await installArgs({ root }),
    cwd: ROOT,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) {
    console.error("install: deno install failed (see above)");
    return status.code || 1;
  }
  const bin = binDirectory(root);
  const exe = Deno.build.os === "windows" ? "aws-login.cmd" : "aws-login";
  console.log(`Installed ${bin}/${exe}, running ${MAIN} with the "default" permission set.`);
  const path = Deno.env.get("PATH") ?? "";
  const onPath = path.split(Deno.build.os === "windows" ? ";" : ":")
    .some((dir) => dir.replace(/[\\/]$/, "").replaceAll("\\", "/") === bin.replaceAll("\\", "/"));
  if (!onPath) console.log(`Add ${bin} to PATH to run it as "aws-login".`);
  return 0;
}

if (import.meta.main) Deno.exitCode = await main(Deno.args);
