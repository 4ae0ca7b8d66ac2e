/**
 * The role resolver's warm path, in one module because each module loaded costs a warm
 * `credential-process` more than its size: a role profile's chain, read from the shared files and
 * checked before anything else happens; the AWS CLI's role cache entry of each hop, read as
 * carefully as the login cache; and its credentials handed out while more than 5 minutes remain
 * and the login session they come from still exists (one stat of its cache file: after a logout —
 * aws-login's or `aws logout` — nothing more is). When a hop is not fresh, role_assume.ts (the
 * AssumeRole under the entry's lock, the STS client, the cache's write side) is loaded.
 *
 * The chain: `role_arn` + `source_profile`, hop after hop, down to the profile that holds
 * `login_session` (botocore `AssumeRoleProvider` semantics). Every configuration aws-login cannot
 * serve is refused, with what to do instead, before any file is locked or any network call made.
 *
 * The role cache: `~/.aws/cli/cache/<key>.json`, where the key is the SHA-1 of the AssumeRole
 * arguments as Python's `json.dumps(args, sort_keys=True)` writes them (botocore
 * `BaseAssumeRoleCredentialFetcher._create_cache_key`), and the content is the AssumeRole reply as
 * JSON (role_cache.ts writes it). A role assumed by the AWS CLI is so used by aws-login without a
 * new AssumeRole, and the other way round. Files are read as carefully as the login cache (the
 * user's own regular file, a size cap, re-read while torn).
 *
 * Loaded lazily by profile_credentials.ts for role profiles (and by status and logout for chains);
 * on the credential hot path of a role profile: `Deno.*`, WebCrypto and modules the login path has
 * already loaded. Messages name files and fields, never values.
 *
 * @see docs/PROTOCOL.md §16
 * @module
 */
import { CacheError, ConfigError, loginCommand } from "../errors.ts";
import { joinPath } from "../files.ts";
import { type EnvLike, roleCacheDir } from "../aws/paths.ts";
import { type ProfileFiles, readProfileFiles, resolveRegion } from "../aws/profile_reader.ts";
import type { ProfileConfig } from "../aws/profile_config.ts";
import { type CredentialDeps, REFRESH_WINDOW_MS, type ResolveOptions } from "./credentials.ts";
import type { Credentials, ResolvedCredentials } from "./credential_types.ts";
import { otherProfiles, type ProfileSession, profileSessionOf } from "./profile_session.ts";
import { isRoleProfile } from "./profile_credentials.ts";
import { readCacheFile } from "./cache_read.ts";
import { isObject, pythonString } from "./python_json.ts";
import { parseRfc3339 } from "./utc_time.ts";
import { cacheFilePath } from "./token_cache.ts";

/** Asks the person for an MFA code (see mfa_prompt.ts); throws when nobody can answer. */
export type MfaPrompt = (serial: string, profile: string) => Promise<string>;

/** Options of the role resolver. */
export interface RoleResolveOptions extends ResolveOptions {
  /** Reads an MFA code (default: the controlling terminal, `/dev/tty`). */
  readonly mfaPrompt?: MfaPrompt;
}

/** A hop's credentials, with the assumed-role ARN when known. */
export type HopCredentials = Credentials & { readonly assumedRoleArn: string | undefined };

/** What the hops share. */
export interface RoleContext {
  readonly chain: RoleChain;
  readonly session: ProfileSession;
  readonly loginPath: string;
  readonly deps: CredentialDeps;
  readonly options: RoleResolveOptions;
  /** The STS region and endpoint, worked out once, when the first AssumeRole is due. */
  sts?: { region: string; endpoint: string };
}

/**
 * The chain of a role profile, checked, with its login session (not read: only its file's path).
 *
 * @throws {ConfigError} For a configuration aws-login cannot serve.
 */
export async function roleContext(
  requested: ProfileConfig,
  deps: CredentialDeps,
  options: RoleResolveOptions,
  files: ProfileFiles,
): Promise<RoleContext> {
  const chain = await resolveRoleChain(
    requested,
    (name) => Promise.resolve(files.profile(name)),
    (name) => Promise.resolve(` ${otherProfiles(files.shared(), name)}`),
  );
  const session = await profileSessionOf(deps.env, chain.login, files);
  const loginPath = await cacheFilePath(deps.env, session.loginSession);
  return { chain, session, loginPath, deps, options };
}

/**
 * Resolves the credentials of a role profile.
 *
 * @param requested The profile asked for (a role profile).
 * @param files The shared files, read once (the chain's profiles are looked up in them).
 * @throws {ConfigError} For a configuration aws-login cannot serve (before any network call).
 * @throws {CacheError} When the login session is gone, or a cache file is unsafe or unreadable.
 * @throws {StsError} When STS refuses the AssumeRole.
 * @throws {SigninError} When AWS Sign-In refuses the refresh of the login session beneath.
 * @throws {NetworkError} When STS or Sign-In cannot be reached and nothing valid is cached.
 */
export async function resolveRoleCredentials(
  requested: ProfileConfig,
  deps: CredentialDeps,
  options: RoleResolveOptions = {},
  files: ProfileFiles = readProfileFiles(deps.env),
): Promise<ResolvedCredentials> {
  const ctx = await roleContext(requested, deps, options, files);
  const { chain, session, loginPath } = ctx;
  const top = chain.hops[0]!;
  const { value, refreshed, path } = await resolveHop(ctx, 0, options.forceRefresh ?? false);
  return {
    profile: requested.name,
    region: resolveRegion(deps.env, undefined, requested.keys),
    refreshed,
    login: { profile: session.profile, loginSession: session.loginSession, cachePath: loginPath },
    role: {
      roleArn: top.roleArn,
      assumedRoleArn: value.assumedRoleArn ?? "",
      cachePath: path,
      chain: chain.names,
    },
    accessKeyId: value.accessKeyId,
    secretAccessKey: value.secretAccessKey,
    sessionToken: value.sessionToken,
    accountId: value.accountId,
    expiresAtMs: value.expiresAtMs,
  };
}

/** Whether a cached entry is handed out without a new AssumeRole. */
export function isFresh(entry: RoleCacheEntry | undefined, now: number): boolean {
  return entry !== undefined && entry.expiresAtMs - now > REFRESH_WINDOW_MS;
}

/**
 * Throws unless the login session at the bottom still has its cache file: role credentials are
 * not handed out after a logout.
 */
export function checkLoginExists(ctx: RoleContext): void {
  try {
    Deno.statSync(ctx.loginPath);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) return; // the read beneath names other errors
    throw new CacheError(
      "ERR_CACHE_MISSING",
      `No cached login session for "${ctx.session.loginSession}" (file "${ctx.loginPath}"), ` +
        `which profile "${ctx.chain.requested.name}" takes its role from: logged out. Run ` +
        `"${loginCommand(ctx.session.profile)}" to sign in.`,
      { cause: err },
    );
  }
}

/**
 * The credentials of hop `index`: its cache entry while fresh (and the login session exists),
 * else assumed again (role_assume.ts).
 */
export async function resolveHop(
  ctx: RoleContext,
  index: number,
  force: boolean,
): Promise<{ value: HopCredentials; refreshed: boolean; path: string }> {
  const hop = ctx.chain.hops[index]!;
  const { deps } = ctx;
  const path = await roleCachePath(deps.env, cacheArgsOf(hop));
  const first = await readRoleCacheEntry(path);
  if (!force && isFresh(first, deps.now())) {
    checkLoginExists(ctx);
    deps.debug(`using cached role credentials of profile "${hop.profile}" from "${path}"`);
    return { value: first!, refreshed: false, path };
  }
  // A variable specifier: Deno reads the AssumeRole side only when one is due.
  const assumeModule = "./role_assume.ts";
  const { refreshHop }: typeof import("./role_assume.ts") = await import(assumeModule);
  return await refreshHop(ctx, index, force, path, first);
}

// ---- The chain ----

/** One AssumeRole of the chain. */
export interface RoleHop {
  /** The profile holding this `role_arn`. */
  readonly profile: string;
  readonly roleArn: string;
  /** `role_session_name` when set and not empty. */
  readonly roleSessionName?: string;
  readonly externalId?: string;
  readonly mfaSerial?: string;
  /** `duration_seconds` as Python's `int()` reads it. */
  readonly durationSeconds?: number;
}

/** A role profile's chain. */
export interface RoleChain {
  /** The profile asked for. */
  readonly requested: ProfileConfig;
  /** Outermost first: `hops[0]` is the requested profile's role; the last is assumed directly with the login session. */
  readonly hops: readonly RoleHop[];
  /** The profile holding `login_session`. */
  readonly login: ProfileConfig;
  /** The profile names from the one asked for down to the login profile. */
  readonly names: readonly string[];
}

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;

/** The partition of a well-formed role ARN. */
export function roleArnPartition(roleArn: string): string | undefined {
  return ROLE_ARN.exec(roleArn)?.[1];
}

/**
 * Reads a `duration_seconds` value as Python's `int()` reads a string: surrounding whitespace, an
 * optional sign, ASCII digits with single `_` between them. Undefined when `int()` would refuse it.
 */
export function pythonInt(text: string): number | undefined {
  const m = /^[ \t\n\r\f\v]*([+-]?)(\d(?:_?\d)*)[ \t\n\r\f\v]*$/.exec(text);
  if (m === null) return undefined;
  const n = Number(m[2]!.replaceAll("_", ""));
  return m[1] === "-" ? -n : n;
}

/** The AssumeRole arguments that name a hop's cache entry. */
export function cacheArgsOf(hop: RoleHop): RoleCacheArgs {
  // Assigned one by one, not spread: cheaper for a process that runs this once, cold.
  const args: { -readonly [K in keyof RoleCacheArgs]: RoleCacheArgs[K] } = { RoleArn: hop.roleArn };
  if (hop.roleSessionName !== undefined) args.RoleSessionName = hop.roleSessionName;
  if (hop.externalId !== undefined) args.ExternalId = hop.externalId;
  if (hop.mfaSerial !== undefined) args.SerialNumber = hop.mfaSerial;
  if (hop.durationSeconds !== undefined) args.DurationSeconds = hop.durationSeconds;
  return args;
}

/**
 * The session name when `role_session_name` is not set: the login identity's own name (the last
 * part of its ARN: `Alice` for `…:user/Alice`), cleaned to `[\w+=,.@-]{2,64}`, so CloudTrail in
 * the target account shows who acted; `aws-login-<epoch seconds>` when nothing usable remains.
 */
export function defaultSessionName(loginSession: string, nowMs: number): string {
  const last = loginSession.trim().split(/[/:]/).at(-1) ?? "";
  const cleaned = last.replace(/[^\w+=,.@-]/g, "").slice(0, 64);
  return cleaned.length >= 2 ? cleaned : `aws-login-${Math.floor(nowMs / 1000)}`;
}

/** Looks profiles up by name (the shared files read once, or once per name). */
export type ProfileLookup = (name: string) => Promise<ProfileConfig>;

/**
 * A lookup in the shared files, read once.
 *
 * @throws {ConfigError} When a shared file cannot be read.
 */
export function profileLookup(env: EnvLike): ProfileLookup {
  const files = readProfileFiles(env);
  return (name) => Promise.resolve(files.profile(name));
}

/**
 * Resolves and checks the chain of a role profile.
 *
 * @param requested The profile asked for (a role profile, see {@link isRoleProfile}).
 * @param lookup Reads other profiles.
 * @param missingHint For a source profile that does not exist: " Did you mean …" (or "").
 * @throws {ConfigError} `ERR_CONFIG_PROFILE` for each configuration aws-login cannot serve.
 */
export async function resolveRoleChain(
  requested: ProfileConfig,
  lookup: ProfileLookup,
  missingHint: (name: string) => Promise<string>,
): Promise<RoleChain> {
  const hops: RoleHop[] = [];
  const names = [requested.name];
  let current = requested;
  for (;;) {
    hops.push(roleHopOf(current));
    const sourceName = current.keys.source_profile!.trim();
    if (sourceName === current.name && sourceKind(current) === "static") {
      throw refuse(endMessage(current, "static", current.name));
    }
    if (names.includes(sourceName)) {
      throw refuse(
        `The profiles' source_profile settings form a loop: ${
          [...names, sourceName].map((n) => `"${n}"`).join(" → ")
        }. A role chain must end in a profile with a login session`,
      );
    }
    const source = await lookup(sourceName);
    if (!source.exists) {
      throw refuse(
        `Profile "${current.name}" names source_profile "${sourceName}", which does not ` +
          `exist.${await missingHint(sourceName)}`,
      );
    }
    names.push(sourceName);
    const end = sourceKind(source);
    if (end === "login") return { requested, hops, login: source, names };
    if (end === "role") {
      current = source;
      continue;
    }
    throw refuse(endMessage(source, end, current.name));
  }
}

type SourceKind =
  | "login"
  | "role"
  | "static"
  | "sso"
  | "web identity"
  | "credential_process"
  | "nothing";

/** What a source profile holds, in the order the AWS CLI's providers look. */
function sourceKind(p: ProfileConfig): SourceKind {
  const k = p.keys;
  if (Object.hasOwn(k, "aws_access_key_id") || Object.hasOwn(k, "aws_secret_access_key")) {
    return "static";
  }
  if (Object.hasOwn(k, "web_identity_token_file")) return "web identity";
  if (isRoleProfile(k)) return "role";
  if (k.sso_session || k.sso_start_url || k.sso_account_id || k.sso_role_name) return "sso";
  if (Object.hasOwn(k, "credential_process")) return "credential_process";
  if (k.login_session?.trim()) return "login";
  return "nothing";
}

const WHAT: Record<Exclude<SourceKind, "login" | "role">, string> = {
  static: "static access keys (aws_access_key_id)",
  sso: "IAM Identity Center (SSO) settings",
  "web identity": "a web identity token (web_identity_token_file)",
  credential_process: "credential_process",
  nothing: "no credentials",
};

function endMessage(
  source: ProfileConfig,
  kind: Exclude<SourceKind, "login" | "role">,
  parent: string,
): string {
  const head = `Profile "${parent}" takes its credentials from profile "${source.name}", which ` +
    `holds ${WHAT[kind]}, not a login session`;
  if (kind === "credential_process") {
    const named = /--profile[= ]+("?)([^\s"]+)\1/.exec(source.keys.credential_process ?? "")?.[2];
    const which = named !== undefined
      ? `the profile with the login session, "${named}"`
      : `the profile that holds "login_session"`;
    return `${head}. Set source_profile in profile "${parent}" to ${which}: aws-login resolves ` +
      `the chain itself`;
  }
  if (kind === "nothing") {
    return `${head}. Run "aws-login login --profile ${source.name}" to sign in with it, or point ` +
      `source_profile at a profile with a login session`;
  }
  return `${head}: aws-login only resolves role chains that end in an "aws login" session. Use ` +
    `the AWS CLI or an AWS SDK for this profile, or point source_profile at a profile with a ` +
    `login session`;
}

/** The role settings of a profile, checked. */
function roleHopOf(p: ProfileConfig): RoleHop {
  const k = p.keys;
  const name = p.name;
  const hasSource = Object.hasOwn(k, "source_profile");
  const hasCredentialSource = Object.hasOwn(k, "credential_source");
  if (hasSource && hasCredentialSource) {
    throw refuse(
      `Profile "${name}" contains both source_profile and credential_source; keep only ` +
        `source_profile, naming the profile with the login session`,
    );
  }
  if (hasCredentialSource) {
    throw refuse(
      `Profile "${name}" takes its source credentials from credential_source = ` +
        `${k.credential_source} (the environment, EC2 or ECS), which is outside aws-login: use ` +
        `the AWS CLI or an AWS SDK for it, or set source_profile to a profile with a login session`,
    );
  }
  if (!hasSource || !k.source_profile!.trim()) {
    throw refuse(
      `Profile "${name}" has role_arn but no source_profile: set source_profile to the profile ` +
        `with the login session (made by "aws-login login")`,
    );
  }
  const roleArn = k.role_arn!.trim();
  if (!ROLE_ARN.test(roleArn)) {
    throw refuse(
      `Profile "${name}" has an invalid role_arn "${roleArn}": expected ` +
        `"arn:aws:iam::<12-digit account>:role/<name>"`,
    );
  }
  let durationSeconds: number | undefined;
  if (Object.hasOwn(k, "duration_seconds")) {
    durationSeconds = pythonInt(k.duration_seconds!);
    if (durationSeconds === undefined || durationSeconds < 900 || durationSeconds > 43200) {
      throw refuse(
        `Profile "${name}" has duration_seconds = "${k.duration_seconds}": it must be a whole ` +
          `number of seconds from 900 to 43200 (the role's maximum session duration, 3600 when ` +
          `the role is assumed through another role)`,
      );
    }
  }
  const sessionName = k.role_session_name?.trim();
  if (sessionName && !/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    throw refuse(
      `Profile "${name}" has role_session_name "${sessionName}": it must be 2 to 64 letters, ` +
        `digits and + = , . @ _ -`,
    );
  }
  return {
    profile: name,
    roleArn,
    ...(sessionName ? { roleSessionName: sessionName } : {}),
    ...(Object.hasOwn(k, "external_id") ? { externalId: k.external_id } : {}),
    ...(Object.hasOwn(k, "mfa_serial") ? { mfaSerial: k.mfa_serial!.trim() } : {}),
    ...(durationSeconds !== undefined ? { durationSeconds } : {}),
  };
}

function refuse(message: string): ConfigError {
  return new ConfigError("ERR_CONFIG_PROFILE", message);
}

// ---- The role cache: key, file name, careful read ----

/** The AssumeRole arguments that name a cache entry (only those that are set). */
export interface RoleCacheArgs {
  readonly RoleArn: string;
  /** Only when configured: a generated default name is not part of the key. */
  readonly RoleSessionName?: string;
  readonly ExternalId?: string;
  readonly SerialNumber?: string;
  readonly DurationSeconds?: number;
}

/** A cached AssumeRole result. */
export interface RoleCacheEntry extends Credentials {
  /** The assumed-role ARN, when the entry has it. */
  readonly assumedRoleArn: string | undefined;
}

/** The keys of {@link RoleCacheArgs} in the order `sort_keys=True` writes them (by code point). */
const ARG_ORDER = [
  "DurationSeconds",
  "ExternalId",
  "RoleArn",
  "RoleSessionName",
  "SerialNumber",
] as const;

/**
 * The cache key of a set of AssumeRole arguments: lowercase hex SHA-1 of
 * `json.dumps(args, sort_keys=True)` (UTF-8), as the AWS CLI derives it. The text is written for
 * this one flat shape (what `pythonJson(args, { sortKeys: true })` writes): the general writer
 * costs the warm path more to compile and run than the digest does.
 */
export async function roleCacheKey(args: RoleCacheArgs): Promise<string> {
  let text = "";
  for (const key of ARG_ORDER) {
    const v = args[key];
    if (v === undefined) continue;
    const value = typeof v === "string" ? pythonString(v) : JSON.stringify(v);
    text += `${text === "" ? "{" : ", "}"${key}": ${value}`;
  }
  text = text === "" ? "{}" : `${text}}`;
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text)),
  );
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** `~/.aws/cli/cache/<key>.json`. */
export async function roleCachePath(env: EnvLike, args: RoleCacheArgs): Promise<string> {
  return joinPath(roleCacheDir(env), `${await roleCacheKey(args)}.json`);
}

/**
 * A time as the AWS CLI writes and reads it: `…UTC` (its own form), RFC 3339 `…Z` or an offset.
 * NaN when it is none of these.
 */
export function parseRoleExpiration(text: string): number {
  const utc = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?:UTC|GMT)$/.exec(text);
  return parseRfc3339(utc ? `${utc[1]}Z` : text);
}

const CRED_FIELDS = ["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"] as const;

/**
 * Parses a role cache file.
 *
 * @throws {CacheError} `ERR_CACHE_CORRUPT` naming the missing or invalid fields (never values).
 */
export function parseRoleCacheEntry(text: string, path: string): RoleCacheEntry {
  const head = `Cannot read the role cache "${path}"`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // No cause: the parser's message quotes the text, which holds secrets.
    throw new CacheError("ERR_CACHE_CORRUPT", `${head}: it is not valid JSON`);
  }
  const creds = isObject(value) ? value.Credentials : undefined;
  if (!isObject(creds)) {
    throw new CacheError("ERR_CACHE_CORRUPT", `${head}: it has no Credentials object`);
  }
  const bad = CRED_FIELDS.filter((k) => typeof creds[k] !== "string" || creds[k] === "");
  const expiresAtMs = typeof creds.Expiration === "string"
    ? parseRoleExpiration(creds.Expiration)
    : NaN;
  if (bad.length === 0 && Number.isNaN(expiresAtMs)) bad.push("Expiration");
  if (bad.length > 0) {
    throw new CacheError(
      "ERR_CACHE_CORRUPT",
      `${head}: missing or invalid ${bad.map((k) => `Credentials.${k}`).join(", ")}`,
    );
  }
  const user = isObject(value) && isObject(value.AssumedRoleUser) ? value.AssumedRoleUser : {};
  const assumedRoleArn = typeof user.Arn === "string" ? user.Arn : undefined;
  const accountId = typeof creds.AccountId === "string" && /^\d{12}$/.test(creds.AccountId)
    ? creds.AccountId
    : accountOf(assumedRoleArn);
  return {
    accessKeyId: creds.AccessKeyId as string,
    secretAccessKey: creds.SecretAccessKey as string,
    sessionToken: creds.SessionToken as string,
    accountId: accountId ?? "",
    expiresAtMs,
    assumedRoleArn,
  };
}

function accountOf(arn: string | undefined): string | undefined {
  const account = arn?.split(":")[4];
  return account !== undefined && /^\d{12}$/.test(account) ? account : undefined;
}

/**
 * Reads a role cache entry; undefined when there is none, or when it is damaged (it is then
 * replaced by the next AssumeRole, as the AWS CLI does).
 *
 * @throws {CacheError} `ERR_CACHE_UNSAFE` when the file is not the user's own regular file,
 *   `ERR_CACHE_IO` when it cannot be read.
 */
export async function readRoleCacheEntry(path: string): Promise<RoleCacheEntry | undefined> {
  try {
    return await readCacheFile(path, (text) => parseRoleCacheEntry(text, path), {
      // Not a login token: removing it is enough, the role is assumed again when next used.
      describe: {
        action: "Cannot read the role cache",
        unsafeHint: "Remove it: the role is assumed again when next used.",
      },
    });
  } catch (err) {
    if (
      err instanceof CacheError &&
      (err.code === "ERR_CACHE_MISSING" || err.code === "ERR_CACHE_CORRUPT")
    ) return undefined;
    throw err;
  }
}
