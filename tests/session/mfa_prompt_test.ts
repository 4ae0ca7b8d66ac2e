import assert from "node:assert/strict";
import { StsError } from "../../lib/errors.ts";
import { ttyMfaPrompt } from "../../lib/session/mfa_prompt.ts";

Deno.test("without a terminal the MFA prompt fails at once, saying how to fill the cache", async () => {
  await assert.rejects(
    () =>
      ttyMfaPrompt("arn:aws:iam::1:mfa/A", "admin", "audit", {
        tty: "/nonexistent/tty",
        stdin: { isTerminal: () => true, read: () => Promise.resolve(null) },
        stderr: { isTerminal: () => false, writeSync: () => assert.fail("prompt on stderr") },
      }),
    (err) => {
      assert.ok(err instanceof StsError);
      assert.equal(err.code, "ERR_STS_MFA");
      assert.match(
        err.message,
        /no terminal.*"aws-login status --refresh --profile audit" in a terminal/,
      );
      return true;
    },
  );
});

Deno.test({
  name: "the MFA prompt goes to the terminal device, and the answer is read from it",
  ignore: Deno.build.os === "windows",
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      // A regular file stands in for /dev/tty: the prompt is appended, the answer read back.
      const tty = `${dir}/tty`;
      await Deno.writeTextFile(tty, "");
      const file = await Deno.open(tty, { read: true, write: true });
      file.close();
      const answer = ttyMfaPrompt("arn:aws:iam::1:mfa/A", "admin", "admin", {
        tty,
        stdin: Deno.stdin,
        stderr: Deno.stderr,
      });
      const code = await answer;
      // Nothing to read in an empty file: the answer is empty (then refused as not six digits).
      assert.equal(code, "");
      assert.equal(await Deno.readTextFile(tty), "Enter MFA code for arn:aws:iam::1:mfa/A: ");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("without /dev/tty, the prompt goes to stderr and the code comes from stdin when both are the terminal", async () => {
  let prompted = "";
  const answer = new TextEncoder().encode("654321\nrest");
  let at = 0;
  const code = await ttyMfaPrompt("arn:aws:iam::1:mfa/A", "admin", "admin", {
    tty: "/nonexistent/tty",
    stdin: {
      isTerminal: () => true,
      read: (p) => Promise.resolve(at < answer.length ? (p[0] = answer[at++]!, 1) : null),
    },
    stderr: {
      isTerminal: () => true,
      writeSync: (p) => (prompted += new TextDecoder().decode(p), p.length),
    },
  });
  assert.equal(code, "654321");
  assert.equal(prompted, "Enter MFA code for arn:aws:iam::1:mfa/A: ");
  assert.equal(at, 7, "nothing past the line is read");
});
