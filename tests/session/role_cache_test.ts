import assert from "node:assert/strict";
import {
  formatRoleExpiration,
  serializeRoleCacheEntry,
  writeRoleCacheEntry,
} from "../../lib/session/role_cache.ts";
import {
  parseRoleCacheEntry,
  parseRoleExpiration,
  readRoleCacheEntry,
  roleCacheKey,
  roleCachePath,
} from "../../lib/session/role_credentials.ts";

/**
 * Keys computed by the AWS CLI's own algorithm: botocore 1.x
 * `AssumeRoleCredentialFetcher(...)._cache_key` (python3), i.e.
 * `sha1(json.dumps(args, sort_keys=True).encode('utf-8')).hexdigest()`.
 */
const CLI_KEYS: [Record<string, string | number>, string][] = [
  [{ RoleArn: "arn:aws:iam::222222222222:role/Admin" }, "ca2ea1691dab30cf77d8c8376bc83724d49406a4"],
  [
    { RoleArn: "arn:aws:iam::222222222222:role/Admin", RoleSessionName: "Alice" },
    "6942bac79901b633e6f1f1ea9f1dd75cbf56dcf8",
  ],
  [
    { RoleArn: "arn:aws:iam::222222222222:role/Admin", ExternalId: "ext-123" },
    "fd372b3e1bfeb86a3df94b9f73c32a653079cbf8",
  ],
  [
    {
      RoleArn: "arn:aws:iam::222222222222:role/Admin",
      SerialNumber: "arn:aws:iam::111111111111:mfa/Alice",
      DurationSeconds: 7200,
    },
    "5b6569ae35c24396b0c81982df954a95dfaf7b36",
  ],
  [
    {
      RoleArn: "arn:aws:iam::333333333333:role/Audit",
      RoleSessionName: "ops-\u00e9",
      ExternalId: 'x"y\\z',
      SerialNumber: "GAHT12345678",
      DurationSeconds: 900,
    },
    "c9f7f89508d41e6feffdd76b12d794a7d8021be0",
  ],
  [
    {
      RoleArn: "arn:aws-cn:iam::444444444444:role/path/to/R",
      DurationSeconds: 43200,
      RoleSessionName: "a+b=c,d.e@f-g",
    },
    "d2229abf404ff4ce1ce31dc116f3f09db115678c",
  ],
  [
    { RoleArn: "arn:aws:iam::222222222222:role/Admin", ExternalId: "\u{1F600}" },
    "15bf61628bc84ba2174a96d98c8a3bbd78ec5987",
  ],
];

for (const [args, key] of CLI_KEYS) {
  Deno.test(`roleCacheKey() matches the AWS CLI for ${Object.keys(args).join("+")}`, async () => {
    assert.equal(await roleCacheKey(args as never), key);
  });
}

Deno.test("roleCachePath() is ~/.aws/cli/cache/<key>.json", async () => {
  const env = { get: (n: string) => ({ HOME: "/home/a" } as Record<string, string>)[n] };
  assert.equal(
    await roleCachePath(env, { RoleArn: "arn:aws:iam::222222222222:role/Admin" }),
    "/home/a/.aws/cli/cache/ca2ea1691dab30cf77d8c8376bc83724d49406a4.json",
  );
});

Deno.test("role expirations: the CLI's …UTC form, RFC 3339 …Z and offsets", () => {
  const ms = Date.UTC(2026, 11, 6, 21, 0, 0);
  assert.equal(parseRoleExpiration("2026-12-06T21:00:00UTC"), ms);
  assert.equal(parseRoleExpiration("2026-12-06T21:00:00Z"), ms);
  assert.equal(parseRoleExpiration("2026-12-06T22:00:00+01:00"), ms);
  assert.equal(parseRoleExpiration("2026-12-06T21:00:00.000Z"), ms);
  assert.ok(Number.isNaN(parseRoleExpiration("tomorrow")));
  assert.ok(Number.isNaN(parseRoleExpiration("2026-12-06T21:00:00")));
  assert.equal(formatRoleExpiration(ms + 999), "2026-12-06T21:00:00UTC");
});

const ROLE = {
  accessKeyId: "ASIAROLE",
  secretAccessKey: "SECRETroleKEY",
  sessionToken: "ROLEtoken",
  accountId: "222222222222",
  expiresAtMs: Date.UTC(2026, 11, 6, 21, 0, 0),
  assumedRoleArn: "arn:aws:sts::222222222222:assumed-role/Admin/Alice",
  assumedRoleId: "AROAEXAMPLE:Alice",
  requestId: "req-1",
};

Deno.test("serializeRoleCacheEntry() writes the CLI's layout, and it reads back", () => {
  const text = serializeRoleCacheEntry(ROLE);
  assert.equal(
    text,
    '{"Credentials": {"AccessKeyId": "ASIAROLE", "SecretAccessKey": "SECRETroleKEY", ' +
      '"SessionToken": "ROLEtoken", "Expiration": "2026-12-06T21:00:00UTC", ' +
      '"AccountId": "222222222222"}, "AssumedRoleUser": {"AssumedRoleId": "AROAEXAMPLE:Alice", ' +
      '"Arn": "arn:aws:sts::222222222222:assumed-role/Admin/Alice"}, "ResponseMetadata": ' +
      '{"RequestId": "req-1", "HTTPStatusCode": 200, "HTTPHeaders": {}, "RetryAttempts": 0}}',
  );
  const back = parseRoleCacheEntry(text, "x.json");
  assert.equal(back.accessKeyId, "ASIAROLE");
  assert.equal(back.expiresAtMs, ROLE.expiresAtMs);
  assert.equal(back.accountId, "222222222222");
  assert.equal(back.assumedRoleArn, ROLE.assumedRoleArn);
});

Deno.test("parseRoleCacheEntry() takes the account from the ARN when AccountId is absent (…Z form)", () => {
  const entry = parseRoleCacheEntry(
    JSON.stringify({
      Credentials: {
        AccessKeyId: "A",
        SecretAccessKey: "S",
        SessionToken: "T",
        Expiration: "2026-12-06T21:00:00Z",
      },
      AssumedRoleUser: { Arn: "arn:aws:sts::333333333333:assumed-role/R/s" },
    }),
    "x.json",
  );
  assert.equal(entry.accountId, "333333333333");
});

Deno.test("parseRoleCacheEntry() names bad fields, never values", () => {
  assert.throws(
    () =>
      parseRoleCacheEntry(
        JSON.stringify({ Credentials: { AccessKeyId: "SECRETVALUE", Expiration: "soon" } }),
        "x.json",
      ),
    (err: Error) => {
      assert.match(err.message, /Credentials\.SecretAccessKey/);
      assert.doesNotMatch(err.message, /SECRETVALUE/);
      return true;
    },
  );
});

Deno.test({
  name: "writeRoleCacheEntry() writes 0600 in a new 0700 directory; a damaged entry reads as none",
  ignore: Deno.build.os === "windows",
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/cli/cache/k.json`;
      writeRoleCacheEntry(path, ROLE);
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(`${dir}/cli/cache`)).mode! & 0o777, 0o700);
      assert.equal((await readRoleCacheEntry(path))?.sessionToken, "ROLEtoken");
      await Deno.writeTextFile(path, "{");
      assert.equal(await readRoleCacheEntry(path), undefined);
      assert.equal(await readRoleCacheEntry(`${dir}/none.json`), undefined);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("an unsafe role cache entry is refused as a role cache, with its own way out (not a login)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/big.json`;
    await Deno.writeTextFile(path, " ".repeat(1_100_000), { mode: 0o600 });
    await assert.rejects(() => readRoleCacheEntry(path), (err: Error) => {
      assert.equal((err as { code?: string }).code, "ERR_CACHE_UNSAFE");
      assert.match(err.message, /^Cannot read the role cache ".*big\.json": .*larger/);
      assert.match(err.message, /Remove it: the role is assumed again when next used/);
      assert.doesNotMatch(err.message, /token cache|aws-login login/);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
