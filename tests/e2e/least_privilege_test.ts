/**
 * Least privilege at run time (SECURITY.md): once a command has started, code running inside it —
 * here a payload loaded with `--preload`, standing in for a compromised dependency — cannot start a
 * program unless the command runs one, and cannot reach any host but AWS Sign-In's (or none at all
 * when the command needs no network).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ROOT, runCli, spawnCli, tempHome } from "../helpers/cli.ts";
import { addProfile, expireIn, sessionFixture, startEmulator } from "../helpers/session.ts";

const PAYLOAD = fileURLToPath(new URL("../helpers/payload.ts", import.meta.url));

/** What the payload could do, from its report line. */
function report(stderr: string): Record<string, string> {
  const line = stderr.split("\n").find((l) => l.startsWith("PAYLOAD "));
  assert.ok(line, `no payload report in:\n${stderr}`);
  return JSON.parse(line.slice("PAYLOAD ".length));
}

for (const command of [["credential-process"], ["export-env"]]) {
  Deno.test(`${command[0]} with fresh credentials: no program, no network at all`, async () => {
    await using t = await sessionFixture({ arn: "arn:aws:iam::123456789012:user/Alice" });
    const out = await runCli([...command, "--profile", "dev"], {
      env: t.session.env,
      preload: PAYLOAD,
    });
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(report(out.stderr), {
      run: "NotCapable",
      foreignHost: "prompt",
      signinHost: "prompt",
      connect: "NotCapable",
    });
  });
}

Deno.test("credential-process that refreshes: Sign-In stays reachable, other hosts do not", async () => {
  await using t = await sessionFixture({ arn: "arn:aws:iam::123456789012:user/Alice" });
  await expireIn(t.session.cachePath, 60_000);
  const out = await runCli(["credential-process", "--profile", "dev"], {
    env: t.session.env,
    preload: PAYLOAD,
  });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(t.emulator.controls.counters().refresh_token, 1);
  assert.deepEqual(report(out.stderr), {
    run: "NotCapable",
    foreignHost: "prompt",
    signinHost: "granted",
    connect: "NotCapable",
  });
});

Deno.test("status: no program; only Sign-In hosts", async () => {
  await using t = await sessionFixture({ arn: "arn:aws:iam::123456789012:user/Alice" });
  const out = await runCli(["status"], { env: t.session.env, preload: PAYLOAD });
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(report(out.stderr), {
    run: "NotCapable",
    foreignHost: "prompt",
    signinHost: "granted",
    connect: "NotCapable",
  });
});

Deno.test("login: the browser starts, then no program; only Sign-In hosts", async () => {
  const arn = "arn:aws:iam::123456789012:user/Alice";
  await using emulator = await startEmulator({ autoApprove: arn });
  await using home = await tempHome();
  const browser = `${ROOT}tools/browser.ts`;
  const log = `${home.home}/browser-opened`;
  const out = await runCli(["login", "--profile", "dev", "--region", "us-east-1"], {
    env: {
      ...home.env,
      AWS_ENDPOINT_URL_SIGNIN: emulator.url,
      BROWSER: `'${Deno.execPath()}' run -q -A '${browser}' --log '${log}' %s`,
    },
    preload: PAYLOAD,
  });
  assert.equal(out.code, 0, out.stderr);
  assert.ok((await Deno.readTextFile(log)).length > 0, "the browser was started");
  assert.deepEqual(report(out.stderr), {
    run: "NotCapable",
    foreignHost: "prompt",
    signinHost: "granted",
    connect: "NotCapable",
  });
});

/**
 * Starts a command that serves until it is stopped, under the payload; stops it once the payload
 * has reported (after the command's first line on stdout), and returns the report.
 */
async function reportWhileServing(
  args: string[],
  env: Record<string, string>,
): Promise<Record<string, string>> {
  await using child = spawnCli(args, { env, preload: PAYLOAD, timeoutMs: 60_000 });
  await child.stdin.close();
  const stdout = new Response(child.stdout).text();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let stderr = "";
  try {
    while (!/^PAYLOAD .*\n/m.test(stderr)) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += value;
    }
  } finally {
    child.killAll();
    for (let r = await reader.read(); !r.done; r = await reader.read()) stderr += r.value;
    await stdout;
  }
  return report(stderr);
}

Deno.test("serve: no program; only Sign-In hosts", async () => {
  await using t = await sessionFixture({ arn: "arn:aws:iam::123456789012:user/Alice" });
  assert.deepEqual(await reportWhileServing(["serve", "--profile", "dev"], t.session.env), {
    run: "NotCapable",
    foreignHost: "prompt",
    signinHost: "granted",
    connect: "NotCapable",
  });
});

Deno.test("emulator: no program; only Sign-In hosts", async () => {
  await using home = await tempHome();
  assert.deepEqual(await reportWhileServing(["emulator"], home.env), {
    run: "NotCapable",
    foreignHost: "prompt",
    signinHost: "granted",
    connect: "NotCapable",
  });
});

for (const revoke of [true, false]) {
  const args = ["logout", "--profile", "dev", ...(revoke ? [] : ["--no-revoke"])];
  Deno.test(`${args.join(" ")}: no program; only Sign-In hosts`, async () => {
    await using t = await sessionFixture({ arn: "arn:aws:iam::123456789012:user/Alice" });
    const out = await runCli(args, { env: t.session.env, preload: PAYLOAD });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(t.emulator.controls.counters().revoke, revoke ? 1 : 0);
    assert.deepEqual(report(out.stderr), {
      run: "NotCapable",
      foreignHost: "prompt",
      signinHost: "granted",
      connect: "NotCapable",
    });
  });
}

for (
  const [mode, at] of [
    // At the link it prints: it has started its listener (and the /proc reader) by then.
    [["--no-browser", "--timeout", "1"], "Open this URL in a browser"],
    [["--remote"], ""], // at its first line
  ] as const
) {
  Deno.test(`login ${mode[0]}: no program once it waits for the user (it opens no browser)`, async () => {
    await using emulator = await startEmulator({ autoApprove: "arn:aws:iam::123456789012:user/A" });
    await using home = await tempHome();
    const out = await runCli(["login", ...mode, "--profile", "dev", "--region", "us-east-1"], {
      env: {
        ...home.env,
        AWS_ENDPOINT_URL_SIGNIN: emulator.url,
        PAYLOAD_AT: "stderr",
        PAYLOAD_AT_TEXT: at,
      },
      preload: PAYLOAD,
    });
    assert.notEqual(out.code, 0, "nobody signed in"); // timed out, or no code on standard input
    assert.deepEqual(report(out.stderr), {
      run: "NotCapable",
      foreignHost: "prompt",
      signinHost: "granted",
    });
  });
}

/** A login session and a role profile on it, with STS at the emulator. */
async function roleFixture() {
  const t = await sessionFixture({ arn: "arn:aws:iam::123456789012:user/Alice" });
  await addProfile(t.home.home, "admin", {
    role_arn: "arn:aws:iam::222222222222:role/Admin",
    source_profile: "dev",
  });
  return Object.assign(t, { env: { ...t.session.env, AWS_ENDPOINT_URL_STS: t.emulator.url } });
}

Deno.test("console: the browser (and the link's /proc reader) start, then no program; only Sign-In hosts", async () => {
  await using t = await roleFixture();
  const log = `${t.home.home}/browser-opened`;
  const out = await runCli(["console", "--profile", "admin"], {
    env: {
      ...t.env,
      BROWSER: `'${Deno.execPath()}' run -q -A '${ROOT}tools/browser.ts' --log '${log}' %s`,
    },
    preload: PAYLOAD,
  });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(t.emulator.controls.counters().signin_token, 1);
  assert.deepEqual(report(out.stderr), {
    run: "NotCapable",
    foreignHost: "prompt",
    signinHost: "granted",
    connect: "NotCapable",
  });
});

Deno.test("console --print: no program at all; only Sign-In hosts", async () => {
  await using t = await roleFixture();
  const out = await runCli(["console", "--profile", "admin", "--print"], {
    env: t.env,
    preload: PAYLOAD,
  });
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(report(out.stderr), {
    run: "NotCapable",
    foreignHost: "prompt",
    signinHost: "granted",
    connect: "NotCapable",
  });
});
