import assert from "node:assert/strict";
import { NetworkError, StsError } from "../../lib/errors.ts";
import { assumeRole, assumeRoleBody, type AssumeRoleRequest } from "../../lib/sts/assume_role.ts";
import { parseXml, XmlError } from "../../lib/sts/xml.ts";

const NOW = Date.UTC(2026, 11, 6, 20, 0, 0);

function ok(expiration = "2026-12-06T21:00:00Z"): string {
  return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>AROAEXAMPLE:Alice</AssumedRoleId>
      <Arn>arn:aws:sts::222222222222:assumed-role/Admin/Alice</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAROLE</AccessKeyId>
      <SecretAccessKey>roleSECRET/key+1</SecretAccessKey>
      <SessionToken>roleTOKEN&amp;more</SessionToken>
      <Expiration>${expiration}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>
</AssumeRoleResponse>`;
}

function error(code: string, message: string): string {
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>` +
    `<Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error>` +
    `<RequestId>r</RequestId></ErrorResponse>`;
}

function request(
  replies: (() => Response)[],
  extra: Partial<AssumeRoleRequest> = {},
): { req: AssumeRoleRequest; seen: Request[]; bodies: string[] } {
  const seen: Request[] = [];
  const bodies: string[] = [];
  const req: AssumeRoleRequest = {
    endpoint: "https://sts.eu-west-1.amazonaws.com",
    region: "eu-west-1",
    credentials: {
      accessKeyId: "ASIASOURCE",
      secretAccessKey: "sourceSECRET",
      sessionToken: "sourceSESSIONtoken",
    },
    roleArn: "arn:aws:iam::222222222222:role/Admin",
    roleSessionName: "Alice",
    profile: "admin",
    loginProfile: "dev",
    sourceArn: "arn:aws:iam::111111111111:user/Alice",
    fetch: async (input) => {
      const r = input as Request;
      seen.push(r);
      bodies.push(await r.clone().text());
      const next = replies.shift();
      if (next === undefined) throw new Error("no more replies");
      return next();
    },
    now: () => NOW,
    sleep: () => Promise.resolve(),
    debug: () => {},
    ...extra,
  };
  return { req, seen, bodies };
}

const xml = (body: string, status = 200, headers: Record<string, string> = {}) => () =>
  new Response(body, { status, headers: { "content-type": "text/xml", ...headers } });

Deno.test("assumeRole() sends a SigV4-signed AssumeRole query and reads the credentials", async () => {
  const { req, seen, bodies } = request([xml(ok())], {
    durationSeconds: 3600,
    externalId: "ext",
    serialNumber: "arn:aws:iam::111111111111:mfa/Alice",
    tokenCode: "123456",
  });
  const result = await assumeRole(req);
  assert.equal(result.accessKeyId, "ASIAROLE");
  assert.equal(result.sessionToken, "roleTOKEN&more");
  assert.equal(result.accountId, "222222222222");
  assert.equal(result.assumedRoleArn, "arn:aws:sts::222222222222:assumed-role/Admin/Alice");
  assert.equal(result.expiresAtMs, Date.UTC(2026, 11, 6, 21));
  assert.equal(result.requestId, "req-1");
  const sent = seen[0]!;
  assert.equal(sent.method, "POST");
  assert.equal(sent.url, "https://sts.eu-west-1.amazonaws.com/");
  assert.match(
    sent.headers.get("authorization") ?? "",
    /^AWS4-HMAC-SHA256 Credential=ASIASOURCE\/20261206\/eu-west-1\/sts\/aws4_request, /,
  );
  assert.equal(sent.headers.get("x-amz-security-token"), "sourceSESSIONtoken");
  assert.equal(
    bodies[0],
    "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A222222222222%3Arole%2FAdmin" +
      "&RoleSessionName=Alice&DurationSeconds=3600&ExternalId=ext" +
      "&SerialNumber=arn%3Aaws%3Aiam%3A%3A111111111111%3Amfa%2FAlice&TokenCode=123456",
  );
});

Deno.test("assumeRoleBody() leaves out what is not configured", () => {
  const { req } = request([]);
  assert.equal(
    assumeRoleBody(req),
    "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A222222222222%3Arole%2FAdmin" +
      "&RoleSessionName=Alice",
  );
});

const REFUSALS: [string, string, number, string, RegExp][] = [
  [
    "AccessDenied",
    "User: arn:aws:iam::111111111111:user/Alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/Admin",
    403,
    "ERR_STS_ACCESS_DENIED",
    /arn:aws:iam::111111111111:user\/Alice is not allowed to assume it.*trust policy.*sts:AssumeRole.*external ID/,
  ],
  [
    "AccessDenied",
    "MultiFactorAuthentication failed with invalid MFA one time pass code.",
    403,
    "ERR_STS_MFA",
    /MFA code .* was wrong or already used/,
  ],
  [
    "ValidationError",
    "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    400,
    "ERR_STS_VALIDATION",
    /"The requested DurationSeconds exceeds the MaxSessionDuration set for this role\.".*Lower "duration_seconds" in profile "admin"/,
  ],
  [
    "ExpiredToken",
    "The security token included in the request is expired",
    400,
    "ERR_STS_EXPIRED_TOKEN",
    /login session of profile "dev" has ended.*aws-login login --profile dev/,
  ],
  [
    "RegionDisabledException",
    "STS is not activated in this region for account:222222222222.",
    403,
    "ERR_STS_REGION_DISABLED",
    /Activate STS in region "eu-west-1"/,
  ],
];

for (const [code, message, status, ours, pattern] of REFUSALS) {
  Deno.test(`assumeRole() maps ${code} (${ours}) to what a person can act on, once`, async () => {
    const { req, seen } = request([xml(error(code, message), status)]);
    await assert.rejects(() => assumeRole(req), (err: StsError) => {
      assert.ok(err instanceof StsError);
      assert.equal(err.code, ours);
      assert.match(err.message, pattern);
      assert.match(err.message, /arn:aws:iam::222222222222:role\/Admin/);
      return true;
    });
    assert.equal(seen.length, 1, "a refusal is not retried");
  });
}

Deno.test("assumeRole() retries throttling and 5xx as Sign-In calls are, then succeeds", async () => {
  const { req, seen } = request([
    xml(error("Throttling", "Rate exceeded"), 400),
    xml("<html>oops</html>", 503),
    xml(ok()),
  ]);
  assert.equal((await assumeRole(req)).accessKeyId, "ASIAROLE");
  assert.equal(seen.length, 3);
});

Deno.test("assumeRole() gives up after 3 attempts on 5xx", async () => {
  const { req, seen } = request([
    xml(error("InternalFailure", "x"), 500),
    xml(error("InternalFailure", "x"), 500),
    xml(error("InternalFailure", "x"), 500),
  ]);
  await assert.rejects(() => assumeRole(req), (err: StsError) => err.code === "ERR_STS_SERVER");
  assert.equal(seen.length, 3);
});

Deno.test("assumeRole() retries a refusal once with the clock corrected by the server's Date", async () => {
  const later = new Date(NOW + 20 * 60_000).toUTCString();
  const { req, seen } = request([
    xml(error("SignatureDoesNotMatch", "Signature expired"), 403, { date: later }),
    xml(ok("2026-12-06T21:30:00Z")),
  ]);
  await assumeRole(req);
  assert.equal(seen.length, 2);
  assert.match(seen[1]!.headers.get("x-amz-date") ?? "", /^20261206T202000Z$/);
});

Deno.test("assumeRole() says the clock is off when the corrected call is refused too", async () => {
  const later = new Date(NOW + 20 * 60_000).toUTCString();
  const { req, seen } = request([
    xml(error("SignatureDoesNotMatch", "Signature expired"), 403, { date: later }),
    xml(error("SignatureDoesNotMatch", "Signature expired"), 403, { date: later }),
  ]);
  await assert.rejects(() => assumeRole(req), (err: StsError) => {
    assert.match(err.message, /this computer's clock is 20 min behind AWS STS's \(clock skew\)/);
    return err instanceof StsError;
  });
  assert.equal(seen.length, 2);
});

Deno.test("assumeRole() never quotes the secrets it sent", async () => {
  const { req } = request([
    xml(error("AccessDenied", "echo sourceSECRET and sourceSESSIONtoken and 654321"), 403),
  ], { tokenCode: "654321", serialNumber: "s" });
  await assert.rejects(() => assumeRole(req), (err: Error) => {
    assert.doesNotMatch(err.message, /sourceSECRET|sourceSESSIONtoken|654321/);
    return true;
  });
});

Deno.test("assumeRole() cuts STS's text as Sign-In's is: encoded echoes and parts of a secret", async () => {
  const { req } = request([
    xml(error("AccessDenied", `partial sourceSESSIO ${encodeURIComponent("sourceSECRET/")}`), 403),
  ]);
  await assert.rejects(() => assumeRole(req), (err: Error) => {
    assert.doesNotMatch(err.message, /sourceSESSIO|sourceSECRET/);
    return true;
  });
  const failed = request([() => {
    throw new TypeError("connection refused");
  }], { maxAttempts: 1 });
  await assert.rejects(() => assumeRole(failed.req), (err: Error) => {
    assert.match(
      err.message,
      /^Cannot reach AWS STS at ".*": connection refused\. .* STS endpoint/,
    );
    return true;
  });
});

for (
  const [what, body] of [
    ["a reply that is not XML", "{}"],
    ["an expired credential", ok("2026-12-06T19:00:00Z")],
    ["a DOCTYPE", `<!DOCTYPE x [<!ENTITY a "b">]>${ok()}`],
    ["a bad access key id", ok().replace("ASIAROLE", "ASIA ROLE")],
    ["two Credentials", ok().replace("</AssumeRoleResult>", "<Credentials/></AssumeRoleResult>")],
  ] as [string, string][]
) {
  Deno.test(`assumeRole() refuses ${what} (ERR_STS_RESPONSE), caching nothing`, async () => {
    const { req } = request([xml(body)]);
    await assert.rejects(() => assumeRole(req), (err: StsError) => {
      assert.equal(err.code, "ERR_STS_RESPONSE");
      return true;
    });
  });
}

Deno.test("assumeRole() does not follow a redirect", async () => {
  const { req } = request([
    () => new Response(null, { status: 307, headers: { location: "https://evil.example/" } }),
  ]);
  await assert.rejects(() => assumeRole(req), (err: StsError) => err.code === "ERR_STS_RESPONSE");
});

Deno.test("assumeRole() names the host when the network fails, after retrying", async () => {
  let calls = 0;
  const { req } = request([], {
    fetch: () => {
      calls++;
      return Promise.reject(new TypeError("connection refused"));
    },
  });
  await assert.rejects(() => assumeRole(req), (err: Error) => {
    assert.ok(err instanceof NetworkError);
    assert.match(err.message, /sts\.eu-west-1\.amazonaws\.com/);
    return true;
  });
  assert.equal(calls, 3);
});

Deno.test("parseXml() is strict", () => {
  const doc = parseXml('<?xml version="1.0"?><a x="1"><b>t&lt;&#x41;&#66;</b><c/></a>');
  assert.equal(doc.children[0]!.text, "t<AB");
  for (
    const bad of [
      "<a><b></a></b>",
      "<a>x<b/></a>",
      "<a/><b/>",
      "<a><!-- c --></a>",
      "<a><![CDATA[x]]></a>",
      "<a>&foo;</a>",
      "<a>& b</a>",
      "<a>",
      "text",
      "<a>&#0;</a>",
    ]
  ) {
    assert.throws(() => parseXml(bad), XmlError, bad);
  }
});
