/**
 * What a profile is once read, and the shared files once parsed: the types every reader of the
 * shared files (`profile_reader.ts`, `profile.ts`) and every user of a profile (`endpoints.ts`,
 * the session commands) share, and how a profile is put together from its sections. A leaf: it
 * imports only the parser's section type.
 *
 * @see docs/PROTOCOL.md §8 (profiles)
 * @module
 */
import type { ConfigSection } from "./config_syntax.ts";

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
 * A profile out of its sections: the config section's keys merged with the credentials section's
 * (credentials win), and the services section its `services` key names.
 */
export function profileOf(
  name: string,
  config: ConfigSection | undefined,
  credentials: ConfigSection | undefined,
  findServices: (name: string) => ConfigSection | undefined,
): ProfileConfig {
  const keys = { ...config?.keys, ...credentials?.keys };
  const services = keys.services ? findServices(keys.services) : undefined;
  return {
    name,
    exists: config !== undefined || credentials !== undefined,
    keys,
    ...(services ? { services } : {}),
  };
}
