import assert from "node:assert/strict";
import { readProfile, scanText } from "../../lib/aws/profile_reader.ts";
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

Deno.test("scanText() reads a plain config file: the profile's keys and the services sections", () => {
  const scan = scanText(PLAIN_CONFIG, "config", "dev");
  assert.deepEqual(scan?.profile, {
    login_session: "arn:aws:iam::123456789012:user/Alice",
    region: "eu-west-1",
  });
  assert.deepEqual([...scan!.services.keys()], ["local"]);
  assert.deepEqual(scan!.services.get("local")?.keys, { endpoint_url: "http://127.0.0.1:4566" });
  assert.equal(scanText(PLAIN_CONFIG, "config", "missing")?.profile, undefined);
  assert.deepEqual(scanText("[dev]\naws_region = x\n", "credentials", "dev")?.profile, {
    aws_region: "x",
  });
});

Deno.test("scanText() leaves every shape but the plain one to the strict parser", () => {
  const cases: Record<string, [string, "config" | "credentials"]> = {
    "sub-properties": ["[services s]\nsignin =\n  endpoint_url = http://h\n", "config"],
    "an indented key": ["[profile dev]\n region = x\n", "config"],
    "an inline comment": ["[profile dev]\nregion = x # note\n", "config"],
    "a value with ;": ["[profile dev]\nregion = a;b\n", "config"],
    "a quoted profile name": ['[profile "dev"]\nregion = x\n', "config"],
    "another section": ["[plugins]\nx = y\n", "config"],
    "a duplicate section": ["[profile dev]\n[profile dev]\n", "config"],
    "default twice": ["[default]\n[profile default]\n", "config"],
    "a duplicate key, other case": ["[profile dev]\nregion = a\nRegion = b\n", "config"],
    "a key before any section": ["region = x\n[profile dev]\n", "config"],
    "a key with a colon": ["[profile dev]\na:b = c\n", "config"],
    "a line without =": ["[profile dev]\nregion\n", "config"],
    "an unclosed header": ["[profile dev\nregion = x\n", "config"],
    "[DEFAULT]": ["[DEFAULT]\nregion = x\n", "credentials"],
    "a credentials name with a space": ["[my dev]\nx = y\n", "credentials"],
    "a BOM": ["\uFEFF[profile dev]\n", "config"],
    "bytes that were not UTF-8": ["[profile dev]\nregion = \uFFFD\n", "config"],
    "__proto__": ["[profile dev]\n__proto__ = x\n", "config"],
  };
  for (const [name, [text, kind]] of Object.entries(cases)) {
    assert.equal(scanText(text, kind, "dev"), undefined, name);
  }
});

Deno.test("readProfile() gives loadProfile()'s answers and errors, plain file or not", async () => {
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
