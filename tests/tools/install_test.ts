/**
 * `deno task install` (tools/install.ts): the installed `aws-login` command gets exactly the
 * "default" permission set, and the README's uses of it work for someone who installed from a
 * checkout: `aws-login --version`, `credential_process = aws-login credential-process …` (a program
 * found on PATH), `aws-login exec … -- command`.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { dirname } from "../../lib/files.ts";
import { permissionFlags } from "../../tools/install.ts";
import { outputBounded } from "../helpers/bounded.ts";
import { ROOT } from "../helpers/cli.ts";
import { sessionFixture } from "../helpers/session.ts";

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

async function probe(permissionArgs: string[], script: string): Promise<string> {
  const out = await outputBounded(Deno.execPath(), {
    args: ["run", "-q", "--no-prompt", "--config", `${ROOT}deno.json`, ...permissionArgs, script],
    cwd: ROOT,
  });
  assert.equal(out.code, 0, out.stderr);
  return out.stdout;
}

Deno.test("permissionFlags() grants exactly what -P grants with deno.json's default set", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aws-login-install-probe-" });
  try {
    const script = `${dir}/probe.ts`;
    await Deno.writeTextFile(script, PROBE);
    const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
    const flags = permissionFlags(config.permissions.default, ROOT);
    const withSet = await probe(["-P"], script);
    assert.match(withSet, / granted\n/);
    assert.match(withSet, / prompt\n/, "the set is not everything");
    assert.equal(await probe(flags, script), withSet);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("permissionFlags() writes lists, deny and ignore entries, and resolves relative paths", () => {
  assert.deepEqual(
    permissionFlags({
      read: { allow: ["data", "/etc/hosts"], deny: ["data/secret"], ignore: true },
      net: ["127.0.0.1", "*.example.com"],
      env: false,
      sys: ["uid"],
      run: [],
    }, "/checkout/"),
    [
      "--allow-read=/checkout/data,/etc/hosts",
      "--deny-read=/checkout/data/secret",
      "--ignore-read",
      "--allow-net=127.0.0.1,*.example.com",
      "--allow-sys=uid",
    ],
  );
  assert.deepEqual(permissionFlags({ all: true, read: ["x"] }, "/c"), ["--allow-all"]);
  assert.throws(() => permissionFlags({ net: ["a,b"] }, "/c"), TypeError);
  assert.throws(() => permissionFlags({ hrtime: true }, "/c"), /Unknown permission "hrtime"/);
  assert.throws(() => permissionFlags({ net: { ignore: true } }, "/c"), /Unknown entry "ignore"/);
});

Deno.test("deno task install puts an aws-login on PATH that runs credential-process and exec", async () => {
  await using t = await sessionFixture({ arn: "arn:aws:iam::123456789012:user/Alice" });
  const root = `${t.home.home}/deno-root`;
  const installed = await outputBounded(Deno.execPath(), {
    args: ["run", "-q", "--allow-read", "--allow-env", "--allow-run", INSTALL, "--root", root],
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
  const env = { ...t.session.env, PATH: path, Path: path };
  const run = async (args: string[]) => {
    const { code, stdout, stderr } = await outputBounded(windows ? "aws-login.cmd" : "aws-login", {
      args,
      env,
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
});
