import assert from "node:assert/strict";
import { CacheError } from "../../lib/errors.ts";
import {
  type CachedLoginToken,
  cacheFileName,
  cacheFilePath,
  checkCacheWritable,
  expiresAtMs,
  formatExpiresAt,
  parseCachedToken,
  readCachedToken,
  removeCachedToken,
  secureCacheDir,
  serializeCachedToken,
  writeCachedToken,
} from "../../lib/session/token_cache.ts";
import { readCacheFile } from "../../lib/session/cache_read.ts";
import { withCacheLock } from "../../lib/session/cache_lock.ts";
import { type BoundedChild, outputBounded, spawnBounded } from "../helpers/bounded.ts";
import { foreignOwner, giveAway } from "../helpers/foreign_owner.ts";
import {
  canFillDisk,
  canMakeReadOnly,
  withFullDisk,
  withReadOnlyDir,
} from "../helpers/fs_faults.ts";

const posix = Deno.build.os !== "windows";
const SECRETS = ["SECRETKEYvalue", "SESSIONtokenVALUE", "REFRESHtokenVALUE", "DPOPkeyVALUE"];

function sample(extra: Record<string, unknown> = {}): CachedLoginToken {
  return {
    accessToken: {
      accessKeyId: "ASIAEXAMPLE",
      secretAccessKey: SECRETS[0]!,
      sessionToken: SECRETS[1]!,
      accountId: "123456789012",
      expiresAt: "2025-11-19T00:15:00Z",
    },
    tokenType: "aws_sigv4",
    clientId: "arn:aws:signin:::devtools/same-device",
    refreshToken: SECRETS[2]!,
    idToken: "h.p.s",
    dpopKey: SECRETS[3]!,
    ...extra,
  };
}

Deno.test("cacheFileName() is the sha256 of the login session (docs/PROTOCOL.md §12 vectors)", async () => {
  assert.equal(
    await cacheFileName("arn:aws:sts::012345678910:assumed-role/Admin/admin"),
    "4b0ba8f99f075c0633e122fd73346ce203a3faf18ea0310eb2d29df1bab2e255.json",
  );
  assert.equal(
    await cacheFileName("arn:aws:iam::123456789012:user/Alice"),
    "67f119a748e39fbe7e9b5e37b3cb10159423c843a3272800b8a2b1bd03d95a04.json",
  );
  assert.equal(
    await cacheFileName(" arn:aws:iam::123456789012:user/Alice\n"),
    "67f119a748e39fbe7e9b5e37b3cb10159423c843a3272800b8a2b1bd03d95a04.json",
  );
});

Deno.test({
  name: "cacheFilePath() uses AWS_LOGIN_CACHE_DIRECTORY, else ~/.aws/login/cache",
  ignore: !posix,
  async fn() {
    const arn = "arn:aws:iam::123456789012:user/Alice";
    const name = await cacheFileName(arn);
    const env = (v: Record<string, string>) => ({ get: (k: string) => v[k] });
    assert.equal(await cacheFilePath(env({ HOME: "/h" }), arn), `/h/.aws/login/cache/${name}`);
    assert.equal(
      await cacheFilePath(env({ HOME: "/h", AWS_LOGIN_CACHE_DIRECTORY: "/c" }), arn),
      `/c/${name}`,
    );
  },
});

Deno.test("writeCachedToken() writes one line in the CLI's key order, unknown fields kept, 0600/0700", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/cache/x.json`;
    const token = sample({ signInRegion: "eu-west-1", futureField: { a: 1 } });
    // Deliberately scrambled key order in memory.
    const scrambled = Object.fromEntries(Object.entries(token).reverse());
    writeCachedToken(path, scrambled as CachedLoginToken);
    const text = await Deno.readTextFile(path);
    assert.ok(!text.includes("\n"));
    assert.deepEqual(Object.keys(JSON.parse(text)), [
      "accessToken",
      "tokenType",
      "clientId",
      "refreshToken",
      "idToken",
      "dpopKey",
      "signInRegion",
      "futureField",
    ]);
    assert.deepEqual(Object.keys(JSON.parse(text).accessToken), [
      "accessKeyId",
      "secretAccessKey",
      "sessionToken",
      "accountId",
      "expiresAt",
    ]);
    assert.deepEqual(await readCachedToken(path), JSON.parse(text));
    if (posix) {
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(`${dir}/cache`)).mode! & 0o777, 0o700);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseCachedToken() reads the CLI, JS and Go SDK styles", () => {
  const cli = parseCachedToken(JSON.stringify(sample()), "f");
  assert.equal(expiresAtMs(cli), Date.UTC(2025, 10, 19, 0, 15));
  const js = sample();
  js.accessToken.expiresAt = "2025-11-19T00:15:00.123Z";
  assert.equal(
    expiresAtMs(parseCachedToken(JSON.stringify(js, null, 2), "f")),
    Date.UTC(2025, 10, 19, 0, 15, 0, 123),
  );
  const { idToken: _, ...goBase } = sample();
  const go = { ...goBase, identityToken: "g.o.t" };
  go.accessToken.expiresAt = "2025-11-19T02:15:00.5+02:00";
  const parsed = parseCachedToken(JSON.stringify(go), "f");
  assert.equal(parsed.idToken, "g.o.t");
  assert.equal(expiresAtMs(parsed), Date.UTC(2025, 10, 19, 0, 15, 0, 500));
});

Deno.test("formatExpiresAt() writes whole seconds with Z, like the AWS CLI", () => {
  assert.equal(formatExpiresAt(Date.UTC(2025, 10, 19, 0, 15, 0, 999)), "2025-11-19T00:15:00Z");
});

Deno.test("readCachedToken() names a missing file and suggests login", async () => {
  await assert.rejects(() => readCachedToken("/nonexistent/x.json"), (err) => {
    assert.ok(err instanceof CacheError);
    assert.equal(err.code, "ERR_CACHE_MISSING");
    assert.equal(err.exitCode, 4);
    assert.match(err.message, /"\/nonexistent\/x\.json".*aws-login login/);
    return true;
  });
});

Deno.test("parseCachedToken() refuses empty, truncated and incomplete files without echoing secrets", () => {
  const full = JSON.stringify(sample());
  const { refreshToken: _r, dpopKey: _d, ...incomplete } = sample();
  const noSecret = sample();
  (noSecret.accessToken as unknown as Record<string, unknown>).secretAccessKey = undefined;
  const badTime = sample();
  badTime.accessToken.expiresAt = "tomorrow";
  const cases: [string, RegExp][] = [
    ["", /it is empty/],
    [full.slice(0, full.length / 2), /not valid JSON/],
    ["[]", /not a JSON object/],
    [JSON.stringify(incomplete), /missing or invalid refreshToken, dpopKey\./],
    [JSON.stringify(noSecret), /missing or invalid accessToken\.secretAccessKey\./],
    [JSON.stringify(badTime), /accessToken\.expiresAt \(not an RFC 3339 time\)/],
    [JSON.stringify({ ...sample(), accessToken: "x" }), /missing or invalid accessToken\./],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseCachedToken(text, "/c/f.json"), (err) => {
      assert.ok(err instanceof CacheError);
      assert.equal(err.code, "ERR_CACHE_CORRUPT");
      assert.match(err.message, /^Cannot read token cache "\/c\/f\.json": /);
      assert.match(err.message, message);
      assert.match(err.message, /Run "aws-login login" again\.$/);
      for (const secret of SECRETS) assert.ok(!err.message.includes(secret));
      return true;
    });
  }
});

Deno.test({
  name: "writeCachedToken() into a read-only directory fails clearly and keeps the old file",
  ignore: !canMakeReadOnly,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/t.json`;
      await withReadOnlyDir(dir, () => writeCachedToken(path, sample()), async () => {
        const before = await Deno.readTextFile(path);
        assert.throws(() => writeCachedToken(path, sample({ x: 1 })), (err) => {
          assert.ok(err instanceof CacheError);
          assert.equal(err.code, "ERR_CACHE_IO");
          assert.match(err.message, /^Cannot write token cache ".*t\.json"/);
          return true;
        });
        assert.equal(await Deno.readTextFile(path), before);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "writeCachedToken() on a full disk keeps the old file whole and valid, no temp file left",
  ignore: !canFillDisk,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/t.json`;
      const old = sample();
      // Far larger than the old file: an in-place rewrite would run out of space halfway.
      const large = sample();
      large.accessToken.sessionToken = "S".repeat(64 * 1024);
      await withFullDisk(dir, () => writeCachedToken(path, old), async () => {
        const before = await Deno.readTextFile(path);
        assert.throws(() => writeCachedToken(path, large), (err) => {
          assert.ok(err instanceof CacheError);
          assert.equal(err.code, "ERR_CACHE_IO");
          assert.match(err.message, /^Cannot write token cache ".*t\.json"/);
          return true;
        });
        assert.equal(await Deno.readTextFile(path), before);
        assert.deepEqual(await readCachedToken(path), old);
        assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
          ".filler",
          "t.json",
        ]);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "secureCacheDir() makes the user's directory open to others 0700 and says so once",
  ignore: !posix,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.chmod(dir, 0o700);
      assert.equal(secureCacheDir(dir), undefined);
      await Deno.chmod(dir, 0o757);
      assert.equal(
        secureCacheDir(dir),
        `The login cache directory "${dir}" was open to other users (mode 757); ` +
          "aws-login changed it to 700",
      );
      assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
      assert.equal(secureCacheDir(dir), undefined, "nothing more to say");
      assert.equal(secureCacheDir(`${dir}/missing`), undefined);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "secureCacheDir() reports, and leaves alone, another user's directory open to others",
  ignore: !posix,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.chmod(dir, 0o777);
      using _theirs = giveAway(dir);
      assert.match(
        secureCacheDir(dir)!,
        /is open to other users \(mode 777\) and belongs to another user: use one of your own$/,
      );
      assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o777);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Spawns a `deno eval` child that takes the lock, prints "locked", holds it for `holdMs`. */
function lockHolder(path: string, holdMs: number): BoundedChild {
  const module = new URL("../../lib/session/cache_lock.ts", import.meta.url).href;
  const code = `
    const { withCacheLock } = await import(${JSON.stringify(module)});
    await withCacheLock(${JSON.stringify(path)}, async () => {
      console.log("locked " + Date.now());
      await new Promise((r) => setTimeout(r, ${holdMs}));
      console.log("unlocked " + Date.now());
    });`;
  return spawnBounded(Deno.execPath(), {
    args: ["eval", "-q", code],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  });
}

/** Reads a child's stdout line by line. */
function lines(child: BoundedChild) {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    async next(): Promise<string> {
      while (!buffer.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) return buffer;
        buffer += value;
      }
      const i = buffer.indexOf("\n");
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      return line;
    },
    cancel: () => reader.cancel().catch(() => {}),
  };
}

Deno.test("withCacheLock() excludes another process until it releases", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.json`;
    await using holder = lockHolder(path, 600);
    const out = lines(holder);
    assert.match(await out.next(), /^locked/);
    let entered = 0;
    await withCacheLock(path, () => {
      entered = Date.now();
      return Promise.resolve();
    });
    const unlocked = Number((await out.next()).match(/unlocked (\d+)/)![1]);
    await holder.status;
    assert.ok(entered >= unlocked, "the second locker entered only after the first unlocked");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "withCacheLock() is not stuck after the holder is killed with SIGKILL",
  ignore: !posix,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/t.json`;
      await using holder = lockHolder(path, 60_000);
      const out = lines(holder);
      assert.match(await out.next(), /^locked/);
      holder.kill("SIGKILL");
      await holder.status;
      await out.cancel();
      const result = await withCacheLock(path, () => Promise.resolve("got it"), {
        timeoutMs: 5000,
      });
      assert.equal(result, "got it");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("withCacheLock() asks whenReleased once the holder lets go, and then needs no lock", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.json`;
    const holder = lockHolder(path, 600);
    const out = lines(holder);
    assert.match(await out.next(), /^locked/);
    let askedAt = 0;
    const result = await withCacheLock(path, () => Promise.resolve("ran fn"), {
      whenReleased: () => {
        askedAt = Date.now();
        return Promise.resolve("the holder's result");
      },
    });
    const unlocked = Number((await out.next()).match(/unlocked (\d+)/)![1]);
    await holder.status;
    assert.equal(result, "the holder's result");
    assert.ok(askedAt >= unlocked, "asked only after the holder released the lock");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("withCacheLock() takes the lock itself when whenReleased has no answer", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.json`;
    const holder = lockHolder(path, 300);
    const out = lines(holder);
    assert.match(await out.next(), /^locked/);
    let asked = 0;
    const result = await withCacheLock(path, () => Promise.resolve("ran fn"), {
      whenReleased: () => Promise.resolve(void asked++),
    });
    await holder.status;
    await out.cancel();
    assert.equal(result, "ran fn");
    assert.equal(asked, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("withCacheLock() gives up with ERR_CACHE_LOCK after its timeout", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.json`;
    await using holder = lockHolder(path, 3000);
    const out = lines(holder);
    assert.match(await out.next(), /^locked/);
    await assert.rejects(
      () => withCacheLock(path, () => Promise.resolve(), { timeoutMs: 200 }),
      (err) => err instanceof CacheError && err.code === "ERR_CACHE_LOCK",
    );
    holder.kill("SIGKILL");
    await holder.status;
    await out.cancel();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A small seeded PRNG (mulberry32) so a failing fuzz case can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FUZZ_SEED = 20261124;

Deno.test(`parseCachedToken() only ever throws CacheError on random input (seed ${FUZZ_SEED})`, () => {
  const random = prng(FUZZ_SEED);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const value = (depth: number): unknown => {
    switch (Math.floor(random() * (depth > 2 ? 5 : 7))) {
      case 0:
        return null;
      case 1:
        return random() < 0.5;
      case 2:
        return Math.floor(random() * 1e6) - 5e5;
      case 3:
        return pick(["", "x", "2025-11-19T00:15:00Z", "arn:aws:iam::1:user/x", "\u0000"]);
      case 4:
        return [];
      case 5:
        return Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1));
      default: {
        const keys = [
          "accessToken",
          "accessKeyId",
          "secretAccessKey",
          "sessionToken",
          "accountId",
          "expiresAt",
          "clientId",
          "refreshToken",
          "dpopKey",
          "idToken",
          "identityToken",
          "tokenType",
          "signInRegion",
          "constructor",
          "x",
        ];
        const o: Record<string, unknown> = {};
        for (let i = Math.floor(random() * 8); i > 0; i--) o[pick(keys)] = value(depth + 1);
        return o;
      }
    }
  };
  const full = JSON.stringify(sample());
  const deadline = Date.now() + 1500;
  for (let i = 0; i < 2000 && Date.now() < deadline; i++) {
    const kind = i % 3;
    let text: string;
    if (kind === 0) text = JSON.stringify(value(0));
    else if (kind === 1) {
      text = String.fromCharCode(
        ...Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256)),
      );
    } else {
      // A valid file with one random cut or one byte changed.
      const at = Math.floor(random() * full.length);
      text = random() < 0.5
        ? full.slice(0, at)
        : full.slice(0, at) + pick(["}", '"', "x", ",", "["]) + full.slice(at + 1);
    }
    try {
      parseCachedToken(text, "fuzz.json");
    } catch (err) {
      assert.ok(err instanceof CacheError, `case ${i}: ${err}`);
      assert.equal(err.code, "ERR_CACHE_CORRUPT");
    }
  }
});

// --- Fixtures from the three writers (tests/session/testdata/) and exact messages. ---

const TESTDATA = new URL("./testdata/", import.meta.url);
const fixture = (name: string) => new URL(name, TESTDATA).pathname;
const FIXTURE_SECRETS = ["SECRETkeyVALUE", "SESSIONtokenVALUE", "REFRESHtokenVALUE", "MHcCAQEE"];
const CLI_SUB_TOKEN = (await Deno.readTextFile(
  new URL("../signin/testdata/cli_id_token.jwt", import.meta.url),
)).trim();

Deno.test("readCachedToken() reads the AWS CLI's one-line file and writes it back byte for byte", async () => {
  const text = await Deno.readTextFile(fixture("cli_cache.json"));
  const token = await readCachedToken(fixture("cli_cache.json"));
  assert.equal(token.accessToken.accessKeyId, "ASIACLIEXAMPLE");
  assert.equal(token.accessToken.accountId, "012345678910");
  assert.equal(token.clientId, "arn:aws:signin:::devtools/same-device");
  assert.equal(token.idToken, CLI_SUB_TOKEN);
  assert.match(token.dpopKey, /^-----BEGIN EC PRIVATE KEY-----\n/);
  assert.equal(expiresAtMs(token), Date.UTC(2025, 10, 19, 0, 15));
  assert.equal(serializeCachedToken(token), text);
  const dir = await Deno.makeTempDir();
  try {
    writeCachedToken(`${dir}/copy.json`, token);
    assert.equal(await Deno.readTextFile(`${dir}/copy.json`), text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readCachedToken() reads the JS SDK's 2-space file with millisecond times and signInRegion", async () => {
  const token = await readCachedToken(fixture("js_cache.json"));
  assert.equal(token.accessToken.accessKeyId, "ASIAJSEXAMPLE");
  assert.equal(token.signInRegion, "eu-west-1");
  assert.equal(token.clientId, "arn:aws:signin:::devtools/cross-device");
  assert.equal(expiresAtMs(token), Date.UTC(2025, 10, 19, 0, 15, 0, 123));
  // Written back in the CLI's layout, every field kept.
  const back = JSON.parse(serializeCachedToken(token));
  assert.deepEqual(back, JSON.parse(await Deno.readTextFile(fixture("js_cache.json"))));
  assert.deepEqual(Object.keys(back), [
    "accessToken",
    "tokenType",
    "clientId",
    "refreshToken",
    "idToken",
    "dpopKey",
    "signInRegion",
  ]);
});

Deno.test("readCachedToken() reads the Go SDK's file: identityToken and a +02:00 offset", async () => {
  const token = await readCachedToken(fixture("go_cache.json"));
  assert.equal(token.idToken, CLI_SUB_TOKEN);
  assert.equal(token.identityToken, CLI_SUB_TOKEN);
  // 02:15:00.123456789+02:00 is 00:15:00.123Z (sub-millisecond digits dropped).
  assert.equal(expiresAtMs(token), Date.UTC(2025, 10, 19, 0, 15, 0, 123));
  // Both names are written back, so the CLI, the JS SDK and the Go SDK all find the ID token.
  const back = JSON.parse(serializeCachedToken(token));
  assert.equal(back.idToken, CLI_SUB_TOKEN);
  assert.equal(back.identityToken, CLI_SUB_TOKEN);
});

Deno.test("writeCachedToken() keeps unknown fields, also inside accessToken, after the known ones", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.json`;
    const token = sample({ zNew: [1, "two", { three: null }], aNew: true });
    token.accessToken = { zExtra: "z", ...token.accessToken, aExtra: 7 };
    writeCachedToken(path, token);
    const text = await Deno.readTextFile(path);
    const back = await readCachedToken(path);
    assert.deepEqual(back, token);
    assert.deepEqual(Object.keys(back).slice(-2), ["zNew", "aNew"]);
    assert.deepEqual(Object.keys(back.accessToken), [
      "accessKeyId",
      "secretAccessKey",
      "sessionToken",
      "accountId",
      "expiresAt",
      "zExtra",
      "aExtra",
    ]);
    assert.ok(text.includes('"zNew": [1, "two", {"three": null}], "aNew": true}'));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serializeCachedToken() writes Python json.dumps spacing and ASCII escapes, like the CLI", () => {
  const text = serializeCachedToken(sample({ note: "é\u007f\n😀" }));
  assert.ok(text.startsWith('{"accessToken": {"accessKeyId": "ASIAEXAMPLE", "secretAccessKey": '));
  assert.ok(text.endsWith(', "note": "\\u00e9\\u007f\\n\\ud83d\\ude00"}'));
  assert.equal(JSON.parse(text).note, "é\u007f\n😀");
});

Deno.test("parseCachedToken() names every missing field, never a value", () => {
  const text = JSON.stringify({
    accessToken: { accessKeyId: "ASIA", secretAccessKey: "", sessionToken: 42, expiresAt: "x" },
    clientId: "c",
    refreshToken: null,
    idToken: FIXTURE_SECRETS[2],
  });
  assert.throws(() => parseCachedToken(text, "/c/f.json"), (err) => {
    assert.ok(err instanceof CacheError);
    assert.equal(err.code, "ERR_CACHE_CORRUPT");
    assert.equal(
      err.message,
      'Cannot read token cache "/c/f.json": missing or invalid accessToken.secretAccessKey, ' +
        "accessToken.sessionToken, accessToken.accountId, accessToken.expiresAt (not an RFC 3339 " +
        'time), refreshToken, dpopKey. Run "aws-login login" again.',
    );
    return true;
  });
});

Deno.test("parseCachedToken() gives exact messages for empty, truncated and non-object files", () => {
  const cases: [string, string][] = [
    ["  \n", "it is empty"],
    [
      '{"accessToken": {"accessKeyId": "ASIA", "secretAccessKey": "SECRETkeyVALUE',
      "it is not valid JSON (truncated or damaged)",
    ],
    ["null", "it is not a JSON object"],
    ['"SESSIONtokenVALUE"', "it is not a JSON object"],
  ];
  for (const [text, why] of cases) {
    assert.throws(() => parseCachedToken(text, "/c/f.json"), (err) => {
      assert.ok(err instanceof CacheError);
      assert.equal(err.code, "ERR_CACHE_CORRUPT");
      assert.equal(
        err.message,
        `Cannot read token cache "/c/f.json": ${why}. Run "aws-login login" again.`,
      );
      assert.equal(err.cause, undefined); // a parser error would quote the secret text
      for (const secret of FIXTURE_SECRETS) assert.ok(!err.message.includes(secret));
      return true;
    });
  }
});

Deno.test("parseCachedToken() drops optional fields of the wrong type instead of failing", () => {
  const token = parseCachedToken(
    JSON.stringify({
      ...sample(),
      tokenType: 1,
      idToken: null,
      signInRegion: {},
      signInEndpoint: ["x"],
    }),
    "f",
  );
  assert.equal("signInEndpoint" in token, false);
  assert.equal("tokenType" in token, false);
  assert.equal("idToken" in token, false);
  assert.equal("signInRegion" in token, false);
});

Deno.test("readCachedToken() names the session and the file when there is none", async () => {
  await assert.rejects(
    () =>
      readCachedToken("/nonexistent/x.json", {
        loginSession: "arn:aws:iam::123456789012:user/Alice",
      }),
    (err) => {
      assert.ok(err instanceof CacheError);
      assert.equal(err.code, "ERR_CACHE_MISSING");
      assert.equal(
        err.message,
        'No cached login session for "arn:aws:iam::123456789012:user/Alice" (file ' +
          '"/nonexistent/x.json"). Run "aws-login login" to sign in.',
      );
      return true;
    },
  );
});

Deno.test("readCachedToken() reports other I/O failures as ERR_CACHE_IO naming the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(() => readCachedToken(dir), (err) => {
      assert.ok(err instanceof CacheError);
      assert.equal(err.code, "ERR_CACHE_IO");
      assert.equal(err.message, `Cannot read token cache "${dir}": it is a directory`);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const isRoot = Deno.build.os === "linux" && Deno.uid() === 0;

Deno.test({
  name:
    "writeCachedToken() refuses a symlink another user planted (ERR_CACHE_UNSAFE), target untouched",
  ignore: !posix,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/victim`, "keep");
      await Deno.symlink(`${dir}/victim`, `${dir}/t.json`);
      using _theirs = giveAway(`${dir}/t.json`);
      assert.throws(() => writeCachedToken(`${dir}/t.json`, sample()), (err) => {
        assert.ok(err instanceof CacheError);
        assert.equal(err.code, "ERR_CACHE_UNSAFE");
        assert.match(err.message, /^Cannot write token cache ".*t\.json": it is a symlink/);
        return true;
      });
      assert.equal(await Deno.readTextFile(`${dir}/victim`), "keep");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("expiresAtMs() accepts any RFC 3339 time and rejects the rest", () => {
  const at = (expiresAt: string) => {
    const token = sample();
    token.accessToken.expiresAt = expiresAt;
    return expiresAtMs(token);
  };
  const base = Date.UTC(2025, 10, 19, 0, 15);
  assert.equal(at("2025-11-19T00:15:00Z"), base);
  assert.equal(at("2025-11-19t00:15:00z"), base);
  assert.equal(at("2025-11-19 00:15:00Z"), base);
  assert.equal(at("2025-11-18T18:45:00-05:30"), base);
  assert.equal(at("2025-11-19T00:15:00.999999999Z"), base + 999);
  assert.equal(at("2025-11-19T00:14:60Z"), base); // leap second
  assert.equal(at("2024-02-29T00:00:00Z"), Date.UTC(2024, 1, 29));
  for (
    const bad of [
      "",
      "2025-11-19",
      "2025-11-19T00:15:00",
      "2025-02-29T00:00:00Z",
      "2025-11-19T24:00:00Z",
      "2025-13-01T00:00:00Z",
      "2025-11-19T00:15:00+2400",
      "Wed, 19 Nov 2025 00:15:00 GMT",
      "1763511300",
    ]
  ) {
    assert.throws(
      () => at(bad),
      (err) => err instanceof CacheError && err.code === "ERR_CACHE_CORRUPT",
      bad,
    );
    assert.throws(
      () =>
        parseCachedToken(
          JSON.stringify({ ...sample(), accessToken: { ...sample().accessToken, expiresAt: bad } }),
          "f",
        ),
      CacheError,
    );
  }
});

Deno.test("withCacheLock() lets only one of several contending processes in at a time", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.json`;
    const log = `${dir}/log`;
    const module = new URL("../../lib/session/cache_lock.ts", import.meta.url).href;
    const code = `
      const { withCacheLock } = await import(${JSON.stringify(module)});
      const id = Deno.args[0];
      for (let i = 0; i < 3; i++) {
        await withCacheLock(${JSON.stringify(path)}, async () => {
          await Deno.writeTextFile(${JSON.stringify(log)}, "in " + id + "\\n", { append: true });
          await new Promise((r) => setTimeout(r, 15));
          await Deno.writeTextFile(${JSON.stringify(log)}, "out " + id + "\\n", { append: true });
        });
      }`;
    const children = ["a", "b", "c", "d"].map((id) =>
      outputBounded(Deno.execPath(), { args: ["eval", "-q", code, id], stderr: "inherit" })
    );
    for (const result of await Promise.all(children)) assert.ok(result.success);
    const lines = (await Deno.readTextFile(log)).trim().split("\n");
    assert.equal(lines.length, 24);
    for (let i = 0; i < lines.length; i += 2) {
      const id = lines[i]!.slice(3);
      assert.deepEqual(
        [lines[i], lines[i + 1]],
        [`in ${id}`, `out ${id}`],
        "no two holders overlap",
      );
    }
    // The lock file stays (0600); the cache file itself was never created by locking.
    if (posix) assert.equal((await Deno.stat(`${path}.lock`)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("withCacheLock() releases the lock when the critical section throws", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.json`;
    await assert.rejects(
      () => withCacheLock(path, () => Promise.reject(new Error("boom"))),
      /boom/,
    );
    assert.equal(await withCacheLock(path, () => Promise.resolve(1), { timeoutMs: 0 }), 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test('serializeCachedToken() keeps an unknown "__proto__" key as data', () => {
  const token = parseCachedToken(
    JSON.stringify(sample()).replace(/}$/, ', "__proto__": {"polluted": true}}'),
    "f",
  );
  const text = serializeCachedToken(token);
  assert.ok(text.endsWith(', "__proto__": {"polluted": true}}'));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("serializeCachedToken() writes signInRegion and signInEndpoint after the CLI's keys", () => {
  const token = sample({
    zOther: 1,
    signInEndpoint: "https://e.example",
    signInRegion: "eu-west-1",
  });
  assert.deepEqual(Object.keys(JSON.parse(serializeCachedToken(token))), [
    "accessToken",
    "tokenType",
    "clientId",
    "refreshToken",
    "idToken",
    "dpopKey",
    "signInRegion",
    "signInEndpoint",
    "zOther",
  ]);
});

/** `[[[…"x"…]]]` `depth` arrays deep, and `{"a": {"a": …}}` likewise, built without recursion. */
function nested(depth: number): { arrays: unknown; objects: unknown } {
  let arrays: unknown = "x";
  let objects: unknown = "x";
  for (let i = 0; i < depth; i++) {
    arrays = [arrays];
    objects = { a: objects };
  }
  return { arrays, objects };
}

Deno.test("serializeCachedToken() writes a field nested 20,000 deep without overflowing the stack", () => {
  const deep = nested(20_000);
  const text = serializeCachedToken(sample({ deep }));
  assert.ok(text.includes(`"deep": {"arrays": ${"[".repeat(20_000)}"x"${"]".repeat(20_000)}`));
  assert.ok(text.endsWith(`"objects": ${'{"a": '.repeat(20_000)}"x"${"}".repeat(20_000)}}}`));
  // A wide value too: no spread of its items into one call.
  const wide = serializeCachedToken(sample({ wide: Array.from({ length: 300_000 }, () => 0) }));
  assert.equal(JSON.parse(wide).wide.length, 300_000);
});

Deno.test("checkCacheWritable() passes for a writable cache and leaves no file behind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    writeCachedToken(`${dir}/t.json`, sample());
    checkCacheWritable(`${dir}/t.json`, sample());
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["t.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("removeCachedToken() removes the cache and lock files, never while another holds the lock", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.json`;
    await Deno.writeTextFile(path, "{}");
    const holder = lockHolder(path, 60_000);
    const out = lines(holder);
    assert.match(await out.next(), /^locked/);
    await assert.rejects(
      () => removeCachedToken(path, { timeoutMs: 200 }),
      (err) => err instanceof CacheError && err.code === "ERR_CACHE_LOCK",
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "t.json",
      "t.json.lock",
    ]);
    holder.kill("SIGKILL");
    await holder.status;
    await out.cancel();
    assert.equal(await removeCachedToken(path, { timeoutMs: 5000 }), true);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    assert.equal(await removeCachedToken(path), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const waiter of ["a waiter", "a waiter asking whenReleased"]) {
  Deno.test(`withCacheLock() lets no one in beside ${waiter} whose lock file logout removed`, async () => {
    const dir = await Deno.makeTempDir();
    const remove = Deno.remove;
    try {
      const path = `${dir}/t.json`;
      await Deno.writeTextFile(path, "{}");
      // A refresher opens the lock file and waits while logout holds it and removes both files.
      const entered = Promise.withResolvers<void>();
      const leave = Promise.withResolvers<void>();
      const whenReleased = waiter.endsWith("whenReleased")
        ? () => Promise.resolve(undefined) // the session is gone: nothing to share
        : undefined;
      let refresher: Promise<void> | undefined;
      Deno.remove = (p, options) => {
        refresher ??= withCacheLock(path, () => (entered.resolve(), leave.promise), {
          whenReleased,
        });
        return remove(p, options);
      };
      try {
        assert.equal(await removeCachedToken(path), true);
      } finally {
        Deno.remove = remove;
      }
      await entered.promise; // the refresher got in after logout let go
      // A newcomer opens the lock file now at the path: it must wait for the refresher.
      let newcomerIn = false;
      await assert.rejects(
        () =>
          withCacheLock(path, () => Promise.resolve(void (newcomerIn = true)), { timeoutMs: 300 }),
        (err) => err instanceof CacheError && err.code === "ERR_CACHE_LOCK",
      );
      assert.equal(newcomerIn, false, "two processes held the lock at once");
      leave.resolve();
      await refresher;
      assert.equal(await withCacheLock(path, () => Promise.resolve("free")), "free");
    } finally {
      Deno.remove = remove;
      await remove(dir, { recursive: true });
    }
  });
}

Deno.test({
  name: "checkCacheWritable() refuses a symlink another user planted, before any refresh",
  ignore: !posix,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/victim`, "keep");
      await Deno.symlink(`${dir}/victim`, `${dir}/t.json`);
      using _theirs = giveAway(`${dir}/t.json`);
      assert.throws(
        () => checkCacheWritable(`${dir}/t.json`, sample()),
        (err) => err instanceof CacheError && err.code === "ERR_CACHE_UNSAFE",
      );
      assert.equal(await Deno.readTextFile(`${dir}/victim`), "keep");
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["t.json", "victim"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// --- Torn reads: the AWS CLI and the JS SDK rewrite the file in place. ---

/** Sets a file's times an hour back: a damaged file that has sat there, not one being written. */
async function age(path: string): Promise<void> {
  const hourAgo = new Date(Date.now() - 3_600_000);
  await Deno.utime(path, hourAgo, hourAgo);
}

/**
 * A clock for readCacheFile's windows that moves only when it pauses (or the test moves it): the
 * windows are then measured the same way on an idle machine and on a loaded one.
 */
function pausedClock(at = Date.now()) {
  const clock = {
    at,
    pauses: [] as number[],
    now: () => clock.at,
    sleep: (ms: number) => {
      clock.pauses.push(ms);
      clock.at += ms;
      return Promise.resolve();
    },
  };
  return clock;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

Deno.test("readCacheFile() reads a file again while it looks torn, and only then", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.json`;
    writeCachedToken(path, sample());
    await age(path);
    let clock = pausedClock();
    let calls = 0;
    const parse = (text: string) => (calls++, parseCachedToken(text, path));
    assert.equal((await readCacheFile(path, parse, clock)).refreshToken, SECRETS[2]);
    assert.equal(calls, 1, "a good file is read once");
    assert.deepEqual(clock.pauses, [], "without a pause");
    clock = pausedClock();
    calls = 0;
    const flaky = (text: string) => {
      if (++calls < 3) throw new CacheError("ERR_CACHE_CORRUPT", "torn");
      return parseCachedToken(text, path);
    };
    assert.equal((await readCacheFile(path, flaky, clock)).refreshToken, SECRETS[2]);
    assert.equal(calls, 3);
    assert.deepEqual(clock.pauses, [1, 2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readCacheFile() reads a torn file twice even when its first read took the short window", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.json`;
    writeCachedToken(path, sample());
    await age(path);
    const clock = pausedClock();
    let calls = 0;
    // The reader is paused by the OS for 60 ms during each read: the writer has had no time yet.
    const preempted = (text: string) => {
      clock.at += 60;
      if (++calls < 2) throw new CacheError("ERR_CACHE_CORRUPT", "torn");
      return parseCachedToken(text, path);
    };
    assert.equal((await readCacheFile(path, preempted, clock)).refreshToken, SECRETS[2]);
    assert.equal(calls, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readCacheFile() keeps reading a file modified moments ago past the short window", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.json`;
    writeCachedToken(path, sample()); // just now: a writer may be paused mid-write
    // The short window (50 ms) allows 7 reads; a paused writer needs more.
    const slowWriter = (counter: { calls: number }) => (text: string) => {
      if (++counter.calls < 12) throw new CacheError("ERR_CACHE_CORRUPT", "torn");
      return parseCachedToken(text, path);
    };
    const recent = { calls: 0 };
    // Its time starts when the file was written, however long the test took to get here.
    const clock = pausedClock((await Deno.stat(path)).mtime!.getTime());
    assert.equal((await readCacheFile(path, slowWriter(recent), clock)).refreshToken, SECRETS[2]);
    assert.equal(recent.calls, 12);
    assert.ok(sum(clock.pauses) > 50, `${sum(clock.pauses)} ms`);
    // The same file, untouched for an hour, is given up on after the short window.
    await age(path);
    const old = { calls: 0 };
    const oldClock = pausedClock();
    await assert.rejects(() => readCacheFile(path, slowWriter(old), oldClock), CacheError);
    assert.equal(old.calls, 7);
    assert.deepEqual(oldClock.pauses, [1, 2, 4, 8, 16, 20]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readCacheFile() reports a file left torn by a writer paused past the long wait", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.json`;
    // Truncated just now, by a writer that the OS then pauses for longer than 1 s.
    await Deno.writeTextFile(path, "");
    const clock = pausedClock((await Deno.stat(path)).mtime!.getTime());
    let calls = 0;
    await assert.rejects(
      () => readCacheFile(path, (t) => (calls++, parseCachedToken(t, path)), clock),
      // A clear error, not a value: what is wrong, and that the writer may only be paused.
      (err) =>
        err instanceof CacheError && err.code === "ERR_CACHE_CORRUPT" &&
        err.message.includes("it is empty") && err.message.includes("rewritten moments ago") &&
        err.message.includes("try again in a moment") && err.cause instanceof CacheError,
    );
    // Re-read for the whole second, then no longer than one more pause.
    assert.ok(sum(clock.pauses) >= 1000 && sum(clock.pauses) < 1020, `${sum(clock.pauses)} ms`);
    assert.equal(calls, clock.pauses.length + 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readCachedToken() still reports a file that stays damaged, after re-reading it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.json`;
    const cases = [["", "it is empty"], ['{"accessToken": {"acc', "not valid JSON"]] as const;
    for (const [text, why] of cases) {
      await Deno.writeTextFile(path, text);
      await age(path);
      let calls = 0;
      await assert.rejects(
        () => readCacheFile(path, (t) => (calls++, parseCachedToken(t, path))),
        (err) =>
          err instanceof CacheError && err.code === "ERR_CACHE_CORRUPT" &&
          err.message.includes(why),
      );
      assert.ok(calls > 1, "read again before being reported");
      await assert.rejects(() => readCachedToken(path), CacheError);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- Reads are as careful as writes (issue 11 item 8). ---

/** `chown -h`: changes the owner of a link itself (Deno.chown follows links). */
async function chownLink(path: string, uid: number): Promise<void> {
  const out = await outputBounded("chown", { args: ["-h", String(uid), path] });
  assert.ok(out.success);
}

const OTHER_UID = 65534; // nobody

/** Asserts `fn` fails with ERR_CACHE_UNSAFE, the message naming `why`, no secret in it. */
async function assertUnsafe(fn: () => Promise<unknown>, why: RegExp): Promise<void> {
  await assert.rejects(fn, (err) => {
    assert.ok(err instanceof CacheError, String(err));
    assert.equal(err.code, "ERR_CACHE_UNSAFE");
    assert.equal(err.exitCode, 4);
    assert.match(err.message, why);
    assert.match(err.message, /Remove it, then run "aws-login login" again\.$/);
    for (const secret of SECRETS) assert.ok(!err.message.includes(secret));
    return true;
  });
}

Deno.test({
  name: "readCachedToken() refuses another user's file, and a link another user planted to one",
  ignore: !isRoot, // only root can give files to someone else
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      // Their own session, which the tool would otherwise hand out as ours.
      const theirs = `${dir}/theirs.json`;
      writeCachedToken(theirs, sample());
      await Deno.chown(theirs, OTHER_UID, OTHER_UID);
      await assertUnsafe(
        () => readCachedToken(theirs),
        /^Cannot read token cache ".*theirs\.json": it belongs to another user\./,
      );
      const path = `${dir}/t.json`;
      await Deno.symlink(theirs, path);
      await chownLink(path, OTHER_UID);
      await assertUnsafe(() => readCachedToken(path), /: it is a symlink in a place another user/);
      // A link the user made in the user's own directory is followed (a dotfiles setup)...
      const mine = `${dir}/mine.json`;
      writeCachedToken(mine, sample());
      await Deno.remove(path);
      await Deno.symlink(mine, path);
      assert.equal((await readCachedToken(path)).refreshToken, SECRETS[2]);
      // ...but not to another user's file.
      await Deno.remove(path);
      await Deno.symlink(theirs, path);
      await assertUnsafe(() => readCachedToken(path), /: it belongs to another user\./);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "readCachedToken() refuses another user's file and their planted link, as an ordinary user",
  ignore: !posix,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      // As above, where only the owners are faked (the seam), so it runs without root.
      const theirs = `${dir}/theirs.json`;
      writeCachedToken(theirs, sample());
      const path = `${dir}/t.json`;
      await Deno.symlink(theirs, path);
      const mine = `${dir}/mine.json`;
      writeCachedToken(mine, sample());
      using owner = foreignOwner(theirs, path);
      await assertUnsafe(
        () => readCachedToken(theirs),
        /^Cannot read token cache ".*theirs\.json": it belongs to another user\./,
      );
      await assertUnsafe(() => readCachedToken(path), /: it is a symlink in a place another user/);
      // New names for the user's own links: a new link could take the marked one's inode.
      await Deno.symlink(mine, `${dir}/own-link.json`);
      assert.equal((await readCachedToken(`${dir}/own-link.json`)).refreshToken, SECRETS[2]);
      await Deno.symlink(theirs, `${dir}/link-to-theirs.json`);
      await assertUnsafe(
        () => readCachedToken(`${dir}/link-to-theirs.json`),
        /: it belongs to another user\./,
      );
      // The lock file too.
      owner.mark(mine);
      await Deno.rename(mine, `${theirs}.lock`);
      await assertUnsafe(
        () => withCacheLock(theirs, () => Promise.resolve()),
        /^Cannot open the lock file ".*theirs\.json\.lock": it belongs to another user\./,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "readCachedToken() refuses a FIFO at once instead of waiting forever for a writer",
  ignore: !posix,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/t.json`;
      const made = await outputBounded("mkfifo", { args: [path] });
      assert.ok(made.success);
      // In a child process with a deadline: a blocked open cannot be interrupted in-process.
      const module = new URL("../../lib/session/token_cache.ts", import.meta.url).href;
      const code = `
        const { readCachedToken } = await import(${JSON.stringify(module)});
        await readCachedToken(${
        JSON.stringify(path)
      }).catch((err) => console.log(err.code, err.message));`;
      const out = await outputBounded(Deno.execPath(), {
        args: ["eval", "-q", code],
        stderr: "inherit",
        deadlineMs: 10_000, // a read that waits for a writer is killed, and this throws
      });
      const text = out.stdout;
      assert.ok(out.success, text);
      assert.match(
        text,
        /^ERR_CACHE_UNSAFE Cannot read token cache ".*": it is not a regular file/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("readCachedToken() refuses a file larger than 1 MiB", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.json`;
    const token = serializeCachedToken(sample());
    await Deno.writeTextFile(path, " ".repeat(1024 * 1024 - token.length) + token);
    assert.equal((await readCachedToken(path)).refreshToken, SECRETS[2]); // exactly 1 MiB
    await Deno.writeTextFile(path, " ".repeat(1024 * 1024 + 1 - token.length) + token);
    await assertUnsafe(() => readCachedToken(path), /: it is larger than 1048576 bytes\./);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "withCacheLock() refuses a lock file that is a FIFO or another user's file",
  ignore: !posix,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/t.json`;
      const made = await outputBounded("mkfifo", { args: [`${path}.lock`] });
      assert.ok(made.success);
      let entered = false;
      const enter = () => (entered = true, Promise.resolve());
      await assertUnsafe(
        () => withCacheLock(path, enter),
        /^Cannot open the lock file ".*t\.json\.lock": it is not a regular file/,
      );
      await Deno.remove(`${path}.lock`);
      await Deno.writeTextFile(`${path}.lock`, "");
      using _theirs = giveAway(`${path}.lock`);
      await assertUnsafe(() => withCacheLock(path, enter), /: it belongs to another user\./);
      assert.equal(entered, false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "withCacheLock() creates nothing through a link planted after its check",
  ignore: !posix,
  async fn() {
    const dir = await Deno.makeTempDir();
    const lstatSync = Deno.lstatSync;
    try {
      const path = `${dir}/t.json`;
      const target = `${dir}/created-through-the-link`;
      // Another user wins the race: the link appears right after the lock file was examined.
      Deno.lstatSync = (p) => {
        try {
          return lstatSync(p);
        } finally {
          if (String(p) === `${path}.lock`) Deno.symlinkSync(target, `${path}.lock`);
        }
      };
      await assertUnsafe(() => withCacheLock(path, () => Promise.resolve()), /lock file/);
      assert.throws(() => lstatSync(target), Deno.errors.NotFound);
    } finally {
      Deno.lstatSync = lstatSync;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// --- Anything but a regular file is refused, not only a FIFO (issue 20 item 8). ---

Deno.test({
  name: "readCachedToken() and withCacheLock() refuse a Unix socket, never opening it",
  ignore: !posix,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/t.json`;
      using _cache = Deno.listen({ transport: "unix", path });
      await assertUnsafe(
        () => readCachedToken(path),
        /^Cannot read token cache ".*t\.json": it is not a regular file \(a FIFO, socket or device\)/,
      );
      const other = `${dir}/u.json`;
      using _lock = Deno.listen({ transport: "unix", path: `${other}.lock` });
      let entered = false;
      await assertUnsafe(
        () => withCacheLock(other, () => Promise.resolve(void (entered = true))),
        /^Cannot open the lock file ".*u\.json\.lock": it is not a regular file/,
      );
      assert.equal(entered, false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "readCachedToken() and withCacheLock() refuse the user's own link to a character device",
  ignore: !posix,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      // /dev/null stands in for the user's terminal (/dev/pts/N, the user's own): a read of that
      // would wait for a line typed.
      const path = `${dir}/t.json`;
      await Deno.symlink("/dev/null", path);
      await assertUnsafe(
        () => readCachedToken(path),
        /^Cannot read token cache ".*t\.json": it is not a regular file \(a FIFO, socket or device\)/,
      );
      await Deno.symlink("/dev/null", `${path}.lock`);
      let entered = false;
      await assertUnsafe(
        () => withCacheLock(path, () => Promise.resolve(void (entered = true))),
        /^Cannot open the lock file ".*t\.json\.lock": it is not a regular file/,
      );
      assert.equal(entered, false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("tokenAfterReply() writes a reply's keys, lifetime and refresh token, keeping every other field", async () => {
  const { tokenAfterReply } = await import("../../lib/session/token_cache.ts");
  const reply = {
    accessKeyId: "ASIANEW",
    secretAccessKey: "newsecret",
    sessionToken: "newtoken",
    expiresIn: 900,
    refreshToken: "newrefresh",
  };
  const now = Date.UTC(2026, 11, 6, 20, 0, 0);
  const token = tokenAfterReply(
    {
      accessToken: { accountId: "123456789012", accessKeyId: "ASIAOLD", other: 1 },
      clientId: "c",
      dpopKey: "k",
      refreshToken: "old",
      someoneElses: "kept",
    },
    reply,
    now,
  );
  assert.deepEqual(token, {
    accessToken: {
      accountId: "123456789012",
      accessKeyId: "ASIANEW",
      other: 1,
      secretAccessKey: "newsecret",
      sessionToken: "newtoken",
      expiresAt: "2026-12-06T20:15:00Z",
    },
    clientId: "c",
    dpopKey: "k",
    refreshToken: "newrefresh",
    someoneElses: "kept",
  });
});
