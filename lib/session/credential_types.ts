/**
 * What a resolver hands out: plain credentials, and where they came from — the profile asked for,
 * the login session at the bottom (which `status` and `logout` name), and the role when the
 * profile assumes one. A leaf module of types, so every consumer can name them without loading a
 * resolver.
 *
 * @module
 */

/** Temporary AWS credentials. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** The account the credentials act in. */
  readonly accountId: string;
  /** When they expire, epoch milliseconds. */
  readonly expiresAtMs: number;
}

/** The login session credentials come from (directly, or at the bottom of a role chain). */
export interface LoginDetails {
  /** The profile holding `login_session`. */
  readonly profile: string;
  /** The login session ARN. */
  readonly loginSession: string;
  /** Its login cache file. */
  readonly cachePath: string;
}

/** The role a role profile assumed. */
export interface RoleDetails {
  /** The role's ARN (`role_arn`). */
  readonly roleArn: string;
  /** The assumed-role ARN STS answered (`arn:aws:sts::…:assumed-role/NAME/SESSION`). */
  readonly assumedRoleArn: string;
  /** The role cache file (the AWS CLI's `~/.aws/cli/cache/<key>.json`). */
  readonly cachePath: string;
  /** The profiles from the one asked for down to the login profile. */
  readonly chain: readonly string[];
}

/** Credentials for a profile, as every command gets them. */
export interface ResolvedCredentials extends Credentials {
  /** The profile asked for. */
  readonly profile: string;
  /** The region for tools (AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`), if any. */
  readonly region: string | undefined;
  /** Whether this call fetched new credentials (false when cached or another process did). */
  readonly refreshed: boolean;
  /** The login session at the bottom. */
  readonly login: LoginDetails;
  /** Present for a role profile. */
  readonly role?: RoleDetails;
}
