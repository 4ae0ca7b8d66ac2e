/**
 * `aws-login emulator` as a subprocess under the shipped permission set (`deno run -P`): the first
 * stdout line, one log line per request without secrets, a clean stop on SIGTERM and SIGINT, the
 * accounts file, the roles file, the fail/clock flags, and usage errors.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { authorizeQuery, codeBody, proof, signIn, tokenCall } from "./flow.ts";
import { type Creds, sts, xmlValue } from "./sts_client.ts";
import { type BoundedChild, outputBounded, spawnBounded } from "../helpers/bounded.ts";
import { generateDpopKey } from "../../lib/signin/dpop.ts";
import { codeChallengeS256, createCodeVerifier } from "../../lib/signin/pkce.ts";

/** A clean stop on a signal: Windows cannot send a child SIGTERM or SIGINT (kill() ends it). */
const posix = { test: Deno.build.os === "windows" ? Deno.test.ignore : Deno.test };

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ARN = "arn:aws:iam::123456789012:user/Alice";

/** The emulator command running; `lines` yields its stdout line by line. */
interface Running extends AsyncDisposable {
  child: BoundedChild;
  nextLine(): Promise<string>;
  stderr: Promise<string>;
}

function spawn(args: string[]): Running {
  const child = spawnBounded(Deno.execPath(), {
    args: ["run", "-q", "-P", "--no-prompt", "main.ts", "emulator", ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const stderr = new Response(child.stderr).text();
  return {
    child,
    stderr,
    async nextLine() {
      while (!buffered.includes("\n")) {
        // A child that never prints is killed at its deadline, which ends this read.
        const { value, done } = await reader.read();
        if (done) throw new Error(`stdout closed; stderr: ${await stderr}`);
        buffered += value;
      }
      const i = buffered.indexOf("\n");
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      return line;
    },
    async [Symbol.asyncDispose]() {
      try {
        await child[Symbol.asyncDispose]();
      } finally {
        await reader.cancel().catch(() => {});
        await stderr.catch(() => {});
      }
    },
  };
}

/** Runs the command to completion (for argument errors). */
async function runToEnd(args: string[]) {
  return await outputBounded(Deno.execPath(), {
    args: ["run", "-q", "-P", "--no-prompt", "main.ts", "emulator", ...args],
    cwd: ROOT,
  });
}

async function listening(running: Running): Promise<string> {
  const first = await running.nextLine();
  assert.match(first, /^listening on http:\/\/127\.0\.0\.1:\d+$/);
  return first.slice("listening on ".length);
}

posix.test("emulator prints where it listens, logs each request without secrets, stops on SIGTERM", async () => {
  await using running = spawn(["--port", "0", "--auto-approve", ARN]);
  const url = await listening(running);
  const verifier = createCodeVerifier();
  const state = crypto.randomUUID();
  const query = authorizeQuery({ state, challenge: await codeChallengeS256(verifier) });
  const reply = await fetch(`${url}/v1/authorize?${query}`, { redirect: "manual" });
  await reply.body?.cancel();
  assert.equal(reply.status, 302);
  const code = new URL(reply.headers.get("location")!).searchParams.get("code")!;
  const authorizeLine = await running.nextLine();
  assert.match(authorizeLine, /^\S+ GET \/v1\/authorize 302 \d+ms$/);

  const key = await generateDpopKey();
  const r = await tokenCall(
    url,
    codeBody({
      code,
      state,
      verifier,
      clientId: "arn:aws:signin:::devtools/same-device",
      redirectUri: "http://127.0.0.1:53682/oauth/callback",
    }),
    await proof(key, `${url}/v1/token`),
  );
  assert.equal(r.status, 200);
  const tokenLine = await running.nextLine();
  assert.match(tokenLine, /^\S+ POST \/v1\/token 200 \d+ms$/);
  for (const secret of [code, verifier, state, r.body.refreshToken as string]) {
    assert.ok(!authorizeLine.includes(secret) && !tokenLine.includes(secret), "a secret is logged");
  }

  running.child.kill("SIGTERM");
  const status = await running.child.status;
  assert.equal(status.code, 0, await running.stderr);
  assert.equal(await running.stderr, "");
});

posix.test("emulator stops cleanly on SIGINT", async () => {
  await using running = spawn([]);
  await listening(running);
  running.child.kill("SIGINT");
  const status = await running.child.status;
  assert.equal(status.code, 0, `signal ${status.signal}: ${await running.stderr}`);
});

Deno.test("emulator offers the identities of --accounts on its sign-in page", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aws-login-emulator-" });
  try {
    const file = `${dir}/accounts.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify([{ arn: ARN, name: "Alice" }, { arn: "arn:aws:iam::210987654321:user/Bob" }]),
    );
    await using running = spawn(["--accounts", file]);
    const url = await listening(running);
    const query = authorizeQuery({ state: "s", challenge: "a".repeat(43) });
    const html = await (await fetch(`${url}/v1/authorize?${query}`)).text();
    assert.match(html, new RegExp(`data-arn="${ARN}"`));
    assert.match(html, /data-arn="arn:aws:iam::210987654321:user\/Bob"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("emulator --fail-next and --clock-offset set the test controls", async () => {
  await using running = spawn([
    "--auto-approve",
    ARN,
    "--clock-offset",
    "-600",
    "--fail-next",
    "1",
    "--fail-status",
    "429",
    "--fail-retry-after",
    "3",
  ]);
  const url = await listening(running);
  const reply = await fetch(`${url}/v1/token`, { method: "POST", body: "{}" });
  await reply.body?.cancel();
  assert.equal(reply.status, 429);
  assert.equal(reply.headers.get("retry-after"), "3");
  const skew = Date.parse(reply.headers.get("date")!) - Date.now();
  assert.ok(Math.abs(skew + 600_000) < 5_000, `skew ${skew} ms`);
  const counters = await (await fetch(`${url}/__admin/counters`)).json();
  assert.equal(counters.other_grant, 1);
});

for (
  const [args, fragment] of [
    [["--port", "abc"], 'Option "--port" takes a whole number'],
    [["--port", "70000"], 'Option "--port" takes a whole number'],
    [
      ["--auto-approve", "alice"],
      "ARN with a 12-digit account id, like " +
      '"arn:aws:iam::123456789012:user/demo": "alice" is not an ARN\n',
    ],
    [
      ["--auto-approve", "arn:aws:iam::1:user/x"],
      '"arn:aws:iam::1:user/x" has no 12-digit account id\n',
    ],
    [["--access-ttl", "901"], 'Option "--access-ttl" takes a whole number from 1 to 900'],
    [["--bogus"], 'Unknown option "--bogus"'],
    [["--fail-status", "500"], 'The --fail-* options need "--fail-next N"'],
    [["--fail-next", "1"], 'Option "--fail-next" needs one of'],
    [["--clock-offset", "soon"], 'Option "--clock-offset" takes a whole number of seconds'],
  ] as const
) {
  Deno.test(`emulator ${args.join(" ")} is a usage error (exit 2)`, async () => {
    const { code, stdout, stderr } = await runToEnd([...args]);
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.ok(stderr.includes(fragment), stderr);
  });
}

Deno.test("emulator with a bad accounts file exits 1 and says what is wrong", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aws-login-emulator-" });
  try {
    await Deno.writeTextFile(`${dir}/a.json`, `{"arn": "x"}`);
    const missing = await runToEnd(["--accounts", `${dir}/none.json`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /accounts file ".*none\.json": it does not exist/);
    const bad = await runToEnd(["--accounts", `${dir}/a.json`]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /it is not a non-empty array/);
    assert.equal(bad.stdout, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("emulator --roles makes its roles the only ones AssumeRole knows", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aws-login-emulator-" });
  try {
    const admin = "arn:aws:iam::210987654321:role/Admin";
    await Deno.writeTextFile(
      `${dir}/roles.json`,
      JSON.stringify([{ arn: admin, trustedPrincipals: [ARN], maxSessionDuration: 7200 }]),
    );
    await using running = spawn(["--auto-approve", ARN, "--roles", `${dir}/roles.json`]);
    const url = await listening(running);
    const creds = (await signIn(url)).reply.accessToken as Creds;
    const body = (role: string) =>
      `Action=AssumeRole&Version=2011-06-15&RoleArn=${encodeURIComponent(role)}` +
      `&RoleSessionName=alice&DurationSeconds=7200`;
    const granted = await sts(url, creds, { body: body(admin) });
    assert.equal(granted.status, 200, granted.text);
    assert.equal(
      xmlValue(granted.text, "Arn"),
      "arn:aws:sts::210987654321:assumed-role/Admin/alice",
    );
    const other = await sts(url, creds, { body: body("arn:aws:iam::210987654321:role/Other") });
    assert.equal(other.status, 403);
    assert.equal(xmlValue(other.text, "Code"), "AccessDenied");
    const counters = await (await fetch(`${url}/__admin/counters`)).json();
    assert.equal(counters.assume_role, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("emulator with a bad roles file exits 1 with one line that says what is wrong", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aws-login-emulator-" });
  try {
    const cases: [string, string, RegExp][] = [
      ["none.json", "", /roles file ".*none\.json": it does not exist/],
      ["text.json", "roles:", /roles file ".*text\.json": it is not valid JSON/],
      [
        "ttl.json",
        JSON.stringify([{ arn: "arn:aws:iam::210987654321:role/Admin", maxSessionDuration: 60 }]),
        /entry 1 \(arn:aws:iam::210987654321:role\/Admin\): "maxSessionDuration" must be a whole number of seconds from 3600 to 43200/,
      ],
    ];
    for (const [name, content, expected] of cases) {
      if (content) await Deno.writeTextFile(`${dir}/${name}`, content);
      const result = await runToEnd(["--roles", `${dir}/${name}`]);
      assert.equal(result.code, 1, result.stderr);
      assert.equal(result.stdout, "");
      assert.match(result.stderr, expected);
      assert.match(result.stderr, /It must be a JSON array like \[\{"arn": /);
      assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("emulator on a port in use exits 1 and names the port", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const { code, stderr } = await runToEnd(["--port", String(port)]);
  assert.equal(code, 1);
  assert.ok(stderr.includes(`Cannot listen on 127.0.0.1:${port}: the port is in use`), stderr);
});
