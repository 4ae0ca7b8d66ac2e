import assert from "node:assert/strict";
import { ConfigError, NetworkError } from "../../lib/errors.ts";
import {
  checkEndpointAnswers,
  checkRegionExists,
  systemHostLookup,
} from "../../lib/login/preflight.ts";

const BASE = (region: string) => `https://${region}.signin.aws.amazon.com`;

Deno.test("checkRegionExists() does not look up a region aws-login knows", async () => {
  let asked = 0;
  await checkRegionExists("eu-west-1", BASE("eu-west-1"), () => (asked++, Promise.resolve(false)));
  assert.equal(asked, 0);
});

Deno.test("checkRegionExists() refuses an unknown region whose host does not exist, with a suggestion", async () => {
  const asked: string[] = [];
  await assert.rejects(
    () =>
      checkRegionExists("eu-wst-1", BASE("eu-wst-1"), (host) => {
        asked.push(host);
        return Promise.resolve(false);
      }),
    (err) =>
      err instanceof ConfigError && err.code === "ERR_CONFIG_REGION" &&
      err.message ===
        'Unknown AWS region "eu-wst-1": its Sign-In host "eu-wst-1.signin.aws.amazon.com" does ' +
          'not exist. Did you mean "eu-west-1"?',
  );
  assert.deepEqual(asked, ["eu-wst-1.signin.aws.amazon.com"]);
});

Deno.test("checkRegionExists() lets a new region through, and one DNS cannot tell about", async () => {
  await checkRegionExists("xx-newland-1", BASE("xx-newland-1"), () => Promise.resolve(true));
  // No network, no answer in time: not a reason to refuse.
  await checkRegionExists("xx-newland-1", BASE("xx-newland-1"), () => Promise.resolve(undefined));
});

Deno.test("systemHostLookup() resolves through the system resolver", async () => {
  assert.equal(await systemHostLookup("localhost"), true);
});

/** A fetch failure as Deno reports one: "fetch failed", caused by the connect error. */
function refused(): TypeError {
  return new TypeError("fetch failed", {
    cause: new Error(
      "error sending request for url (http://127.0.0.1:1/v1/authorize): client error (Connect): " +
        "tcp connect error: Connection refused (os error 111)",
    ),
  });
}

Deno.test("checkEndpointAnswers() takes any HTTP answer, with a HEAD of the authorize path", async () => {
  const asked: string[] = [];
  await checkEndpointAnswers("http://127.0.0.1:1/prefix", "--endpoint-url", (input, init) => {
    asked.push(`${init?.method} ${input}`);
    return Promise.resolve(new Response("no route", { status: 404 }));
  });
  assert.deepEqual(asked, ["HEAD http://127.0.0.1:1/prefix/v1/authorize"]);
});

Deno.test("checkEndpointAnswers() names the endpoint, its source and the reason when nothing answers", async () => {
  await assert.rejects(
    () =>
      checkEndpointAnswers(
        "http://127.0.0.1:1",
        "AWS_ENDPOINT_URL",
        () => Promise.reject(refused()),
      ),
    (err) =>
      err instanceof NetworkError && err.code === "ERR_NETWORK" &&
      err.message.startsWith(
        'The Sign-In endpoint "http://127.0.0.1:1" (from AWS_ENDPOINT_URL) does not answer ' +
          "(Connection refused (os error 111)), so the sign-in page cannot load.",
      ),
  );
  await assert.rejects(
    () =>
      checkEndpointAnswers(
        "https://signin.example.com",
        "--endpoint-url",
        () => Promise.reject(new DOMException("Signal timed out.", "TimeoutError")),
      ),
    (err) =>
      err instanceof NetworkError && err.code === "ERR_TIMEOUT" &&
      err.message.includes("does not answer (no answer within 10 s)"),
  );
});
