import assert from "node:assert/strict";
import { FileSections, readProfile, readProfileFiles } from "../../lib/aws/profile_reader.ts";
import { loadProfile } from "../../lib/aws/profile.ts";
import { ConfigError } from "../../lib/errors.ts";
import { joinPath } from "../../lib/files.ts";

const PLAIN_CONFIG = [
  "# my AWS config",
  "[default]",
  "region = us-east-1",
  "",
  "[profile dev]",
  "login_session = arn:aws:iam::123456789012:user/Alice",
  "region=eu-west-1",
  "  ; an indented full-line comment",
  "[sso-session corp]",
  "sso_region = us-east-1",
  "[services local]",
  "endpoint_url = http://127.0.0.1:4566",
  "",
].join("\r\n");

Deno.test("readProfile() gives loadProfile()'s answers and errors", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aws-login-reader-" });
  try {
    const config = joinPath(dir, "config");
    const credentials = joinPath(dir, "credentials");
    const vars: Record<string, string> = {
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      HOME: dir,
    };
    const env = { get: (n: string) => vars[n] };
    const texts = [
      [PLAIN_CONFIG + "[profile a]\nservices = local\nlogin_session = c\n", "[a]\nx = 1\n"],
      ["[profile a]\nservices = s\n[services s]\nsignin =\n  endpoint_url = http://h\n", ""],
      ["[profile a]\nregion = x # comment\n", "[a]\nlogin_session = from-credentials\n"],
      // A BOM, quotes, CRLF, an indented header (the whole-file parse answers), sub-properties.
      ['\uFEFF[profile "a"]\r\nservices = s\r\n[services s]\r\nsts =\r\n  x = 1\r\n', "[a]\n"],
      ["# c\n [profile a]\nregion = r\n[default]\nregion = d\n", " [dev]\nx = 1\n"],
    ];
    for (const [configText, credentialsText] of texts) {
      await Deno.writeTextFile(config, configText!);
      await Deno.writeTextFile(credentials, credentialsText!);
      for (const name of ["a", "dev", "default", "missing"]) {
        assert.deepEqual(await readProfile(env, name), await loadProfile(env, name), name);
      }
    }
    await Deno.remove(credentials);
    assert.deepEqual(await readProfile(env, "dev"), await loadProfile(env, "dev"));
    // Refusals are the strict parser's, with its file and line.
    await Deno.writeTextFile(config, "[profile a]\nregion = x\n[profile a]\n");
    await assert.rejects(
      () => readProfile(env, "a"),
      (err) =>
        err instanceof ConfigError && err.code === "ERR_CONFIG_SYNTAX" &&
        err.message.startsWith(`Cannot parse "${config}", line 3:`),
    );
    await Deno.writeFile(config, new Uint8Array([0x5b, 0xff, 0x5d, 0x0a]));
    await assert.rejects(
      () => readProfile(env, "a"),
      (err) => err instanceof ConfigError && err.code === "ERR_CONFIG_SYNTAX",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs `fn` with both shared files written and an env naming them. */
async function withFiles(
  config: string | Uint8Array,
  credentials: string,
  fn: (
    env: { get(name: string): string | undefined },
    paths: { config: string },
  ) => void | Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "aws-login-reader-" });
  try {
    const paths = { config: joinPath(dir, "config"), credentials: joinPath(dir, "credentials") };
    if (typeof config === "string") await Deno.writeTextFile(paths.config, config);
    else await Deno.writeFile(paths.config, config);
    await Deno.writeTextFile(paths.credentials, credentials);
    const vars: Record<string, string> = {
      AWS_CONFIG_FILE: paths.config,
      AWS_SHARED_CREDENTIALS_FILE: paths.credentials,
      HOME: dir,
    };
    await fn({ get: (n) => vars[n] }, paths);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const syntaxAt = (path: string, line: number, reason?: RegExp) => (err: unknown) =>
  err instanceof ConfigError && err.code === "ERR_CONFIG_SYNTAX" &&
  err.message.startsWith(`Cannot parse "${path}", line ${line}: `) &&
  (reason === undefined || reason.test(err.message));

Deno.test("readProfileFiles() reads both files once and looks up any number of profiles", async () => {
  const config = [
    "[profile admin]",
    "role_arn = arn:aws:iam::111111111111:role/Admin",
    "source_profile = dev",
    "services = local",
    "[profile dev]",
    "login_session = arn:aws:iam::123456789012:user/Alice",
    "[sso-session corp]",
    "sso_region = us-east-1",
    "[services local]",
    "sts =",
    "  endpoint_url = http://127.0.0.1:4566",
    "",
  ].join("\n");
  await withFiles(config, "[dev]\nregion = eu-west-1\n", async (env, paths) => {
    const files = readProfileFiles(env);
    await Deno.remove(paths.config); // read once: later look-ups use what was read
    const admin = files.profile("admin");
    assert.equal(admin.keys.source_profile, "dev");
    assert.deepEqual(admin.services?.subKeys, { sts: { endpoint_url: "http://127.0.0.1:4566" } });
    assert.equal(admin.services?.line, 9);
    assert.deepEqual(files.profile("dev").keys, {
      login_session: "arn:aws:iam::123456789012:user/Alice",
      region: "eu-west-1",
    });
    assert.equal(files.profile("dev"), files.profile("dev"), "each profile is parsed once");
    assert.equal(files.profile("missing").exists, false);
    assert.equal(files.configSection("sso-session", "corp")?.keys.sso_region, "us-east-1");
    assert.equal(files.configSection("services", "other"), undefined);
    assert.deepEqual(
      files.shared().config.map((s) => `${s.kind} ${s.name}`),
      ["profile admin", "profile dev", "sso-session corp", "services local"],
    );
  });
});

Deno.test("readProfileFiles() parses only what a look-up needs, as strictly as the whole file", async () => {
  // Errors in sections no look-up reads do not stop one (the whole-file parse refuses the file).
  const elsewhere = "[profile other]\nnot a property\n[profile other]\n[profile a]\nregion = r\n";
  await withFiles(elsewhere, "[b]\nx\n[a]\nregion = c\n", async (env, paths) => {
    assert.deepEqual(readProfileFiles(env).profile("a").keys, { region: "c" });
    await assert.rejects(() => loadProfile(env, "a"), syntaxAt(paths.config, 2));
    assert.throws(() => readProfileFiles(env).profile("other"), syntaxAt(paths.config, 2));
  });
  // What is read is checked with the strict parser's errors, file and line.
  const cases: [string, number, RegExp][] = [
    ["[profile o]\n[profile a]\nregion = x\nregion = y\n", 4, /already set on line 3/],
    ["[profile o]\n[profile a]\nregion = x\n  more\n", 4, /continues the value/],
    ["[profile a]\nx = 1\n[profile o]\n[profile 'a']\n", 4, /already defined on line 1/],
    ["[default]\n[profile default]\n", 2, /already defined on line 1/],
    ["# c\nregion = x\n[profile a]\n", 2, /before any section header/],
    ["[profile a]\n[DEFAULT]\nregion = x\n", 2, /\[DEFAULT\] is special/],
    ["[profile o]\n[profile a] x]\n", 2, /cannot contain/],
    ["[profile o]\n[profile a\nregion = x\n", 2, /missing its closing/],
    ["[profile a]\nservices = s\n[services s]\nsts = x\n  y = 1\n", 5, /continues the value/],
    ["[profile a]\nservices = s\n[services s]\n[services s]\n", 4, /already defined/],
  ];
  for (const [config, line, reason] of cases) {
    const name = config.includes("default]") ? "default" : "a";
    await withFiles(config, "", async (env, paths) => {
      assert.throws(
        () => readProfileFiles(env).profile(name),
        syntaxAt(paths.config, line, reason),
      );
      // The whole-file parse agrees.
      await assert.rejects(() => loadProfile(env, name), syntaxAt(paths.config, line, reason));
    });
  }
  // A file that is not UTF-8, or not readable, is refused as a whole.
  await withFiles(new Uint8Array([0x5b, 0x61, 0x5d, 0x0a, 0xff]), "", (env, paths) => {
    assert.throws(
      () => readProfileFiles(env),
      (err) =>
        err instanceof ConfigError && err.message.includes(`"${paths.config}": it is not UTF-8`),
    );
  });
  await withFiles("", "", async (env, paths) => {
    await Deno.remove(paths.config);
    await Deno.mkdir(paths.config);
    assert.throws(
      () => readProfileFiles(env),
      (err) => err instanceof ConfigError && err.code === "ERR_CONFIG_IO",
    );
  });
});

Deno.test("FileSections.find() ignores names that are parts of other names", () => {
  const text = "[profile dev]\nx = 1\n[profile a.b]\ny = 2\n[profile team/ops]\n";
  const sections = new FileSections(text, "config", "config");
  assert.equal(sections.find("profile", "de"), undefined);
  assert.equal(sections.find("profile", "ev"), undefined);
  assert.equal(sections.find("profile", "a"), undefined);
  assert.equal(sections.find("profile", "a.b")?.keys.y, "2");
  assert.equal(sections.find("profile", "aab"), undefined, "a dot is not a wildcard");
  assert.equal(sections.find("profile", "team/ops")?.line, 5);
});
