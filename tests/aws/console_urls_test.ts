/**
 * The console URLs of lib/aws/console_urls.ts: destinations per partition (service names mapped,
 * full URLs only on the partition's console host), the federation endpoint per partition (never
 * FIPS or dual-stack; a custom endpoint's `/federation`), and the logout step where it forwards.
 */
import assert from "node:assert/strict";
import {
  consoleDestination,
  consolePartition,
  federationHosts,
  federationTarget,
} from "../../lib/aws/console_urls.ts";
import { UsageError } from "../../lib/errors.ts";

Deno.test("a service name maps to its console page in each partition", () => {
  assert.equal(
    consoleDestination("s3", "eu-west-1"),
    "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1",
  );
  assert.equal(
    consoleDestination("cloudwatch", "us-gov-west-1"),
    "https://console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1",
  );
  assert.equal(
    consoleDestination("ec2", "cn-north-1"),
    "https://console.amazonaws.cn/ec2/home?region=cn-north-1",
  );
  assert.equal(
    consoleDestination("route-53", "us-east-1"),
    "https://us-east-1.console.aws.amazon.com/route-53/home?region=us-east-1",
  );
});

Deno.test("no destination is the console home of the region", () => {
  assert.equal(
    consoleDestination(undefined, "ap-south-1"),
    "https://ap-south-1.console.aws.amazon.com/console/home?region=ap-south-1",
  );
  assert.equal(
    consoleDestination(undefined, "cn-northwest-1"),
    "https://console.amazonaws.cn/console/home?region=cn-northwest-1",
  );
});

Deno.test("a full URL is taken only on the partition's console host", () => {
  const ok: [string, string][] = [
    ["https://console.aws.amazon.com/iam/home#/roles", "us-east-1"],
    ["https://eu-west-1.console.aws.amazon.com/s3/buckets?region=eu-west-1", "eu-west-1"],
    ["https://console.amazonaws-us-gov.com/ec2/home", "us-gov-east-1"],
    ["https://console.amazonaws.cn/", "cn-north-1"],
  ];
  for (const [url, region] of ok) assert.equal(consoleDestination(url, region), url);
  const refused: [string, string][] = [
    ["https://evil.example/", "us-east-1"],
    ["http://console.aws.amazon.com/", "us-east-1"],
    ["https://console.aws.amazon.com.evil.example/", "us-east-1"],
    ["https://evilconsole.aws.amazon.com/", "us-east-1"],
    ["https://a.b.console.aws.amazon.com/", "us-east-1"],
    ["https://user@console.aws.amazon.com/", "us-east-1"],
    ["https://console.aws.amazon.com:444/", "us-east-1"],
    ["https://signin.aws.amazon.com/federation", "us-east-1"],
    ["https://console.amazonaws.cn/", "us-east-1"],
    ["https://console.aws.amazon.com/", "us-gov-west-1"],
    ["javascript:alert(1)", "us-east-1"],
    ["S3", "us-east-1"],
    ["s3/buckets", "us-east-1"],
    ["-s3", "us-east-1"],
    ["", "us-east-1"],
  ];
  for (const [url, region] of refused) {
    assert.throws(() => consoleDestination(url, region), UsageError, url);
  }
});

Deno.test("partitions without console federation are refused", () => {
  for (const region of ["us-iso-east-1", "us-isob-east-1", "eusc-de-east-1"]) {
    assert.throws(() => consoleDestination(undefined, region), /knows no console sign-in/);
    assert.throws(() => consolePartition(region), UsageError);
  }
  assert.equal(consolePartition("us-gov-east-1"), "aws-us-gov");
});

Deno.test("the federation endpoint per partition, with and without the logout step", () => {
  assert.deepEqual(federationTarget("eu-west-1", { logout: false }), {
    federationUrl: "https://eu-west-1.signin.aws.amazon.com/federation",
  });
  // The console's logout forwards only on us-east-1's host: the token comes from there too.
  assert.deepEqual(federationTarget("eu-west-1", { logout: true }), {
    federationUrl: "https://us-east-1.signin.aws.amazon.com/federation",
    logoutUrl: "https://us-east-1.signin.aws.amazon.com/oauth",
  });
  for (const logout of [true, false]) {
    assert.deepEqual(federationTarget("us-gov-west-1", { logout }), {
      federationUrl: "https://signin.amazonaws-us-gov.com/federation",
    });
    assert.deepEqual(federationTarget("cn-north-1", { logout }), {
      federationUrl: "https://signin.amazonaws.cn/federation",
    });
  }
  assert.deepEqual(federationTarget("eu-west-1", { custom: "http://127.0.0.1:9", logout: true }), {
    federationUrl: "http://127.0.0.1:9/federation",
    logoutUrl: "http://127.0.0.1:9/oauth",
  });
  assert.deepEqual(
    federationTarget("eu-west-1", { custom: "https://proxy.example/signin", logout: false }),
    { federationUrl: "https://proxy.example/signin/federation" },
  );
});

Deno.test("federation hosts are never FIPS or dual-stack hosts", () => {
  for (const region of ["us-east-1", "us-gov-west-1", "cn-north-1", "eu-central-1"]) {
    for (const host of federationHosts(region)) {
      assert.doesNotMatch(host, /fips|api\.aws|dualstack/, host);
    }
  }
  assert.deepEqual(federationHosts("us-iso-east-1"), []);
});
