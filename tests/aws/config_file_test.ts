import assert from "node:assert/strict";
import { parseConfigText, readConfigFile } from "../../lib/aws/config_syntax.ts";
import { setProfileKeys, setProfileKeysInText } from "../../lib/aws/config_file.ts";
import { ConfigError } from "../../lib/errors.ts";
import { joinPath } from "../../lib/files.ts";
import { giveAway } from "../helpers/foreign_owner.ts";
import { canMakeReadOnly, withReadOnlyDir } from "../helpers/fs_faults.ts";

/** A config file as people keep them: comments, quoted names, sso-session, services, CLI sections. */
const CONFIG = `# ~/.aws/config
; managed by hand

[default]
region = us-east-1 # where we work
output = json

[profile "quoted"]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = ReadOnly
  # an indented comment

[profile dev]
role_arn = arn:aws:iam::111122223333:role/Dev
source_profile = default
s3 =
  addressing_style = path
  max_concurrent_requests = 20 ; inline

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[services local]
signin =
  endpoint_url = http://127.0.0.1:4566/pfx/
sts =
  endpoint_url = http://127.0.0.1:9999

[plugins]
cli_legacy_plugin_path = /opt/plugins
`;

const CREDENTIALS = `[default]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

# the same key names as config, no "profile" word
[dev]
aws_session_token=IQoJb3JpZ2luX2VjEXAMPLE
`;

function assertSyntaxError(
  text: string,
  kind: "config" | "credentials",
  line: number,
  part: string,
) {
  assert.throws(
    () => parseConfigText(text, "/home/me/.aws/config", kind),
    (err) => {
      assert.ok(err instanceof ConfigError, `not a ConfigError: ${err}`);
      assert.equal(err.code, "ERR_CONFIG_SYNTAX");
      assert.ok(
        err.message.startsWith(`Cannot parse "/home/me/.aws/config", line ${line}: `),
        err.message,
      );
      assert.ok(err.message.includes(part), `${err.message} lacks ${part}`);
      return true;
    },
  );
}

Deno.test("parseConfigText() reads a real config file: kinds, names, keys, sub-properties, lines", () => {
  const sections = parseConfigText(CONFIG, "config", "config");
  assert.deepEqual(sections.map((s) => [s.kind, s.name, s.line]), [
    ["profile", "default", 4],
    ["profile", "quoted", 8],
    ["profile", "dev", 14],
    ["sso-session", "corp", 21],
    ["services", "local", 26],
    ["other", "plugins", 32],
  ]);
  assert.deepEqual(sections[0]!.keys, { region: "us-east-1", output: "json" });
  assert.deepEqual(sections[2]!.keys, {
    role_arn: "arn:aws:iam::111122223333:role/Dev",
    source_profile: "default",
    s3: "",
  });
  assert.deepEqual(sections[2]!.subKeys, {
    s3: { addressing_style: "path", max_concurrent_requests: "20" },
  });
  assert.deepEqual(sections[4]!.subKeys, {
    signin: { endpoint_url: "http://127.0.0.1:4566/pfx/" },
    sts: { endpoint_url: "http://127.0.0.1:9999" },
  });
});

Deno.test("parseConfigText() reads a credentials file: every [NAME] is a profile", () => {
  const sections = parseConfigText(CREDENTIALS, "credentials", "credentials");
  assert.deepEqual(sections.map((s) => [s.kind, s.name, s.keys]), [
    ["credentials", "default", {
      aws_access_key_id: "AKIAIOSFODNN7EXAMPLE",
      aws_secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    }],
    ["credentials", "dev", { aws_session_token: "IQoJb3JpZ2luX2VjEXAMPLE" }],
  ]);
});

Deno.test("parseConfigText() with CRLF endings, a BOM, quotes and inline comments", () => {
  const text = "\uFEFF[profile 'a']\r\nregion = eu-west-1 ;c\r\nurl = http://x/#frag\r\n" +
    "[profile b] # header comment\r\n\tregion=ap-south-1\r\n";
  const sections = parseConfigText(text, "config", "config");
  assert.deepEqual(sections.map((s) => [s.name, s.keys]), [
    ["a", { region: "eu-west-1", url: "http://x/#frag" }],
    ["b", { region: "ap-south-1" }],
  ]);
});

Deno.test("parseConfigText() keeps keys case-sensitive", () => {
  const [s] = parseConfigText("[default]\nRegion = a\n", "config", "config");
  assert.deepEqual(s!.keys, { Region: "a" });
});

Deno.test("parseConfigText() accepts what the AWS CLI accepts, keeping non-profiles apart", () => {
  // Headers no JS SDK reads as a profile must not stop the rest of the file from being used.
  const text = '[profile]\nregion = a\n[profile "my name"]\nregion = b\n[profile a,b]\n' +
    "[ default ]\nregion = c\n[profile  x]\n[services]\n[preview]\ncloudfront = true\n" +
    "[plugins]\ncli_legacy_plugin_path = /opt/p\nmyplugin = my.module\n" +
    "[default]\n  # an indented comment\nRegion\t=\teu-west-1\nfoo bar=x=y\nnested =\n" +
    "\t\tk = v\n";
  const sections = parseConfigText(text, "config", "config");
  assert.deepEqual(sections.map((s) => [s.kind, s.name]), [
    ["other", "profile"],
    ["other", 'profile "my name"'],
    ["other", "profile a,b"],
    ["other", " default "],
    ["other", "profile  x"],
    ["other", "services"],
    ["other", "preview"],
    ["other", "plugins"],
    ["profile", "default"],
  ]);
  assert.deepEqual(sections.at(-1)!.keys, { Region: "eu-west-1", "foo bar": "x=y", nested: "" });
  assert.deepEqual(sections.at(-1)!.subKeys, { nested: { k: "v" } });
  const credentials = parseConfigText(
    "[profile x]\nk = 1\n[my name]\nk = 2\n[x]\nk = 3\n",
    "credentials",
    "credentials",
  );
  assert.deepEqual(credentials.map((s) => [s.kind, s.name]), [
    ["other", "profile x"],
    ["other", "my name"],
    ["credentials", "x"],
  ]);
});

Deno.test("parseConfigText() rejects malformed or ambiguous lines, naming file and line", () => {
  const cases: [string, number, string][] = [
    ["region = us-east-1\n[default]\n", 1, `"region" comes before any section header`],
    ["# c\n[profile x\nregion = a\n", 2, `missing its closing "]"`],
    ["[default] junk\n", 1, `unexpected text after "]"`],
    ["[default]\njust some words\n", 2, `expected a [section] header, "name = value"`],
    ["[default]\nregion: us-east-1\n", 2, "expected a [section] header"],
    ["[default]\na:b = c\n", 2, `"a:b" is not a valid key`],
    ["[default]\n = c\n", 2, "no name"],
    ["[default]\nregion = a\n  more\n", 3, `continues the value of "region"`],
    ["[services s]\nsignin =\n  endpoint_url\n", 3, `a sub-property of "signin"`],
    ["[services s]\nsignin =\n  endpoint_url =\n", 3, "has no value"],
    ["[services s]\n  signin =\n  endpoint_url = x\n", 3, `more than "signin" (line 2)`],
    ["[profile a]\nx = 1\n[profile a]\n", 3, `Profile "a" is already defined on line 1`],
    ["[default]\n[profile default]\n", 2, "already defined on line 1"],
    ['[profile a]\n[profile "a"]\n', 2, "already defined on line 1"],
    ["[sso-session a]\n[sso-session a]\n", 2, `The sso-session "a" is already defined`],
    ["[default]\nregion = a\nREGION = b\n", 3, "already set on line 2"],
    ["[s]\nsignin =\n  u = 1\n  u = 2\n", 4, `"u" is already set under "signin"`],
    ["[DEFAULT]\n", 1, "[DEFAULT] is special"],
    ["[]\n", 1, "has no name"],
    ["[profiles a]\n", 1, "Write it as [profile NAME]"],
    ["[profile]\n[profile]\n", 2, "Section [profile] is already defined on line 1"],
    ["[sso-sessionx a]\n", 1, "Write it as [sso-session NAME]"],
    ["[profile __proto__]\n", 1, `"__proto__" is not allowed`],
    ["[default]\n__proto__ = x\n", 2, `"__proto__" is not allowed`],
    ["[a]b]\n", 1, `cannot contain "[" or "]"`],
  ];
  for (const [text, line, part] of cases) assertSyntaxError(text, "config", line, part);
  assertSyntaxError("[a]\nk = 1\n[a]\n", "credentials", 3, `Profile "a" is already defined`);
});

Deno.test("setProfileKeysInText() replaces an existing value in place and keeps every other byte", () => {
  const out = setProfileKeysInText(CONFIG, "default", { region: "eu-west-2" }, "config");
  assert.equal(out, CONFIG.replace("region = us-east-1 # where we work", "region = eu-west-2"));
  const tight = "[profile a]\nregion=us-east-1\nx = 1\n";
  assert.equal(
    setProfileKeysInText(tight, "a", { region: "eu-west-1" }, "config"),
    "[profile a]\nregion=eu-west-1\nx = 1\n",
  );
  const empty = "[profile a]\nlogin_session =\n";
  assert.equal(
    setProfileKeysInText(empty, "a", { login_session: "arn:aws:iam::1:user/A" }, "config"),
    "[profile a]\nlogin_session = arn:aws:iam::1:user/A\n",
  );
});

Deno.test("setProfileKeysInText() adds a new key after the section's last key, before its trailing comments", () => {
  const out = setProfileKeysInText(
    CONFIG,
    "quoted",
    { login_session: "arn:aws:iam::111122223333:user/Q" },
    "config",
  );
  assert.equal(
    out,
    CONFIG.replace(
      "sso_role_name = ReadOnly\n",
      "sso_role_name = ReadOnly\nlogin_session = arn:aws:iam::111122223333:user/Q\n",
    ),
  );
  // After the last sub-property of the last key, not between a key and its sub-properties.
  const dev = setProfileKeysInText(CONFIG, "dev", { region: "us-west-2" }, "config");
  assert.equal(
    dev,
    CONFIG.replace(
      "max_concurrent_requests = 20 ; inline\n",
      "max_concurrent_requests = 20 ; inline\nregion = us-west-2\n",
    ),
  );
  // An empty section: right after its header.
  assert.equal(
    setProfileKeysInText("[profile a]\n\n# end\n", "a", { k: "v" }, "config"),
    "[profile a]\nk = v\n\n# end\n",
  );
});

Deno.test("setProfileKeysInText() adds a key to a last section that has no trailing newline", () => {
  assert.equal(
    setProfileKeysInText("[default]\nregion = us-east-1\n\n[profile a]\nx = 1", "a", {
      login_session: "arn:aws:iam::1:user/A",
    }, "config"),
    "[default]\nregion = us-east-1\n\n[profile a]\nx = 1\nlogin_session = arn:aws:iam::1:user/A\n",
  );
  // The file's own line ending; a header-only section.
  assert.equal(
    setProfileKeysInText("[default]\r\nregion = a", "default", { k: "v" }, "config"),
    "[default]\r\nregion = a\r\nk = v\r\n",
  );
  assert.equal(setProfileKeysInText("[b]", "b", { k: "v" }, "credentials"), "[b]\nk = v\n");
});

Deno.test("setProfileKeysInText() appends a missing section after one blank line", () => {
  const entries = { login_session: "arn:aws:iam::1:user/N", region: "eu-north-1" };
  assert.equal(
    setProfileKeysInText(CONFIG, "new", entries, "config"),
    CONFIG +
      "\n[profile new]\nlogin_session = arn:aws:iam::1:user/N\nregion = eu-north-1\n",
  );
  assert.equal(
    setProfileKeysInText("[profile a]\nx = 1", "default", { k: "v" }, "config"),
    "[profile a]\nx = 1\n\n[default]\nk = v\n",
  );
  assert.equal(
    setProfileKeysInText("[profile a]\nx = 1\n\n\n", "b", { k: "v" }, "config"),
    "[profile a]\nx = 1\n\n\n[profile b]\nk = v\n",
  );
  assert.equal(setProfileKeysInText("", "b", { k: "v" }, "config"), "[profile b]\nk = v\n");
  assert.equal(
    setProfileKeysInText(CREDENTIALS, "prod", { aws_access_key_id: "AKIA2" }, "credentials"),
    CREDENTIALS + "\n[prod]\naws_access_key_id = AKIA2\n",
  );
});

Deno.test('setProfileKeysInText() matches [profile "NAME"] and the credentials file\'s [NAME]', () => {
  const text = '[profile "q"]\nregion = a\n';
  assert.equal(
    setProfileKeysInText(text, "q", { region: "b" }, "config"),
    '[profile "q"]\nregion = b\n',
  );
  assert.equal(
    setProfileKeysInText(CREDENTIALS, "dev", { aws_session_token: "NEW" }, "credentials"),
    CREDENTIALS.replace("aws_session_token=IQoJb3JpZ2luX2VjEXAMPLE", "aws_session_token=NEW"),
  );
});

Deno.test("setProfileKeysInText() keeps CRLF endings and uses them for new lines", () => {
  const text = "[default]\r\nregion = a\r\n\r\n[profile b]\r\nx = 1\r\n";
  assert.equal(
    setProfileKeysInText(text, "default", { region: "b", login_session: "s" }, "config"),
    "[default]\r\nregion = b\r\nlogin_session = s\r\n\r\n[profile b]\r\nx = 1\r\n",
  );
  assert.equal(
    setProfileKeysInText(text, "c", { k: "v" }, "config"),
    text + "\r\n[profile c]\r\nk = v\r\n",
  );
});

Deno.test("setProfileKeysInText() refuses values that would not read back the same", () => {
  for (const value of ["a\nb", "a\rb", "", " a", "a #b", "a ;b", "#a"]) {
    assert.throws(() => setProfileKeysInText("", "a", { k: value }, "config"), TypeError);
  }
  assert.throws(() => setProfileKeysInText("", "a", { "a b": "v" }, "config"), TypeError);
  assert.throws(
    () => setProfileKeysInText("", "my profile", { k: "v" }, "config"),
    (err) => err instanceof ConfigError && err.code === "ERR_CONFIG_PROFILE",
  );
});

Deno.test("setProfileKeysInText() refuses to edit a file it cannot parse, and keys it cannot set", () => {
  assert.throws(
    () => setProfileKeysInText("k = v\n", "a", { k: "v" }, "config", { path: "/x/config" }),
    (err) =>
      err instanceof ConfigError && err.code === "ERR_CONFIG_SYNTAX" &&
      err.message.startsWith('Cannot parse "/x/config", line 1:'),
  );
  assert.throws(
    () => setProfileKeysInText(CONFIG, "dev", { s3: "x" }, "config"),
    /line 17: "s3" holds sub-properties/,
  );
  assert.throws(
    () => setProfileKeysInText("[default]\nRegion = a\n", "default", { region: "b" }, "config"),
    /line 2: "Region" would clash with "region"/,
  );
});

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "aws-login-config-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("setProfileKeys() creates a missing file 0600 in a new 0700 directory", async () => {
  await withTempDir(async (dir) => {
    const path = joinPath(dir, ".aws", "config");
    await setProfileKeys(path, "default", { login_session: "arn:aws:iam::1:user/A" });
    assert.equal(
      await Deno.readTextFile(path),
      "[default]\nlogin_session = arn:aws:iam::1:user/A\n",
    );
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(joinPath(dir, ".aws"))).mode! & 0o777, 0o700);
    }
    await setProfileKeys(joinPath(dir, ".aws", "credentials"), "x", { k: "v" }, "credentials");
    assert.equal(await Deno.readTextFile(joinPath(dir, ".aws", "credentials")), "[x]\nk = v\n");
  });
});

Deno.test("setProfileKeys() updates in place, keeping a BOM and other bytes", async () => {
  await withTempDir(async (dir) => {
    const path = joinPath(dir, "config");
    await Deno.writeFile(path, new TextEncoder().encode("\uFEFF" + CONFIG));
    await setProfileKeys(path, "default", { region: "eu-west-2" });
    const bytes = await Deno.readFile(path);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    assert.equal(
      await readConfigFile(path),
      "\uFEFF" + CONFIG.replace("region = us-east-1 # where we work", "region = eu-west-2"),
    );
  });
});

Deno.test("setProfileKeys() reports a syntax error with the file and line and leaves the file alone", async () => {
  await withTempDir(async (dir) => {
    const path = joinPath(dir, "config");
    await Deno.writeTextFile(path, "[default]\nregion = a\n[profile x\n");
    await assert.rejects(
      () => setProfileKeys(path, "default", { region: "b" }),
      (err) =>
        err instanceof ConfigError && err.code === "ERR_CONFIG_SYNTAX" &&
        err.message.startsWith(`Cannot parse "${path}", line 3:`),
    );
    assert.equal(await Deno.readTextFile(path), "[default]\nregion = a\n[profile x\n");
  });
});

Deno.test("setProfileKeys() refuses a file that is not UTF-8", async () => {
  await withTempDir(async (dir) => {
    const path = joinPath(dir, "config");
    await Deno.writeFile(path, new Uint8Array([0x5b, 0x61, 0x5d, 0x0a, 0xff, 0x0a]));
    await assert.rejects(
      () => setProfileKeys(path, "a", { k: "v" }),
      (err) =>
        err instanceof ConfigError && err.code === "ERR_CONFIG_SYNTAX" &&
        err.message.includes("not UTF-8"),
    );
  });
});

Deno.test("setProfileKeys() turns an unreadable path into ERR_CONFIG_IO naming the file", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      () => setProfileKeys(dir, "a", { k: "v" }),
      (err) =>
        err instanceof ConfigError && err.code === "ERR_CONFIG_IO" &&
        err.message.startsWith(`Cannot read "${dir}": `),
    );
  });
});

Deno.test(
  "setProfileKeys() leaves the old file intact when the directory is read-only",
  { ignore: !canMakeReadOnly },
  async () => {
    await withTempDir(async (dir) => {
      const aws = joinPath(dir, "aws");
      await Deno.mkdir(aws);
      const path = joinPath(aws, "config");
      await withReadOnlyDir(aws, () => Deno.writeTextFile(path, CONFIG), async () => {
        await assert.rejects(
          () => setProfileKeys(path, "default", { login_session: "arn:aws:iam::1:user/A" }),
          (err) =>
            err instanceof ConfigError && err.code === "ERR_CONFIG_IO" &&
            err.message.startsWith(`Cannot write "${path}": `) &&
            err.message.endsWith("The file was left unchanged"),
        );
        assert.equal(await Deno.readTextFile(path), CONFIG);
        assert.deepEqual([...Deno.readDirSync(aws)].map((e) => e.name), ["config"]);
      });
    });
  },
);

Deno.test(
  "setProfileKeys() refuses a symlink another user could have planted",
  { ignore: Deno.build.os === "windows" },
  async () => {
    await withTempDir(async (dir) => {
      const target = joinPath(dir, "real");
      await Deno.writeTextFile(target, CONFIG);
      const linkDir = joinPath(dir, "shared");
      await Deno.mkdir(linkDir);
      const link = joinPath(linkDir, "config");
      await Deno.symlink(target, link);
      using _theirs = giveAway(linkDir);
      await assert.rejects(
        () => setProfileKeys(link, "default", { region: "b" }),
        (err) =>
          err instanceof ConfigError && err.code === "ERR_CONFIG_IO" &&
          err.message.startsWith(`Refusing to write "${link}": it is a symlink`),
      );
      assert.equal(await Deno.readTextFile(target), CONFIG);
    });
  },
);
