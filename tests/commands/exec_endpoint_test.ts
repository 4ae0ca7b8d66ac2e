/**
 * `exec` with its credential endpoint, in-process: whatever goes wrong in the endpoint's code while
 * the command runs (an uncaught exception, an unhandled rejection) never takes the command down;
 * exec says that credentials can no longer be served and returns the command's own exit status.
 */
import assert from "node:assert/strict";
import { run } from "../../lib/commands/exec.ts";
import { sessionFixture, testDeps } from "../helpers/session.ts";

const ARN = "arn:aws:iam::123456789012:user/Alice";

/** Waits for `path` to exist (a bound against a hang, not a speed goal). */
async function fileAppears(path: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    try {
      await Deno.stat(path);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${path} never appeared`);
}

Deno.test("exec keeps the command running through an uncaught error in the endpoint and returns its status", async () => {
  await using t = await sessionFixture({ arn: ARN });
  const dir = t.home.home;
  // The command: says it runs, waits for "go", then asks the endpoint and exits 3.
  const script = `${dir}/child.ts`;
  await Deno.writeTextFile(
    script,
    `await Deno.writeTextFile("${dir}/started", "");
while (true) {
  try { await Deno.stat("${dir}/go"); break; } catch { await new Promise((r) => setTimeout(r, 20)); }
}
const answer = await fetch(Deno.env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")!, {
  headers: { Authorization: Deno.env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")! },
}).then((r) => String(r.status), (e) => e.name);
await Deno.writeTextFile("${dir}/answer", answer);
Deno.exit(3);
`,
  );
  const { deps, stderr } = testDeps({ ...t.session.env, PATH: Deno.env.get("PATH") ?? "" });
  const status = run(
    { profile: "dev", server: true, command: [Deno.execPath(), "run", "-q", "-A", script] },
    deps,
  );
  await fileAppears(`${dir}/started`);
  // What a bug in the endpoint's code would do while the command runs.
  setTimeout(() => {
    throw new TypeError("a bug in the endpoint");
  }, 0);
  Promise.reject(new RangeError("another bug in the endpoint"));
  await new Promise((r) => setTimeout(r, 100));
  await Deno.writeTextFile(`${dir}/go`, "");
  assert.equal(await status, 3);
  assert.match(
    stderr.text,
    /^aws-login: the credential endpoint failed; ".*" keeps running, but aws-login can no longer serve it credentials\n$/,
  );
  // Said once, and true: the endpoint was stopped.
  assert.equal(await Deno.readTextFile(`${dir}/answer`), "TypeError");
});
