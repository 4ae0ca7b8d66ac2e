/**
 * `aws-login status [--profile NAME] [--json] [--refresh] [--offline]`: every profile with a
 * `login_session` — identity, account, region, when the access credentials expire, whether the
 * cache file exists and is valid (and why not), the access key id and secret key masked to their
 * last 4 characters as `aws configure list` shows them, and when the session itself ends, which
 * only AWS Sign-In knows (`IntrospectOAuth2TokenWithIAM`, skipped with `--offline`; a failure to
 * ask is a note, never an error). Nothing else of a secret is shown.
 *
 * Status only reads: it never refreshes, unless `--refresh` asks it to (then the keys visibly
 * change). A session known to have ended (introspection, a refused refresh, 12 hours since the id
 * token's `iat`) is shown as such, never as "refreshed on next use"; a profile without a cache
 * file is logged out, not a problem. It exits 0 when every listed session is usable or logged
 * out, 4 when a cache file is invalid, 5 when a session has ended (so scripts can check) or the
 * exit code of a failed `--refresh`, makes a cache directory
 * other users can open private (saying so), and reports a Sign-In endpoint that is not the region's
 * default (or not the one the session was made with, which a refresh refuses).
 *
 * Every field from the cache or config files goes through `printable` first, and masks show only
 * printable characters: a planted value cannot send escape sequences to the terminal.
 *
 * @module
 */
import { parseArgs } from "../cli/args.ts";
import type { Deps } from "../cli/deps.ts";
import { AwsLoginError, ConfigError, EXIT, isPermissionFailure, SigninError } from "../errors.ts";
import { printable } from "../cli/output.ts";
import { loginCacheDir } from "../aws/paths.ts";
import { accountIdOf } from "../aws/arn.ts";
import { loadSharedFiles } from "../aws/profile.ts";
import {
  credentialProcessSource,
  listLoginSessions,
  missingProfileHint,
  type ProfileSession,
} from "../session/profile_session.ts";
import {
  cacheFilePath,
  expiresAtMs,
  readCachedToken,
  secureCacheDir,
} from "../session/token_cache.ts";
import { REFRESH_WINDOW_MS, sessionEndpoint } from "../session/credentials.ts";
import { isRoleProfile, resolveProfileCredentials } from "../session/profile_credentials.ts";
import { readProfile } from "../aws/profile_reader.ts";
import type { CachedLoginToken } from "../session/token_cache.ts";

export const help = `Usage: aws-login status [--profile NAME] [--json] [--refresh] [--offline]

Show every profile with a login session, and under it the role profiles that come from it ("admin →
dev (login session)": the role's account and when its cached credentials expire). For each session:
its identity (the login session ARN), account, region, when its access credentials expire, whether
its cache file exists and is valid, the access key id and secret key masked to their last 4
characters, and when the session ends (asked of AWS Sign-In, which needs
signin:IntrospectOAuth2TokenWithIAM; a failure is only noted). A session known to have ended (AWS
Sign-In says so, a refresh by --refresh or an earlier command was refused for that reason, or 12
hours have passed since sign-in) shows "ended — log in again"; a profile without a cached session
(after logout) shows "logged out". Status does not refresh anything unless --refresh is given. Exit
status: 0 when every session is usable or logged out, 4 when a cache file is invalid, 5 when a
session has ended, or the exit status of a failed --refresh.

Options:
  --profile NAME  Show only this profile (a role profile: its session and this role)
  --json          Print JSON instead of text
  --refresh       Refresh the credentials first, even when still fresh (the keys change); with
                  a role profile, assume the role now (and ask for its MFA code)
  --offline       Do not ask AWS Sign-In when the session ends (not with --refresh)
  --debug         Log what happens to stderr (secrets are never logged)
  -h, --help      Show this help
`;

/** Options of `status`. */
export interface StatusOptions {
  readonly profile?: string;
  readonly json: boolean;
  readonly refresh: boolean;
  /** Skip the session check at AWS Sign-In. */
  readonly offline: boolean;
}

/** @throws {UsageError} On an unknown option, or `--refresh` with `--offline`. */
export function parse(argv: readonly string[]): StatusOptions {
  const args = parseArgs(argv, {
    boolean: ["json", "refresh", "offline"],
    string: ["profile"],
    conflicts: [["refresh", "offline", "--refresh calls AWS Sign-In, which --offline rules out"]],
  });
  return {
    profile: args.values.profile,
    json: args.flags.json,
    refresh: args.flags.refresh,
    offline: args.flags.offline,
  };
}

/** How long to wait for AWS Sign-In's answer about one session. */
const INTROSPECT_TIMEOUT_MS = 5_000;

/** One profile's status, as printed with `--json`. */
export interface ProfileStatus {
  profile: string;
  loginSession: string;
  accountId: string | undefined;
  region: string | undefined;
  signInRegion: string | undefined;
  /** The Sign-In endpoint the session was made with, when the cache names it. */
  signInEndpoint?: string;
  /** The Sign-In endpoint a refresh would use now, and the setting it comes from when custom. */
  endpoint?: string;
  customEndpoint?: string;
  /** Why a refresh would be refused before any request (an endpoint that is not the session's). */
  refreshProblem?: string;
  cacheFile: string;
  cacheState: "valid" | "missing" | "invalid";
  /** Why the cache file is missing or invalid, or why `--refresh` failed. */
  problem?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  expiresAt?: string;
  expiresInSeconds?: number;
  /** Whether the next use refreshes the credentials (they expire within 5 minutes). */
  refreshDue?: boolean;
  refreshed?: boolean;
  /** Whether `--refresh` failed (`problem` says why); the credentials shown are the old ones. */
  refreshFailed?: boolean;
  /**
   * What AWS Sign-In says of the session: "active", "ended" (revoked, or past its end), or
   * "unknown" (it could not be asked; see `sessionNote`). Absent with `--offline` or without a
   * valid cache file.
   */
  sessionState?: "active" | "ended" | "unknown";
  /** How it is known that the session has ended (introspection, a refused refresh, its age). */
  sessionEndedReason?: string;
  /** The profile has a `login_session` but no cached session: logged out (or never signed in). */
  loggedOut?: boolean;
  /** When the session ends (RFC 3339), when active. */
  sessionEndsAt?: string;
  sessionEndsInSeconds?: number;
  /** Why the session could not be checked. */
  sessionNote?: string;
  /** The role profiles whose chain ends in this session. */
  roles?: RoleStatus[];
}

/** A role profile under the session it comes from. */
export interface RoleStatus {
  profile: string;
  /** The profiles from this one down to the login profile. */
  chain: string[];
  roleArn: string;
  /** The role's account. */
  accountId: string;
  /** The AWS CLI's role cache file of this role. */
  cacheFile: string;
  cached: boolean;
  expiresAt?: string;
  expiresInSeconds?: number;
  /** `--refresh` assumed the role now (false: another process just had). */
  refreshed?: boolean;
  refreshFailed?: boolean;
  problem?: string;
}

/**
 * Masks a secret as `aws configure list` does: 16 asterisks and the last 4 characters, each shown
 * only when it is printable ASCII (else `?`).
 */
export function mask(value: string): string {
  return "*".repeat(16) + (value.length > 4 ? value.slice(-4).replace(/[^\x21-\x7e]/g, "?") : "");
}

/** A value from the cache or config file, safe to print (see `printable`). */
function field(value: string | undefined, max = 200): string | undefined {
  return value === undefined ? undefined : printable(value, max);
}

/** Shows every login profile's status. */
export async function run(options: StatusOptions, deps: Deps): Promise<number> {
  let sessions = await listLoginSessions(deps.env);
  const { listRoleProfiles } = await import("../session/role_status.ts");
  let roles = await listRoleProfiles(deps.env);
  let roleOnly = false;
  if (options.profile !== undefined && !sessions.some((s) => s.profile === options.profile)) {
    const config = await readProfile(deps.env, options.profile);
    if (config.exists && isRoleProfile(config.keys)) {
      // Its chain, with every refusal it has.
      const { resolveRoleChain, profileLookup } = await import("../session/role_credentials.ts");
      const chain = await resolveRoleChain(
        config,
        profileLookup(deps.env),
        (name) => missingProfileHint(deps.env, name),
      );
      roles = [{ profile: config.name, chain }];
      sessions = sessions.filter((s) => s.profile === chain.login.name);
      roleOnly = true;
    }
  }
  if (options.profile !== undefined && !roleOnly) {
    roles = roles.filter((r) => r.chain.login.name === options.profile);
    sessions = sessions.filter((s) => s.profile === options.profile);
    if (sessions.length === 0) {
      const other = await credentialProcessSource(
        await loadSharedFiles(deps.env),
        options.profile,
      );
      if (other !== undefined) throw new ConfigError("ERR_CONFIG_PROFILE", other.message);
      const hint = await missingProfileHint(deps.env, options.profile);
      throw new ConfigError(
        "ERR_CONFIG_PROFILE",
        `Profile "${options.profile}" ${
          hint ? "does not exist" : "has no login session"
        }.${hint} ` +
          `Run "aws-login login --profile ${options.profile}" to create one`,
      );
    }
  }
  const warning = secureCacheDir(loginCacheDir(deps.env));
  const statuses: ProfileStatus[] = [];
  let exitCode: number = EXIT.ok;
  for (const session of sessions) {
    // With a role profile, --refresh assumes the role; the session is refreshed only if needed.
    const own = roleOnly ? { ...options, refresh: false } : options;
    const { status, failure } = await statusOf(session, own, deps);
    const mine = roles.filter((r) => r.chain.login.name === session.profile);
    if (mine.length > 0) {
      status.roles = [];
      for (const role of mine) {
        const { status: rs, failure: rf } = await roleStatusOf(
          role,
          roleOnly && options.refresh,
          deps,
        );
        status.roles.push(rs);
        if (rf !== undefined && exitCode === EXIT.ok) exitCode = rf;
      }
    }
    statuses.push(status);
    if (failure !== undefined && exitCode === EXIT.ok) exitCode = failure;
  }
  if (options.json) {
    const out = { profiles: statuses, warnings: warning === undefined ? [] : [warning] };
    deps.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    if (warning !== undefined) deps.stderr.write(`aws-login: warning: ${warning}\n`);
    deps.stdout.write(render(statuses));
  }
  return exitCode;
}

/** One profile's status, and the exit code of its first failure (refresh or cache), if any. */
async function statusOf(
  session: ProfileSession,
  options: StatusOptions,
  deps: Deps,
): Promise<{ status: ProfileStatus; failure?: number }> {
  const cacheFile = await cacheFilePath(deps.env, session.loginSession);
  const status: ProfileStatus = {
    profile: printable(session.profile, 200),
    loginSession: printable(session.loginSession, 300),
    accountId: accountIdOf(session.loginSession),
    region: field(session.region),
    signInRegion: undefined,
    cacheFile,
    cacheState: "valid",
  };
  let failure: number | undefined;
  let refusal: SigninError | undefined;
  if (options.refresh) {
    try {
      const creds = await resolveProfileCredentials(deps, {
        profile: session.profile,
        forceRefresh: true,
        strict: true,
      });
      status.refreshed = creds.refreshed;
    } catch (err) {
      if (!(err instanceof AwsLoginError) || isPermissionFailure(err)) throw err;
      status.refreshed = false;
      status.refreshFailed = true;
      status.problem = printable(err.message, 2000);
      failure = err.exitCode;
      if (err instanceof SigninError) refusal = err;
    }
  }
  try {
    const token = await readCachedToken(cacheFile);
    const expires = expiresAtMs(token);
    const now = deps.now();
    status.accountId = field(token.accessToken.accountId, 64) || status.accountId;
    status.signInRegion = field(token.signInRegion, 64);
    status.signInEndpoint = field(token.signInEndpoint, 300);
    try {
      const { endpoint } = await sessionEndpoint(session, token);
      status.endpoint = printable(endpoint.url, 300);
      status.customEndpoint = field(endpoint.source);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      status.refreshProblem = printable(err.message, 2000);
    }
    status.accessKeyId = mask(token.accessToken.accessKeyId);
    status.secretAccessKey = mask(token.accessToken.secretAccessKey);
    status.expiresAt = token.accessToken.expiresAt;
    status.expiresInSeconds = Math.floor((expires - now) / 1000);
    status.refreshDue = expires - now <= REFRESH_WINDOW_MS;
    const ended = endedLocally(token, refusal, now);
    if (ended !== undefined) {
      status.sessionState = "ended";
      status.sessionEndedReason = ended;
    } else if (!options.offline) await checkSession(status, token, session, deps);
    // Nothing but a new login helps a session that has ended: scripts must see it.
    if (status.sessionState === "ended") failure ??= EXIT.signin;
  } catch (err) {
    if (!(err instanceof AwsLoginError) || isPermissionFailure(err)) throw err;
    if (err.code === "ERR_CACHE_MISSING" && !options.refresh) {
      // No cached session is what logout leaves: a state, not a problem.
      status.cacheState = "missing";
      status.loggedOut = true;
      return { status, failure };
    }
    status.cacheState = err.code === "ERR_CACHE_MISSING" ? "missing" : "invalid";
    status.problem = printable(
      err.forProfile(session.profile).message,
      2000,
    );
    failure ??= err.exitCode;
  }
  return { status, failure };
}

/** A role profile's status (and, with `refresh`, the AssumeRole now). */
async function roleStatusOf(
  role: import("../session/role_status.ts").RoleProfile,
  refresh: boolean,
  deps: Deps,
): Promise<{ status: RoleStatus; failure?: number }> {
  const top = role.chain.hops[0]!;
  const status: RoleStatus = {
    profile: printable(role.profile, 200),
    chain: role.chain.names.map((n) => printable(n, 200)),
    roleArn: printable(top.roleArn, 300),
    accountId: top.roleArn.split(":")[4] ?? "",
    cacheFile: "",
    cached: false,
  };
  let failure: number | undefined;
  if (refresh) {
    try {
      const creds = await resolveProfileCredentials(deps, {
        profile: role.profile,
        forceRefresh: true,
        strict: true,
      });
      status.refreshed = creds.refreshed;
    } catch (err) {
      if (!(err instanceof AwsLoginError)) throw err;
      status.refreshed = false;
      status.refreshFailed = true;
      status.problem = printable(err.message, 2000);
      failure = err.exitCode;
    }
  }
  const { roleCacheStatus } = await import("../session/role_status.ts");
  try {
    const cache = await roleCacheStatus(deps.env, role.chain);
    status.cacheFile = cache.cacheFile;
    if (cache.expiresAtMs !== undefined) {
      status.cached = true;
      status.accountId = cache.accountId || status.accountId;
      status.expiresAt = new Date(cache.expiresAtMs).toISOString().replace(/\.\d{3}Z$/, "Z");
      status.expiresInSeconds = Math.floor((cache.expiresAtMs - deps.now()) / 1000);
    }
  } catch (err) {
    if (!(err instanceof AwsLoginError)) throw err;
    status.problem ??= printable(err.message, 2000);
    failure ??= err.exitCode;
  }
  return { status, failure };
}

/** The `roles` lines of a session: `admin → dev (login session): …`. */
function renderRoles(roles: readonly RoleStatus[]): string[] {
  return roles.map((r) => {
    const path = `${r.chain.join(" → ")} (login session)`;
    const cached = r.expiresAt !== undefined && r.expiresInSeconds !== undefined
      ? `cached until ${r.expiresAt} (${describeRemaining(r.expiresInSeconds)})`
      : "not assumed yet";
    const refresh = r.refreshFailed
      ? "; assume FAILED (see problem)"
      : r.refreshed === true
      ? "; assumed now"
      : r.refreshed === false
      ? "; another process had just assumed it"
      : "";
    const problem = r.problem === undefined ? "" : `\n      problem: ${r.problem}`;
    return `    ${path}: ${r.roleArn}, account ${r.accountId}, ${cached}${refresh}${problem}`;
  });
}

/** Sessions last at most this long after sign-in (docs/PROTOCOL.md §4). */
const SESSION_MAX_MS = 12 * 3600_000;

/**
 * What shows, without asking AWS Sign-In, that a session has ended: a refresh just refused for that
 * reason, one an earlier refresh noted in the cache file (`sessionEndedAt`, `sessionEndedBy`), or a
 * sign-in (the id token's `iat`) longer ago than a session can last.
 *
 * @returns Why the session has ended, or undefined when nothing shows it.
 */
function endedLocally(
  token: CachedLoginToken,
  refusal: SigninError | undefined,
  now: number,
): string | undefined {
  if (refusal?.code === "ERR_SIGNIN_ACCESS_DENIED" && refusal.error === "TOKEN_EXPIRED") {
    return "AWS Sign-In refused the refresh: the session has ended (TOKEN_EXPIRED)";
  }
  // A refusal an earlier refresh noted in the file (credential-process, exec, …), unless the
  // credentials were issued after it (they last at most 15 minutes): another program that keeps
  // unknown fields (an SDK) refreshed since, so the note is stale.
  const at = token.sessionEndedAt, by = token.sessionEndedBy;
  const notedMs = typeof at === "string" ? Date.parse(at) : NaN;
  const issuedLater = expiresAtMs(token) >= notedMs + 900_000;
  if (refusal === undefined && !Number.isNaN(notedMs) && typeof by === "string" && !issuedLater) {
    const why = by === "TOKEN_EXPIRED"
      ? "the session has ended (TOKEN_EXPIRED)"
      : `AWS Sign-In no longer accepts its refresh token (${printable(by, 64)}): the session was ` +
        `revoked or has ended`;
    return `a refresh at ${printable(String(at), 64)} was refused: ${why}`;
  }
  const rejected = refusal?.code === "ERR_SIGNIN_VALIDATION" &&
    (refusal.error === undefined || refusal.error === "INVALID_REQUEST" ||
      refusal.error === "invalid_grant");
  // In the region the session recorded, a rejected refresh token is a revoked or ended session.
  if (rejected && token.signInRegion) {
    return "AWS Sign-In no longer accepts its refresh token: the session was revoked or has ended";
  }
  const signedIn = signedInAtMs(token);
  if (signedIn !== undefined && now - signedIn >= SESSION_MAX_MS) {
    const at = new Date(signedIn).toISOString().replace(/\.\d{3}Z$/, "Z");
    return `signed in at ${at}, and sessions last at most 12 hours`;
  }
  return undefined;
}

/** When the user signed in: the id token's `iat` (login writes it; refreshes keep it), if any. */
function signedInAtMs(token: CachedLoginToken): number | undefined {
  const payload = token.idToken?.split(".")[1];
  if (!payload) return undefined;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const iat = (JSON.parse(json) as { iat?: unknown }).iat;
    return typeof iat === "number" && Number.isFinite(iat) && iat > 0 ? iat * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Fills the session fields from AWS Sign-In's introspection; a failure becomes a note. */
async function checkSession(
  status: ProfileStatus,
  token: CachedLoginToken,
  session: ProfileSession,
  deps: Deps,
): Promise<void> {
  const now = deps.now();
  if (expiresAtMs(token) <= now) {
    status.sessionState = "unknown";
    status.sessionNote = "the cached credentials that sign the check have expired " +
      `(run "aws-login status --refresh --profile ${session.profile}")`;
    return;
  }
  try {
    const { introspectCachedSession } = await import("../session/session_control.ts");
    const answer = await introspectCachedSession(token, session, {
      ...deps,
      timeoutMs: INTROSPECT_TIMEOUT_MS,
    });
    status.sessionState = answer.active ? "active" : "ended";
    if (!answer.active) {
      status.sessionEndedReason =
        "AWS Sign-In says it is no longer active (revoked, or past its end)";
    }
    if (answer.expiresAtMs !== undefined) {
      status.sessionEndsAt = new Date(answer.expiresAtMs).toISOString().replace(".000Z", "Z");
      status.sessionEndsInSeconds = Math.floor((answer.expiresAtMs - now) / 1000);
    }
  } catch (err) {
    // A missing permission is not "unknown": main.ts says how to run with the set (exit 3).
    if (isPermissionFailure(err)) throw err;
    status.sessionState = "unknown";
    const reason = err instanceof Error ? err.message : String(err);
    status.sessionNote = `cannot ask AWS Sign-In: ${printable(reason, 2000)}`;
  }
}

/** "in 12 min", "in 40 s", "in 7 h 12 min", "expired 3 min ago". */
export function describeRemaining(seconds: number): string {
  const abs = Math.abs(seconds);
  const amount = abs >= 3600
    ? `${Math.floor(abs / 3600)} h ${Math.floor((abs % 3600) / 60)} min`
    : abs >= 120
    ? `${Math.floor(abs / 60)} min`
    : `${abs} s`;
  return seconds >= 0 ? `in ${amount}` : `expired ${amount} ago`;
}

/** The `session` row: when it ends, that it has ended, or why that is unknown. */
function describeSession(s: ProfileStatus): string | undefined {
  if (s.loggedOut) return `logged out: run "aws-login login --profile ${s.profile}" to sign in`;
  switch (s.sessionState) {
    case "active":
      return s.sessionEndsAt === undefined || s.sessionEndsInSeconds === undefined
        ? "active (AWS Sign-In did not say when it ends)"
        : `ends ${s.sessionEndsAt} (${describeRemaining(s.sessionEndsInSeconds)})`;
    case "ended":
      return `ended — log in again: run "aws-login login --profile ${s.profile}" ` +
        `(${s.sessionEndedReason})`;
    case "unknown":
      return `unknown: ${s.sessionNote}`;
    default:
      return undefined;
  }
}

function render(statuses: readonly ProfileStatus[]): string {
  if (statuses.length === 0) {
    return `No profile has a login session. Run "aws-login login" to sign in.\n`;
  }
  return statuses.map((s) => {
    const rows: [string, string][] = [
      ["identity", s.loginSession],
      ["account", s.accountId ?? "(unknown)"],
      ["region", s.region ?? "(not set)"],
    ];
    if (s.signInRegion !== undefined) rows.push(["sign-in region", s.signInRegion]);
    if (s.customEndpoint !== undefined) {
      rows.push(["endpoint", `${s.endpoint} (custom, from ${s.customEndpoint})`]);
    }
    if (s.refreshProblem !== undefined && s.refreshProblem !== s.problem) {
      rows.push(["refresh", s.refreshProblem]);
    }
    rows.push(["cache file", `${s.cacheFile} (${s.loggedOut ? "none" : s.cacheState})`]);
    if (s.expiresAt !== undefined && s.expiresInSeconds !== undefined) {
      // No refresh can succeed once the session has ended.
      // Expired ones depend on the session still being on, which only the refresh will tell.
      const note = !s.refreshDue || s.sessionState === "ended"
        ? ""
        : s.expiresInSeconds < 0 && s.sessionState !== "active"
        ? "; the next use refreshes them if the session has not ended"
        : "; refreshed on next use";
      rows.push(["expires", `${s.expiresAt} (${describeRemaining(s.expiresInSeconds)}${note})`]);
      rows.push(["access key", s.accessKeyId!], ["secret key", s.secretAccessKey!]);
    }
    const session = describeSession(s);
    if (session !== undefined) rows.push(["session", session]);
    if (s.refreshFailed) {
      rows.push(["refresh", "FAILED (see problem); the credentials above are the old ones"]);
    } else if (s.refreshed !== undefined) {
      rows.push(["refresh", s.refreshed ? "refreshed now" : "another process had just refreshed"]);
    }
    if (s.problem !== undefined) rows.push(["problem", s.problem]);
    const width = Math.max(...rows.map(([label]) => label.length));
    return [
      `Profile "${s.profile}"`,
      ...rows.map(([label, value]) => `  ${(label + ":").padEnd(width + 1)}  ${value}`),
      ...(s.roles?.length ? ["  roles:", ...renderRoles(s.roles)] : []),
    ].join("\n") + "\n";
  }).join("\n");
}
