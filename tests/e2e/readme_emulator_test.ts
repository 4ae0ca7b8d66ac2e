/**
 * README.md's emulator examples, run as written: the shell blocks under "### `emulator`" are read
 * from the README and each line run in order — `deno task emulator …` in the background, `export` into
 * the environment, every other `deno task …` as the CLI under `-P` (what the task runs) — with a
 * BROWSER that follows the sign-in URL as a browser does. Only the port changes (8000 may be taken).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { type BoundedChild, spawnBounded } from "../helpers/bounded.ts";
import { ROOT, runCli, tempHome } from "../helpers/cli.ts";
import { denoDir } from "../helpers/session.ts";
import { listenablePort } from "../helpers/free_port.ts";

const MAIN = `${ROOT}main.ts`;
const BROWSER_STAND_IN = fileURLToPath(new URL("../../tools/browser.ts", import.meta.url));

/** The commands of each shell block of the README's emulator section, comments dropped. */
function emulatorExamples(readme: string): string[][] {
  const section = readme.indexOf("### `emulator`");
  assert.ok(section >= 0, 'README.md has no "### `emulator`" section');
  const text = readme.slice(section, readme.indexOf("\n## ", section));
  return text.split("```sh\n").slice(1).map((block) =>
    block.slice(0, block.indexOf("\n```")).split("\n")
      .map((line) => line.replace(/\s+#.*$/, "").trim())
      .filter((line) => line !== "" && !line.startsWith("#"))
  );
}

/** `export NAME=value` or `export NAME="value with spaces"`: the name and the value. */
function exported(line: string): [string, string] {
  const assignment = line.slice("export ".length);
  const name = assignment.slice(0, assignment.indexOf("="));
  const value = assignment.slice(name.length + 1);
  const quoted = /^(["'])(.*)\1$/.exec(value);
  return [name, quoted ? quoted[2]! : value];
}

/** curl plays the browser in the second block: POSIX (its `/dev/null`) with curl installed. */
const withCurl = Deno.build.os !== "windows" &&
  new Deno.Command("curl", { args: ["--version"], stdout: "null", stderr: "null" }).outputSync()
    .success;

Deno.test("README's emulator example works as written", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const outputs = await runExample(emulatorExamples(readme)[0]!);
  assert.match(
    outputs.login ?? "",
    /^Updated profile demo to use arn:aws:iam::123456789012:user\/demo/,
  );
  assert.match(outputs.status ?? "", /identity: +arn:aws:iam::123456789012:user\/demo/);
  assert.match(outputs["export-env"] ?? "", /^export AWS_ACCESS_KEY_ID=ASIA/);
});

Deno.test({
  name: "README's emulator example without a GUI browser (curl as BROWSER) works as written",
  ignore: !withCurl,
  async fn() {
    const readme = await Deno.readTextFile(`${ROOT}README.md`);
    const [first, second] = emulatorExamples(readme);
    assert.ok(second?.some((line) => line.startsWith("export BROWSER=")), "the curl block");
    const outputs = await runExample([...first!, ...second!]);
    assert.match(
      outputs.login ?? "",
      /^Updated profile demo-curl to use arn:aws:iam::123456789012:user\/demo/,
    );
    assert.match(outputs.status ?? "", /Profile "demo-curl"\n {2}identity: +arn:aws:iam::/);
  },
});

/**
 * Runs README lines as the test's module doc says; returns each task's last stdout by task name.
 */
async function runExample(example: string[]): Promise<Record<string, string>> {
  const tasks: Record<string, string> = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`))
    .tasks;
  const port = listenablePort();
  const lines = example.map((line) => line.replaceAll("8000", String(port)));
  await using home = await tempHome();
  const env: Record<string, string> = {
    ...home.env,
    DENO_DIR: await denoDir(),
    // A browser that follows the redirects with cookies: the auto-approving emulator sends it on
    // to the callback.
    BROWSER: `'${Deno.execPath()}' run -q -A '${BROWSER_STAND_IN}' --log '${home.home}/browser' %s`,
  };
  let emulator: BoundedChild | undefined;
  const outputs: Record<string, string> = {};
  try {
    for (const line of lines) {
      const words = line.split(/\s+/);
      if (words[0] === "export") {
        const [name, value] = exported(line);
        env[name] = value;
        continue;
      }
      assert.deepEqual(words.slice(0, 2), ["deno", "task"], `a line this test cannot run: ${line}`);
      const [task, ...args] = words.slice(2) as [string, ...string[]];
      assert.equal(tasks[task], `deno run -q -P main.ts ${task}`, `what "deno task ${task}" runs`);
      if (task === "emulator") {
        emulator = spawnBounded(Deno.execPath(), {
          args: ["run", "-q", "-P", "--no-prompt", MAIN, "emulator", ...args],
          env,
          clearEnv: true,
          cwd: ROOT,
          stdin: "null",
          stdout: "piped",
          stderr: "null",
        });
        const reader = emulator.stdout.pipeThrough(new TextDecoderStream()).getReader();
        let text = "";
        while (!text.includes("\n")) {
          const { value, done } = await reader.read();
          if (done) break;
          text += value;
        }
        assert.match(text, new RegExp(`^listening on http://127\\.0\\.0\\.1:${port}\\n`));
        (async () => {
          while (!(await reader.read()).done); // one line per request
        })();
        continue;
      }
      const run = await runCli([task, ...args], { env });
      assert.equal(run.code, 0, `${line}\n${run.stdout}${run.stderr}`);
      outputs[task] = run.stdout;
    }
    return outputs;
  } finally {
    if (emulator !== undefined) {
      emulator.kill("SIGTERM");
      await emulator.status.catch(() => {});
      await emulator[Symbol.asyncDispose]();
    }
  }
}
