/**
 * The credential endpoint of `serve` and `exec` against another local user, who can see its port
 * in /proc/net/tcp but not its token: the CLI as a subprocess under `-P`, the attacker played by
 * the test. A flood of idle and half-sent connections under a lowered descriptor limit neither
 * kills the process (nor the command `exec` runs) nor keeps the token holder out; half-sent
 * requests are dropped, not held; a failure to accept is waited out, not fatal.
 */
import assert from "node:assert/strict";
import { spawnBounded } from "../helpers/bounded.ts";
import { ROOT } from "../helpers/cli.ts";
import {
  closeAll,
  closedByServer,
  flood,
  halfSent,
  limitDescriptors,
  openDescriptors,
} from "../helpers/flood.ts";
import { sessionFixture } from "../helpers/session.ts";

/** Descriptor limits are read from /proc and set with util-linux `prlimit`: Linux only. */
const linux = { test: Deno.build.os === "linux" ? Deno.test : Deno.test.ignore };

const ARN = "arn:aws:iam::123456789012:user/Alice";
const MAIN = `${ROOT}main.ts`;

/** `aws-login ARGS…` as a subprocess; its stdout and stderr are collected. */
function start(args: string[], env: Record<string, string>) {
  const child = spawnBounded(Deno.execPath(), {
    args: ["run", "-q", "-P", "--no-prompt", MAIN, ...args],
    env,
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    deadlineMs: 120_000,
  });
  let stdout = "";
  const out = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) stdout += chunk;
  })();
  const stderr = new Response(child.stderr).text();
  return {
    child,
    /** Resolves once stdout holds `lines` lines. */
    async printed(lines: number): Promise<string> {
      while (stdout.split("\n").length <= lines) {
        if (await Promise.race([out.then(() => true), tick()])) break;
      }
      return stdout;
    },
    async finish() {
      const status = await child.status;
      await out;
      return { code: status.code, signal: status.signal, stdout, stderr: await stderr };
    },
    async [Symbol.asyncDispose]() {
      await child[Symbol.asyncDispose]();
      await out.catch(() => {});
      await stderr.catch(() => {});
    },
  };
}

function tick(): Promise<false> {
  return new Promise((r) => setTimeout(() => r(false), 20));
}

/** The `export NAME=value` lines of the env format. */
function exported(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [, name, value] of text.matchAll(/^export ([A-Z_]+)=(\S+)$/gm)) vars[name!] = value!;
  return vars;
}

/** Fails with `what` when `promise` takes longer than `ms`: a bound, not a speed claim. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function ask(url: string, token: string): Promise<number> {
  const reply = await fetch(url, { headers: { Authorization: token } });
  await reply.body?.cancel();
  return reply.status;
}

linux.test("serve survives 300 idle and 20 half-sent connections under a low descriptor limit, and times half-sent requests out", async () => {
  await using t = await sessionFixture({ arn: ARN });
  await using serve = start(["serve", "--profile", "dev"], t.session.env);
  const vars = exported(await serve.printed(2));
  const url = vars.AWS_CONTAINER_CREDENTIALS_FULL_URI!;
  const token = vars.AWS_CONTAINER_AUTHORIZATION_TOKEN!;
  const port = Number(new URL(url).port);
  let conns: Deno.Conn[] = [];
  try {
    // Room for the listener's few dozen connections and a refresh; not for 300 more.
    await limitDescriptors(serve.child.pid, (await openDescriptors(serve.child.pid)) + 60);
    conns = [...await halfSent(port, 20), ...await flood(port, 300)];
    // With the flood still open, the token holder gets credentials.
    assert.equal(await ask(url, token), 200);
    closeAll(conns);
    // Fewer half-sent requests than the cap (none is evicted for a newcomer) are timed out, not
    // held forever.
    const slow = conns = await halfSent(port, 20);
    await within(Promise.all(slow.map(closedByServer)), 60_000, "dropping the half-sent requests");
    assert.equal(await ask(url, token), 200);
  } finally {
    closeAll(conns);
  }
  serve.child.kill("SIGTERM");
  const { code, stderr } = await serve.finish();
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /Uncaught|panicked|Too many open files/);
});

linux.test("serve keeps serving when accepting fails for want of descriptors", async () => {
  await using t = await sessionFixture({ arn: ARN });
  await using serve = start(["serve", "--profile", "dev", "--debug"], t.session.env);
  const vars = exported(await serve.printed(2));
  const url = vars.AWS_CONTAINER_CREDENTIALS_FULL_URI!;
  const token = vars.AWS_CONTAINER_AUTHORIZATION_TOKEN!;
  let conns: Deno.Conn[] = [];
  try {
    const pid = serve.child.pid;
    const base = await openDescriptors(pid);
    // Not a single descriptor to spare: every accept fails.
    await limitDescriptors(pid, base, { softOnly: true });
    conns = await flood(Number(new URL(url).port), 5);
    // Let it fail to accept for a while (a bound, not a speed goal), then give descriptors back.
    await new Promise((r) => setTimeout(r, 1_000));
    await limitDescriptors(pid, base + 60, { softOnly: true });
    closeAll(conns);
    conns = [];
    assert.equal(await ask(url, token), 200);
  } finally {
    closeAll(conns);
  }
  serve.child.kill("SIGTERM");
  const { code, stderr } = await serve.finish();
  assert.equal(code, 0, stderr);
  assert.match(stderr, /accepting a connection failed \(Too many open files/);
  assert.doesNotMatch(stderr, /Uncaught|panicked/);
  assert.ok(!stderr.includes(token));
});

linux.test("exec's command survives a flood of its endpoint and gets credentials; its status passes through", async () => {
  await using t = await sessionFixture({ arn: ARN });
  const dir = t.home.home;
  // The command: records the endpoint's variables, waits for "go", asks the endpoint, exits 3.
  const script = `${dir}/child.ts`;
  await Deno.writeTextFile(
    script,
    `const url = Deno.env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")!;
const token = Deno.env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")!;
await Deno.writeTextFile("${dir}/vars.tmp", JSON.stringify({ url, token }));
await Deno.rename("${dir}/vars.tmp", "${dir}/vars.json");
for (let i = 0; i < 6000; i++) {
  try { await Deno.stat("${dir}/go"); break; } catch { await new Promise((r) => setTimeout(r, 20)); }
}
const answer = await fetch(url, { headers: { Authorization: token } })
  .then(async (r) => { await r.body?.cancel(); return String(r.status); }, (e) => e.name);
await Deno.writeTextFile("${dir}/answer", answer);
Deno.exit(3);
`,
  );
  await using exec = start(
    ["exec", "--profile", "dev", "--", Deno.execPath(), "run", "-q", "-A", script],
    { ...t.session.env, PATH: Deno.env.get("PATH") ?? "" },
  );
  let vars: { url: string; token: string } | undefined;
  for (let i = 0; i < 3000 && vars === undefined; i++) {
    vars = await Deno.readTextFile(`${dir}/vars.json`).then(JSON.parse, () => undefined);
    if (vars === undefined) await tick();
  }
  assert.ok(vars, "the command never started");
  const port = Number(new URL(vars.url).port);
  let conns: Deno.Conn[] = [];
  try {
    const pid = exec.child.pid;
    await limitDescriptors(pid, (await openDescriptors(pid)) + 60);
    conns = [...await halfSent(port, 20), ...await flood(port, 300)];
    closeAll(conns);
    const slow = conns = await halfSent(port, 20);
    await within(Promise.all(slow.map(closedByServer)), 60_000, "dropping the half-sent requests");
    await Deno.writeTextFile(`${dir}/go`, "");
    const { code, stderr } = await exec.finish();
    assert.equal(code, 3, stderr);
    assert.equal(await Deno.readTextFile(`${dir}/answer`), "200");
    assert.doesNotMatch(stderr, /Uncaught|panicked|Too many open files/);
  } finally {
    closeAll(conns);
  }
});
