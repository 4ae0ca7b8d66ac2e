/**
 * The callback listener's owner check under the "default" permission set, in a real login: Deno
 * reads nothing under /proc/<pid> without --allow-all, so the check depends on the /proc reader
 * login starts with its listener (before it drops `run`). `--debug` shows each answer.
 */
import assert from "node:assert/strict";
import { ROOT, runCli, tempHome } from "../helpers/cli.ts";
import { denoDir, startEmulator } from "../helpers/session.ts";

const linux = { test: Deno.build.os === "linux" ? Deno.test : Deno.test.ignore };

linux.test("login checks that the sign-in link and the callback come from this user's browser", async () => {
  const arn = "arn:aws:iam::123456789012:user/Alice";
  await using emulator = await startEmulator({ autoApprove: arn });
  await using home = await tempHome();
  const browser = `${ROOT}tools/browser.ts`;
  const out = await runCli(["login", "--debug", "--profile", "dev", "--region", "us-east-1"], {
    env: {
      ...home.env,
      AWS_ENDPOINT_URL_SIGNIN: emulator.url,
      DENO_DIR: await denoDir(),
      BROWSER: `'${Deno.execPath()}' run -q -A '${browser}' --log '${home.home}/visits' %s`,
    },
  });
  assert.equal(out.code, 0, out.stderr);
  const checked = out.stderr.split("\n").filter((line) =>
    /\(owner of the connection from port \d+: this user\)$/.test(line)
  );
  assert.equal(checked.length, 2, `the link and the callback:\n${out.stderr}`);
  assert.doesNotMatch(out.stderr, /owner of the connection .* unknown/);
});
