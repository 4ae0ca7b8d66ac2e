/**
 * Test helper: a login session made against the emulator without the browser — the authorize
 * request (auto-approved), the code exchange with a new DPoP key, the cache file and the profile's
 * `login_session` — exactly what `aws-login login` leaves behind. Also small tools to age a cached
 * token so the next use refreshes it.
 *
 * @module
 */
import type { Deps } from "../../lib/cli/deps.ts";
import { type TempHome, tempHome } from "./cli.ts";
import { closeAtDeadline, outputBounded } from "./bounded.ts";
import { startEmulator as start } from "../../lib/emulator/server.ts";
import { joinPath } from "../../lib/files.ts";
import { accountIdOf } from "../../lib/aws/arn.ts";
import { codeChallengeS256, createCodeVerifier, createState } from "../../lib/signin/pkce.ts";
import { exportDpopKeyPem, generateDpopKey } from "../../lib/signin/dpop.ts";
import {
  exchangeAuthorizationCode,
  idTokenSubject,
  SAME_DEVICE_CLIENT_ID,
} from "../../lib/signin/signin_client.ts";
import {
  type CachedLoginToken,
  cacheFilePath,
  formatExpiresAt,
  readCachedToken,
  writeCachedToken,
} from "../../lib/session/token_cache.ts";

/** The emulator started in-process, closed by `await using` or at its deadline. */
export async function startEmulator(
  options: Parameters<typeof start>[0] = {},
): Promise<Awaited<ReturnType<typeof start>> & AsyncDisposable> {
  return closeAtDeadline(await start({ port: 0, ...options }));
}

/** A session written to a temporary HOME. */
export interface TestSession {
  readonly profile: string;
  readonly loginSession: string;
  readonly cachePath: string;
  readonly token: CachedLoginToken;
  /** The HOME's environment plus AWS_ENDPOINT_URL_SIGNIN pointing at the emulator. */
  readonly env: Record<string, string>;
}

/**
 * Signs in at the emulator (which must auto-approve) and stores the session like `login` does.
 *
 * @param p.url The emulator's base URL.
 * @param p.home The temporary HOME (its `env` is the base of the returned env).
 * @param p.profile Profile to write (default "default").
 * @param p.region Profile region and the cache's `signInRegion` (default "us-east-1").
 * @param p.signInRegion Overrides the cache's `signInRegion`; `null` leaves it out.
 * @param p.signInEndpoint Overrides the cache's `signInEndpoint` (default: the emulator's URL, as
 *   `login` stores it); `null` leaves it out, as in a session the AWS CLI made.
 */
export async function createSession(p: {
  url: string;
  home: { home: string; env: Record<string, string> };
  profile?: string;
  region?: string;
  signInRegion?: string | null;
  signInEndpoint?: string | null;
}): Promise<TestSession> {
  const profile = p.profile ?? "default";
  const region = p.region ?? "us-east-1";
  const base = p.url.replace(/\/$/, "");
  const verifier = createCodeVerifier();
  const state = createState();
  const redirectUri = "http://127.0.0.1:53682/oauth/callback";
  const query = new URLSearchParams({
    response_type: "code",
    client_id: SAME_DEVICE_CLIENT_ID,
    state,
    code_challenge_method: "SHA-256",
    scope: "openid",
    redirect_uri: redirectUri,
    code_challenge: await codeChallengeS256(verifier),
  });
  const reply = await fetch(`${base}/v1/authorize?${query}`, { redirect: "manual" });
  await reply.body?.cancel();
  const location = reply.headers.get("location");
  if (reply.status !== 302 || location === null) {
    throw new Error(`The emulator did not auto-approve (HTTP ${reply.status})`);
  }
  const back = new URL(location).searchParams;
  if (back.get("state") !== state) throw new Error("The emulator returned another state");
  const dpopKey = await generateDpopKey();
  const now = Date.now();
  const result = await exchangeAuthorizationCode({
    tokenUrl: `${base}/v1/token`,
    clientId: SAME_DEVICE_CLIENT_ID,
    code: back.get("code")!,
    codeVerifier: verifier,
    redirectUri,
    dpopKey,
    fetch,
    now: () => now,
  });
  const loginSession = idTokenSubject(result.idToken!);
  const token: CachedLoginToken = {
    accessToken: {
      accessKeyId: result.accessKeyId,
      secretAccessKey: result.secretAccessKey,
      sessionToken: result.sessionToken,
      accountId: accountIdOf(loginSession) ?? "",
      expiresAt: formatExpiresAt(now + result.expiresIn * 1000),
    },
    tokenType: "aws_sigv4",
    clientId: SAME_DEVICE_CLIENT_ID,
    refreshToken: result.refreshToken,
    idToken: result.idToken,
    dpopKey: await exportDpopKeyPem(dpopKey),
  };
  const signInRegion = p.signInRegion === undefined ? region : p.signInRegion;
  if (signInRegion !== null) token.signInRegion = signInRegion;
  const signInEndpoint = p.signInEndpoint === undefined ? base : p.signInEndpoint;
  if (signInEndpoint !== null) token.signInEndpoint = signInEndpoint;
  const env: Record<string, string> = {
    ...p.home.env,
    AWS_ENDPOINT_URL_SIGNIN: base,
    DENO_DIR: await denoDir(),
  };
  const cachePath = await cacheFilePath({ get: (k) => env[k] }, loginSession);
  writeCachedToken(cachePath, token);
  await addProfile(p.home.home, profile, { region, login_session: loginSession });
  return { profile, loginSession, cachePath, token, env };
}

let cachedDenoDir: Promise<string> | undefined;

/**
 * The host's Deno cache directory. A CLI subprocess with a temporary HOME would otherwise start an
 * empty cache there and download jose from npm on its first refresh (seconds, and network).
 */
export function denoDir(): Promise<string> {
  return cachedDenoDir ??= (async () => {
    const fromEnv = Deno.env.get("DENO_DIR");
    if (fromEnv) return fromEnv;
    const out = await outputBounded(Deno.execPath(), { args: ["info", "--json"], stderr: "null" });
    return JSON.parse(out.stdout).denoDir as string;
  })();
}

/** Appends a profile section to `<home>/.aws/config`. */
export async function addProfile(
  home: string,
  profile: string,
  keys: Record<string, string>,
): Promise<void> {
  const dir = joinPath(home, ".aws");
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const header = profile === "default" ? "[default]" : `[profile ${profile}]`;
  const lines = Object.entries(keys).map(([k, v]) => `${k} = ${v}`);
  await Deno.writeTextFile(joinPath(dir, "config"), `${header}\n${lines.join("\n")}\n`, {
    append: true,
    mode: 0o600,
  });
}

/** Rewrites the cached `expiresAt` so the credentials expire `ms` from now (negative: past). */
export async function expireIn(cachePath: string, ms: number): Promise<CachedLoginToken> {
  const token = await readCachedToken(cachePath);
  token.accessToken.expiresAt = formatExpiresAt(Date.now() + ms);
  writeCachedToken(cachePath, token);
  return token;
}

/** The cache file parsed as plain JSON (throws when it does not parse). */
export async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(path));
}

/** A text sink that keeps what was written. */
export interface Buffered {
  write(text: string): void;
  readonly isTerminal: boolean;
  text: string;
}

/** A sink for a test's stdout or stderr. */
export function buffer(): Buffered {
  const sink = {
    text: "",
    isTerminal: false,
    write(text: string) {
      sink.text += text;
    },
  };
  return sink;
}

/** Deps for running a command in-process: the given environment, real fetch and clock, buffers. */
export function testDeps(env: Record<string, string>, overrides: Partial<Deps> = {}) {
  const stdout = buffer();
  const stderr = buffer();
  const deps: Deps = {
    env: { get: (name) => env[name], toObject: () => ({ ...env }) },
    fetch: (input, init) => fetch(input, init),
    now: () => Date.now(),
    stdout,
    stderr,
    stdin: { readable: new ReadableStream(), isTerminal: false },
    openBrowser: () => Promise.reject(new Error("no browser in tests")),
    debug: () => {},
    ...overrides,
  };
  return { deps, stdout, stderr };
}

/** An emulator auto-approving `arn`, a temporary HOME and a session in it; all gone at scope end. */
export interface SessionFixture extends AsyncDisposable {
  readonly emulator: Awaited<ReturnType<typeof startEmulator>>;
  readonly home: TempHome;
  readonly session: TestSession;
}

/**
 * Starts an emulator that approves every sign-in as `arn`, makes a temporary HOME and signs in
 * there for `profile` (default "dev"); `await using t = await sessionFixture(…)` cleans up.
 * `emulator` passes more options to the emulator (a short `accessTtlSeconds`, …).
 */
export async function sessionFixture(p: {
  arn: string;
  profile?: string;
  region?: string;
  signInRegion?: string | null;
  signInEndpoint?: string | null;
  /** More emulator options (credential lifetime, …). */
  emulator?: Parameters<typeof start>[0];
}): Promise<SessionFixture> {
  const emulator = await startEmulator({ ...p.emulator, autoApprove: p.arn });
  const home = await tempHome();
  const session = await createSession({
    url: emulator.url,
    home,
    profile: p.profile ?? "dev",
    region: p.region,
    signInRegion: p.signInRegion,
    signInEndpoint: p.signInEndpoint,
  });
  return {
    emulator,
    home,
    session,
    async [Symbol.asyncDispose]() {
      await emulator.close();
      await home[Symbol.asyncDispose]();
    },
  };
}

/** Process variables the AWS SDK reads; an SDK fixture clears them and restores them after. */
const SDK_VARIABLES = [
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_LOGIN_CACHE_DIRECTORY",
  "AWS_ENDPOINT_URL_SIGNIN",
  "AWS_ENDPOINT_URL_STS",
  "AWS_PROFILE",
  "AWS_REGION",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
];

/**
 * A {@link sessionFixture} (profile "dev") with this process's environment pointing the official
 * AWS SDK at its files and emulator — the SDK reads `process.env`, not an options object. The
 * variables are restored at scope end, so such tests must not run in parallel in one process.
 */
export async function sdkSessionFixture(
  p: { arn: string; emulator?: Parameters<typeof start>[0] },
): Promise<SessionFixture> {
  const fixture = await sessionFixture({ arn: p.arn, emulator: p.emulator });
  const saved = new Map(SDK_VARIABLES.map((name) => [name, Deno.env.get(name)]));
  for (const name of SDK_VARIABLES) Deno.env.delete(name);
  const aws = joinPath(fixture.home.home, ".aws");
  Deno.env.set("AWS_CONFIG_FILE", joinPath(aws, "config"));
  Deno.env.set("AWS_SHARED_CREDENTIALS_FILE", joinPath(aws, "credentials"));
  Deno.env.set("AWS_LOGIN_CACHE_DIRECTORY", joinPath(aws, "login", "cache"));
  Deno.env.set("AWS_ENDPOINT_URL_SIGNIN", fixture.emulator.url);
  return {
    emulator: fixture.emulator,
    home: fixture.home,
    session: fixture.session,
    async [Symbol.asyncDispose]() {
      for (const [name, value] of saved) {
        if (value === undefined) Deno.env.delete(name);
        else Deno.env.set(name, value);
      }
      await fixture[Symbol.asyncDispose]();
    },
  };
}
