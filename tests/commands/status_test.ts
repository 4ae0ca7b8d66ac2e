/**
 * `status` in-process against a session made at the emulator: it says when a Sign-In endpoint is
 * not the default (and when a refresh would be refused for it), and nothing from the cache or
 * config files reaches the terminal raw.
 */
import assert from "node:assert/strict";
import { parse, run } from "../../lib/commands/status.ts";
import { cacheFilePath, writeCachedToken } from "../../lib/session/token_cache.ts";
import { addProfile, sessionFixture, testDeps } from "../helpers/session.ts";

const ARN = "arn:aws:iam::123456789012:user/Alice";
/** Anything a terminal would act on rather than show. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** Every string in a parsed JSON value. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}

Deno.test("status says which custom Sign-In endpoint is in use", async () => {
  await using t = await sessionFixture({ arn: ARN });
  const { deps, stdout } = testDeps(t.session.env);
  assert.equal(await run(parse([]), deps), 0);
  assert.ok(
    stdout.text.includes(
      `  endpoint:        ${t.emulator.url} (custom, from AWS_ENDPOINT_URL_SIGNIN)\n`,
    ),
    stdout.text,
  );
  const json = testDeps(t.session.env);
  await run(parse(["--json"]), json.deps);
  const [dev] = JSON.parse(json.stdout.text).profiles;
  assert.equal(dev.signInEndpoint, t.emulator.url);
  assert.equal(dev.endpoint, t.emulator.url);
  assert.equal(dev.customEndpoint, "AWS_ENDPOINT_URL_SIGNIN");
  assert.equal(dev.refreshProblem, undefined);
});

Deno.test("status says a refresh will be refused when the endpoint is not the session's", async () => {
  await using t = await sessionFixture({ arn: ARN });
  const env = { ...t.session.env, AWS_ENDPOINT_URL_SIGNIN: "http://127.0.0.1:9" };
  const { deps, stdout } = testDeps(env);
  assert.equal(await run(parse([]), deps), 0);
  assert.match(
    stdout.text,
    new RegExp(
      `\\n {2}refresh: +Cannot refresh the login session of profile "dev": it was made with ` +
        `AWS Sign-In at "${t.emulator.url}", but the endpoint is now "http://127\\.0\\.0\\.1:9" ` +
        `\\(from AWS_ENDPOINT_URL_SIGNIN\\)\\.`,
    ),
  );
  assert.equal(t.emulator.controls.counters().refresh_token, 0);
});

Deno.test("status passes every field from the cache and config through the cleaner", async () => {
  await using t = await sessionFixture({ arn: ARN });
  const hostile = "\x1b]0;owned\x07\x1b[2J\u009b31m\u202e\u2066";
  // A second profile whose login_session itself is hostile, with a cache file of its own.
  const evilArn = `arn:aws:iam::123456789012:user/evil${hostile}`;
  await addProfile(t.home.home, "evil", { login_session: evilArn, region: "us-east-1" });
  const evilPath = await cacheFilePath({ get: (k) => t.session.env[k] }, evilArn);
  const token = t.session.token;
  writeCachedToken(evilPath, {
    ...token,
    accessToken: {
      ...token.accessToken,
      accessKeyId: `ASIAEXAMPLE00\u009b2J`,
      secretAccessKey: `secret\x1b[2J`,
      accountId: `1234${hostile}`,
    },
    signInRegion: `us-east-1${hostile}`,
    signInEndpoint: `http://127.0.0.1:1/${hostile}`,
  });
  for (const args of [[], ["--json"]]) {
    const { deps, stdout } = testDeps(t.session.env);
    await run(parse(args), deps);
    const out = args.length ? strings(JSON.parse(stdout.text)).join("\n") : stdout.text;
    for (const line of out.split("\n")) assert.ok(!UNPRINTABLE.test(line), JSON.stringify(line));
    assert.match(out, /evil/);
  }
  const { deps, stdout } = testDeps(t.session.env);
  await run(parse(["--profile", "evil"]), deps);
  assert.match(stdout.text, /\n {2}access key: {6}\*{16}0\?2J\n/);
  assert.match(stdout.text, /\n {2}secret key: {6}\*{16}\?\[2J\n/);
  assert.match(stdout.text, /\n {2}account: {9}1234 \]0;owned \[2J 31m\n/);
});
