/**
 * The error families of aws-login. Library code throws these; only `main.ts` turns them into one
 * stderr line and an exit code. Each family has a stable `code` union so callers can `switch` on it,
 * a process exit code, and the underlying `cause` when there is one. Messages are written for the
 * user and must never contain a secret (secret key, session token, refresh token, auth code, key).
 *
 * @module
 */

/** Process exit codes, one per family (documented in README.md). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  config: 3,
  cache: 4,
  signin: 5,
  network: 6,
  login: 7,
} as const;

/** Every stable error code the tool raises. */
export type ErrorCode =
  | "ERR_USAGE"
  | "ERR_CONFIG_SYNTAX"
  | "ERR_CONFIG_PROFILE"
  | "ERR_CONFIG_REGION"
  | "ERR_CONFIG_ENDPOINT"
  | "ERR_CONFIG_CREDENTIAL_STYLE"
  | "ERR_CONFIG_IO"
  | "ERR_CACHE_MISSING"
  | "ERR_CACHE_CORRUPT"
  | "ERR_CACHE_IO"
  | "ERR_CACHE_LOCK"
  | "ERR_CACHE_UNSAFE"
  | "ERR_SIGNIN_ACCESS_DENIED"
  | "ERR_SIGNIN_VALIDATION"
  | "ERR_SIGNIN_THROTTLED"
  | "ERR_SIGNIN_SERVER"
  | "ERR_SIGNIN_RESPONSE"
  | "ERR_STS_ACCESS_DENIED"
  | "ERR_STS_MFA"
  | "ERR_STS_VALIDATION"
  | "ERR_STS_EXPIRED_TOKEN"
  | "ERR_STS_REGION_DISABLED"
  | "ERR_STS_THROTTLED"
  | "ERR_STS_SERVER"
  | "ERR_STS_RESPONSE"
  | "ERR_NETWORK"
  | "ERR_TIMEOUT"
  | "ERR_LOGIN_STATE"
  | "ERR_LOGIN_CODE"
  | "ERR_LOGIN_DENIED"
  | "ERR_LOGIN_TIMEOUT"
  | "ERR_LOGIN_ABORTED"
  | "ERR_LOGIN_BROWSER"
  | "ERR_LOGIN_PORT"
  | "ERR_LOGIN_LINK_REUSED"
  | "ERR_EMULATOR"
  | "ERR_PERMISSION";

/**
 * A message whose "what to do next" names the profile once a caller knows it (`aws-login login
 * --profile dev`): written once, where the error is made, rendered without a profile until
 * {@link AwsLoginError.forProfile} names one.
 */
export type ProfileMessage = (profile: string | undefined) => string;

/** The login command hints name: `aws-login login`, with `--profile NAME` when it is known. */
export function loginCommand(profile?: string): string {
  return profile === undefined ? "aws-login login" : `aws-login login --profile ${profile}`;
}

/** Base class: a user-facing message, a stable code and the exit code `main.ts` uses. */
export class AwsLoginError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly #render: ProfileMessage | undefined;
  #profile: string | undefined;

  constructor(
    code: ErrorCode,
    message: string | ProfileMessage,
    exitCode: number,
    options?: ErrorOptions,
  ) {
    super(typeof message === "string" ? message : message(undefined), options);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.#render = typeof message === "string" ? undefined : message;
  }

  /**
   * Names `profile` in the message's "what to do next", when the message has one: where the
   * profile is known (the resolver, status), not where the error is made (a cache read, a Sign-In
   * reply). The first profile named stays: it is the one whose login fixes it.
   *
   * @returns This error.
   */
  forProfile(profile: string): this {
    if (this.#render !== undefined && this.#profile === undefined) {
      this.#profile = profile;
      this.message = this.#render(profile);
    }
    return this;
  }

  /** The message as it reads for `profile` (for an error made from this one, e.g. with a note). */
  messageFor(profile: string | undefined): string {
    return this.#render === undefined ? this.message : this.#render(this.#profile ?? profile);
  }

  /**
   * Whether the credentials cannot come back until the user logs in again (a refused refresh, a
   * removed cache file, a profile without its session): a credential endpoint then answers that
   * a login is required rather than that credentials are unavailable for now. Each family says
   * which of its errors mean that.
   */
  get sessionOver(): boolean {
    return false;
  }
}

/** The command line is wrong: unknown command or option, missing or malformed value. */
export class UsageError extends AwsLoginError {
  constructor(message: string, options?: ErrorOptions) {
    super("ERR_USAGE", message, EXIT.usage, options);
  }
}

/** The shared config or credentials file, a profile, region or endpoint setting is wrong. */
export class ConfigError extends AwsLoginError {
  constructor(
    code: Extract<ErrorCode, `ERR_CONFIG_${string}`>,
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, EXIT.config, options);
  }

  /** The profile has no login session (any more). */
  override get sessionOver(): boolean {
    return this.code === "ERR_CONFIG_PROFILE";
  }
}

/** The login token cache is missing, unreadable, malformed, unsafe, or its lock failed. */
export class CacheError extends AwsLoginError {
  constructor(
    code: Extract<ErrorCode, `ERR_CACHE_${string}`>,
    message: string | ProfileMessage,
    options?: ErrorOptions,
  ) {
    super(code, message, EXIT.cache, options);
  }

  /** The cache file is gone (logged out) or damaged. */
  override get sessionOver(): boolean {
    return this.code === "ERR_CACHE_MISSING" || this.code === "ERR_CACHE_CORRUPT";
  }
}

/** AWS Sign-In answered with an error, or with a response we cannot use. */
export class SigninError extends AwsLoginError {
  declare readonly code: Extract<ErrorCode, `ERR_SIGNIN_${string}`>;
  /** HTTP status of the reply (0 when none). */
  readonly status: number;
  /** The service's exception type, e.g. `AccessDeniedException`. */
  readonly errorType: string | undefined;
  /** The service's `error` member, e.g. `TOKEN_EXPIRED`. */
  readonly error: string | undefined;
  /** The reply's `Retry-After`, in seconds, when it had one. */
  readonly retryAfterSeconds: number | undefined;
  /** The reply's `Date` header in epoch milliseconds, to correct clock skew. */
  readonly serverDate: number | undefined;

  constructor(
    code: Extract<ErrorCode, `ERR_SIGNIN_${string}`>,
    message: string | ProfileMessage,
    details: {
      status?: number;
      errorType?: string;
      error?: string;
      retryAfterSeconds?: number;
      serverDate?: number;
    } = {},
    options?: ErrorOptions,
  ) {
    super(code, message, EXIT.signin, options);
    this.status = details.status ?? 0;
    this.errorType = details.errorType;
    this.error = details.error;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.serverDate = details.serverDate;
  }

  /** True for failures worth retrying and for which still-valid credentials may be reused. */
  get transient(): boolean {
    return this.code === "ERR_SIGNIN_SERVER" || this.code === "ERR_SIGNIN_THROTTLED";
  }

  /** Sign-In refused for good: the session ended, was revoked, or the password changed. */
  override get sessionOver(): boolean {
    return this.code === "ERR_SIGNIN_ACCESS_DENIED" || this.code === "ERR_SIGNIN_VALIDATION";
  }
}

/**
 * AWS STS refused an AssumeRole, or answered with something we cannot use. Same exit code as
 * Sign-In's refusals: AWS said no.
 */
export class StsError extends AwsLoginError {
  declare readonly code: Extract<ErrorCode, `ERR_STS_${string}`>;
  /** HTTP status of the reply (0 when none). */
  readonly status: number;
  /** STS's error code, e.g. `AccessDenied`. */
  readonly stsCode: string | undefined;
  /** The reply's `Retry-After`, in seconds, when it had one. */
  readonly retryAfterSeconds: number | undefined;
  /** The reply's `Date` header in epoch milliseconds, to correct clock skew. */
  readonly serverDate: number | undefined;

  constructor(
    code: Extract<ErrorCode, `ERR_STS_${string}`>,
    message: string,
    details: {
      status?: number;
      stsCode?: string;
      retryAfterSeconds?: number;
      serverDate?: number;
    } = {},
    options?: ErrorOptions,
  ) {
    super(code, message, EXIT.signin, options);
    this.status = details.status ?? 0;
    this.stsCode = details.stsCode;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.serverDate = details.serverDate;
  }

  /** True for failures worth retrying and for which still-valid credentials may be reused. */
  get transient(): boolean {
    return this.code === "ERR_STS_SERVER" || this.code === "ERR_STS_THROTTLED";
  }

  /** The credentials beneath have ended: only a new login helps. */
  override get sessionOver(): boolean {
    return this.code === "ERR_STS_EXPIRED_TOKEN";
  }
}

/** The network failed: connection refused or reset, DNS, or no reply in time. */
export class NetworkError extends AwsLoginError {
  constructor(code: "ERR_NETWORK" | "ERR_TIMEOUT", message: string, options?: ErrorOptions) {
    super(code, message, EXIT.network, options);
  }

  /** Network failures are always worth a retry. */
  get transient(): boolean {
    return true;
  }
}

/** The browser sign-in did not complete: wrong state, bad verification code, timeout, refusal. */
export class LoginError extends AwsLoginError {
  constructor(
    code: Extract<ErrorCode, `ERR_LOGIN_${string}`>,
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, EXIT.login, options);
  }
}

/**
 * Deno's permission set does not allow something aws-login needs: a network host (a custom Sign-In
 * endpoint) or a file. Not a network or file-system failure: the fix is how aws-login is run.
 */
export class PermissionError extends AwsLoginError {
  /** The `hostname:port` not allowed, when a connection was refused ({@link netNotAllowed}). */
  readonly host: string | undefined;

  constructor(message: string, options?: ErrorOptions & { host?: string }) {
    super("ERR_PERMISSION", message, EXIT.config, options);
    this.host = options?.host;
  }
}

/**
 * How to run aws-login with the permissions it needs, for messages. main.ts words it for the
 * command `deno task install` installs (lib/cli/invocation.ts); a message holding it must hold it
 * whole.
 */
export const PERMISSION_HINT =
  `Run aws-login with its permission set: "deno run -P main.ts …" or ` +
  `"deno task …" from a checkout (-P is the "default" set in deno.json), or the command ` +
  `"deno task install" installs`;

/**
 * Whether Deno's permission set is what made `err`: a {@link PermissionError}, a NotCapable error,
 * or a module Deno would not load ("Requires read access to …"), itself or in its cause chain.
 */
export function isPermissionFailure(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof PermissionError || e instanceof Deno.errors.NotCapable) return true;
    // A dynamic import refused for lack of a permission is a TypeError with only this message.
    if (e instanceof TypeError && /^Requires \w+ access to /.test(e.message)) return true;
  }
  return false;
}

/**
 * The error for a Sign-In endpoint whose host the permission set does not allow.
 *
 * @param host `hostname:port` as Deno's net permission names it.
 * @param endpoint What the host is, for the message (default "the Sign-In endpoint").
 */
export function netNotAllowed(
  host: string,
  options?: ErrorOptions,
  endpoint = "the Sign-In endpoint",
): PermissionError {
  // `--allow-net=` replaces the set's list: fine for a Sign-In endpoint (the emulator, a proxy),
  // but a session's refresh at its AWS Sign-In host would then be refused, so for another host
  // (STS of a region the set does not list yet) only adding it to the set is suggested.
  const instead = endpoint === "the Sign-In endpoint"
    ? `, or run "deno run -P --allow-net=127.0.0.1,localhost,[::1],${host} main.ts …" ` +
      `(--allow-net replaces the set's list)`
    : "";
  return new PermissionError(
    `aws-login's Deno permissions do not allow connecting to "${host}" (${endpoint}). ` +
      `From a checkout, add "${host}" to "net" in deno.json's "default" permission set${instead}. ` +
      `A release binary reaches only the hosts of that set: the AWS Sign-In and STS hosts of the ` +
      `regions it lists, 127.0.0.1, localhost and [::1]`,
    { ...options, host },
  );
}

/** The emulator could not start or was given bad settings. */
export class EmulatorError extends AwsLoginError {
  constructor(message: string, options?: ErrorOptions) {
    super("ERR_EMULATOR", message, EXIT.failure, options);
  }
}

/** True when `err` is a failure for which retrying, or reusing still-valid credentials, is right. */
export function isTransient(err: unknown): boolean {
  return (err instanceof SigninError || err instanceof NetworkError || err instanceof StsError) &&
    err.transient;
}
