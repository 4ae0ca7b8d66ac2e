/**
 * README.md's emulator example, run as written: the shell block under "### `emulator`" is read from
 * the README and each line run in order — `deno task emulator …` in the background, `export` into
 * the environment, every other `deno task …` as the CLI under `-P` (what the task runs) — with a
 * BROWSER that follows the sign-in URL as a browser does. Only the port changes (8000 may be taken).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { type BoundedChild, spawnBounded } from "../helpers/bounded.ts";
import { ROOT, runCli, tempHome } from "../helpers/cli.ts";
import { denoDir } from "../helpers/session.ts";

const MAIN = `${ROOT}main.ts`;
const BROWSER_STAND_IN = fileURLToPath(new URL("../../tools/browser.ts", import.meta.url));

/** The commands of the README's emulator block, comments and blank lines dropped. */
function emulatorExample(readme: string): string[] {
  const section = readme.indexOf("### `emulator`");
  assert.ok(section >= 0, 'README.md has no "### `emulator`" section');
  const start = readme.indexOf("```sh\n", section) + "```sh\n".length;
  const end = readme.indexOf("\n```", start);
  return readme.slice(start, end).split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("README's emulator example works as written", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const tasks: Record<string, string> = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`))
    .tasks;
  const port = freePort();
  const lines = emulatorExample(readme).map((line) => line.replaceAll("8000", String(port)));
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
        const [name, value] = words[1]!.split("=") as [string, string];
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
    assert.match(
      outputs.login ?? "",
      /^Updated profile demo to use arn:aws:iam::123456789012:user\/demo/,
    );
    assert.match(outputs.status ?? "", /identity: +arn:aws:iam::123456789012:user\/demo/);
    assert.match(outputs["export-env"] ?? "", /^export AWS_ACCESS_KEY_ID=ASIA/);
  } finally {
    if (emulator !== undefined) {
      emulator.kill("SIGTERM");
      await emulator.status.catch(() => {});
      await emulator[Symbol.asyncDispose]();
    }
  }
});
