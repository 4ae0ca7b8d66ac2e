/**
 * What a profile is once read, and the shared files once parsed: the types every reader of the
 * shared files (`profile_reader.ts`, `profile.ts`) and every user of a profile (`endpoints.ts`,
 * the session commands) share. A leaf of types only: importing it loads nothing.
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
