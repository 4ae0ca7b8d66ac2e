import assert from "node:assert/strict";
import {
  credentialProcessJson,
  type ExportableCredentials,
  formatCredentials,
  formatVariables,
  pythonIsoformat,
  quotePosix,
} from "../../lib/session/export_formats.ts";
import { UsageError } from "../../lib/errors.ts";
import { outputBounded } from "../helpers/bounded.ts";

/** `sh` evaluates the output: POSIX only. */
const posix = { test: Deno.build.os === "windows" ? Deno.test.ignore : Deno.test };

const CREDS: ExportableCredentials = {
  accessKeyId: "ASIAEXAMPLEKEY123456",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  sessionToken: "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==",
  expiresAtMs: Date.UTC(2025, 10, 19, 0, 15, 0),
  accountId: "123456789012",
};

const VALUES = [
  ["AWS_ACCESS_KEY_ID", "ASIAEXAMPLEKEY123456"],
  ["AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"],
  ["AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ=="],
  ["AWS_CREDENTIAL_EXPIRATION", "2025-11-19T00:15:00+00:00"],
  ["AWS_ACCOUNT_ID", "123456789012"],
];

function golden(line: (name: string, value: string) => string): string {
  return VALUES.map(([name, value]) => line(name!, value!) + "\n").join("");
}

Deno.test("pythonIsoformat() prints the AWS CLI's AWS_CREDENTIAL_EXPIRATION form", () => {
  assert.equal(pythonIsoformat(Date.UTC(2025, 10, 19, 0, 15, 0)), "2025-11-19T00:15:00+00:00");
  assert.equal(
    pythonIsoformat(Date.UTC(2025, 10, 19, 0, 15, 0, 120)),
    "2025-11-19T00:15:00.120000+00:00",
  );
});

Deno.test("formatCredentials() env prints export lines in the CLI's order", () => {
  assert.equal(formatCredentials(CREDS, "env"), golden((n, v) => `export ${n}=${v}`));
});

Deno.test("formatCredentials() env-no-export prints NAME=value lines", () => {
  assert.equal(formatCredentials(CREDS, "env-no-export"), golden((n, v) => `${n}=${v}`));
});

Deno.test("formatCredentials() powershell prints $Env assignments", () => {
  assert.equal(formatCredentials(CREDS, "powershell"), golden((n, v) => `$Env:${n}="${v}"`));
});

Deno.test("formatCredentials() windows-cmd prints set lines", () => {
  assert.equal(formatCredentials(CREDS, "windows-cmd"), golden((n, v) => `set ${n}=${v}`));
});

Deno.test("formatCredentials() fish prints set -gx lines", () => {
  assert.equal(formatCredentials(CREDS, "fish"), golden((n, v) => `set -gx ${n} "${v}"`));
});

Deno.test("formatCredentials() process prints credential_process JSON with AccountId", () => {
  const expected = `{
  "Version": 1,
  "AccessKeyId": "ASIAEXAMPLEKEY123456",
  "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  "SessionToken": "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==",
  "Expiration": "2025-11-19T00:15:00+00:00",
  "AccountId": "123456789012"
}
`;
  assert.equal(formatCredentials(CREDS, "process"), expected);
  assert.equal(formatCredentials(CREDS, "json"), expected);
});

Deno.test("formatCredentials() leaves out variables without a value", () => {
  const bare = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" };
  assert.equal(
    formatCredentials(bare, "env"),
    "export AWS_ACCESS_KEY_ID=AKIDEXAMPLE\nexport AWS_SECRET_ACCESS_KEY=secret\n",
  );
  assert.equal(
    credentialProcessJson(bare),
    '{\n  "Version": 1,\n  "AccessKeyId": "AKIDEXAMPLE",\n  "SecretAccessKey": "secret"\n}\n',
  );
});

const HOSTILE = `a'b"c$(touch pwned)\`d\\e;f&g|h<i>j^k%l!m\nn “o” `;

async function shellValue(shell: string, args: string[], script: string): Promise<string> {
  const out = await outputBounded(shell, { args: [...args, script], stderr: "inherit" });
  assert.equal(out.code, 0);
  return out.stdout;
}

posix.test("quotePosix() round-trips a hostile value through sh without running it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `cd '${dir}'\n${
      formatCredentials({ accessKeyId: HOSTILE, secretAccessKey: "x" }, "env")
    }printf %s "$AWS_ACCESS_KEY_ID"`;
    assert.equal(await shellValue("sh", ["-c"], script), HOSTILE);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("quotePosix() quotes the empty string and leaves safe values bare", () => {
  assert.equal(quotePosix(""), "''");
  assert.equal(quotePosix("a+b/c=d"), "a+b/c=d");
  assert.equal(quotePosix("it's"), `'it'\\''s'`);
});

Deno.test("formatCredentials() powershell escapes backtick, dollar and double quotes", () => {
  const out = formatCredentials({ accessKeyId: 'a`b$c"d“e”', secretAccessKey: "x" }, "powershell");
  assert.equal(out.split("\n")[0], '$Env:AWS_ACCESS_KEY_ID="a``b`$c`"d`“e`”"');
});

Deno.test("formatCredentials() fish escapes backslash, dollar and double quotes", () => {
  const out = formatCredentials({ accessKeyId: 'a\\b$c"d', secretAccessKey: "x" }, "fish");
  assert.equal(out.split("\n")[0], 'set -gx AWS_ACCESS_KEY_ID "a\\\\b\\$c\\"d"');
});

Deno.test('formatCredentials() windows-cmd quotes & | < > ^ and refuses % ! " and newlines', () => {
  const out = formatCredentials(
    { accessKeyId: "a&b|c<d>e^f g", secretAccessKey: "x" },
    "windows-cmd",
  );
  assert.equal(out.split("\n")[0], 'set "AWS_ACCESS_KEY_ID=a&b|c<d>e^f g"');
  for (const bad of ["50%", "hi!", 'a"b', "a\nb"]) {
    assert.throws(
      () => formatCredentials({ accessKeyId: "AKID", secretAccessKey: bad }, "windows-cmd"),
      (err) =>
        err instanceof UsageError &&
        err.message.startsWith("Cannot write AWS_SECRET_ACCESS_KEY for windows-cmd: its value"),
    );
  }
});

Deno.test("formatCredentials() env-no-export refuses CR, LF and NUL, which an env file would split", () => {
  for (const bad of ["a\nAWS_PROFILE=evil", "a\rb", "a\0b"]) {
    assert.throws(
      () =>
        formatCredentials(
          { accessKeyId: "AKID", sessionToken: bad, secretAccessKey: "s" },
          "env-no-export",
        ),
      (err) =>
        err instanceof UsageError &&
        err.message.startsWith("Cannot write AWS_SESSION_TOKEN for env-no-export: its value") &&
        !err.message.includes("evil"),
    );
  }
  // The shells quote a line break; only the env file cannot.
  assert.equal(
    formatCredentials({ accessKeyId: "AKID", secretAccessKey: "a\nb" }, "env"),
    "export AWS_ACCESS_KEY_ID=AKID\nexport AWS_SECRET_ACCESS_KEY='a\nb'\n",
  );
});

Deno.test("formatVariables() writes the credential endpoint's variables in every shell format", () => {
  const vars: [string, string][] = [
    ["AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:8123/AbC-d_e"],
    ["AWS_CONTAINER_AUTHORIZATION_TOKEN", "tok-EN_1"],
  ];
  assert.equal(
    formatVariables(vars, "env"),
    "export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:8123/AbC-d_e\n" +
      "export AWS_CONTAINER_AUTHORIZATION_TOKEN=tok-EN_1\n",
  );
  assert.equal(
    formatVariables(vars, "env-no-export"),
    "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:8123/AbC-d_e\n" +
      "AWS_CONTAINER_AUTHORIZATION_TOKEN=tok-EN_1\n",
  );
  assert.equal(
    formatVariables(vars, "powershell"),
    '$Env:AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:8123/AbC-d_e"\n' +
      '$Env:AWS_CONTAINER_AUTHORIZATION_TOKEN="tok-EN_1"\n',
  );
  assert.equal(
    formatVariables(vars, "fish"),
    'set -gx AWS_CONTAINER_CREDENTIALS_FULL_URI "http://127.0.0.1:8123/AbC-d_e"\n' +
      'set -gx AWS_CONTAINER_AUTHORIZATION_TOKEN "tok-EN_1"\n',
  );
  assert.equal(
    formatVariables(vars, "windows-cmd"),
    "set AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:8123/AbC-d_e\n" +
      "set AWS_CONTAINER_AUTHORIZATION_TOKEN=tok-EN_1\n",
  );
});
