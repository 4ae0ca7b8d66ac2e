/**
 * The minimum Deno: main.ts refuses an older one with one clear line before doing anything, and
 * lib/cli/invocation.ts, deno.json and README.md state the same version. An older Deno is played by a preload
 * module that replaces `Deno.version`.
 */
import assert from "node:assert/strict";
import { outputBounded } from "./helpers/bounded.ts";
import { ROOT, tempHome } from "./helpers/cli.ts";

async function minimumInMain(): Promise<string> {
  const source = await Deno.readTextFile(`${ROOT}lib/cli/invocation.ts`);
  const found = /const MINIMUM_DENO = "(\d+\.\d+\.\d+)";/.exec(source)?.[1];
  assert.ok(found, "lib/cli/invocation.ts has no MINIMUM_DENO");
  return found;
}

/** Runs `main.ts args` under -P with Deno.version.deno reading `version`. */
async function runAs(version: string, args: string[]) {
  await using home = await tempHome();
  const preload = `${home.home}/fake_version.ts`;
  await Deno.writeTextFile(
    preload,
    `Object.defineProperty(Deno, "version", { value: { ...Deno.version, deno: ${
      JSON.stringify(version)
    } } });`,
  );
  const { code, stdout, stderr } = await outputBounded(Deno.execPath(), {
    args: ["run", "-q", "-P", "--no-prompt", "--preload", preload, `${ROOT}main.ts`, ...args],
    cwd: ROOT,
    env: home.env,
    clearEnv: true,
  });
  return { code, stdout, stderr };
}

Deno.test("an older Deno is refused with one line naming both versions, exit 1", async () => {
  const minimum = await minimumInMain();
  const [major, minor, patch] = minimum.split(".").map(Number) as [number, number, number];
  const older = patch > 0 ? `${major}.${minor}.${patch - 1}` : `${major}.${minor - 1}.99`;
  for (const args of [["--version"], ["status"]]) {
    const { code, stdout, stderr } = await runAs(older, args);
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.equal(
      stderr,
      `aws-login: needs Deno ${minimum} or newer, this is Deno ${older}; ` +
        `run "deno upgrade" (or install Deno from https://deno.com)\n`,
    );
  }
});

Deno.test("the minimum and newer Denos run, compared by numbers (2.10 is newer than 2.9)", async () => {
  const minimum = await minimumInMain();
  const [major, minor] = minimum.split(".").map(Number) as [number, number];
  for (
    const version of [
      minimum,
      `${major}.${minor + 1}.0`,
      `${major}.${minor + 10}.0`,
      `${major + 1}.0.0`,
      `${minimum}+0123abc`,
    ]
  ) {
    const { code, stdout, stderr } = await runAs(version, ["--version"]);
    assert.equal(code, 0, `${version}: ${stderr}`);
    assert.match(stdout, /^aws-login \d/);
  }
});

Deno.test("main.ts (lib/cli/invocation.ts), deno.json and README.md state the same minimum Deno", async () => {
  const minimum = await minimumInMain();
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  assert.equal(config.minimumDenoVersion, minimum);
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  assert.ok(
    readme.includes(`Deno ${minimum} or newer`),
    `README.md does not say "Deno ${minimum} or newer"`,
  );
});
