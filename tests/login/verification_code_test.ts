import assert from "node:assert/strict";
import { LoginError } from "../../lib/errors.ts";
import {
  checkState,
  decodeVerificationCode,
  displayText,
} from "../../lib/login/verification_code.ts";

const VECTOR = "c3RhdGU9MGI4YTViMWUtMmY3Yy00ZDBhLTljMWUtNWE2YjdjOGQ5ZTBmJmNvZGU9RVhBTVBMRUNPREU=";
const STATE = "0b8a5b1e-2f7c-4d0a-9c1e-5a6b7c8d9e0f";

function b64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

function assertLoginError(fn: () => unknown, code: string, message?: RegExp): LoginError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof LoginError, `expected a LoginError, got ${caught}`);
  assert.equal(caught.code, code);
  assert.equal(caught.exitCode, 7);
  if (message) assert.match(caught.message, message);
  return caught;
}

Deno.test("decodeVerificationCode() decodes the docs/PROTOCOL.md §12 paste blob", () => {
  assert.deepEqual(decodeVerificationCode(VECTOR), { state: STATE, code: "EXAMPLECODE" });
});

Deno.test("decodeVerificationCode() tolerates whitespace, missing padding and base64url", () => {
  assert.deepEqual(decodeVerificationCode(`  ${VECTOR}\r\n`), {
    state: STATE,
    code: "EXAMPLECODE",
  });
  assert.deepEqual(decodeVerificationCode(VECTOR.replace(/=+$/, "")), {
    state: STATE,
    code: "EXAMPLECODE",
  });
  assert.deepEqual(decodeVerificationCode(`${VECTOR.slice(0, 30)}\n ${VECTOR.slice(30)}`), {
    state: STATE,
    code: "EXAMPLECODE",
  });
  // A code with bytes that encode to "+" and "/" in standard base64, "-" and "_" in base64url.
  const blob = b64("state=s&code=ab>?~~~>>??");
  assert.match(blob, /[+/]/);
  const url = blob.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  assert.deepEqual(decodeVerificationCode(blob), { state: "s", code: "ab>?~~~>>??" });
  assert.deepEqual(decodeVerificationCode(url), { state: "s", code: "ab>?~~~>>??" });
});

Deno.test("decodeVerificationCode() percent-decodes the query values", () => {
  assert.deepEqual(decodeVerificationCode(b64("code=a%2Fb%3D&state=x%20y")), {
    state: "x y",
    code: "a/b=",
  });
});

Deno.test("decodeVerificationCode() rejects what is not base64 with ERR_LOGIN_CODE", () => {
  for (const bad of ["not base64!", "abcde", "@@@@", "a", "YQ=x"]) {
    assertLoginError(
      () => decodeVerificationCode(bad),
      "ERR_LOGIN_CODE",
      /^Failed to decode the verification code/,
    );
  }
});

Deno.test("decodeVerificationCode() rejects an empty line", () => {
  assertLoginError(() => decodeVerificationCode("  \n"), "ERR_LOGIN_CODE", /No verification code/);
});

Deno.test("decodeVerificationCode() rejects base64 of something other than state and code", () => {
  assertLoginError(() => decodeVerificationCode(b64("hello world")), "ERR_LOGIN_CODE");
  assertLoginError(() => decodeVerificationCode(btoa("\xff\xfe=")), "ERR_LOGIN_CODE");
  assertLoginError(() => decodeVerificationCode(b64("state=abc")), "ERR_LOGIN_CODE", /no code/);
  assertLoginError(() => decodeVerificationCode(b64("code=abc")), "ERR_LOGIN_CODE", /no state/);
  assertLoginError(
    () => decodeVerificationCode(b64("state=&code=")),
    "ERR_LOGIN_CODE",
    /no state or code/,
  );
  assertLoginError(() => decodeVerificationCode(b64("auth_code=x&state=y")), "ERR_LOGIN_CODE");
});

Deno.test("decodeVerificationCode() never puts the code into its messages", () => {
  const err = assertLoginError(
    () => decodeVerificationCode(b64("code=SECRETCODE123")),
    "ERR_LOGIN_CODE",
  );
  assert.doesNotMatch(err.message, /SECRETCODE123/);
  // A pasted code that is not base64 (a typo, a truncated copy) is still mostly the secret.
  const typo = `${b64("state=s&code=SECRETCODE123")}!`;
  const bad = assertLoginError(() => decodeVerificationCode(typo), "ERR_LOGIN_CODE");
  assert.ok(!bad.message.includes(typo.slice(0, 12)), bad.message);
});

Deno.test("decodeVerificationCode() rejects control characters in the decoded text", () => {
  // They would reach the token request as part of the code, or the terminal as part of the state.
  for (const text of ["state=s&code=c\u0000", "state=s\u001b[2J&code=c", "state=s&code=c\r\nx"]) {
    assertLoginError(() => decodeVerificationCode(b64(text)), "ERR_LOGIN_CODE", /does not hold/);
  }
});

Deno.test("checkState() accepts the same state and names both on a mismatch", () => {
  checkState(STATE, STATE);
  const err = assertLoginError(
    () => checkState("other", STATE),
    "ERR_LOGIN_STATE",
    /^State parameter "other" does not match expected value "0b8a5b1e-2f7c-4d0a-9c1e-5a6b7c8d9e0f"\./,
  );
  assert.match(err.message, /aws-login login --remote/);
});

Deno.test("checkState() shows a hostile state on one short line", () => {
  const err = assertLoginError(
    () => checkState(`a\nb\u001b[31m${"x".repeat(500)}`, STATE),
    "ERR_LOGIN_STATE",
  );
  assert.ok(!err.message.includes("\n") && !err.message.includes("\u001b"));
  assert.ok(err.message.length < 400);
});

Deno.test("displayText() flattens control and bidi characters and cuts long text", () => {
  assert.equal(displayText("a\r\n\tb\u202ec"), "a b c");
  assert.equal(displayText("x".repeat(10), 4), "xxxx…");
});
