/**
 * The emulator's SigV4 pieces against AWS's published Signature Version 4 test suite
 * (aws-sig-v4-test-suite: get-vanilla, get-vanilla-query-order-key-case, post-vanilla), plus the
 * parser and canonical forms.
 */
import assert from "node:assert/strict";
import {
  canonicalQuery,
  canonicalUri,
  computeSignature,
  parseAmzDate,
  parseAuthorization,
  sha256Hex,
} from "../../lib/emulator/sigv4.ts";

const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SCOPE = { date: "20150830", region: "us-east-1", service: "service" };

for (
  const [title, method, url, signature] of [
    [
      "get-vanilla",
      "GET",
      "/",
      "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    ],
    [
      "get-vanilla-query-order-key-case",
      "GET",
      "/?Param2=value2&Param1=value1",
      "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    ],
    [
      "post-vanilla",
      "POST",
      "/",
      "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    ],
  ] as const
) {
  Deno.test(`SigV4 test suite "${title}"`, async () => {
    const [path, query = ""] = url.split("?");
    const actual = await computeSignature(
      {
        method,
        rawPath: path!,
        rawQuery: query,
        headers: new Headers({ host: "example.amazonaws.com", "x-amz-date": "20150830T123600Z" }),
        payloadHash: await sha256Hex(""),
        amzDate: "20150830T123600Z",
      },
      { ...SCOPE, signedHeaders: ["host", "x-amz-date"] },
      SECRET,
    );
    assert.equal(actual, signature);
  });
}

Deno.test("parseAuthorization() reads the credential scope, signed headers and signature", () => {
  const header = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, " +
    "SignedHeaders=host;x-amz-date, Signature=" + "a".repeat(64);
  assert.deepEqual(parseAuthorization(header), {
    accessKeyId: "AKIDEXAMPLE",
    date: "20150830",
    region: "us-east-1",
    service: "sts",
    signedHeaders: ["host", "x-amz-date"],
    signature: "a".repeat(64),
  });
  assert.equal(
    parseAuthorization("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts"),
    undefined,
  );
  assert.equal(parseAuthorization("Bearer abc"), undefined);
  assert.equal(parseAuthorization(header.replace("a".repeat(64), "zz")), undefined);
});

Deno.test("canonical URI and query follow the SigV4 rules", () => {
  assert.equal(canonicalUri("/"), "/");
  assert.equal(canonicalUri("/a/./b/../c/"), "/a/c/");
  assert.equal(canonicalUri("/a%20b"), "/a%2520b");
  assert.equal(canonicalQuery("b=2&a=1&A=0&a=0"), "A=0&a=0&a=1&b=2");
  assert.equal(canonicalQuery("?k=a b*"), "k=a%20b%2A");
});

Deno.test("parseAmzDate() reads YYYYMMDDTHHMMSSZ", () => {
  assert.equal(parseAmzDate("20150830T123600Z"), Date.UTC(2015, 7, 30, 12, 36, 0));
  assert.equal(parseAmzDate("2015-08-30T12:36:00Z"), undefined);
});
