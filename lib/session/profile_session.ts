/**
 * What the session commands need from the shared config: the profile name, its `login_session` and
 * `region`, every profile with a login session, and the Sign-In token URL for a region (endpoint
 * overrides included). One narrow seam over `lib/aws/profile.ts`, so the commands and the resolver
 * do not depend on how the files are read. Profiles are read as the SDKs read them: config keys
 * merged with credentials-file keys, the latter winning.
 *
 * On the credential hot path: one profile is read with `profile_reader.ts`; the endpoint rules and
 * the strict parser (`profile.ts`) load only for a refresh, for `status`, or for an error message.
 *
 * @see docs/PROTOCOL.md §2 (endpoints), §8 (profiles)
 * @module
 */
import type { ProfileConfig, SharedFiles, SigninEndpoint } from "../aws/profile.ts";
import { profileName, readProfile, resolveRegion } from "../aws/profile_reader.ts";
import { closest } from "../cli/suggest.ts";
import { configFilePath, type EnvLike } from "../aws/paths.ts";
import { ConfigError } from "../errors.ts";

export { profileName, type SigninEndpoint };

/**
 * The strict parser (for `status`, `logout --all` or a message) and the endpoint rules (for a
 * refresh, without the parser), loaded only then. A variable specifier keeps Deno from reading
 * them on every warm run (it prepares every literal `import("…")` of a module up front).
 */
const PROFILE_MODULE = "../aws/profile.ts";
type ProfileModule = typeof import("../aws/profile.ts");
const ENDPOINTS_MODULE = "../aws/endpoints.ts";
type EndpointsModule = typeof import("../aws/endpoints.ts");

/** A profile with a login session. */
export interface ProfileSession {
  readonly profile: string;
  /** The login session ARN (`login_session`). */
  readonly loginSession: string;
  /** The region tools should use: AWS_REGION, AWS_DEFAULT_REGION, then the profile's `region`. */
  readonly region: string | undefined;
  /** The profile's own `region` setting. */
  readonly profileRegion: string | undefined;
  /** `{base}/v1/token` for a Sign-In region, honouring endpoint overrides. */
  tokenUrlFor(region: string): Promise<string>;
  /** The Sign-In base URL for a region, and the setting it came from when it is not the default. */
  endpointFor(region: string): Promise<SigninEndpoint>;
}

/**
 * The profile's name and `login_session`, if it has one (for `logout`).
 *
 * @throws {ConfigError} When a shared file cannot be read or parsed.
 */
export async function findLoginSession(
  env: EnvLike,
  flag?: string,
): Promise<{ profile: string; loginSession: string | undefined }> {
  const profile = profileName(env, flag);
  const config = await readProfile(env, profile);
  return { profile, loginSession: config.keys.login_session?.trim() || undefined };
}

/**
 * The profile's login session.
 *
 * @throws {ConfigError} `ERR_CONFIG_PROFILE` when the profile has no `login_session` (naming the
 *   login command); `ERR_CONFIG_IO`/`ERR_CONFIG_SYNTAX` when a shared file is unreadable.
 */
export async function loadProfileSession(env: EnvLike, flag?: string): Promise<ProfileSession> {
  return await profileSessionOf(env, await readProfile(env, profileName(env, flag)));
}

/**
 * The login session of an already-read profile.
 *
 * @throws {ConfigError} As {@link loadProfileSession}.
 */
export async function profileSessionOf(
  env: EnvLike,
  config: ProfileConfig,
): Promise<ProfileSession> {
  const profile = config.name;
  if (!config.keys.login_session?.trim()) {
    const why = config.exists ? "has no login session" : "does not exist";
    const hint = config.exists ? "" : await missingProfileHint(env, profile);
    throw new ConfigError(
      "ERR_CONFIG_PROFILE",
      `Profile "${profile}" ${why} in "${configFilePath(env)}".${hint} ` +
        `Run "aws-login login --profile ${profile}" to sign in`,
    );
  }
  return session(env, config);
}

/**
 * For a message about `profile`: "" when it exists, else {@link otherProfiles} after a space.
 *
 * @throws {ConfigError} When a shared file cannot be read or parsed.
 */
export async function missingProfileHint(env: EnvLike, profile: string): Promise<string> {
  const { loadSharedFiles, profileFromFiles }: ProfileModule = await import(PROFILE_MODULE);
  const files = await loadSharedFiles(env);
  return profileFromFiles(files, profile).exists ? "" : ` ${otherProfiles(files, profile)}`;
}

/** Every profile name in the shared files: config-file order, then credentials-file only ones. */
export function profileNames(files: SharedFiles): string[] {
  return [
    ...new Set([
      ...files.config.filter((s) => s.kind === "profile").map((s) => s.name),
      ...files.credentials.map((s) => s.name),
    ]),
  ];
}

/**
 * For a message about a profile that does not exist: the closest existing name, and the names that
 * exist ("Did you mean "dev"? Profiles: default, dev." or "No profile exists yet.").
 */
export function otherProfiles(files: SharedFiles, missing: string): string {
  const names = profileNames(files);
  if (names.length === 0) return "No profile exists yet.";
  const match = closest(missing, names);
  const shown = names.length > 20 ? [...names.slice(0, 20), "…"] : names;
  return `${match === undefined ? "" : `Did you mean "${match}"? `}Profiles: ${shown.join(", ")}.`;
}

/**
 * Every profile with a `login_session`, in config-file order, then those only in the credentials
 * file (for `status`).
 *
 * @throws {ConfigError} When a shared file cannot be read or parsed.
 */
export async function listLoginSessions(env: EnvLike): Promise<ProfileSession[]> {
  const { loadSharedFiles, profileFromFiles }: ProfileModule = await import(PROFILE_MODULE);
  const files = await loadSharedFiles(env);
  return profileNames(files)
    .map((name) => profileFromFiles(files, name))
    .filter((config) => config.keys.login_session?.trim())
    .map((config) => session(env, config));
}

/**
 * A stand-in for a cache file that no profile names (`logout --all`): its Sign-In endpoint comes
 * from the environment's overrides and the region alone.
 *
 * @param env The environment.
 * @param label Names it in messages (in place of a profile name).
 */
export function sessionWithoutProfile(env: EnvLike, label: string): ProfileSession {
  return session(env, { name: label, exists: false, keys: { login_session: label } });
}

function session(env: EnvLike, config: ProfileConfig): ProfileSession {
  const profileRegion = config.keys.region || undefined;
  const endpointFor = async (region: string) => {
    const { signinEndpoint }: EndpointsModule = await import(ENDPOINTS_MODULE);
    return signinEndpoint(env, { region, profile: config });
  };
  return {
    profile: config.name,
    loginSession: config.keys.login_session!.trim(),
    region: resolveRegion(env, undefined, config.keys),
    profileRegion,
    tokenUrlFor: (region) => endpointFor(region).then((endpoint) => `${endpoint.url}/v1/token`),
    endpointFor,
  };
}
