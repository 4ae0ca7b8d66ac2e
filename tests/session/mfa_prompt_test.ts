import assert from "node:assert/strict";
import { StsError } from "../../lib/errors.ts";
import { ttyMfaPrompt } from "../../lib/session/mfa_prompt.ts";

Deno.test("without a terminal the MFA prompt fails at once, saying how to fill the cache", async () => {
  await assert.rejects(
    () => ttyMfaPrompt("arn:aws:iam::1:mfa/A", "admin", "audit", "/nonexistent/tty"),
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
      const answer = ttyMfaPrompt("arn:aws:iam::1:mfa/A", "admin", "admin", tty);
      const code = await answer;
      // Nothing to read in an empty file: the answer is empty (then refused as not six digits).
      assert.equal(code, "");
      assert.equal(await Deno.readTextFile(tty), "Enter MFA code for arn:aws:iam::1:mfa/A: ");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
