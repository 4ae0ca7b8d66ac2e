/**
 * What `login` checks before the browser opens, end to end through `deno run -P main.ts` as a person
 * runs it: a mistyped region is refused at once with the region it probably meant, a new region
 * keeps working, and a custom endpoint that does not answer is named instead of the browser being
 * blamed. DNS is faked (tests/helpers/fake_dns.ts): there is no internet here.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { EXIT } from "../../lib/errors.ts";
import { ROOT, runCli, tempHome } from "../helpers/cli.ts";
import { denoDir } from "../helpers/session.ts";
import { refusedEndpoint } from "../helpers/refused.ts";

const FAKE_DNS = fileURLToPath(new URL("../helpers/fake_dns.ts", import.meta.url));
/** The one-time sign-in link, printed once login waits for the browser. */
const LINK_RE = /http:\/\/127\.0\.0\.1:\d+\/[\w-]{43}/;

async function setup() {
  const home = await tempHome();
  const log = `${home.home}/browser-opened`;
  const env = {
    ...home.env,
    DENO_DIR: await denoDir(),
    // A browser that only records that it was started.
    BROWSER: `'${Deno.execPath()}' run -q -A '${ROOT}tools/browser.ts' --log '${log}' --no-open %s`,
  };
  return {
    home,
    env,
    browserStarted: () => Deno.stat(log).then(() => true, () => false),
    wroteNothing: () => Deno.stat(`${home.home}/.aws`).then(() => false, () => true),
    [Symbol.asyncDispose]: () => home[Symbol.asyncDispose](),
  };
}

/** login with the fake DNS, where exactly `hosts` exist. */
function login(args: string[], env: Record<string, string>, hosts: string[] = []) {
  return runCli(["login", ...args], {
    env: { ...env, FAKE_DNS_HOSTS: hosts.join(",") },
    preload: FAKE_DNS,
  });
}

Deno.test("login --region eu-wst-1 is refused at once: Did you mean eu-west-1? (exit 3)", async () => {
  await using t = await setup();
  const { code, stdout, stderr } = await login(
    ["--region", "eu-wst-1", "--timeout", "300"],
    t.env,
  );
  assert.equal(code, EXIT.config, stderr);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    `aws-login: Unknown AWS region "eu-wst-1": its Sign-In host ` +
      `"eu-wst-1.signin.aws.amazon.com" does not exist. Did you mean "eu-west-1"?\n`,
  );
  assert.equal(await t.browserStarted(), false, "no browser was started");
  assert.ok(await t.wroteNothing(), "nothing was written");
});

Deno.test("a FIPS login in a mistyped region is refused with the suggestion too", async () => {
  await using t = await setup();
  const { code, stderr } = await login(["--region", "us-esat-1"], {
    ...t.env,
    AWS_USE_FIPS_ENDPOINT: "true",
  });
  assert.equal(code, EXIT.config, stderr);
  assert.match(stderr, /AWS region "us-esat-1" is not one aws-login knows/);
  assert.match(stderr, /Did you mean "us-east-1"\?/);
  assert.match(stderr, /add "signin-fips\.us-esat-1\.amazonaws\.com" to "net" in deno\.json/);
  assert.equal(await t.browserStarted(), false);
  assert.ok(await t.wroteNothing());
});

Deno.test("a FIPS login in a new region with no close match ends its sentence before the advice", async () => {
  await using t = await setup();
  const { code, stderr } = await login(["--region", "xx-newx-9"], {
    ...t.env,
    AWS_USE_FIPS_ENDPOINT: "true",
  });
  assert.equal(code, EXIT.config, stderr);
  assert.match(
    stderr,
    /is not in the Deno permission set\. If it is a new AWS region, add "signin-fips\.xx-newx-9\./,
  );
  assert.equal(await t.browserStarted(), false);
});

Deno.test("a region aws-login does not list, whose Sign-In host exists, signs in as any other", async () => {
  await using t = await setup();
  const { code, stderr } = await login(
    ["--region", "xx-newland-1", "--no-browser", "--timeout", "1"],
    t.env,
    ["xx-newland-1.signin.aws.amazon.com"],
  );
  // It got to waiting for the browser: the link was printed, then the 1 s wait ran out.
  assert.match(stderr, LINK_RE);
  assert.equal(code, EXIT.login, stderr);
  assert.ok(!stderr.includes("region"), stderr);
});

Deno.test("a region aws-login knows is not looked up (no network needed to start a login)", async () => {
  await using t = await setup();
  const { code, stderr } = await login(
    ["--region", "eu-west-1", "--no-browser", "--timeout", "1"],
    t.env,
    [], // DNS knows no name at all
  );
  assert.match(stderr, LINK_RE);
  assert.equal(code, EXIT.login, stderr);
});

Deno.test("login --endpoint-url at a port nothing answers names the endpoint, not the browser (exit 6)", async () => {
  await using t = await setup();
  for (const endpoint of ["http://127.0.0.1:9", await refusedEndpoint()]) {
    const { code, stderr } = await login(
      ["--region", "us-east-1", "--endpoint-url", endpoint, "--timeout", "300"],
      t.env,
    );
    assert.equal(code, EXIT.network, stderr);
    const lines = stderr.trimEnd().split("\n");
    assert.equal(lines.length, 2, stderr); // the custom-endpoint note, then the error
    assert.ok(
      lines[1]!.startsWith(
        `aws-login: The Sign-In endpoint "${endpoint}" (from --endpoint-url) does not answer (`,
      ),
      stderr,
    );
    assert.ok(!/browser|BROWSER|curl/.test(lines[1]!), stderr);
    assert.ok(!LINK_RE.test(stderr), "it did not wait for a browser");
    assert.equal(await t.browserStarted(), false, "no browser was started");
    assert.ok(await t.wroteNothing(), "nothing was written");
  }
});
