import assert from "node:assert/strict";
import { exitStatusOf, runChild } from "../../lib/session/child_process.ts";
import { type BoundedChild, spawnBounded } from "../helpers/bounded.ts";

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

/**
 * A process running runChild() on a shell that traps TERM, prints "ready", and on TERM prints
 * "child got TERM" and exits 7. The shell's loop ends by itself after a minute, whatever happens.
 */
function forwardingParent(): BoundedChild {
  const script = `
    import { runChild } from ${JSON.stringify(MODULE)};
    Deno.exitCode = await runChild("sh", ["-c",
      'trap "echo child got TERM; exit 7" TERM; echo ready; i=0; while [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done'], {
      PATH: Deno.env.get("PATH") ?? "",
    });`;
  return spawnBounded(Deno.execPath(), {
    args: ["eval", "-q", script],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/**
 * Sends SIGTERM to the parent as soon as the child says "ready"; returns what the child printed
 * and the parent's exit status. Whatever is left of the child is killed before stdout is drained,
 * so a child the parent failed to pass the signal to cannot hold the pipe open.
 */
async function terminateWhenReady(parent: BoundedChild) {
  const reader = parent.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = new Response(parent.stderr).text();
  let out = "";
  while (!out.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  parent.kill("SIGTERM");
  const status = await parent.status;
  parent.killAll();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  return { out, status, stderr: await stderr };
}

posix.test("runChild() forwards SIGTERM sent to the parent to the child", async () => {
  await using parent = forwardingParent();
  const { out, status, stderr } = await terminateWhenReady(parent);
  assert.equal(out, "ready\nchild got TERM\n", stderr);
  assert.equal(status.code, 7);
});

posix.test("runChild() forwards a SIGTERM that comes as soon as the child runs, under CPU load", async () => {
  // A busy loop per core makes the parent lose the CPU right after spawning: a parent that listens
  // only after spawn() is then killed by the default SIGTERM action and orphans its child.
  const busy = Array.from(
    { length: Math.min(navigator.hardwareConcurrency, 8) },
    () => spawnBounded("sh", { args: ["-c", "while :; do :; done"], stdin: "null" }),
  );
  try {
    for (let round = 0; round < 8; round++) {
      const parents = Array.from({ length: 4 }, forwardingParent);
      try {
        for (const parent of parents) {
          const { out, status, stderr } = await terminateWhenReady(parent);
          assert.equal(out, "ready\nchild got TERM\n", `round ${round}: ${stderr}`);
          assert.equal(status.code, 7, `round ${round}`);
        }
      } finally {
        for (const parent of parents) await parent[Symbol.asyncDispose]();
      }
    }
  } finally {
    for (const loop of busy) await loop[Symbol.asyncDispose]();
  }
});
