/**
 * The emulator's memory: its clock (with the test offset), the identities it offers, pending sign-in
 * requests, authorization codes, sessions with their rotating refresh tokens, issued credentials,
 * request counters and the queue of injected token-call failures. Everything lives in one object per
 * emulator, so two emulators in one process never share state.
 *
 * @module
 */
import { accountIdOf, parseArn } from "../aws/arn.ts";
import { base64UrlEncode } from "../signin/pkce.ts";
import { type RoleDefinition, RoleDirectory } from "./roles.ts";

/** `client_id` of the same-device (loopback) flow. */
export const SAME_DEVICE_CLIENT_ID = "arn:aws:signin:::devtools/same-device";
/** `client_id` of the cross-device (`--remote`) flow. */
export const CROSS_DEVICE_CLIENT_ID = "arn:aws:signin:::devtools/cross-device";

/** The identity offered when no accounts are configured. */
export const DEFAULT_ACCOUNT = { arn: "arn:aws:iam::123456789012:user/demo", name: "demo" };
/** How long an authorization code stays valid (5 minutes). */
export const CODE_TTL_MS = 5 * 60_000;
/** How long a sign-in page stays usable before its request is forgotten. */
const PENDING_TTL_MS = 15 * 60_000;

/** An identity the sign-in page offers. */
export interface Account {
  arn: string;
  name?: string;
}

/** A validated `GET /v1/authorize` request. */
export interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
}

/** An issued authorization code. */
export interface CodeGrant {
  request: AuthorizeRequest;
  arn: string;
  expiresAt: number;
}

/** A login session: one code exchange and its refreshes. */
export interface Session {
  id: string;
  arn: string;
  clientId: string;
  /** RFC 7638 thumbprint of the DPoP key the session is bound to. */
  jkt: string;
  createdAt: number;
  refreshToken: string;
  /** Set by RevokeOAuth2TokenWithIAM: the whole chain is refused from then on. */
  revoked?: boolean;
}

/** What a refresh answered: the refresh token it handed out and the credentials it issued. */
export interface RefreshAnswer {
  readonly sessionId: string;
  readonly refreshToken: string;
  readonly credentials: IssuedCredentials;
}

/** Credentials issued for a login session or a role session. */
export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  arn: string;
  expiresAt: number;
  /** How they were issued, for the federation endpoint's rules (lib/emulator/federation.ts). */
  origin: CredentialOrigin;
}

/**
 * Where issued credentials come from: a login session, or an AssumeRole — made by a role session
 * (role chaining) or not, with `DurationSeconds` or without.
 */
export type CredentialOrigin =
  | { readonly kind: "login" }
  | { readonly kind: "role"; readonly chained: boolean; readonly withDurationSeconds: boolean };

/** A sign-in token of the federation endpoint: whom it signs in, until when. */
export interface SigninTokenGrant {
  readonly arn: string;
  /** The token is good until then (15 minutes). */
  readonly expiresAt: number;
  /** When the console session it opens ends. */
  readonly sessionEndsAt: number;
}

/** How the next token calls fail; see {@link EmulatorState.failNextTokenCalls}. */
export interface TokenFailure {
  /** Service `error` value, e.g. `TOKEN_EXPIRED`; sets status and type unless `status` is given. */
  error?: string;
  /** HTTP status of the failure (type follows it: 401/403 AccessDenied, 429, 5xx, else 400). */
  status?: number;
  /** `Retry-After` seconds (implies 429 when no status is given). */
  retryAfterSeconds?: number;
  /** Wait this long first; alone, the call then succeeds. */
  delayMs?: number;
  /** Close the connection without any response. */
  reset?: boolean;
}

/** Requests seen, token calls by grant type (including failed and injected ones). */
export interface Counters {
  authorize: number;
  authorization_code: number;
  refresh_token: number;
  /** Token calls with another or no grant type. */
  other_grant: number;
  sts: number;
  /** STS AssumeRole calls (also counted in `sts`), refused ones included. */
  assume_role: number;
  /** RevokeOAuth2TokenWithIAM calls, refused ones included. */
  revoke: number;
  /** IntrospectOAuth2TokenWithIAM calls, refused ones included. */
  introspect: number;
  /** Federation `getSigninToken` calls, refused ones included. */
  signin_token: number;
}

/** A random string of `bytes` random bytes, base64url. */
export function randomToken(bytes: number): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(bytes)));
}

const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** `length` random characters from `A-Z0-9`. */
export function randomUpperAlnum(length: number): string {
  let out = "";
  // 36 symbols: reject bytes >= 252 so each is equally likely.
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < 252 && out.length < length) out += UPPER_ALNUM[byte % 36];
    }
  }
  return out;
}

/**
 * Checks an identity ARN: it must parse and name a 12-digit account.
 *
 * @returns A reason it is refused, or undefined when it is fine.
 */
export function arnProblem(arn: unknown): string | undefined {
  if (typeof arn !== "string" || parseArn(arn) === undefined) return "it is not an ARN";
  if (accountIdOf(arn) === undefined) return "it has no 12-digit account id";
  return undefined;
}

/** The mutable state of one emulator. */
export class EmulatorState {
  readonly accounts: readonly Account[];
  readonly accessTtlSeconds: number;
  readonly sessionTtlSeconds: number;
  readonly autoApprove: string | undefined;
  /** The roles STS AssumeRole knows. */
  readonly roles: RoleDirectory;
  #clockOffsetMs: number;
  readonly #pending = new Map<string, AuthorizeRequest & { createdAt: number }>();
  readonly #codes = new Map<string, CodeGrant>();
  /** Codes already exchanged: a second use is AUTHCODE_EXPIRED, not "unknown". */
  readonly #usedCodes = new Set<string>();
  readonly #sessions = new Map<string, Session>();
  /** The current refresh token of each session: a superseded one is simply no longer here. */
  readonly #refreshTokens = new Map<string, string>();
  /** Superseded refresh tokens → what their refresh answered, while those credentials last. */
  readonly #answers = new Map<string, RefreshAnswer>();
  readonly #credentials = new Map<string, IssuedCredentials>();
  #failures: { remaining: number; failure: TokenFailure } | undefined;
  readonly #counters: Counters = {
    authorize: 0,
    authorization_code: 0,
    refresh_token: 0,
    other_grant: 0,
    sts: 0,
    assume_role: 0,
    revoke: 0,
    introspect: 0,
    signin_token: 0,
  };
  readonly #signinTokens = new Map<string, SigninTokenGrant>();
  /** IAM actions every identity is denied (`signin:RevokeOAuth2TokenWithIAM`, …). */
  #deniedActions = new Set<string>();

  constructor(options: {
    accounts?: readonly Account[];
    accessTtlSeconds?: number;
    sessionTtlSeconds?: number;
    autoApprove?: string;
    clockOffsetMs?: number;
    /** The roles of a roles file; undefined: any role trusts every issued identity for 1 h. */
    roles?: readonly RoleDefinition[];
  }) {
    this.accounts = options.accounts?.length ? options.accounts : [DEFAULT_ACCOUNT];
    this.accessTtlSeconds = options.accessTtlSeconds ?? 900;
    this.sessionTtlSeconds = options.sessionTtlSeconds ?? 43_200;
    this.autoApprove = options.autoApprove;
    this.#clockOffsetMs = options.clockOffsetMs ?? 0;
    this.roles = new RoleDirectory(options.roles);
  }

  /** The emulator's clock: the system clock plus the test offset, epoch milliseconds. */
  now(): number {
    return Date.now() + this.#clockOffsetMs;
  }

  /** Sets the emulator clock to the system clock plus `ms`. */
  setClockOffset(ms: number): void {
    this.#clockOffsetMs = ms;
  }

  // --- sign-in requests and codes ---------------------------------------------------------------

  /** Remembers a request while its sign-in page is shown; returns the page's request id. */
  addPending(request: AuthorizeRequest): string {
    this.#prune();
    const id = randomToken(16);
    this.#pending.set(id, { ...request, createdAt: this.now() });
    return id;
  }

  /** Takes a pending request (single use), or undefined when unknown or forgotten. */
  takePending(id: string): AuthorizeRequest | undefined {
    const found = this.#pending.get(id);
    this.#pending.delete(id);
    if (!found || this.now() - found.createdAt > PENDING_TTL_MS) return undefined;
    const { createdAt: _, ...request } = found;
    return request;
  }

  /** Issues a single-use authorization code for `arn`, valid for 5 minutes. */
  issueCode(request: AuthorizeRequest, arn: string): string {
    const code = randomToken(32);
    this.#codes.set(code, { request, arn, expiresAt: this.now() + CODE_TTL_MS });
    return code;
  }

  /**
   * Takes a code for exchange: it is spent whatever happens next.
   *
   * @returns The grant, "used" for a spent or expired code, or undefined for an unknown one.
   */
  takeCode(code: string): CodeGrant | "used" | undefined {
    if (this.#usedCodes.has(code)) return "used";
    const grant = this.#codes.get(code);
    if (!grant) return undefined;
    this.#codes.delete(code);
    this.#usedCodes.add(code);
    return grant.expiresAt <= this.now() ? "used" : grant;
  }

  // --- sessions and credentials -------------------------------------------------------------------

  /** Starts a session bound to the DPoP key thumbprint `jkt`. */
  createSession(arn: string, clientId: string, jkt: string): Session {
    const session: Session = {
      id: crypto.randomUUID(),
      arn,
      clientId,
      jkt,
      createdAt: this.now(),
      refreshToken: "",
    };
    this.#sessions.set(session.id, session);
    this.rotateRefreshToken(session);
    return session;
  }

  /**
   * Finds the session of a refresh token.
   *
   * @returns The session, or undefined for an unknown, superseded or revoked token.
   */
  sessionOfRefreshToken(token: string): Session | undefined {
    const id = this.#refreshTokens.get(token);
    return id === undefined ? undefined : this.#sessions.get(id);
  }

  /**
   * Revokes `session`, the whole token chain: its current refresh token is forgotten, and the
   * token endpoint refuses a repeated refresh of an earlier one (`revoked`).
   */
  revokeSession(session: Session): void {
    session.revoked = true;
    this.#refreshTokens.delete(session.refreshToken);
  }

  /**
   * Remembers what the refresh of `oldToken` answered, so a repeated call gets the same answer
   * while those credentials are valid (the service documents the refresh as idempotent).
   */
  recordRefresh(oldToken: string, answer: RefreshAnswer): void {
    const now = this.now();
    for (const [token, old] of this.#answers) {
      if (old.credentials.expiresAt <= now) this.#answers.delete(token);
    }
    this.#answers.set(oldToken, answer);
  }

  /**
   * What an earlier refresh of a superseded `token` answered, if its credentials are still valid;
   * else undefined (the token is then refused like any unknown one).
   */
  earlierRefresh(token: string): RefreshAnswer | undefined {
    const answer = this.#answers.get(token);
    return answer !== undefined && answer.credentials.expiresAt > this.now() ? answer : undefined;
  }

  /** The session with this id. */
  sessionById(id: string): Session | undefined {
    return this.#sessions.get(id);
  }

  /** Replaces the session's refresh token; the old one is refused from now on. */
  rotateRefreshToken(session: Session): string {
    if (session.refreshToken) {
      this.#refreshTokens.delete(session.refreshToken);
    }
    session.refreshToken = `rt.${randomToken(48)}`;
    this.#refreshTokens.set(session.refreshToken, session.id);
    return session.refreshToken;
  }

  /** Whether the session has outlived `sessionTtlSeconds`. */
  sessionExpired(session: Session): boolean {
    return this.now() - session.createdAt >= this.sessionTtlSeconds * 1000;
  }

  /** Issues credentials for a session, valid `lifetimeSeconds`. */
  issueCredentials(session: Session, lifetimeSeconds: number): IssuedCredentials {
    return this.#issue(session.arn, lifetimeSeconds, { kind: "login" });
  }

  /** Issues role credentials for the role session `arn` (`…:assumed-role/…`), valid `lifetimeSeconds`. */
  issueRoleCredentials(
    arn: string,
    lifetimeSeconds: number,
    origin: { chained: boolean; withDurationSeconds: boolean } = {
      chained: false,
      withDurationSeconds: false,
    },
  ): IssuedCredentials {
    return this.#issue(arn, lifetimeSeconds, { kind: "role", ...origin });
  }

  /** Issues a federation sign-in token (valid 15 minutes). */
  issueSigninToken(grant: Omit<SigninTokenGrant, "expiresAt">): string {
    const now = this.now();
    for (const [token, g] of this.#signinTokens) {
      if (g.expiresAt <= now) this.#signinTokens.delete(token);
    }
    const token = randomToken(48);
    this.#signinTokens.set(token, { ...grant, expiresAt: now + 15 * 60_000 });
    return token;
  }

  /** The grant of an unexpired sign-in token. */
  signinTokenGrant(token: string): SigninTokenGrant | undefined {
    const grant = this.#signinTokens.get(token);
    return grant !== undefined && grant.expiresAt > this.now() ? grant : undefined;
  }

  #issue(arn: string, lifetimeSeconds: number, origin: CredentialOrigin): IssuedCredentials {
    const credentials: IssuedCredentials = {
      accessKeyId: `ASIA${randomUpperAlnum(16)}`,
      secretAccessKey: randomToken(30),
      sessionToken: `IQoJb3JpZ2luX2VjE${randomToken(240)}`,
      arn,
      expiresAt: this.now() + lifetimeSeconds * 1000,
      origin,
    };
    this.#credentials.set(credentials.accessKeyId, credentials);
    return credentials;
  }

  /** The credentials of an access key id, or undefined when this emulator never issued it. */
  credentialsOf(accessKeyId: string): IssuedCredentials | undefined {
    return this.#credentials.get(accessKeyId);
  }

  // --- counters and faults ------------------------------------------------------------------------

  /** Counts one request. */
  count(what: keyof Counters): void {
    this.#counters[what]++;
  }

  /** Denies `actions` (IAM action names) to every identity from now on, replacing earlier ones. */
  denyActions(actions: readonly string[]): void {
    this.#deniedActions = new Set(actions);
  }

  /** Whether the IAM action is denied. */
  isDenied(action: string): boolean {
    return this.#deniedActions.has(action);
  }

  /** A copy of the counters. */
  counters(): Counters {
    return { ...this.#counters };
  }

  /** Makes the next `n` token calls fail as `failure` says (replacing any earlier plan). */
  failNextTokenCalls(n: number, failure: TokenFailure): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`Cannot fail "${n}" calls`);
    this.#failures = n > 0 ? { remaining: n, failure: { ...failure } } : undefined;
  }

  /** The failure planned for this token call, if any (consumes one). */
  takeFailure(): TokenFailure | undefined {
    const plan = this.#failures;
    if (!plan) return undefined;
    if (--plan.remaining <= 0) this.#failures = undefined;
    return plan.failure;
  }

  #prune(): void {
    const now = this.now();
    for (const [id, p] of this.#pending) {
      if (now - p.createdAt > PENDING_TTL_MS) this.#pending.delete(id);
    }
  }
}
