/**
 * The IAM roles the emulator's STS `AssumeRole` knows, and who may assume them. Without a roles
 * file every well-formed role ARN in any account is assumable, for at most an hour, by any identity
 * holding credentials this emulator issued (a login session or an earlier role session), so a
 * cross-account chain works out of the box. A roles file (`--roles FILE`) lists the roles instead,
 * each with the principals its trust policy names, its maximum session duration, and optionally an
 * external id and an MFA device with the one code the emulator accepts for it.
 *
 * @module
 */
import { parseArn } from "../aws/arn.ts";

/** An IAM role as the emulator plays it. */
export interface RoleDefinition {
  /** `arn:<partition>:iam::<account>:role/<path/>name`. */
  readonly arn: string;
  /**
   * Who the trust policy names: identity ARNs (a role ARN covers its sessions), account roots
   * (`arn:aws:iam::<account>:root`) or bare 12-digit account ids (every identity of the account).
   * Undefined: every identity holding credentials this emulator issued.
   */
  readonly trustedPrincipals?: readonly string[];
  /** The role's MaxSessionDuration, 3600 to 43200 seconds (IAM's range). */
  readonly maxSessionDuration: number;
  /** The `sts:ExternalId` the trust policy requires. */
  readonly externalId?: string;
  /** The MFA device the trust policy requires, and the one code the emulator accepts for it. */
  readonly mfa?: { readonly serial: string; readonly code: string };
}

/** One role as a roles file lists it (JSON); {@link parseRoles} checks and reads it. */
export interface RolesFileEntry {
  arn: string;
  trustedPrincipals?: string[];
  maxSessionDuration?: number;
  externalId?: string;
  mfaSerial?: string;
  mfaCode?: string;
}

/** IAM's default MaxSessionDuration, and the cap of a role assumed by role chaining. */
export const ONE_HOUR = 3600;

/** The parts of a role ARN: its partition, account and name (the path dropped, as STS does). */
export interface RoleName {
  partition: string;
  accountId: string;
  name: string;
}

/**
 * Reads an IAM role ARN: `arn:<partition>:iam::<12 digits>:role/[<path>/]<name>`.
 *
 * @returns Its parts, or undefined when `arn` is not such an ARN.
 */
export function parseRoleArn(arn: string): RoleName | undefined {
  const parsed = parseArn(arn);
  if (!parsed || parsed.service !== "iam" || parsed.region !== "") return undefined;
  if (!/^\d{12}$/.test(parsed.accountId)) return undefined;
  const match = /^role\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]{1,64})$/.exec(parsed.resource);
  if (!match) return undefined;
  return { partition: parsed.partition, accountId: parsed.accountId, name: match[1]! };
}

/** The IAM entity behind a caller ARN: a role session's role (`…:role/<name>`), else the ARN. */
function principalsOf(callerArn: string): string[] {
  const parsed = parseArn(callerArn);
  if (!parsed) return [callerArn];
  const { partition, accountId } = parsed;
  const found = [callerArn, `arn:${partition}:iam::${accountId}:root`, accountId];
  const session = /^assumed-role\/([^/]+)\/[^/]+$/.exec(parsed.resource);
  if (parsed.service === "sts" && session) {
    found.push(`arn:${partition}:iam::${accountId}:role/${session[1]}`);
  }
  return found;
}

/**
 * Whether `role`'s trust policy names the identity `callerArn` (a role ARN in the policy also
 * matches when it carries a path: IAM matches the role, and a session ARN has no path).
 */
export function trusts(role: RoleDefinition, callerArn: string): boolean {
  if (role.trustedPrincipals === undefined) return true;
  const caller = principalsOf(callerArn);
  return role.trustedPrincipals.some((principal) => {
    const asRole = parseRoleArn(principal);
    const plain = asRole
      ? `arn:${asRole.partition}:iam::${asRole.accountId}:role/${asRole.name}`
      : principal;
    return caller.includes(plain);
  });
}

/** The roles of one emulator: those of a roles file, or any role when there is none. */
export class RoleDirectory {
  readonly #roles: ReadonlyMap<string, RoleDefinition> | undefined;

  /** @param roles The roles of a roles file, already checked; undefined for the default. */
  constructor(roles?: readonly RoleDefinition[]) {
    this.#roles = roles && new Map(roles.map((role) => [role.arn, role]));
  }

  /** The role of a (well-formed) role ARN, or undefined when it does not exist here. */
  find(arn: string): RoleDefinition | undefined {
    if (this.#roles) return this.#roles.get(arn);
    return parseRoleArn(arn) ? { arn, maxSessionDuration: ONE_HOUR } : undefined;
  }
}

const ROLE_KEYS = new Set([
  "arn",
  "trustedPrincipals",
  "maxSessionDuration",
  "externalId",
  "mfaSerial",
  "mfaCode",
]);

/** The example a roles-file error ends with. */
export const ROLES_FILE_EXAMPLE = `[{"arn": "arn:aws:iam::210987654321:role/Admin", ` +
  `"trustedPrincipals": ["arn:aws:iam::123456789012:user/demo"], "maxSessionDuration": 3600}]`;

/**
 * Checks the parsed content of a roles file: a non-empty JSON array of roles, each
 * `{"arn", "trustedPrincipals"?, "maxSessionDuration"?, "externalId"?, "mfaSerial"?, "mfaCode"?}`,
 * no role twice, no unknown key (a misspelt key would silently loosen a role).
 *
 * @returns The roles, or the reason the content is refused (one sentence, naming the entry).
 */
export function parseRoles(value: unknown): RoleDefinition[] | string {
  if (!Array.isArray(value) || value.length === 0) return "it is not a non-empty array";
  const roles: RoleDefinition[] = [];
  const seen = new Set<string>();
  for (const [i, entry] of value.entries()) {
    const where = `entry ${i + 1}`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      return `${where} is not an object`;
    }
    const fields = entry as Record<string, unknown>;
    const unknown = Object.keys(fields).find((key) => !ROLE_KEYS.has(key));
    if (unknown !== undefined) {
      return `${where} has the unknown key "${unknown}" (known: ${[...ROLE_KEYS].join(", ")})`;
    }
    const { arn, trustedPrincipals, maxSessionDuration, externalId, mfaSerial, mfaCode } = fields;
    if (typeof arn !== "string" || !parseRoleArn(arn)) {
      return `${where}: "arn" must be a role ARN like "arn:aws:iam::210987654321:role/Admin"`;
    }
    if (seen.has(arn)) return `${where}: the role "${arn}" is listed twice`;
    seen.add(arn);
    if (
      trustedPrincipals !== undefined &&
      (!Array.isArray(trustedPrincipals) || trustedPrincipals.length === 0 ||
        !trustedPrincipals.every((p) =>
          typeof p === "string" &&
          (/^\d{12}$/.test(p) || /^\d{12}$/.test(parseArn(p)?.accountId ?? ""))
        ))
    ) {
      return `${where} (${arn}): "trustedPrincipals" must be a non-empty array of identity ARNs ` +
        `or 12-digit account ids`;
    }
    if (
      maxSessionDuration !== undefined &&
      (typeof maxSessionDuration !== "number" || !Number.isInteger(maxSessionDuration) ||
        maxSessionDuration < 3600 || maxSessionDuration > 43_200)
    ) {
      return `${where} (${arn}): "maxSessionDuration" must be a whole number of seconds from ` +
        `3600 to 43200`;
    }
    if (
      externalId !== undefined &&
      (typeof externalId !== "string" || !/^[\w+=,.@:\/-]{2,1224}$/.test(externalId))
    ) {
      return `${where} (${arn}): "externalId" must be 2 to 1224 characters of [\\w+=,.@:/-]`;
    }
    if ((mfaSerial === undefined) !== (mfaCode === undefined)) {
      return `${where} (${arn}): "mfaSerial" and "mfaCode" go together`;
    }
    if (
      mfaSerial !== undefined &&
      (typeof mfaSerial !== "string" || !/^[\w+=\/:,.@-]{9,256}$/.test(mfaSerial))
    ) {
      return `${where} (${arn}): "mfaSerial" must be an MFA device ARN or serial number ` +
        `(9 to 256 characters of [\\w+=/:,.@-])`;
    }
    if (mfaCode !== undefined && (typeof mfaCode !== "string" || !/^\d{6}$/.test(mfaCode))) {
      return `${where} (${arn}): "mfaCode" must be a string of six digits`;
    }
    roles.push({
      arn,
      ...(trustedPrincipals !== undefined && {
        trustedPrincipals: [...trustedPrincipals as string[]],
      }),
      maxSessionDuration: (maxSessionDuration as number | undefined) ?? ONE_HOUR,
      ...(externalId !== undefined && { externalId: externalId as string }),
      ...(mfaSerial !== undefined &&
        { mfa: { serial: mfaSerial as string, code: mfaCode as string } }),
    });
  }
  return roles;
}
