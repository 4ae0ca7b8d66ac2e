/**
 * The one seam every command resolves credentials through: the shared files are read once;
 * a role profile (`role_arn` + `source_profile`) goes to the role resolver (role_credentials.ts,
 * loaded only for one), every other profile to the login resolver (credentials.ts). When the outermost
 * resolution needed no network, the `credentials-fresh` milestone is reported here — not inside a
 * resolver, where a fresh source session would let main.ts revoke `net` before a call that still
 * follows.
 *
 * @module
 */
import { profileName, readProfileFiles } from "../aws/profile_reader.ts";
import {
  type CredentialDeps,
  resolveLoginCredentials,
  type ResolveOptions,
} from "./credentials.ts";
import type { ResolvedCredentials } from "./credential_types.ts";
import { profileSessionOf } from "./profile_session.ts";
import type { MfaPrompt, RoleResolveOptions } from "./role_credentials.ts";

export type { CredentialDeps, MfaPrompt, ResolveOptions, RoleResolveOptions };

/** Whether a profile is a role profile to aws-login (as the AWS CLI: `role_arn`, not web identity). */
export function isRoleProfile(keys: Readonly<Record<string, string>>): boolean {
  return Object.hasOwn(keys, "role_arn") && !Object.hasOwn(keys, "web_identity_token_file");
}

/**
 * Resolves the credentials of a profile (`--profile`, AWS_PROFILE, AWS_DEFAULT_PROFILE,
 * `default`), refreshing what needs it.
 *
 * @param deps Environment, fetch, clock, stderr (warnings), debug log and the milestone callback.
 * @param options Profile, forced refresh, retry and timeout settings.
 * @throws {ConfigError} When the profile does not exist or gives no credentials aws-login makes.
 * @throws {CacheError} When a cache file is missing, corrupt or unreadable, or a lock fails.
 * @throws {SigninError} When AWS Sign-In refuses the refresh.
 * @throws {NetworkError} When a refresh failed on the network and the credentials have expired.
 */
export async function resolveProfileCredentials(
  deps: CredentialDeps,
  options: RoleResolveOptions = {},
): Promise<ResolvedCredentials> {
  // Read once: a role chain looks up more profiles in the same files.
  const files = readProfileFiles(deps.env);
  const config = files.profile(profileName(deps.env, options.profile));
  let creds: ResolvedCredentials;
  if (isRoleProfile(config.keys)) {
    // A variable specifier: Deno reads the role resolver only for a role profile.
    const roles = "./role_credentials.ts";
    const { resolveRoleCredentials }: typeof import("./role_credentials.ts") = await import(roles);
    creds = await resolveRoleCredentials(config, deps, options, files);
  } else {
    const session = await profileSessionOf(deps.env, config, files);
    creds = await resolveLoginCredentials(session, deps, options);
  }
  if (!creds.refreshed) deps.reached?.("credentials-fresh");
  return creds;
}
