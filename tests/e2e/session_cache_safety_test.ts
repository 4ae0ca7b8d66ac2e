import assert from "node:assert/strict";
import { EXIT } from "../../lib/errors.ts";
import { joinPath } from "../../lib/files.ts";
import { parseCachedToken, writeCachedToken } from "../../lib/session/token_cache.ts";
import { outputBounded } from "../helpers/bounded.ts";
import { runCli } from "../helpers/cli.ts";
import { startInPlaceWriter } from "../helpers/in_place_writer.ts";
import { sessionFixture } from "../helpers/session.ts";

const ARN = "arn:aws:iam::123456789012:user/Alice";
const isRoot = Deno.build.os === "linux" && Deno.uid() === 0;

Deno.test("credential-process never fails while another program rewrites the cache in place", async () => {
  await using t = await sessionFixture({ arn: ARN });
  const path = t.session.cachePath;
  const runs: { code: number; stdout: string; stderr: string }[] = [];
  let torn = 0;
  {
    await using _writer = await startInPlaceWriter(path);
    for (let batch = 0; batch < 5; batch++) {
      const four = Array.from(
        { length: 4 },
        () => runCli(["credential-process", "--profile", "dev"], { env: t.session.env }),
      );
      // Meanwhile, reads that take the file as they find it show the race is real.
      for (let i = 0; i < 20; i++) {
        try {
          parseCachedToken(await Deno.readTextFile(path), path);
        } catch {
          torn++;
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      runs.push(...await Promise.all(four));
    }
  }
  for (const run of runs) {
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    assert.equal(JSON.parse(run.stdout).AccessKeyId, t.session.token.accessToken.accessKeyId);
  }
  assert.ok(torn > 0, "the writer never left the file half-written");
  assert.equal(t.emulator.controls.counters().refresh_token, 0);
});

Deno.test({
  name: "credential-process refuses a cache file swapped for a link to another user's session",
  ignore: !isRoot, // only root can give a file to someone else
  async fn() {
    await using t = await sessionFixture({ arn: ARN });
    const path = t.session.cachePath;
    // Another local user's own session, which the tool would otherwise hand out as the user's.
    const theirs = joinPath(t.home.home, "theirs.json");
    const token = structuredClone(t.session.token);
    token.accessToken.accessKeyId = "ASIATHEIRSNOTYOURS";
    writeCachedToken(theirs, token);
    await Deno.chown(theirs, 65534, 65534);
    await Deno.remove(path);
    await Deno.symlink(theirs, path);
    const chown = await outputBounded("chown", { args: ["-h", "65534", path] });
    assert.ok(chown.success);
    const { code, stdout, stderr } = await runCli(["credential-process", "--profile", "dev"], {
      env: t.session.env,
    });
    assert.equal(code, EXIT.cache);
    assert.equal(stdout, "");
    assert.equal(
      stderr,
      `aws-login: Cannot read token cache "${path}": it is a symlink in a place another user ` +
        `controls. Remove it, then run "aws-login login --profile dev" again.\n`,
    );
  },
});
