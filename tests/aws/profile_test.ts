import assert from "node:assert/strict";
import { loadProfile, otherCredentialStyle } from "../../lib/aws/profile.ts";
import type { ProfileConfig } from "../../lib/aws/profile_config.ts";
import { profileName, resolveRegion } from "../../lib/aws/profile_reader.ts";
import { signinBaseUrl, signinEndpoint } from "../../lib/aws/endpoints.ts";
import { ConfigError } from "../../lib/errors.ts";
import { joinPath } from "../../lib/files.ts";

const env = (vars: Record<string, string> = {}) => ({ get: (n: string) => vars[n] });
/** Runs `fn` with a temp dir holding `config` and `credentials`, and an env pointing at them. */
async function withSharedFiles(
  texts: { config: string; credentials: string },
  fn: (
    paths: { config: string; credentials: string },
    e: ReturnType<typeof env>,
  ) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "aws-login-profile-" });
  try {
    const paths = { config: joinPath(dir, "config"), credentials: joinPath(dir, "credentials") };
    await Deno.writeTextFile(paths.config, texts.config);
    await Deno.writeTextFile(paths.credentials, texts.credentials);
    const vars = {
      AWS_CONFIG_FILE: paths.config,
      AWS_SHARED_CREDENTIALS_FILE: paths.credentials,
      HOME: dir,
    };
    await fn(paths, env(vars));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const profile = (keys: Record<string, string> = {}, services?: ProfileConfig["services"]) => ({
  name: "p",
  exists: true,
  keys,
  ...(services ? { services } : {}),
});

Deno.test("profileName() takes --profile, then AWS_PROFILE, AWS_DEFAULT_PROFILE, default", () => {
  const vars = { AWS_PROFILE: "a", AWS_DEFAULT_PROFILE: "b" };
  assert.equal(profileName(env(vars), "flag"), "flag");
  assert.equal(profileName(env(vars)), "a");
  assert.equal(profileName(env({ AWS_DEFAULT_PROFILE: "b" })), "b");
  assert.equal(profileName(env()), "default");
});

Deno.test("otherCredentialStyle() names the first style the CLI would refuse, in its order", () => {
  const all = {
    credential_process: "x",
    role_arn: "x",
    aws_access_key_id: "x",
    sso_account_id: "x",
    web_identity_token_file: "x",
  };
  assert.equal(otherCredentialStyle(all), "Web Identity");
  const { web_identity_token_file: _w, ...noWeb } = all;
  assert.equal(otherCredentialStyle(noWeb), "SSO");
  assert.equal(otherCredentialStyle({ sso_role_name: "r", role_arn: "x" }), "SSO");
  assert.equal(otherCredentialStyle({ aws_access_key_id: "x", role_arn: "x" }), "Access Key");
  assert.equal(otherCredentialStyle({ role_arn: "x", credential_process: "x" }), "Assume Role");
  assert.equal(otherCredentialStyle({ credential_process: "x" }), "Credential Process");
  // The AWS CLI lowercases keys, so it refuses these too.
  assert.equal(otherCredentialStyle({ AWS_ACCESS_KEY_ID: "x" }), "Access Key");
  assert.equal(otherCredentialStyle({ Role_Arn: "x" }), "Assume Role");
  assert.equal(
    otherCredentialStyle({ region: "x", login_session: "arn", sso_session: "s" }),
    undefined,
  );
});

Deno.test("resolveRegion() takes --region, AWS_REGION, AWS_DEFAULT_REGION, then the profile", () => {
  const vars = { AWS_REGION: "r1", AWS_DEFAULT_REGION: "r2" };
  assert.equal(resolveRegion(env(vars), "flag", { region: "r3" }), "flag");
  assert.equal(resolveRegion(env(vars), undefined, { region: "r3" }), "r1");
  assert.equal(resolveRegion(env({ AWS_DEFAULT_REGION: "r2" }), undefined, { region: "r3" }), "r2");
  assert.equal(resolveRegion(env(), undefined, { region: "r3" }), "r3");
  assert.equal(resolveRegion(env({ AWS_REGION: "" }), "", {}), undefined);
});

/** docs/PROTOCOL.md §2, as the JS SDK's Sign-In endpoint rules resolve it. */
const PARTITION_ROWS: [string, string, string, string, string][] = [
  // region, default, FIPS, dual-stack, FIPS + dual-stack
  [
    "us-east-1",
    "https://us-east-1.signin.aws.amazon.com",
    "https://signin-fips.us-east-1.amazonaws.com",
    "https://signin.us-east-1.api.aws",
    "https://signin-fips.us-east-1.api.aws",
  ],
  [
    "cn-north-1",
    "https://cn-north-1.signin.amazonaws.cn",
    "https://signin-fips.cn-north-1.amazonaws.com.cn",
    "https://signin.cn-north-1.api.amazonwebservices.com.cn",
    "https://signin-fips.cn-north-1.api.amazonwebservices.com.cn",
  ],
  [
    "us-gov-west-1",
    "https://us-gov-west-1.signin.amazonaws-us-gov.com",
    "https://signin-fips.amazonaws-us-gov.com",
    "https://signin.us-gov-west-1.api.aws",
    "https://signin-fips.us-gov-west-1.api.aws",
  ],
  [
    "us-gov-east-1",
    "https://us-gov-east-1.signin.amazonaws-us-gov.com",
    "https://us-gov-east-1.signin-fips.amazonaws-us-gov.com",
    "https://signin.us-gov-east-1.api.aws",
    "https://signin-fips.us-gov-east-1.api.aws",
  ],
  [
    "us-iso-east-1",
    "https://us-iso-east-1.signin.c2shome.ic.gov",
    "https://signin-fips.us-iso-east-1.c2s.ic.gov",
    "https://signin.us-iso-east-1.api.aws.ic.gov",
    "https://signin-fips.us-iso-east-1.api.aws.ic.gov",
  ],
  [
    "us-isob-east-1",
    "https://us-isob-east-1.signin.sc2shome.sgov.gov",
    "https://signin-fips.us-isob-east-1.sc2s.sgov.gov",
    "https://signin.us-isob-east-1.api.aws.scloud",
    "https://signin-fips.us-isob-east-1.api.aws.scloud",
  ],
  [
    "us-isof-south-1",
    "https://us-isof-south-1.signin.csphome.hci.ic.gov",
    "https://signin-fips.us-isof-south-1.csp.hci.ic.gov",
    "https://signin.us-isof-south-1.api.aws.hci.ic.gov",
    "https://signin-fips.us-isof-south-1.api.aws.hci.ic.gov",
  ],
  [
    "eu-isoe-west-1",
    "https://eu-isoe-west-1.signin.csphome.adc-e.uk",
    "https://signin-fips.eu-isoe-west-1.cloud.adc-e.uk",
    "https://signin.eu-isoe-west-1.api.cloud-aws.adc-e.uk",
    "https://signin-fips.eu-isoe-west-1.api.cloud-aws.adc-e.uk",
  ],
  [
    "eusc-de-east-1",
    "https://eusc-de-east-1.signin.amazonaws-eusc.eu",
    "https://signin-fips.eusc-de-east-1.amazonaws.eu",
    "https://signin.eusc-de-east-1.api.amazonwebservices.eu",
    "https://signin-fips.eusc-de-east-1.api.amazonwebservices.eu",
  ],
  // Unknown names fall back to the aws partition, as the SDK's partition() does.
  [
    "xx-new-1",
    "https://xx-new-1.signin.aws.amazon.com",
    "https://signin-fips.xx-new-1.amazonaws.com",
    "https://signin.xx-new-1.api.aws",
    "https://signin-fips.xx-new-1.api.aws",
  ],
];

for (const [region, plain, fips, dual, both] of PARTITION_ROWS) {
  Deno.test(`signinBaseUrl() for ${region}: default, FIPS, dual-stack`, () => {
    const p = profile();
    assert.equal(signinBaseUrl(env(), { region, profile: p }), plain);
    assert.equal(signinBaseUrl(env(), { region, profile: p, fips: true }), fips);
    assert.equal(signinBaseUrl(env(), { region, profile: p, dualStack: true }), dual);
    assert.equal(signinBaseUrl(env(), { region, profile: p, fips: true, dualStack: true }), both);
    // The same switches from the environment and from the profile.
    assert.equal(
      signinBaseUrl(env({ AWS_USE_FIPS_ENDPOINT: "true" }), { region, profile: p }),
      fips,
    );
    assert.equal(
      signinBaseUrl(env(), { region, profile: profile({ use_dualstack_endpoint: "TRUE" }) }),
      dual,
    );
  });
}

Deno.test("signinBaseUrl() picks the partition by the AWS partitions data, not by prefix alone", () => {
  const p = profile();
  // eusc is only eusc-de-*; the *-global names belong to their partition.
  assert.equal(
    signinBaseUrl(env(), { region: "eusc-fr-south-1", profile: p }),
    "https://eusc-fr-south-1.signin.aws.amazon.com",
  );
  assert.equal(
    signinBaseUrl(env(), { region: "aws-cn-global", profile: p }),
    "https://aws-cn-global.signin.amazonaws.cn",
  );
  assert.equal(
    signinBaseUrl(env(), { region: "us-isob-west-1", profile: p }),
    "https://us-isob-west-1.signin.sc2shome.sgov.gov",
  );
});

Deno.test("signinBaseUrl() flags: the explicit option beats the environment, which beats the profile", () => {
  const region = "us-east-1";
  const p = profile({ use_fips_endpoint: "true" });
  assert.equal(
    signinBaseUrl(env({ AWS_USE_FIPS_ENDPOINT: "false" }), { region, profile: p }),
    "https://us-east-1.signin.aws.amazon.com",
  );
  assert.equal(
    signinBaseUrl(env({ AWS_USE_FIPS_ENDPOINT: "true" }), { region, profile: p, fips: false }),
    "https://us-east-1.signin.aws.amazon.com",
  );
  assert.throws(
    () => signinBaseUrl(env({ AWS_USE_DUALSTACK_ENDPOINT: "yes" }), { region, profile: p }),
    (err) =>
      err instanceof ConfigError && err.code === "ERR_CONFIG_ENDPOINT" &&
      err.message === `AWS_USE_DUALSTACK_ENDPOINT must be "true" or "false", not "yes"`,
  );
});

const SERVICES = {
  kind: "services" as const,
  name: "local",
  keys: { signin: "" },
  subKeys: { signin: { endpoint_url: "http://127.0.0.1:3/svc/" } },
  line: 1,
};

Deno.test("signinBaseUrl() override order: flag, signin variable, global variable, services, profile", () => {
  const region = "us-east-1";
  const p = profile({ services: "local", endpoint_url: "http://127.0.0.1:4/prof" }, SERVICES);
  const vars: Record<string, string> = {
    AWS_ENDPOINT_URL_SIGNIN: "http://127.0.0.1:1/sig/",
    AWS_ENDPOINT_URL: "http://127.0.0.1:2",
  };
  const base = (endpointUrl?: string) =>
    signinBaseUrl(env(vars), { region, profile: p, ...(endpointUrl ? { endpointUrl } : {}) });
  assert.equal(base("https://flag.example/x/"), "https://flag.example/x");
  assert.equal(base(), "http://127.0.0.1:1/sig");
  delete vars.AWS_ENDPOINT_URL_SIGNIN;
  assert.equal(base(), "http://127.0.0.1:2");
  delete vars.AWS_ENDPOINT_URL;
  assert.equal(base(), "http://127.0.0.1:3/svc");
  const noServices = profile({ endpoint_url: "http://127.0.0.1:4/prof" });
  assert.equal(signinBaseUrl(env(), { region, profile: noServices }), "http://127.0.0.1:4/prof");
  // A services section without a signin entry falls through to the profile's endpoint_url.
  const otherService = { ...SERVICES, subKeys: { sts: { endpoint_url: "http://x" } } };
  assert.equal(
    signinBaseUrl(env(), { region, profile: profile(p.keys, otherService) }),
    "http://127.0.0.1:4/prof",
  );
});

Deno.test("signinBaseUrl() ignore flag disables environment and config overrides, not --endpoint-url", () => {
  const region = "us-gov-west-1";
  const p = profile({ services: "local", endpoint_url: "http://127.0.0.1:4" }, SERVICES);
  const vars = {
    AWS_ENDPOINT_URL_SIGNIN: "http://127.0.0.1:1",
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true",
  };
  assert.equal(
    signinBaseUrl(env(vars), { region, profile: p }),
    "https://us-gov-west-1.signin.amazonaws-us-gov.com",
  );
  assert.equal(
    signinBaseUrl(env(vars), { region, profile: p, endpointUrl: "http://127.0.0.1:9" }),
    "http://127.0.0.1:9",
  );
  const fromProfile = profile({
    endpoint_url: "http://127.0.0.1:4",
    ignore_configured_endpoint_urls: "true",
  });
  assert.equal(
    signinBaseUrl(env(), { region, profile: fromProfile }),
    "https://us-gov-west-1.signin.amazonaws-us-gov.com",
  );
  // The variable, when set, beats the profile's setting.
  assert.equal(
    signinBaseUrl(env({ AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "false" }), {
      region,
      profile: fromProfile,
    }),
    "http://127.0.0.1:4",
  );
});

Deno.test("signinBaseUrl() errors: missing services section, bad URL, bad region; a custom endpoint ignores FIPS and dual-stack", () => {
  const isConfig = (code: string, part: string) => (err: unknown) =>
    err instanceof ConfigError && err.code === code && err.message.includes(part);
  assert.throws(
    () => signinBaseUrl(env(), { region: "us-east-1", profile: profile({ services: "gone" }) }),
    isConfig("ERR_CONFIG_ENDPOINT", `names the services section "gone", which does not exist`),
  );
  // A higher override never reads the services section.
  assert.equal(
    signinBaseUrl(env({ AWS_ENDPOINT_URL: "http://127.0.0.1:2" }), {
      region: "us-east-1",
      profile: profile({ services: "gone" }),
    }),
    "http://127.0.0.1:2",
  );
  // As the AWS CLI: a custom endpoint wins, FIPS and dual-stack are ignored (no error).
  assert.equal(
    signinBaseUrl(env({ AWS_ENDPOINT_URL: "http://127.0.0.1:2", AWS_USE_FIPS_ENDPOINT: "true" }), {
      region: "us-east-1",
      profile: profile(),
    }),
    "http://127.0.0.1:2",
  );
  assert.equal(
    signinBaseUrl(env(), {
      region: "us-east-1",
      profile: profile({ use_dualstack_endpoint: "true", use_fips_endpoint: "true" }),
      endpointUrl: "http://127.0.0.1:2",
    }),
    "http://127.0.0.1:2",
  );
  for (const url of ["not a url", "ftp://h/", "http://h/?q=1"]) {
    assert.throws(
      () =>
        signinBaseUrl(env({ AWS_ENDPOINT_URL_SIGNIN: url }), {
          region: "us-east-1",
          profile: profile(),
        }),
      isConfig("ERR_CONFIG_ENDPOINT", `in AWS_ENDPOINT_URL_SIGNIN`),
    );
  }
  for (const region of ["US-EAST-1", "us_east_1", "a.b", "-us-east-1", "us-east-1/x"]) {
    assert.throws(
      () => signinBaseUrl(env(), { region, profile: profile() }),
      isConfig("ERR_CONFIG_REGION", `Invalid region "${region}"`),
    );
  }
  assert.throws(
    () => signinBaseUrl(env(), { region: "", profile: profile() }),
    isConfig("ERR_CONFIG_REGION", "No region is configured"),
  );
});

Deno.test("loadProfile() merges credentials-file keys over config keys, and finds its services", async () => {
  await withSharedFiles({
    config: "[profile a]\nregion = eu-west-1\nlogin_session = from-config\nservices = s\n\n" +
      "[services s]\nsignin =\n  endpoint_url = http://127.0.0.1:5\n",
    credentials: "[a]\nlogin_session = from-credentials\n[only]\nk = v\n",
  }, async ({ credentials }, e) => {
    const a = await loadProfile(e, "a");
    assert.deepEqual(a.keys, {
      region: "eu-west-1",
      login_session: "from-credentials",
      services: "s",
    });
    assert.equal(a.exists, true);
    assert.equal(a.services?.name, "s");
    assert.equal(signinBaseUrl(e, { region: "eu-west-1", profile: a }), "http://127.0.0.1:5");
    const only = await loadProfile(e, "only");
    assert.deepEqual([only.exists, only.keys], [true, { k: "v" }]);
    const none = await loadProfile(e, "none");
    assert.deepEqual([none.exists, none.keys, none.services], [false, {}, undefined]);
    // A syntax error in either file surfaces as a ConfigError naming it.
    await Deno.writeTextFile(credentials, "k = v\n");
    await assert.rejects(
      () => loadProfile(e, "a"),
      (err) =>
        err instanceof ConfigError && err.code === "ERR_CONFIG_SYNTAX" &&
        err.message.startsWith(`Cannot parse "${credentials}", line 1:`),
    );
  });
});

Deno.test("profile_session: credentials-file sessions are listed, and syntax errors surface as ConfigError", async () => {
  const { listLoginSessions, loadProfileSession } = await import(
    "../../lib/session/profile_session.ts"
  );
  await withSharedFiles({
    config: "[profile a]\nlogin_session = arn:a\n[profile b]\nregion = eu-west-1\n",
    credentials: "[c]\nlogin_session = arn:c\n[b]\nlogin_session = arn:b\n",
  }, async ({ config }, e) => {
    const sessions = await listLoginSessions(e);
    assert.deepEqual(sessions.map((s) => [s.profile, s.loginSession, s.profileRegion]), [
      ["a", "arn:a", undefined],
      ["b", "arn:b", "eu-west-1"],
      ["c", "arn:c", undefined],
    ]);
    await Deno.writeTextFile(config, "[profile a]\nlogin_session = arn:a\n[profile b\n");
    // A profile's look-up reads its own sections (and a header that names it), not the others.
    assert.equal((await loadProfileSession(e, "a")).loginSession, "arn:a");
    for (const run of [() => listLoginSessions(e), () => loadProfileSession(e, "b")]) {
      await assert.rejects(
        run,
        (err) =>
          err instanceof ConfigError && err.code === "ERR_CONFIG_SYNTAX" &&
          err.message.startsWith(`Cannot parse "${config}", line 3:`),
      );
    }
  });
});

Deno.test("signinBaseUrl() accepts plain http:// only for a loopback host, from every source", () => {
  const region = "us-east-1";
  const sources: [string, (url: string) => string][] = [
    [
      "--endpoint-url",
      (url) => signinBaseUrl(env(), { region, profile: profile(), endpointUrl: url }),
    ],
    [
      "AWS_ENDPOINT_URL_SIGNIN",
      (url) => signinBaseUrl(env({ AWS_ENDPOINT_URL_SIGNIN: url }), { region, profile: profile() }),
    ],
    [
      "AWS_ENDPOINT_URL",
      (url) => signinBaseUrl(env({ AWS_ENDPOINT_URL: url }), { region, profile: profile() }),
    ],
    ["[services local]", (url) =>
      signinBaseUrl(env(), {
        region,
        profile: profile({ services: "local" }, {
          ...SERVICES,
          subKeys: { signin: { endpoint_url: url } },
        }),
      })],
    [
      '"endpoint_url" in profile "p"',
      (url) => signinBaseUrl(env(), { region, profile: profile({ endpoint_url: url }) }),
    ],
  ];
  for (const [source, resolve] of sources) {
    for (
      const url of [
        "http://example.com",
        "http://10.0.0.1:4566/x",
        "http://localhost.evil.com",
        "http://127.0.0.1.nip.io",
        "http://127.evil.com",
        "http://[::2]:1",
      ]
    ) {
      assert.throws(
        () => resolve(url),
        (err) =>
          err instanceof ConfigError && err.code === "ERR_CONFIG_ENDPOINT" &&
          err.message.startsWith(`Refusing the endpoint URL "${url}" in `) &&
          err.message.includes(source) && err.message.includes("plain http://"),
        `${source} ${url}`,
      );
    }
    for (
      const [url, base] of [
        ["http://127.0.0.1:8000/", "http://127.0.0.1:8000"],
        ["http://LOCALHOST:4566", "http://localhost:4566"],
        ["http://[::1]:8000/", "http://[::1]:8000"],
        ["https://example.com/signin/", "https://example.com/signin"],
      ]
    ) {
      assert.equal(resolve(url!), base, `${source} ${url}`);
    }
    // Loopback, but not in the permission set: refused here, not by Deno after the browser opened.
    for (const url of ["http://127.1.2.3:1/pfx", "https://127.0.0.2:8443", "http://127.0.0.53"]) {
      assert.throws(
        () => resolve(url),
        (err) =>
          err instanceof ConfigError && err.code === "ERR_CONFIG_ENDPOINT" &&
          err.message.startsWith(`Refusing the endpoint URL "${url}" in `) &&
          err.message.includes(source) &&
          err.message.endsWith(
            ": aws-login may connect to this machine only as 127.0.0.1, localhost, [::1] (its " +
              "Deno permission set). Use one of those",
          ),
        `${source} ${url}`,
      );
    }
  }
});

Deno.test("signinEndpoint() names the setting a custom endpoint came from, none for the default", () => {
  const p = profile({ endpoint_url: "https://p.example" });
  assert.deepEqual(
    signinEndpoint(env({ AWS_ENDPOINT_URL: "https://e.example/" }), {
      region: "eu-west-1",
      profile: p,
    }),
    { url: "https://e.example", source: "AWS_ENDPOINT_URL" },
  );
  assert.deepEqual(signinEndpoint(env(), { region: "eu-west-1", profile: p }), {
    url: "https://p.example",
    source: '"endpoint_url" in profile "p"',
  });
  assert.deepEqual(signinEndpoint(env(), { region: "eu-west-1", profile: profile() }), {
    url: "https://eu-west-1.signin.aws.amazon.com",
  });
  // The parsed URL, not the text: a line break in a setting never reaches a message or the cache.
  assert.equal(
    signinEndpoint(env({ AWS_ENDPOINT_URL_SIGNIN: "https://e.exa\nmple/a\tb/" }), {
      region: "eu-west-1",
      profile: profile(),
    }).url,
    "https://e.example/ab",
  );
});
