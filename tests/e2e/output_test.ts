/**
 * Where `export-env` and `serve` put their secrets: `--output FILE` (owner-only, whole), and a
 * warning when standard output was redirected into a file other users can read — what
 * `serve … > creds.env` under umask 022 did, handing every local user the endpoint's token.
 */
import assert from "node:assert/strict";
import { collectOutput, spawnBounded } from "../helpers/bounded.ts";
import { ROOT, runCli } from "../helpers/cli.ts";
import { sessionFixture } from "../helpers/session.ts";

/** Redirections and umask need a POSIX shell. */
const posix = { test: Deno.build.os === "windows" ? Deno.test.ignore : Deno.test };

const ARN = "arn:aws:iam::123456789012:user/Alice";
const MAIN = `${ROOT}main.ts`;

function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * `sh -c 'umask UMASK; exec aws-login ARGS > FILE'`: the CLI with its stdout redirected into a file,
 * as a user's shell would do it. With `untilLines`, once FILE (or `waitFor`) holds that many lines
 * (a server has printed its variables), the process gets SIGTERM.
 */
async function redirected(
  args: string[],
  env: Record<string, string>,
  p: { umask: string; file: string; untilLines?: number; waitFor?: string },
) {
  const command = [Deno.execPath(), "run", "-q", "-P", "--no-prompt", MAIN, ...args].map(quote);
  const child = spawnBounded("sh", {
    args: ["-c", `umask ${p.umask}; exec ${command.join(" ")} > ${quote(p.file)}`],
    env,
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    deadlineMs: 60_000,
  });
  if (p.untilLines !== undefined) {
    for (let i = 0; i < 3000; i++) {
      const text = await Deno.readTextFile(p.waitFor ?? p.file).catch(() => "");
      if (text.split("\n").length > p.untilLines) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGTERM");
  }
  const { code, stderr } = await collectOutput(child);
  return { code, stderr, stdout: await Deno.readTextFile(p.file) };
}

function modeOf(path: string): number {
  return Deno.statSync(path).mode! & 0o777;
}

posix.test("export-env --output writes an owner-only file and nothing on stdout", async () => {
  await using t = await sessionFixture({ arn: ARN });
  const file = `${t.home.home}/.env`;
  const { code, stdout, stderr } = await runCli(
    ["export-env", "--profile", "dev", "--format", "env-no-export", "--output", file],
    { env: t.session.env },
  );
  assert.equal(code, 0, stderr);
  assert.equal(stdout, "");
  assert.equal(stderr, "");
  assert.equal(modeOf(file), 0o600);
  assert.match(await Deno.readTextFile(file), /^AWS_ACCESS_KEY_ID=ASIA/m);
});

posix.test("export-env --output refuses a symlink with one line and exit 2, writing nothing", async () => {
  await using t = await sessionFixture({ arn: ARN });
  const target = `${t.home.home}/shared.txt`;
  await Deno.writeTextFile(target, "KEEP\n");
  await Deno.symlink(target, `${t.home.home}/.env`);
  const { code, stdout, stderr } = await runCli(
    ["export-env", "--profile", "dev", "--output", `${t.home.home}/.env`],
    { env: t.session.env },
  );
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(stderr, /^aws-login: Refusing to write --output ".*\.env": it is a symbolic link/);
  assert.deepEqual(stderr.trim().split("\n").slice(1), [
    `Run "aws-login export-env --help" for usage.`,
  ]);
  assert.equal(await Deno.readTextFile(target), "KEEP\n");
});

posix.test("export-env --format env-no-export > FILE warns when FILE is readable by others (umask 022), not under umask 077", async () => {
  await using t = await sessionFixture({ arn: ARN });
  const open = `${t.home.home}/open.env`;
  const exposed = await redirected(
    ["export-env", "--profile", "dev", "--format", "env-no-export"],
    t.session.env,
    { umask: "022", file: open },
  );
  assert.equal(exposed.code, 0, exposed.stderr);
  assert.equal(modeOf(open), 0o644);
  assert.match(
    exposed.stderr,
    /^aws-login: warning: standard output is a file others can read \(mode 644\).*--output FILE.*umask 077/,
  );
  assert.match(exposed.stdout, /^AWS_ACCESS_KEY_ID=ASIA/m);
  const closed = await redirected(
    ["export-env", "--profile", "dev", "--format", "env-no-export"],
    t.session.env,
    { umask: "077", file: `${t.home.home}/closed.env` },
  );
  assert.equal(closed.code, 0, closed.stderr);
  assert.equal(closed.stderr, "");
});

posix.test("serve --output writes the variables into an owner-only file; serve > FILE warns", async () => {
  await using t = await sessionFixture({ arn: ARN });
  const file = `${t.home.home}/creds.env`;
  // --output, under umask 022: nothing on stdout, the file is 0600 and holds both variables.
  const served = await redirected(
    ["serve", "--profile", "dev", "--format", "env-no-export", "--output", file],
    t.session.env,
    { umask: "022", file: `${t.home.home}/stdout.txt`, waitFor: file, untilLines: 2 },
  );
  assert.equal(served.stdout, "");
  assert.match(served.stderr, /wrote the endpoint's variables to .*creds\.env/);
  assert.doesNotMatch(served.stderr, /warning/);
  assert.equal(modeOf(file), 0o600);
  const vars = await Deno.readTextFile(file);
  assert.match(vars, /^AWS_CONTAINER_CREDENTIALS_FULL_URI=http:\/\/127\.0\.0\.1:\d+\//m);
  assert.match(vars, /^AWS_CONTAINER_AUTHORIZATION_TOKEN=\S+$/m);
  // A redirection under umask 022 gets the warning (the token is printed all the same).
  const exposed = await redirected(["serve", "--profile", "dev"], t.session.env, {
    umask: "022",
    file: `${t.home.home}/open.env`,
    untilLines: 2,
  });
  assert.match(exposed.stderr, /^aws-login: warning: standard output is a file others can read/);
  assert.match(exposed.stdout, /^export AWS_CONTAINER_AUTHORIZATION_TOKEN=/m);
});
