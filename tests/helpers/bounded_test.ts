/**
 * The bounds every test relies on not to hang: a child process and whatever it started are killed
 * at the deadline or at scope end, and an in-process server is closed at its deadline.
 */
import assert from "node:assert/strict";
import { closeAtDeadline, spawnBounded } from "./bounded.ts";
import { ARN, refreshCall, signIn } from "../emulator/flow.ts";
import { startEmulator } from "../../lib/emulator/server.ts";

/** Process groups, sh and signals: POSIX only. */
const posix = { test: Deno.build.os === "windows" ? Deno.test.ignore : Deno.test };

/** A shell that starts a long sleep holding its stdout, prints the sleep's pid, and waits. */
const SLEEPER = ["-c", "sleep 600 & echo $!; wait"];

/** Reads `stream` to its end: it ends only when every process holding it is gone. */
async function drain(stream: ReadableStream<Uint8Array>): Promise<string> {
  // A guard, not a speed check: a process left alive would hold the pipe for ten minutes.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("a process still holds the pipe")), 30_000);
  });
  try {
    const read = async () => {
      const decoder = new TextDecoder();
      let text = "";
      for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
      return text;
    };
    return await Promise.race([read(), stuck]);
  } finally {
    clearTimeout(timer);
  }
}

posix.test("spawnBounded() kills the child and what it started at the deadline, and says so", async () => {
  const child = spawnBounded("sh", {
    args: SLEEPER,
    stdin: "null",
    stdout: "piped",
    deadlineMs: 300,
  });
  await assert.rejects(child.status, /^Error: Killed after 300 ms: sh -c sleep 600/);
  // The sleep's pid, unless the deadline came first on a loaded machine; either way, the end.
  assert.match(await drain(child.stdout), /^(\d+\n)?$/);
  // Disposing says so too: a test that never looked at the status still fails.
  await assert.rejects(() => child[Symbol.asyncDispose](), /Killed after 300 ms/);
});

posix.test("spawnBounded() kills a grandchild left behind when the scope ends", async () => {
  let stdout: ReadableStream<Uint8Array>;
  {
    // The child exits at once; its background sleep would hold stdout for ten minutes.
    await using child = spawnBounded("sh", {
      args: ["-c", "sleep 600 & echo started"],
      stdin: "null",
      stdout: "piped",
    });
    assert.equal((await child.status).code, 0);
    stdout = child.stdout;
  }
  assert.equal(await drain(stdout), "started\n");
});

posix.test("the watchdog kills what a runner started when the runner itself is killed", async () => {
  // A runner (like deno test) starts a bounded child that holds the runner's stdout.
  const bounded = new URL("./bounded.ts", import.meta.url).href;
  const script = `
    import { spawnBounded } from ${JSON.stringify(bounded)};
    const child = spawnBounded("sh", { args: ["-c", "echo started; exec sleep 120"], stdin: "null" });
    await child.status;`;
  const runner = spawnBounded(Deno.execPath(), {
    args: ["eval", "-q", script],
    stdin: "null",
    stdout: "piped",
  });
  const reader = runner.stdout.getReader();
  const first = await reader.read();
  assert.equal(new TextDecoder().decode(first.value), "started\n");
  reader.releaseLock();
  // SIGKILL to the runner and its group: its watchdog, in a session of its own, lives on.
  await runner[Symbol.asyncDispose]();
  assert.equal(await drain(runner.stdout), "");
});

Deno.test("closeAtDeadline() closes a server at its deadline, ending a request it holds", async () => {
  const emulator = await startEmulator({ port: 0, autoApprove: ARN });
  try {
    const session = await signIn(emulator.url);
    emulator.controls.failNextTokenCalls(1, { delayMs: 20_000 });
    // Bounded only now, so that the deadline falls while the delayed call waits.
    await using bounded = closeAtDeadline(emulator, 300);
    await assert.rejects(() => refreshCall(bounded.url, session.key, session.refreshToken));
  } finally {
    await emulator.close();
  }
});
