/**
 * The shared files parsed whole, for what needs every profile (`status`, `logout --all`, a
 * did-you-mean), a single profile out of them for `login`, and the credential style a profile
 * already uses. One profile, or a chain of them, is read the quick way by `profile_reader.ts`; the
 * profile name and region rules are there too, the Sign-In endpoint rules in `endpoints.ts`.
 *
 * @see docs/PROTOCOL.md §8 (profiles)
 * @module
 */
import { parseConfigText, readConfigFile } from "./config_syntax.ts";
import type { ProfileConfig, SharedFiles } from "./profile_config.ts";
import { profileOf } from "./profile_reader.ts";
import { configFilePath, credentialsFilePath, type EnvLike } from "./paths.ts";

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
  return profileOf(
    name,
    files.config.find((s) => s.kind === "profile" && s.name === name),
    files.credentials.find((s) => s.kind === "credentials" && s.name === name),
    (services) => files.config.find((s) => s.kind === "services" && s.name === services),
  );
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
