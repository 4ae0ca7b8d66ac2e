/**
 * A role profile's chain, read from the shared files and checked before anything else happens:
 * `role_arn` + `source_profile`, hop after hop, down to the profile that holds `login_session`
 * (botocore `AssumeRoleProvider` semantics, docs/PROTOCOL.md §16). Every configuration aws-login
 * cannot serve is refused here, with what to do instead, before any file is locked or any network
 * call made.
 *
 * On the credential hot path of a role profile: `Deno.*` and small modules only.
 *
 * @see docs/PROTOCOL.md §16
 * @module
 */
import type { ProfileConfig } from "../aws/profile_config.ts";
import { readProfileFiles } from "../aws/profile_reader.ts";
import type { EnvLike } from "../aws/paths.ts";
import { ConfigError } from "../errors.ts";
import type { RoleCacheArgs } from "./role_cache.ts";
import { isRoleProfile } from "./profile_credentials.ts";

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
  return {
    RoleArn: hop.roleArn,
    ...(hop.roleSessionName !== undefined ? { RoleSessionName: hop.roleSessionName } : {}),
    ...(hop.externalId !== undefined ? { ExternalId: hop.externalId } : {}),
    ...(hop.mfaSerial !== undefined ? { SerialNumber: hop.mfaSerial } : {}),
    ...(hop.durationSeconds !== undefined ? { DurationSeconds: hop.durationSeconds } : {}),
  };
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
