/**
 * The `login` flow without CLI concerns: resolve the profile, region and Sign-In endpoint; refuse a
 * profile holding another credential style; get an authorization code through the browser (loopback
 * callback, or the pasted verification code with `--remote`); exchange it with a new DPoP key
 * (retrying transient failures, correcting clock skew); then write the token cache and, last, the
 * profile's `login_session`. A failure before the writes leaves no file behind; a failure of the
 * config write removes the cache file it had just created.
 *
 * Everything outside comes through `deps`, so tests run the flow in-process. Progress, the URL and
 * questions go to stderr; the authorization code, tokens and keys never appear in any output.
 *
 * Endpoint note: the AWS CLI drops a path prefix of a custom endpoint for the authorize and
 * confirmation URLs but keeps it for the token URL (docs/PROTOCOL.md §2). We keep it for all three, so an
 * endpoint behind a path-routing proxy works end to end.
 *
 * @see docs/PROTOCOL.md §1–§8
 * @module
 */
import type { Deps } from "../cli/deps.ts";
import { startSpinner } from "../cli/output.ts";
import { ask, LineReader } from "../cli/prompt.ts";
import { ConfigError, LoginError, SigninError } from "../errors.ts";
import { accountIdOf } from "../aws/arn.ts";
import { configFilePath, loginCacheDir } from "../aws/paths.ts";
import { setProfileKeys, setProfileKeysInText } from "../aws/config_file.ts";
import { readConfigFile } from "../aws/config_syntax.ts";
import { loadProfile, otherCredentialStyle } from "../aws/profile.ts";
import { profileName, resolveRegion } from "../aws/profile_reader.ts";
import { signinEndpoint, signinTokenUrl } from "../aws/endpoints.ts";
import { codeChallengeS256, createCodeVerifier, createState } from "../signin/pkce.ts";
import { type DpopKey, exportDpopKeyPem, generateDpopKey } from "../signin/dpop.ts";
import {
  buildAuthorizeUrl,
  CROSS_DEVICE_CLIENT_ID,
  exchangeAuthorizationCode,
  idTokenSubject,
  SAME_DEVICE_CLIENT_ID,
  type TokenResult,
} from "../signin/signin_client.ts";
import { startCallbackServer } from "./callback_server.ts";
import {
  checkBeforeSignIn,
  checkEndpointAnswers,
  checkRegionExists,
  type HostLookup,
  systemHostLookup,
} from "./preflight.ts";
import { checkState, decodeVerificationCode, displayText } from "./verification_code.ts";
import { sleep, withRetries } from "../aws/retry.ts";
import {
  cacheFilePath,
  secureCacheDir,
  tokenAfterReply,
  writeCachedToken,
} from "../session/token_cache.ts";
import { dirname } from "../files.ts";

/** What the user asked for. */
export interface LoginOptions {
  /** `--profile`; else AWS_PROFILE, AWS_DEFAULT_PROFILE, `default`. */
  readonly profile?: string;
  /** `--region`; else AWS_REGION, AWS_DEFAULT_REGION, the profile's, or a question. */
  readonly region?: string;
  /** `--remote`: sign in on another device and paste the verification code. */
  readonly remote?: boolean;
  /** `--endpoint-url`: the Sign-In base URL. */
  readonly endpointUrl?: string;
  /** `--redirect-port`: the loopback port (default: any free one). */
  readonly redirectPort?: number;
  /** `--no-browser`: print the URL only. */
  readonly noBrowser?: boolean;
  /** `--yes`: replace another login_session of the profile without asking. */
  readonly yes?: boolean;
  /** `--timeout`: seconds to wait for the browser callback (default 300). */
  readonly timeoutSeconds?: number;
}

/** The seams of the flow: the command's deps, plus a sleep for retry backoff. */
export interface LoginDeps extends Deps {
  sleep?(ms: number): Promise<void>;
  /** Longest wait for each token reply (default: the Sign-In client's 30 s). */
  readonly requestTimeoutMs?: number;
  /** Whether a host name exists (default: the system resolver); tests fake DNS with it. */
  readonly hostLookup?: HostLookup;
}

/** What a successful login wrote. */
export interface LoginResult {
  readonly profile: string;
  /** The login session ARN now in the profile's `login_session`. */
  readonly loginSession: string;
  readonly accountId: string;
  readonly region: string;
  /** Whether the region was saved in the profile (it had none; given by --region or asked for). */
  readonly regionSaved: boolean;
  /** Where a saved region came from. */
  readonly regionFrom?: "--region" | "prompt";
  readonly cachePath: string;
  /** RFC 3339 expiry of the first credentials. */
  readonly expiresAt: string;
}

/** Default wait for the browser callback. */
export const DEFAULT_TIMEOUT_SECONDS = 300;
/** Attempts at the code exchange when it fails transiently (5xx, 429, network). */
export const EXCHANGE_ATTEMPTS = 3;
const DEFAULT_REGION = "us-east-1";
const ARN_TEXT = /^arn:[\x21-\x7e]+$/;

/** The authorization code and the request parameters the exchange must repeat. */
interface Authorization {
  readonly code: string;
  readonly clientId: string;
  readonly redirectUri: string;
}

/** What both browser flows need. */
interface AuthorizeContext {
  readonly base: string;
  readonly state: string;
  readonly codeChallenge: string;
  readonly input: LineReader;
}

/**
 * Runs a whole login.
 *
 * @param options The command's options.
 * @param deps Environment, clock, fetch, streams, standard input and the browser opener.
 * @returns What was written.
 * @throws {ConfigError} Another credential style (`ERR_CONFIG_CREDENTIAL_STYLE`), a region aws-login
 *   does not know whose Sign-In host does not exist (`ERR_CONFIG_REGION`), no region and no
 *   terminal to ask on (`ERR_CONFIG_REGION`), unreadable or unwritable config.
 * @throws {LoginError} The browser step failed: timeout, refusal, bad or foreign code, port in use,
 *   or the user declined to replace the profile's session.
 * @throws {SigninError} AWS Sign-In refused the exchange.
 * @throws {NetworkError} AWS Sign-In could not be reached (a custom endpoint: before the browser).
 * @throws {CacheError} The token cache could not be written.
 */
export async function login(options: LoginOptions, deps: LoginDeps): Promise<LoginResult> {
  const env = deps.env;
  const profile = profileName(env, options.profile);
  const config = await loadProfile(env, profile);
  const style = otherCredentialStyle(config.keys);
  if (style !== undefined) {
    throw new ConfigError(
      "ERR_CONFIG_CREDENTIAL_STYLE",
      `Profile "${profile}" is already configured with ${style} credentials. To sign in with ` +
        `aws-login, use another profile ("aws-login login --profile new-profile-name"), or remove ` +
        `the ${style} settings from "${profile}" first.`,
    );
  }
  const input = new LineReader(deps.stdin.readable);
  const resolved = resolveRegion(env, options.region, config.keys);
  const region = resolved ?? await askRegion(deps, input, profile);
  // A profile without a region gets the one the user gave (flag or prompt; the AWS CLI saves only
  // a prompted one): else exec sets no AWS_REGION, and SDKs refresh the session in no region or
  // another one. A region from AWS_REGION is the environment's, not the profile's.
  const regionFrom = config.keys.region
    ? undefined
    : resolved === undefined
    ? "prompt"
    : options.region
    ? "--region"
    : undefined;
  const regionSaved = regionFrom !== undefined;
  const endpoint = signinEndpoint(env, {
    endpointUrl: options.endpointUrl,
    region,
    profile: config,
  });
  const base = endpoint.url;
  // A mistyped region would send the browser to a host that does not exist, and wait minutes.
  if (!endpoint.source) {
    await checkRegionExists(region, base, deps.hostLookup ?? systemHostLookup);
  }
  await checkConfigWritable(env, profile, regionSaved ? region : undefined);
  await checkBeforeSignIn({ base, configPath: configFilePath(env), cacheDir: loginCacheDir(env) });
  deps.debug(
    `profile "${profile}", region "${region}", Sign-In endpoint "${base}"` +
      (endpoint.source ? ` (custom, from ${endpoint.source})` : ""),
  );
  if (endpoint.source) {
    deps.stderr.write(
      `Signing in at the custom AWS Sign-In endpoint "${base}" (from ${endpoint.source}), not ` +
        `the default for ${region}. The session will refresh only there.\n`,
    );
    // Else the browser would be blamed for a page that cannot load, and the wait go on.
    await checkEndpointAnswers(base, endpoint.source, deps.fetch);
  }

  const codeVerifier = createCodeVerifier();
  const ctx: AuthorizeContext = {
    base,
    state: createState(),
    codeChallenge: await codeChallengeS256(codeVerifier),
    input,
  };
  const dpopKey = await generateDpopKey();
  const authorization = options.remote
    ? await authorizeRemote(ctx, deps)
    : await authorizeSameDevice(ctx, options, deps);
  deps.reached?.("authorized"); // the browser's part is over

  const result = await exchange(signinTokenUrl(base), authorization, codeVerifier, dpopKey, deps);
  const loginSession = idTokenSubject(result.idToken ?? "");
  const accountId = accountIdOf(loginSession);
  // The ARN goes into the config file: printable ASCII only, so it cannot add lines or sections.
  if (accountId === undefined || !ARN_TEXT.test(loginSession)) {
    throw new SigninError(
      "ERR_SIGNIN_RESPONSE",
      `Cannot complete the sign-in: the session "${displayText(loginSession, 200)}" AWS Sign-In ` +
        `returned is not an ARN with an account id. Check the Sign-In endpoint and try again.`,
    );
  }
  await confirmOverwrite(profile, loginSession, options, deps, input);

  const token = tokenAfterReply(
    {
      accessToken: { accountId },
      tokenType: "aws_sigv4",
      clientId: authorization.clientId,
      idToken: result.idToken,
      dpopKey: await exportDpopKeyPem(dpopKey),
      signInRegion: region,
      // Pins the session: a refresh sends the refresh token nowhere else.
      signInEndpoint: base,
    },
    result,
    deps.now(),
  );
  const cachePath = await cacheFilePath(env, loginSession);
  const existed = await Deno.lstat(cachePath).then(() => true, () => false);
  writeCachedToken(cachePath, token);
  const entries: Record<string, string> = { login_session: loginSession };
  if (regionSaved) entries.region = region;
  try {
    await setProfileKeys(configFilePath(env), profile, entries, "config");
  } catch (err) {
    // Nothing half-written: a new cache file no profile points at goes too.
    if (!existed) await Deno.remove(cachePath).catch(() => {});
    throw err;
  }
  const notice = secureCacheDir(dirname(cachePath));
  if (notice !== undefined) deps.stderr.write(`${notice}\n`);
  return {
    profile,
    loginSession,
    accountId,
    region,
    regionSaved,
    ...(regionFrom ? { regionFrom } : {}),
    cachePath,
    expiresAt: token.accessToken.expiresAt,
  };
}

/**
 * Fails before the browser step, not after it, when the profile update would be refused (a
 * profile name no section header can hold, a key differing from ours only in case).
 */
async function checkConfigWritable(
  env: LoginDeps["env"],
  profile: string,
  region: string | undefined,
): Promise<void> {
  const path = configFilePath(env);
  const entries: Record<string, string> = { login_session: "arn:aws:iam::000000000000:user/x" };
  if (region !== undefined) entries.region = region;
  setProfileKeysInText(await readConfigFile(path) ?? "", profile, entries, "config", { path });
}

/** Asks for the region on a terminal (default us-east-1). */
async function askRegion(deps: LoginDeps, input: LineReader, profile: string): Promise<string> {
  const fail = (why: string) =>
    new ConfigError(
      "ERR_CONFIG_REGION",
      `No AWS Region for profile "${profile}"${why}: pass --region or set region in the ` +
        `profile (or AWS_REGION).`,
    );
  if (!deps.stdin.isTerminal) throw fail(" and no terminal to ask on");
  const answer = await ask(deps, input, `AWS Region [${DEFAULT_REGION}]: `);
  if (answer === undefined) throw fail(" (no answer was entered)");
  return answer.trim() || DEFAULT_REGION; // signinBaseUrl checks the name
}

/** The same-device flow: loopback listener, browser at its one-time link, wait for the callback. */
async function authorizeSameDevice(
  ctx: AuthorizeContext,
  options: LoginOptions,
  deps: LoginDeps,
): Promise<Authorization> {
  let say = (text: string) => deps.stderr.write(text); // the spinner's note, once it runs
  await using server = startCallbackServer({
    state: ctx.state,
    authorizeUrl: (redirectUri) =>
      buildAuthorizeUrl({
        authorizeUrl: `${ctx.base}/v1/authorize`,
        clientId: SAME_DEVICE_CLIENT_ID,
        state: ctx.state,
        codeChallenge: ctx.codeChallenge,
        redirectUri,
      }),
    port: options.redirectPort,
    log: (line) => deps.debug(`callback: ${line}`),
    // Said at once, not only under --debug: else a browser without cookies just waits 300 s.
    refused: (message) => say(`${message}\n`),
  });
  // No browser to start: nothing else needs the run permission the listener's start used.
  if (options.noBrowser) deps.reached?.("no-programs");
  // The browser gets the one-time local link, never the authorize URL: a process listing shows
  // the browser's command line to every local user, and state + challenge would let one of them
  // slip their own sign-in into this login.
  const url = server.startUrl;
  const err = deps.stderr;
  err.write(
    options.noBrowser
      ? "Open this URL in a browser on this device to sign in:\n\n"
      : "Attempting to open the sign-in page in your default browser.\n" +
        "If the browser does not open, open this URL on this device:\n\n",
  );
  err.write(`${url}\n\n`);
  err.write(
    `If you cannot open a browser on this device, run "aws-login login --remote" to sign in ` +
      `from another device.\n`,
  );

  const timeoutMs = (options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  const deadline = deps.now() + timeoutMs;
  const spinner = startSpinner(err, () => {
    if (!err.isTerminal) {
      return `Waiting up to ${
        timeoutMs / 1000
      } s for the sign-in in the browser (Ctrl-C to cancel)…`;
    }
    const left = Math.max(0, Math.ceil((deadline - deps.now()) / 1000));
    return `Waiting for the sign-in in the browser (${left} s left; Ctrl-C to cancel)…`;
  });
  say = (text) => spinner.note(text);
  if (!options.noBrowser) {
    deps.openBrowser(url).catch((e) => {
      const why = e instanceof Error ? e.message : String(e);
      spinner.note(`${why} Open the URL above by hand.\n`);
    });
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() =>
      reject(
        new LoginError(
          "ERR_LOGIN_TIMEOUT",
          `No sign-in arrived from the browser within ${timeoutMs / 1000} s. Run "aws-login ` +
            `login" again (--timeout SECONDS waits longer; --remote signs in from another device).`,
        ),
      ), timeoutMs);
  });
  try {
    const code = await Promise.race([server.code, timeout]);
    return { code, clientId: SAME_DEVICE_CLIENT_ID, redirectUri: server.redirectUri };
  } finally {
    clearTimeout(timer);
    spinner.stop();
  }
}

/** The cross-device flow: print the URL, read the pasted verification code. */
async function authorizeRemote(ctx: AuthorizeContext, deps: LoginDeps): Promise<Authorization> {
  const redirectUri = `${ctx.base}/v1/sessions/confirmation`;
  const url = buildAuthorizeUrl({
    authorizeUrl: `${ctx.base}/v1/authorize`,
    clientId: CROSS_DEVICE_CLIENT_ID,
    state: ctx.state,
    codeChallenge: ctx.codeChallenge,
    redirectUri,
  });
  deps.stderr.write(
    "Browser will not be automatically opened.\n" +
      "Open this URL in a browser on any device and sign in:\n\n" +
      `${url}\n\n`,
  );
  const answer = await ask(
    deps,
    ctx.input,
    "Enter the authorization code displayed in your browser: ",
  );
  if (answer === undefined) {
    throw new LoginError(
      "ERR_LOGIN_CODE",
      `No verification code was entered (standard input ended). Run "aws-login login --remote" ` +
        `again and paste the code shown in the browser.`,
    );
  }
  const response = decodeVerificationCode(answer);
  checkState(response.state, ctx.state);
  return { code: response.code, clientId: CROSS_DEVICE_CLIENT_ID, redirectUri };
}

/** The code exchange, retried on transient failures, with clock-skew correction. */
async function exchange(
  tokenUrl: string,
  authorization: Authorization,
  codeVerifier: string,
  dpopKey: DpopKey,
  deps: LoginDeps,
): Promise<TokenResult> {
  // A 5xx or a lost reply may mean the single-use code was never consumed: worth a retry.
  return await withRetries((now) =>
    exchangeAuthorizationCode({
      tokenUrl,
      clientId: authorization.clientId,
      code: authorization.code,
      codeVerifier,
      redirectUri: authorization.redirectUri,
      dpopKey,
      fetch: deps.fetch,
      now,
      timeoutMs: deps.requestTimeoutMs,
    }), {
    attempts: EXCHANGE_ATTEMPTS,
    maxDelayMs: 3_000,
    now: deps.now,
    sleep: (ms) => deps.sleep ? deps.sleep(ms) : sleep(ms),
    onRetry: (err, attempt) =>
      deps.debug(
        `token exchange attempt ${attempt} of ${EXCHANGE_ATTEMPTS} failed: ${err.message}`,
      ),
  });
}

/** Asks before replacing another login session of the profile (`--yes` skips the question). */
async function confirmOverwrite(
  profile: string,
  loginSession: string,
  options: LoginOptions,
  deps: LoginDeps,
  input: LineReader,
): Promise<void> {
  // Re-read: the sign-in took a while, and the profile may have changed meanwhile.
  const old = (await loadProfile(deps.env, profile)).keys.login_session?.trim();
  if (!old || old === loginSession || options.yes) return;
  if (!deps.stdin.isTerminal) {
    throw new LoginError(
      "ERR_LOGIN_ABORTED",
      `Profile "${profile}" is already configured to use session "${old}". Pass --yes to ` +
        `overwrite it with "${loginSession}", or use another --profile. Nothing was written.`,
    );
  }
  const answer = await ask(
    deps,
    input,
    `Profile ${profile} is already configured to use session ${old}. Do you want to overwrite ` +
      `it to use ${loginSession} instead? (y/n): `,
  );
  if (!/^\s*y(es)?\s*$/i.test(answer ?? "")) {
    throw new LoginError(
      "ERR_LOGIN_ABORTED",
      `Profile "${profile}" still uses session "${old}"; nothing was written.`,
    );
  }
}
