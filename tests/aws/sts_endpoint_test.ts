import assert from "node:assert/strict";
import { ConfigError } from "../../lib/errors.ts";
import { stsEndpoint } from "../../lib/aws/endpoints.ts";
import type { ProfileConfig } from "../../lib/aws/profile_config.ts";

const env = (vars: Record<string, string> = {}) => ({ get: (k: string) => vars[k] });
const profile = (keys: Record<string, string> = {}, sts?: string): ProfileConfig => ({
  name: "admin",
  exists: true,
  keys,
  ...(sts === undefined ? {} : {
    services: {
      kind: "services",
      name: "local",
      keys: { sts: "" },
      subKeys: { sts: { endpoint_url: sts } },
      line: 1,
    },
  }),
});

Deno.test("stsEndpoint() is the region's STS endpoint as the AWS CLI v2 picks it", () => {
  const url = (region: string, vars: Record<string, string> = {}) =>
    stsEndpoint(env(vars), { region, profile: profile() }).url;
  assert.equal(url("eu-west-1"), "https://sts.eu-west-1.amazonaws.com");
  assert.equal(url("cn-north-1"), "https://sts.cn-north-1.amazonaws.com.cn");
  assert.equal(url("aws-global"), "https://sts.amazonaws.com");
  assert.equal(
    url("us-east-1", { AWS_USE_FIPS_ENDPOINT: "true" }),
    "https://sts-fips.us-east-1.amazonaws.com",
  );
  assert.equal(
    url("us-gov-west-1", { AWS_USE_FIPS_ENDPOINT: "true" }),
    "https://sts.us-gov-west-1.amazonaws.com",
  );
  assert.equal(
    url("eu-west-1", { AWS_USE_DUALSTACK_ENDPOINT: "true" }),
    "https://sts.eu-west-1.api.aws",
  );
});

Deno.test("stsEndpoint() overrides: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, services sts, endpoint_url; all ignorable", () => {
  const p = profile(
    { endpoint_url: "https://profile.example", services: "local" },
    "https://services.example",
  );
  const at = (vars: Record<string, string>, pp = p) =>
    stsEndpoint(env(vars), { region: "eu-west-1", profile: pp });
  assert.deepEqual(
    at({ AWS_ENDPOINT_URL_STS: "https://sts.example", AWS_ENDPOINT_URL: "https://all.example" }),
    {
      url: "https://sts.example",
      source: "AWS_ENDPOINT_URL_STS",
    },
  );
  assert.equal(at({ AWS_ENDPOINT_URL: "https://all.example" }).url, "https://all.example");
  assert.equal(at({}).url, "https://services.example");
  assert.equal(
    at({}, profile({ endpoint_url: "https://profile.example" })).url,
    "https://profile.example",
  );
  assert.equal(
    at({ AWS_ENDPOINT_URL_STS: "https://sts.example", AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" })
      .url,
    "https://sts.eu-west-1.amazonaws.com",
  );
  // A Sign-In override is not an STS one.
  assert.equal(
    at({ AWS_ENDPOINT_URL_SIGNIN: "https://signin.example" }, profile()).url,
    "https://sts.eu-west-1.amazonaws.com",
  );
  assert.throws(() => at({ AWS_ENDPOINT_URL_STS: "http://sts.example" }), ConfigError);
});
