import assert from "node:assert/strict";
import { report } from "../../lib/commands/login.ts";

const RESULT = {
  loginSession: "arn:aws:iam::123456789012:user/Alice",
  accountId: "123456789012",
  region: "us-east-1",
  regionSaved: false,
  cachePath: "/home/a/.aws/login/cache/x.json",
  expiresAt: "2026-11-25T12:15:00Z",
};

Deno.test("login's report names the profile in the credential_process line, default too", () => {
  const text = report({ ...RESULT, profile: "default" });
  assert.match(text, /^Updated profile default to use arn:aws:iam::123456789012:user\/Alice/);
  // The line goes into another profile, which AWS_PROFILE may select: the login profile is named.
  assert.match(text, /credential_process = aws-login credential-process --profile default /);
  assert.match(text, /aws sts get-caller-identity +#/);
  assert.doesNotMatch(text, /Saved region/);
  assert.match(
    report({ ...RESULT, profile: "dev", regionSaved: true, regionFrom: "prompt" }),
    /\nSaved region us-east-1 in profile dev: /,
  );
  assert.match(
    report({ ...RESULT, profile: "dev", regionSaved: true, regionFrom: "--region" }),
    /\nSaved region us-east-1 \(from --region\) in profile dev: /,
  );
});

Deno.test("report() shows export-env assigned first, so a failure stops before eval", () => {
  const text = report({ ...RESULT, profile: "dev" });
  assert.ok(text.includes('creds=$(aws-login export-env --profile dev) && eval "$creds"'), text);
  assert.ok(!text.includes('eval "$('), text);
});
