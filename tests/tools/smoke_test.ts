/**
 * `deno task smoke` (tools/smoke.ts), the test every release binary goes through on its own OS, run
 * here against `deno run -P main.ts`: it passes for the real CLI, and it fails an aws-login whose
 * `logout` exits 0 without removing the session (it checks effects, not only exit codes).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { outputBounded } from "../helpers/bounded.ts";
import { ROOT } from "../helpers/cli.ts";
import { denoDir } from "../helpers/session.ts";
import { writeScript } from "../helpers/script.ts";

const SMOKE = fileURLToPath(new URL("../../tools/smoke.ts", import.meta.url));

async function runSmoke(args: string[], extra: Record<string, string> = {}) {
  const env: Record<string, string> = {
    ...Deno.env.toObject(),
    ...extra,
    NO_COLOR: "1",
    DENO_DIR: await denoDir(),
  };
  const { code, stdout, stderr } = await outputBounded(Deno.execPath(), {
    args: [
      "run",
      "-q",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run",
      SMOKE,
      ...args,
    ],
    cwd: ROOT,
    env,
    clearEnv: true,
    deadlineMs: 300_000, // a guard against a hang, not a speed check
  });
  return { code, stdout, stderr };
}

Deno.test("the smoke test passes for deno run -P main.ts: version, emulator, login, credential-process, logout", async () => {
  const { code, stdout, stderr } = await runSmoke([]);
  assert.equal(code, 0, stdout + stderr);
  for (const step of ["--version", "emulator", "login", "credential-process", "logout"]) {
    assert.match(stdout, new RegExp(`^ok\\s+${step}: `, "m"), `step ${step} did not pass`);
  }
  assert.match(stdout, /^smoke test passed$/m);
});

Deno.test({
  // On a loaded machine the browser stand-in can take longer than the few seconds login waits for a
  // browser: login then exits 0 before the stand-in has written its record (and the smoke test,
  // reading it at once, saw no visits). The stand-in here writes only after login has exited.
  name: "the smoke test waits for the browser stand-in's record when login exits first",
  ignore: Deno.build.os === "windows", // a parent's exit does not change Deno.ppid there
  async fn() {
    const { code, stdout, stderr } = await runSmoke([], { BROWSER_STAND_IN_RECORD_LATE: "1" });
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /^ok\s+login: signed in as .* through the browser stand-in$/m);
  },
});

Deno.test({
  name: "the smoke test fails an aws-login whose logout leaves the session in place",
  ignore: Deno.build.os === "windows", // a POSIX shell script plays the broken binary
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "aws-login-smoke-test-" });
    try {
      const broken = `${dir}/aws-login`;
      await writeScript(
        broken,
        `#!/bin/sh\n[ "$1" = logout ] && exit 0\n` +
          `exec '${Deno.execPath()}' run -q -P --no-prompt --config '${ROOT}deno.json' '${ROOT}main.ts' "$@"\n`,
      );
      const { code, stdout, stderr } = await runSmoke([broken]);
      assert.equal(code, 1, stdout + stderr);
      assert.match(stdout, /^ok\s+credential-process: /m);
      assert.match(stderr, /^FAILED credential-process still worked after logout/m);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
