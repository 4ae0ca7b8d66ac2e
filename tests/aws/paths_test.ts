import assert from "node:assert/strict";
import {
  configFilePath,
  credentialsFilePath,
  expandHome,
  expandVars,
  homeDir,
  loginCacheDir,
} from "../../lib/aws/paths.ts";
import { accountIdOf, parseArn } from "../../lib/aws/arn.ts";
import { ConfigError } from "../../lib/errors.ts";

const env = (vars: Record<string, string>) => ({ get: (name: string) => vars[name] });
const posix = Deno.build.os !== "windows";

Deno.test({
  name: "paths default to ~/.aws under HOME, then USERPROFILE",
  ignore: !posix,
  fn() {
    assert.equal(configFilePath(env({ HOME: "/h" })), "/h/.aws/config");
    assert.equal(credentialsFilePath(env({ HOME: "/h" })), "/h/.aws/credentials");
    assert.equal(loginCacheDir(env({ HOME: "/h" })), "/h/.aws/login/cache");
    assert.equal(homeDir(env({ USERPROFILE: "/u" })), "/u");
  },
});

Deno.test({
  name:
    "AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE and AWS_LOGIN_CACHE_DIRECTORY win, with ~ expanded",
  ignore: !posix,
  fn() {
    const e = env({
      HOME: "/h",
      AWS_CONFIG_FILE: "~/cfg",
      AWS_SHARED_CREDENTIALS_FILE: "/abs/creds",
      AWS_LOGIN_CACHE_DIRECTORY: "~/cache",
    });
    assert.equal(configFilePath(e), "/h/cfg");
    assert.equal(credentialsFilePath(e), "/abs/creds");
    assert.equal(loginCacheDir(e), "/h/cache");
    assert.equal(expandHome("~", e), "/h");
    assert.equal(expandHome("a/~b", e), "a/~b");
  },
});

// Expected values are Python's own: posixpath/ntpath.expandvars, then expanduser (3.11).
Deno.test("expandVars() expands $NAME and ${NAME} as posixpath.expandvars, unknown ones kept", () => {
  const e = env({ HOME: "/h", V: "val", E: "", "A-B": "dash" });
  const cases: [string, string][] = [
    ["$HOME/lc", "/h/lc"],
    ["${HOME}/lc", "/h/lc"],
    ["$NOPE/x", "$NOPE/x"],
    ["${NOPE}/x", "${NOPE}/x"],
    ["${}/x", "${}/x"],
    ["$/x", "$/x"],
    ["a$Vb", "a$Vb"],
    ["${V}b", "valb"],
    ["$E/x", "/x"],
    ["$$V", "$val"],
    ["%V%", "%V%"],
    ["$A-B", "$A-B"],
  ];
  for (const [input, expected] of cases) assert.equal(expandVars(input, e, false), expected, input);
});

Deno.test("expandVars() on Windows also takes %NAME%, $$, %% and single quotes, as ntpath", () => {
  const e = env({ V: "val", "A-B": "dash" });
  const cases: [string, string][] = [
    ["%V%\\x", "val\\x"],
    ["%NOPE%\\x", "%NOPE%\\x"],
    ["$V\\x", "val\\x"],
    ["${V}", "val"],
    ["'$V'\\$V", "'$V'\\val"],
    ["$$V", "$V"],
    ["%%V%%", "%V%"],
    ["$A-B", "dash"],
    ["%V", "%V"],
    ["${V", "${V"],
    ["$", "$"],
  ];
  for (const [input, expected] of cases) assert.equal(expandVars(input, e, true), expected, input);
});

Deno.test({
  name: "AWS_* path variables expand environment variables first, then ~ (as the AWS CLI)",
  ignore: !posix,
  fn() {
    const e = env({
      HOME: "/h",
      SUB: "~/deep",
      AWS_CONFIG_FILE: "$HOME/cfg",
      AWS_SHARED_CREDENTIALS_FILE: "${HOME}/creds",
      AWS_LOGIN_CACHE_DIRECTORY: "$SUB/lc",
    });
    assert.equal(configFilePath(e), "/h/cfg");
    assert.equal(credentialsFilePath(e), "/h/creds");
    // The variable's own "~" is expanded too, since ~ comes after the variables.
    assert.equal(loginCacheDir(e), "/h/deep/lc");
    assert.equal(
      loginCacheDir(env({ HOME: "/h", AWS_LOGIN_CACHE_DIRECTORY: "$NOPE/lc" })),
      "$NOPE/lc",
    );
  },
});

Deno.test("homeDir() without HOME or USERPROFILE is a ConfigError", () => {
  assert.throws(() => homeDir(env({})), ConfigError);
});

Deno.test("parseArn() and accountIdOf() read login session ARNs", () => {
  assert.deepEqual(parseArn("arn:aws:sts::012345678910:assumed-role/Admin/admin"), {
    partition: "aws",
    service: "sts",
    region: "",
    accountId: "012345678910",
    resource: "assumed-role/Admin/admin",
  });
  assert.equal(accountIdOf("arn:aws:iam::123456789012:user/Alice"), "123456789012");
  assert.equal(parseArn("arn:aws:iam::1:a:b:c")?.resource, "a:b:c");
  assert.equal(parseArn("not-an-arn"), undefined);
  assert.equal(parseArn("arn:aws:iam::123"), undefined);
  assert.equal(accountIdOf("arn:aws:iam::12345:user/x"), undefined);
});
