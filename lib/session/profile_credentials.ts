/**
 * The one seam every command resolves credentials through: the requested profile is read once,
 * and a `login_session` profile goes to the login resolver (credentials.ts). When the outermost
 * resolution needed no network, the `credentials-fresh` milestone is reported here — not inside a
 * resolver, where a fresh source session would let main.ts revoke `net` before a call that still
 * follows.
 *
 * @module
 */
import { profileName, readProfile } from "../aws/profile_reader.ts";
import {
  type CredentialDeps,
  resolveLoginCredentials,
  type ResolveOptions,
} from "./credentials.ts";
import type { ResolvedCredentials } from "./credential_types.ts";
import { profileSessionOf } from "./profile_session.ts";

export type { CredentialDeps, ResolveOptions };

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
  options: ResolveOptions = {},
): Promise<ResolvedCredentials> {
  const config = await readProfile(deps.env, profileName(deps.env, options.profile));
  const session = await profileSessionOf(deps.env, config);
  const creds = await resolveLoginCredentials(session, deps, options);
  if (!creds.refreshed) deps.reached?.("credentials-fresh");
  return creds;
}
