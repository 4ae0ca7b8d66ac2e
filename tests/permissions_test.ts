/**
 * The "default" permission set in deno.json grants `net` only to loopback, AWS Sign-In and STS: no
 * wildcard over a domain where anyone can own a name (`*.amazonaws.com` holds every S3 bucket and
 * API Gateway; `*.api.aws` too). tools/net_allowlist.ts generates the list from the endpoint rules.
 */
import assert from "node:assert/strict";
import { netAllowlist, signinHosts, stsHosts } from "../tools/net_allowlist.ts";
import { REGIONS } from "../lib/aws/regions.ts";

const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
const net: string[] = config.permissions.default.net;

Deno.test("deno.json's net allow-list is the generated one (run tools/net_allowlist.ts --write)", () => {
  assert.deepEqual(net, netAllowlist());
});

Deno.test("deno.json's net allow-list has wildcards only over Sign-In's own domains", () => {
  for (const host of net.filter((h) => h.includes("*"))) {
    assert.match(host, /^\*\.signin(-fips)?\.[a-z0-9.-]+$/, host);
  }
  for (const host of ["*.amazonaws.com", "*.api.aws", "*.amazonaws.com.cn", "s3.amazonaws.com"]) {
    assert.ok(!net.includes(host), host);
  }
});

Deno.test("every Sign-In host a known region resolves to is allowed", () => {
  const allowed = (host: string) =>
    net.includes(host) ||
    net.some((h) => h.startsWith("*.") && host.endsWith(h.slice(1)));
  for (const region of REGIONS) {
    for (const host of signinHosts(region)) assert.ok(allowed(host), `${region}: ${host}`);
  }
});

Deno.test("every STS host a known region resolves to (FIPS, dual-stack) is allowed, listed one by one", () => {
  for (const region of REGIONS) {
    for (const host of stsHosts(region)) assert.ok(net.includes(host), `${region}: ${host}`);
  }
  assert.deepEqual(stsHosts("us-east-1"), [
    "sts.us-east-1.amazonaws.com",
    "sts-fips.us-east-1.amazonaws.com",
    "sts.us-east-1.api.aws",
    "sts-fips.us-east-1.api.aws",
  ]);
  assert.deepEqual(stsHosts("us-gov-west-1").slice(0, 2), [
    "sts.us-gov-west-1.amazonaws.com",
    "sts.us-gov-west-1.amazonaws.com",
  ]);
  assert.equal(stsHosts("cn-north-1")[0], "sts.cn-north-1.amazonaws.com.cn");
  assert.equal(stsHosts("aws-global")[0], "sts.amazonaws.com");
});
