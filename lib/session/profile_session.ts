/**
 * What the session commands need from the shared config: the profile name, its `login_session` and
 * `region`, every profile with a login session, and the Sign-In token URL for a region (endpoint
 * overrides included). One narrow seam over `lib/aws/profile.ts`, so the commands and the resolver
 * do not depend on how the files are read. Profiles are read as the SDKs read them: config keys
 * merged with credentials-file keys, the latter winning.
 *
 * On the credential hot path: the profile is read with `profile_reader.ts`, which parses only its
 * sections; the endpoint rules load only for a refresh, and the whole-file parse (`profile.ts`)
 * only for `status`, `logout --all` or an error message.
 *
 * @see docs/PROTOCOL.md §2 (endpoints), §8 (profiles)
 * @module
 */
import type { SigninEndpoint } from "../aws/endpoints.ts";
import type { ProfileConfig, SharedFiles } from "../aws/profile_config.ts";
import {
  type ProfileFiles,
  profileName,
  readProfileFiles,
  resolveRegion,
} from "../aws/profile_reader.ts";
import { closest } from "../cli/suggest.ts";
import { configFilePath, type EnvLike } from "../aws/paths.ts";
import { ConfigError } from "../errors.ts";

export { profileName, type SigninEndpoint };

/**
 * The whole-file parse (for `status`, `logout --all`) and the endpoint rules (for a refresh),
 * loaded only then. A variable specifier keeps Deno from reading
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
// deno-lint-ignore require-await -- async, so that an error is a rejection
export async function findLoginSession(
  env: EnvLike,
  flag?: string,
): Promise<{ profile: string; loginSession: string | undefined }> {
  const profile = profileName(env, flag);
  const config = readProfileFiles(env).profile(profile);
  return { profile, loginSession: config.keys.login_session?.trim() || undefined };
}

/**
 * The profile's login session.
 *
 * @param env The environment.
 * @param flag `--profile`, if given.
 * @param files The shared files, when already read (a chain of profiles reads them once).
 * @throws {ConfigError} `ERR_CONFIG_PROFILE` when the profile has no `login_session` (naming the
 *   login command); `ERR_CONFIG_IO`/`ERR_CONFIG_SYNTAX` when a shared file is unreadable.
 */
export async function loadProfileSession(
  env: EnvLike,
  flag?: string,
  files?: ProfileFiles,
): Promise<ProfileSession> {
  files ??= readProfileFiles(env);
  return await profileSessionOf(env, files.profile(profileName(env, flag)), files);
}

/**
 * The login session of an already-read profile.
 *
 * @param env The environment.
 * @param config The profile.
 * @param files The shared files it was read from, for the message when it has no session.
 * @throws {ConfigError} As {@link loadProfileSession}.
 */
export async function profileSessionOf(
  env: EnvLike,
  config: ProfileConfig,
  files?: ProfileFiles,
): Promise<ProfileSession> {
  const profile = config.name;
  if (!config.keys.login_session?.trim()) {
    const shared = (files ?? readProfileFiles(env)).shared();
    // A profile that gets its credentials otherwise: say so, and where the session is.
    const other = config.exists ? await credentialProcessSource(shared, profile) : undefined;
    if (other !== undefined) throw new ConfigError("ERR_CONFIG_PROFILE", other.message);
    const why = config.exists ? "has no login session" : "does not exist";
    const hint = config.exists ? "" : ` ${otherProfiles(shared, profile)}`;
    throw new ConfigError(
      "ERR_CONFIG_PROFILE",
      `Profile "${profile}" ${why} in "${configFilePath(env)}".${hint} ` +
        `Run "aws-login login --profile ${profile}" to sign in`,
    );
  }
  return profileSession(env, config);
}

/** What {@link credentialProcessSource} finds out about a profile that uses `credential_process`. */
export interface CredentialProcessSource {
  /** The profile that uses `credential_process`. */
  readonly profile: string;
  /**
   * The profile its command hands out, when the command is aws-login's `credential-process` or the
   * AWS CLI's `export-credentials` (`--profile NAME`, or "default" without one).
   */
  readonly target: string | undefined;
  /** Whether that is the profile itself: the command would call itself without end. */
  readonly selfReference: boolean;
  /** The profile holding the login session the command uses (`target`, when it has one). */
  readonly loginProfile: string | undefined;
  /** One message saying all of it and what to run instead, for an error. */
  readonly message: string;
}

/**
 * Explains a profile that gets its credentials from `credential_process` rather than holding a
 * login session — often `aws-login credential-process --profile NAME` for tools that do not read
 * `login_session`, and now and then naming itself (a loop). Used wherever a command needs the
 * profile's login session (and by role profiles whose source profile is such a profile), so that
 * the hint names the profile that holds the session instead of "aws-login login", which would be
 * refused for a profile with another credential style. The command itself is shown only when it
 * is one of those two known forms: another program's arguments are not aws-login's to print.
 *
 * @returns Undefined when the profile does not use `credential_process`.
 */
export async function credentialProcessSource(
  files: SharedFiles,
  profile: string,
): Promise<CredentialProcessSource | undefined> {
  const { profileFromFiles }: ProfileModule = await import(PROFILE_MODULE);
  const { printable } = await import("../cli/output.ts"); // only for this message
  const keys = profileFromFiles(files, profile).keys;
  const command = Object.entries(keys).find(([k]) => k.toLowerCase() === "credential_process")?.[1];
  if (!command?.trim()) return undefined;
  const handedOut = handedOutProfile(command);
  // Config text in a message: no escape sequences reach the terminal.
  const target = handedOut === undefined ? undefined : printable(handedOut, 100);
  const head = `Profile "${profile}" has no login session: it gets its credentials from ` +
    `credential_process`;
  const sessions = profileNames(files).filter((name) =>
    profileFromFiles(files, name).keys.login_session?.trim()
  ).map((name) => printable(name, 100));
  const withSessions = sessions.length === 0
    ? `sign in with "aws-login login --profile NEW-PROFILE-NAME"`
    : `use a profile with a login session (${sessions.slice(0, 10).join(", ")}), or sign in with ` +
      `"aws-login login --profile NEW-PROFILE-NAME"`;
  if (target === undefined) {
    return {
      profile,
      target,
      selfReference: false,
      loginProfile: undefined,
      message: `${head} (its own program, not aws-login), which aws-login cannot use: ` +
        withSessions,
    };
  }
  const shown = `"… --profile ${target}"`;
  if (handedOut === profile) {
    return {
      profile,
      target,
      selfReference: true,
      loginProfile: undefined,
      message: `${head} ${shown}, which names "${profile}" itself: it would run itself without ` +
        `end. Its --profile must name the profile that holds the login session: ${withSessions}`,
    };
  }
  const targetKeys = profileFromFiles(files, handedOut!).keys;
  if (targetKeys.login_session?.trim()) {
    return {
      profile,
      target,
      selfReference: false,
      loginProfile: target,
      message: `${head} ${shown}; the login session is in profile "${target}": use ` +
        `--profile ${target}`,
    };
  }
  return {
    profile,
    target,
    selfReference: false,
    loginProfile: undefined,
    message: `${head} ${shown}, and profile "${target}" has no login session either: run ` +
      `"aws-login login --profile ${target}" to sign in`,
  };
}

/**
 * The profile a `credential_process` command hands out when it is aws-login's
 * `credential-process` or the AWS CLI's `export-credentials`; undefined for any other program.
 */
export function handedOutProfile(command: string): string | undefined {
  const words = splitCommand(command);
  const known = words.includes("credential-process") || words.includes("export-credentials");
  if (!known) return undefined;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === "--profile") return words[i + 1] ?? "default";
    if (word.startsWith("--profile=")) return word.slice("--profile=".length);
  }
  return "default";
}

/** A command line split into words as a shell would for the simple cases (quotes, spaces). */
function splitCommand(command: string): string[] {
  const words: string[] = [];
  for (const match of command.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) {
    words.push(match[1] ?? match[2] ?? match[3]!);
  }
  return words;
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
    .map((config) => profileSession(env, config));
}

/**
 * A stand-in for a cache file that no profile names (`logout --all`): its Sign-In endpoint comes
 * from the environment's overrides and the region alone.
 *
 * @param env The environment.
 * @param label Names it in messages (in place of a profile name).
 */
export function sessionWithoutProfile(env: EnvLike, label: string): ProfileSession {
  return profileSession(env, { name: label, exists: false, keys: { login_session: label } });
}

/**
 * The session of a profile already read that has a `login_session` (a chain's last profile).
 *
 * @throws {TypeError} When it has none (check `keys.login_session` first, or use
 *   {@link loadProfileSession} for the message).
 */
export function profileSession(env: EnvLike, config: ProfileConfig): ProfileSession {
  if (!config.keys.login_session?.trim()) {
    throw new TypeError(`profile "${config.name}" has no login_session`);
  }
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
    tokenUrlFor: async (region) => {
      const { signinTokenUrl }: EndpointsModule = await import(ENDPOINTS_MODULE);
      return signinTokenUrl((await endpointFor(region)).url);
    },
    endpointFor,
  };
}
