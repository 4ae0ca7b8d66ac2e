/**
 * `deno task install` (tools/install.ts): the installed `aws-login` command gets the "default"
 * permission set with file access limited to the home directory and what the command needs besides
 * (the checkout, the AWS paths named at install time), runs with `--no-prompt` and the checkout's
 * lock file, and the README's uses of it work for someone who installed from a
 * checkout: `aws-login --version`, `credential_process = aws-login credential-process …` (a program
 * found on PATH), `aws-login exec … -- command`. A file outside its scope gets the hint to install
 * again.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { dirname } from "../../lib/files.ts";
import { INSTALLED_FLAG, installedArgs } from "../../lib/cli/invocation.ts";
import { commandFile, fileScope, installedConfig, runArgs } from "../../tools/install.ts";
import { outputBounded } from "../helpers/bounded.ts";
import { ROOT } from "../helpers/cli.ts";
import { denoDir, sessionFixture } from "../helpers/session.ts";
import { writeScript } from "../helpers/script.ts";

const INSTALL = fileURLToPath(new URL("../../tools/install.ts", import.meta.url));
const windows = Deno.build.os === "windows";

/** A script that prints the state of many permission queries, one per line. */
const PROBE = `
const queries = [
  ...${
  JSON.stringify([
    "127.0.0.1",
    "127.0.0.1:8000",
    "localhost",
    "signin.aws.amazon.com",
    "us-east-1.signin.aws.amazon.com",
    "signin-fips.us-east-1.amazonaws.com",
    "signin.eu-west-1.api.aws",
    "cn-north-1.signin.amazonaws.cn",
    "example.com",
    "10.0.0.1",
  ])
}.map((host) => ({ name: "net", host })),
  { name: "read", path: Deno.cwd() }, { name: "write", path: Deno.cwd() },
  { name: "env", variable: "HOME" }, { name: "env" },
  { name: "run", command: "git" }, { name: "run" },
  { name: "sys", kind: "uid" }, { name: "sys", kind: "gid" }, { name: "sys", kind: "hostname" },
  { name: "ffi" }, { name: "import", host: "example.com" },
];
for (const q of queries) console.log(JSON.stringify(q), (await Deno.permissions.query(q)).state);
`;

/** The probe's answers under `-P` with the config file `config`. */
async function probe(config: string, script: string): Promise<string> {
  const out = await outputBounded(Deno.execPath(), {
    args: ["run", "-q", "--no-prompt", "--config", config, "-P", script],
    cwd: ROOT,
  });
  assert.equal(out.code, 0, out.stderr);
  return out.stdout;
}

Deno.test("installedConfig() grants what -P grants, but files only in its scope", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aws-login-install-probe-" });
  try {
    const script = `${dir}/probe.ts`;
    await Deno.writeTextFile(script, PROBE);
    const config = `${dir}/.aws-login.deno.json`;
    const home = `${dir}/home`;
    const env = { get: (name: string) => ({ HOME: home } as Record<string, string>)[name] };
    await Deno.writeTextFile(config, JSON.stringify(await installedConfig({ env, cwd: dir })));
    const withSet = (await probe(`${ROOT}deno.json`, script)).split("\n");
    const installed = (await probe(config, script)).split("\n");
    assert.ok(withSet.some((line) => line.endsWith(" prompt")), "the set is not everything");
    // The probe asks about the checkout (its cwd): readable, not writable (it is not in home).
    const write = `{"name":"write","path":${JSON.stringify(ROOT.replace(/[\\/]$/, ""))}} `;
    for (const [i, line] of withSet.entries()) {
      if (line.startsWith(write)) assert.equal(installed[i], `${write}prompt`);
      else assert.equal(installed[i], line);
    }
    assert.ok(withSet.some((line) => line.startsWith(write)), "the probe asks about writing");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fileScope() grants the home directory, the checkout and the AWS paths set at install time", () => {
  const env = (vars: Record<string, string>) => ({ get: (name: string) => vars[name] });
  const checkout = ROOT.replace(/[\\/]$/, "");
  assert.deepEqual(fileScope(env({ HOME: "/home/a" }), { cwd: "/w", os: "linux" }), {
    read: ["/home/a", checkout, "/dev/tty"],
    write: ["/home/a"],
  });
  assert.deepEqual(
    fileScope(
      env({
        HOME: "/home/a",
        AWS_CONFIG_FILE: "/etc/aws/config",
        AWS_SHARED_CREDENTIALS_FILE: "team/credentials",
        AWS_LOGIN_CACHE_DIRECTORY: "~/../shared/cache",
      }),
      { cwd: "/w", os: "darwin" },
    ),
    {
      read: [
        "/home/a",
        checkout,
        "/etc/aws",
        "/w/team/credentials",
        "/home/a/../shared/cache",
        "/dev/tty",
      ],
      write: ["/home/a", "/etc/aws", "/home/a/../shared/cache"],
    },
  );
  const windows = fileScope(env({ USERPROFILE: "C:\\Users\\a" }), { os: "windows" });
  assert.deepEqual(windows, { read: ["C:\\Users\\a", checkout], write: ["C:\\Users\\a"] });
});

Deno.test("runArgs() runs main.ts with the installed config's set, without prompts, on the checkout's lock file", async () => {
  assert.deepEqual(runArgs("/i/bin/.aws-login.deno.json"), [
    "run",
    "--quiet",
    "--no-prompt",
    "--frozen",
    `--lock=${ROOT}deno.lock`,
    "--config",
    "/i/bin/.aws-login.deno.json",
    "-P",
    `${ROOT}main.ts`,
    INSTALLED_FLAG,
  ]);
  // cmd.exe runs no line longer than 8191 characters: the net list alone is longer.
  assert.ok(commandFile(runArgs(`C:\\Users\\${"a".repeat(200)}\\x.json`), "windows").length < 2000);
  const env = { get: (name: string) => ({ HOME: "/home/a" } as Record<string, string>)[name] };
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const scope = fileScope(env, { cwd: "/w" });
  assert.deepEqual(await installedConfig({ env, cwd: "/w" }), {
    imports: config.imports,
    permissions: {
      default: { ...config.permissions.default, read: scope.read, write: scope.write },
    },
  });
  assert.deepEqual(installedArgs([INSTALLED_FLAG, "status"]), {
    installed: true,
    args: ["status"],
  });
  assert.deepEqual(installedArgs(["status", INSTALLED_FLAG]), {
    installed: false,
    args: ["status", INSTALLED_FLAG],
  });
});

Deno.test("commandFile() passes every argument through unchanged, quoted for sh and cmd", async () => {
  const args = ["run", "--allow-read=/it's here,/b", "/x y/main.ts", "100%"];
  assert.equal(
    commandFile(args, "windows"),
    '@REM generated by deno task install\r\n@deno "run" "--allow-read=/it\'s here,/b" "/x y/main.ts" "100%%" %*\r\n',
  );
  if (windows) return;
  const sh = commandFile(args, "linux");
  // sh runs it with a stand-in for deno that prints its arguments, one a line.
  const dir = await Deno.makeTempDir({ prefix: "aws-login-install-shim-" });
  try {
    await writeScript(`${dir}/deno`, '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n');
    await writeScript(`${dir}/aws-login`, sh);
    const out = await outputBounded(`${dir}/aws-login`, {
      args: ["status", "--profile", "a b"],
      env: { PATH: dir },
      clearEnv: true,
    });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, [...args, "status", "--profile", "a b", ""].join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task install puts an aws-login on PATH that runs credential-process and exec", async () => {
  await using t = await sessionFixture({ arn: "arn:aws:iam::123456789012:user/Alice" });
  const root = `${t.home.home}/deno-root`;
  const installed = await outputBounded(Deno.execPath(), {
    args: ["run", "-q", "--allow-read", "--allow-write", "--allow-env", INSTALL, "--root", root],
    cwd: ROOT,
    env: t.session.env,
    clearEnv: true,
  });
  assert.equal(installed.code, 0, installed.stderr);
  assert.match(installed.stdout, /Add .*bin to PATH/);

  // Found on PATH by name, as a shell or an SDK running credential_process finds it.
  const bin = `${root}/bin`;
  const path = [bin, dirname(Deno.execPath()), Deno.env.get("PATH") ?? ""].join(
    windows ? ";" : ":",
  );
  // The host's Deno cache, outside the home directory: Deno reads it without a permission.
  const env = { ...t.session.env, PATH: path, Path: path, DENO_DIR: await denoDir() };
  const run = async (args: string[], more: Record<string, string> = {}) => {
    const { code, stdout, stderr } = await outputBounded(windows ? "aws-login.cmd" : "aws-login", {
      args,
      env: { ...env, ...more },
      clearEnv: true,
      cwd: t.home.home,
      deadlineMs: 60_000, // a guard against a hang, not a speed check
    });
    return { code, stdout, stderr };
  };

  const { version } = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const v = await run(["--version"]);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout, `aws-login ${version}\n`);

  const c = await run(["credential-process", "--profile", "dev"]);
  assert.equal(c.code, 0, c.stderr);
  const creds = JSON.parse(c.stdout);
  assert.equal(creds.Version, 1);
  assert.equal(creds.AccessKeyId, t.session.token.accessToken.accessKeyId);

  // The command exec runs asks exec's credential endpoint, as an AWS SDK in it would.
  const child = `${t.home.home}/ask_endpoint.ts`;
  await Deno.writeTextFile(
    child,
    `const reply = await fetch(Deno.env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")!, {
      headers: { Authorization: Deno.env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")! },
    });
    console.log((await reply.json()).AccessKeyId);`,
  );
  const e = await run([
    "exec",
    "--profile",
    "dev",
    "--",
    "deno",
    "run",
    "--allow-env",
    "--allow-net=127.0.0.1",
    child,
  ]);
  assert.equal(e.code, 0, e.stderr);
  assert.equal(e.stdout.trim(), t.session.token.accessToken.accessKeyId);

  // A config file elsewhere in the home directory is read; the same file outside it is refused,
  // with the hint to install again (what the AWS CLI's files need when they move).
  const config = await Deno.readTextFile(`${t.home.home}/.aws/config`);
  await Deno.mkdir(`${t.home.home}/elsewhere`);
  await Deno.writeTextFile(`${t.home.home}/elsewhere/config`, config);
  const inside = await run(["credential-process", "--profile", "dev"], {
    AWS_CONFIG_FILE: `${t.home.home}/elsewhere/config`,
  });
  assert.equal(inside.code, 0, inside.stderr);
  assert.equal(JSON.parse(inside.stdout).AccessKeyId, t.session.token.accessToken.accessKeyId);
  const outside = await Deno.makeTempDir({ prefix: "aws-login-install-outside-" });
  try {
    await Deno.writeTextFile(`${outside}/config`, config);
    const refused = await run(["credential-process", "--profile", "dev"], {
      AWS_CONFIG_FILE: `${outside}/config`,
    });
    assert.equal(refused.code, 3, refused.stderr);
    assert.equal(refused.stdout, "");
    const lines = refused.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, refused.stderr);
    assert.match(lines[0]!, /^aws-login: .*Requires read access to ".*config"/);
    assert.match(lines[0]!, /run "deno task install" again in /);
    assert.doesNotMatch(
      lines[0]!,
      /-P|--allow-read/,
      "no advice the installed command cannot take",
    );
    // An --output file outside: installing again would not help, a path at home does.
    const output = await run([
      "export-env",
      "--profile",
      "dev",
      "--output",
      `${outside}/creds.env`,
    ]);
    assert.equal(output.code, 3, output.stderr);
    assert.match(
      output.stderr,
      /^aws-login: .*use a path in your home directory \(an --output file\)/,
    );
    assert.equal(output.stderr.trimEnd().split("\n").length, 1, output.stderr);
    await assert.rejects(Deno.lstat(`${outside}/creds.env`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
});
