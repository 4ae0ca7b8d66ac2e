import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { outputBounded, spawnBounded } from "../helpers/bounded.ts";
import { DEV_LOCK, ROOT } from "../helpers/cli.ts";

const DEMO = fileURLToPath(new URL("../../tools/demo.ts", import.meta.url));

Deno.test("deno task demo runs the whole story and leaves no temporary directory", async () => {
  // A private TMPDIR: whatever the demo creates there must be gone when it ends.
  const tmp = await Deno.makeTempDir({ prefix: "aws-login-demo-test-" });
  try {
    const env: Record<string, string> = { ...Deno.env.toObject(), TMPDIR: tmp, NO_COLOR: "1" };
    for (const name of Object.keys(env)) if (name.startsWith("AWS_")) delete env[name];
    const { code, stdout, stderr } = await outputBounded(Deno.execPath(), {
      args: ["run", "-q", "-A", `--lock=${DEV_LOCK}`, DEMO],
      env,
      clearEnv: true,
      cwd: ROOT,
    });
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /Arn: +arn:aws:iam::123456789012:user\/demo/);
    assert.match(stdout, /access key \*{16}\S{4} → \*{16}\S{4} \(changed\)/);
    assert.match(stdout, /export AWS_ACCESS_KEY_ID=ASIA/);
    // The role profile: its credentials are the role's, assumed at the emulator's STS.
    assert.match(stdout, /export AWS_ACCOUNT_ID=210987654321\b/);
    assert.match(stdout, /Arn: +arn:aws:sts::210987654321:assumed-role\/Admin\/demo\n/);
    assert.match(stdout, /Done\./);
    assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

for (
  const [signal, code, after] of [["SIGINT", 130, "$ aws-login login"], [
    "SIGTERM",
    143,
    "$ aws-login status",
  ]] as const
) {
  Deno.test({
    name: `deno task demo stopped by ${signal} ends the CLI it runs and removes its temporary HOME`,
    // Deno cannot send these signals to a child on Windows.
    ignore: Deno.build.os === "windows",
    async fn() {
      const tmp = await Deno.makeTempDir({ prefix: "aws-login-demo-test-" });
      try {
        const env: Record<string, string> = { ...Deno.env.toObject(), TMPDIR: tmp, NO_COLOR: "1" };
        for (const name of Object.keys(env)) if (name.startsWith("AWS_")) delete env[name];
        // A demo that ignores the signal is killed at the deadline, with all it started.
        await using child = spawnBounded(Deno.execPath(), {
          args: ["run", "-q", "-A", `--lock=${DEV_LOCK}`, DEMO],
          env,
          clearEnv: true,
          cwd: ROOT,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        });
        const stderr = new Response(child.stderr).text();
        let seen = "";
        let sent = false;
        for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
          seen += chunk;
          // Stop it in the middle of the story: while the CLI runs in the temporary HOME.
          if (!sent && seen.includes(after)) {
            sent = true;
            child.kill(signal);
          }
        }
        const status = await child.status;
        const err = await stderr;
        assert.ok(seen.includes(after), seen + err);
        assert.equal(status.code, code, seen + err);
        assert.match(err, new RegExp(`demo stopped \\(${signal}\\)`));
        assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), []);
      } finally {
        await Deno.remove(tmp, { recursive: true });
      }
    },
  });
}
