import assert from "node:assert/strict";
import { exitStatusOf, runChild } from "../../lib/session/child_process.ts";

/** The children are `sh` scripts, some ended by POSIX signals: POSIX only. */
const posix = { test: Deno.build.os === "windows" ? Deno.test.ignore : Deno.test };

const ENV = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
const MODULE = new URL("../../lib/session/child_process.ts", import.meta.url).href;

posix.test("runChild() returns the child's exit code", async () => {
  assert.equal(await runChild("sh", ["-c", "exit 3"], ENV), 3);
  assert.equal(await runChild("sh", ["-c", "exit 0"], ENV), 0);
});

posix.test("runChild() returns 128 + N when signal N ends the child", async () => {
  assert.equal(await runChild("sh", ["-c", "kill -TERM $$"], ENV), 128 + 15);
  assert.equal(await runChild("sh", ["-c", "kill -KILL $$"], ENV), 128 + 9);
});

Deno.test("runChild() reports 127 for a command that does not exist", async () => {
  assert.deepEqual(await runChild("no-such-command-aws-login", [], ENV), {
    exitCode: 127,
    message: 'Cannot run "no-such-command-aws-login": command not found',
  });
});

posix.test("runChild() passes exactly the given environment", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/env`;
    await runChild("sh", ["-c", `env > '${out}'`], { ...ENV, ONLY_THIS: "1" });
    const names = (await Deno.readTextFile(out)).split("\n").filter(Boolean).map((l) =>
      l.split("=")[0]
    );
    assert.ok(names.includes("ONLY_THIS"));
    assert.ok(!names.includes("HOME"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exitStatusOf() prefers the signal over the code", () => {
  assert.equal(exitStatusOf({ success: false, code: 1, signal: "SIGHUP" }), 129);
  assert.equal(exitStatusOf({ success: true, code: 0, signal: null }), 0);
});

posix.test("runChild() forwards SIGTERM sent to the parent to the child", async () => {
  // The parent runs runChild(); the child traps TERM, says so, and exits 7. The child's loop is
  // bounded (about 2 minutes), so a lost signal fails the test instead of hanging it forever.
  const script = `
    import { runChild } from ${JSON.stringify(MODULE)};
    Deno.exitCode = await runChild("sh", ["-c",
      'trap "echo child got TERM; exit 7" TERM; echo ready; i=0; ' +
      'while [ $i -lt 2400 ]; do sleep 0.05; i=$((i+1)); done'], {
      PATH: Deno.env.get("PATH") ?? "",
    });`;
  const parent = new Deno.Command(Deno.execPath(), {
    args: ["eval", "-q", script],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = parent.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
  }
  parent.kill("SIGTERM");
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
  }
  const status = await parent.status;
  assert.equal(seen, "ready\nchild got TERM\n");
  assert.equal(status.code, 7);
});
