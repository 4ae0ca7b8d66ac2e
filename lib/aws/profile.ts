/**
 * Resolves what `aws login` and the session commands need from flags, the environment and the
 * shared files: the profile name and its keys (config merged with credentials, credentials
 * winning), the credential style a profile already uses and the region. The Sign-In endpoint rules
 * live in endpoints.ts and are re-exported here.
 *
 * @see docs/PROTOCOL.md §8 (profiles)
 * @module
 */
import { type ConfigSection, parseConfigText, readConfigFile } from "./config_file.ts";
import { configFilePath, credentialsFilePath, type EnvLike } from "./paths.ts";

export { profileName, resolveRegion } from "./profile_reader.ts";
export {
  type EndpointSettings,
  isLoopbackHost,
  type Partition,
  partitionOf,
  signinBaseUrl,
  type SigninEndpoint,
  signinEndpoint,
} from "./endpoints.ts";

/** A profile as the SDKs see it. */
export interface ProfileConfig {
  readonly name: string;
  /** Whether a section for it exists in the config or the credentials file. */
  readonly exists: boolean;
  /** config keys merged with credentials-file keys (credentials win) */
  readonly keys: Readonly<Record<string, string>>;
  /** The `[services NAME]` section its `services` key names, when that section exists. */
  readonly services?: ConfigSection;
}

/** Both shared files, parsed. */
export interface SharedFiles {
  readonly configPath: string;
  readonly credentialsPath: string;
  readonly config: readonly ConfigSection[];
  readonly credentials: readonly ConfigSection[];
}

/**
 * Reads and parses the config (AWS_CONFIG_FILE) and credentials (AWS_SHARED_CREDENTIALS_FILE)
 * files; a missing file has no sections.
 *
 * @throws {ConfigError} `ERR_CONFIG_IO` or `ERR_CONFIG_SYNTAX` naming the file.
 */
export async function loadSharedFiles(env: EnvLike): Promise<SharedFiles> {
  const configPath = configFilePath(env);
  const credentialsPath = credentialsFilePath(env);
  const [configText, credentialsText] = await Promise.all([
    readConfigFile(configPath),
    readConfigFile(credentialsPath),
  ]);
  return {
    configPath,
    credentialsPath,
    config: parseConfigText(configText ?? "", configPath, "config"),
    credentials: parseConfigText(credentialsText ?? "", credentialsPath, "credentials"),
  };
}

/** A profile out of already-read files (see `loadProfile`). */
export function profileFromFiles(files: SharedFiles, name: string): ProfileConfig {
  const config = files.config.find((s) => s.kind === "profile" && s.name === name);
  const credentials = files.credentials.find((s) => s.name === name);
  const keys = { ...config?.keys, ...credentials?.keys };
  const servicesName = keys.services;
  const services = servicesName
    ? files.config.find((s) => s.kind === "services" && s.name === servicesName)
    : undefined;
  return {
    name,
    exists: config !== undefined || credentials !== undefined,
    keys,
    ...(services ? { services } : {}),
  };
}

/**
 * Loads a profile from the shared files: its config keys merged with its credentials-file keys
 * (credentials win), and the services section it names.
 *
 * @throws {ConfigError} `ERR_CONFIG_IO` or `ERR_CONFIG_SYNTAX` naming the file.
 */
export async function loadProfile(env: EnvLike, name: string): Promise<ProfileConfig> {
  return profileFromFiles(await loadSharedFiles(env), name);
}

/** Credential styles `aws login` refuses to replace, in the order the CLI checks them. */
const OTHER_STYLES: readonly (readonly [readonly string[], string])[] = [
  [["web_identity_token_file"], "Web Identity"],
  [["sso_role_name", "sso_account_id"], "SSO"],
  [["aws_access_key_id"], "Access Key"],
  [["role_arn"], "Assume Role"],
  [["credential_process"], "Credential Process"],
];

/**
 * The other credential style a profile is configured with (first match, as the CLI), if any:
 * "Web Identity", "SSO", "Access Key", "Assume Role" or "Credential Process". Keys match in any
 * case, since the AWS CLI lowercases them (`AWS_ACCESS_KEY_ID` is an access key to it).
 */
export function otherCredentialStyle(keys: Readonly<Record<string, string>>): string | undefined {
  const present = new Set(Object.keys(keys).map((k) => k.toLowerCase()));
  return OTHER_STYLES.find(([names]) => names.some((k) => present.has(k)))?.[1];
}
