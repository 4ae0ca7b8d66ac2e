/**
 * STS `AssumeRole` for the emulator (awsQuery, API version 2011-06-15): the caller has already been
 * authenticated by its SigV4 signature; this checks the parameters as STS does, asks the role
 * directory whether the role exists and trusts the caller (external id and MFA included), applies
 * the session-duration limits (the role's MaxSessionDuration, and one hour for role chaining), and
 * issues role credentials the emulator then accepts like any it issued.
 *
 * @see https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html (role chaining)
 * @module
 */
import { parseArn } from "../aws/arn.ts";
import { ONE_HOUR, parseRoleArn, trusts } from "./roles.ts";
import type { EmulatorState, IssuedCredentials } from "./state.ts";

/** An STS error reply: code, HTTP status, message. */
export interface AssumeRoleFault {
  readonly code: string;
  readonly status: number;
  readonly message: string;
}

/** A granted AssumeRole: what the reply carries. */
export interface AssumedRole {
  readonly credentials: IssuedCredentials;
  /** `arn:<partition>:sts::<account>:assumed-role/<role name>/<session name>`. */
  readonly arn: string;
  /** `AROA…:<session name>`. */
  readonly assumedRoleId: string;
}

/** STS's bounds of one request parameter (the STS API model's shapes). */
interface Constraint {
  /** The member name in STS's messages (`roleArn`). */
  member: string;
  required?: boolean;
  min?: number;
  max?: number;
  /** The pattern as STS's message prints it, and the check for it. */
  pattern?: [text: string, check: RegExp];
}

const STRING_PARAMETERS: Record<string, Constraint> = {
  RoleArn: { member: "roleArn", required: true, min: 20, max: 2048 },
  RoleSessionName: {
    member: "roleSessionName",
    required: true,
    min: 2,
    max: 64,
    pattern: ["[\\w+=,.@-]*", /^[\w+=,.@-]*$/],
  },
  ExternalId: {
    member: "externalId",
    min: 2,
    max: 1224,
    pattern: ["[\\w+=,.@:\\/-]*", /^[\w+=,.@:\/-]*$/],
  },
  SerialNumber: {
    member: "serialNumber",
    min: 9,
    max: 256,
    pattern: ["[\\w+=/:,.@-]*", /^[\w+=/:,.@-]*$/],
  },
  TokenCode: { member: "tokenCode", min: 6, max: 6, pattern: ["[\\d]*", /^\d*$/] },
};

/** The constraint violations of the request, in STS's words. */
function violations(params: URLSearchParams): string[] {
  const found: string[] = [];
  for (const [name, c] of Object.entries(STRING_PARAMETERS)) {
    const value = params.get(name);
    if (value === null) {
      if (c.required) {
        found.push(
          `Value null at '${c.member}' failed to satisfy constraint: Member must not be null`,
        );
      }
      continue;
    }
    const at = `Value '${value}' at '${c.member}' failed to satisfy constraint: Member must`;
    if (c.pattern && !c.pattern[1].test(value)) {
      found.push(`${at} satisfy regular expression pattern: ${c.pattern[0]}`);
    }
    if (c.min !== undefined && value.length < c.min) {
      found.push(`${at} have length greater than or equal to ${c.min}`);
    }
    if (c.max !== undefined && value.length > c.max) {
      found.push(`${at} have length less than or equal to ${c.max}`);
    }
  }
  const duration = params.get("DurationSeconds");
  if (duration !== null) {
    const at = `Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must`;
    if (!/^-?\d+$/.test(duration)) found.push(`${at} be a whole number`);
    else if (Number(duration) < 900) found.push(`${at} have value greater than or equal to 900`);
    else if (Number(duration) > 43_200) {
      found.push(`${at} have value less than or equal to 43200`);
    }
  }
  return found;
}

function validationError(message: string): AssumeRoleFault {
  return { code: "ValidationError", status: 400, message };
}

function accessDenied(message: string): AssumeRoleFault {
  return { code: "AccessDenied", status: 403, message };
}

/** Whether `arn` is a role session (role credentials, or a login identity that is one). */
function isRoleSession(arn: string): boolean {
  const parsed = parseArn(arn);
  return parsed?.service === "sts" && parsed.resource.startsWith("assumed-role/");
}

/**
 * Assumes a role for `caller` (the credentials that signed the request).
 *
 * @param params The request's parameters (form body and query).
 * @param roleIdOf The stable `AROA…` id of a role, from its ARN without path.
 * @returns The issued role session, or the STS error to answer.
 */
export async function assumeRole(
  params: URLSearchParams,
  caller: IssuedCredentials,
  state: EmulatorState,
  roleIdOf: (roleArn: string) => Promise<string>,
): Promise<AssumedRole | AssumeRoleFault> {
  const problems = violations(params);
  if (problems.length > 0) {
    const count = problems.length === 1
      ? "1 validation error"
      : `${problems.length} validation errors`;
    return validationError(`${count} detected: ${problems.join("; ")}`);
  }
  const roleArn = params.get("RoleArn")!;
  const sessionName = params.get("RoleSessionName")!;
  if (parseArn(roleArn) === undefined) return validationError("Request ARN is invalid");
  const notAuthorized = accessDenied(
    `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
  );
  const role = state.roles.find(roleArn);
  const name = parseRoleArn(roleArn);
  if (
    !role || !name || state.isDenied("sts:AssumeRole") ||
    name.partition !== parseArn(caller.arn)?.partition || !trusts(role, caller.arn) ||
    (role.externalId !== undefined && params.get("ExternalId") !== role.externalId)
  ) {
    return notAuthorized;
  }
  if (role.mfa) {
    const serial = params.get("SerialNumber");
    const code = params.get("TokenCode");
    // Without an MFA device the trust policy's aws:MultiFactorAuthPresent condition fails.
    if (serial === null && code === null) return notAuthorized;
    if (serial !== role.mfa.serial || code !== role.mfa.code) {
      return accessDenied("MultiFactorAuthentication failed with invalid MFA one time pass code.");
    }
  }
  const duration = Number(params.get("DurationSeconds") ?? ONE_HOUR);
  // Chaining first: it is the limit that binds, and raising the role's maximum would not help.
  if (isRoleSession(caller.arn) && duration > ONE_HOUR) {
    return validationError(
      "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    );
  }
  if (duration > role.maxSessionDuration) {
    return validationError(
      "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    );
  }
  const { partition, accountId } = name;
  const arn = `arn:${partition}:sts::${accountId}:assumed-role/${name.name}/${sessionName}`;
  const roleId = await roleIdOf(`arn:${partition}:iam::${accountId}:role/${name.name}`);
  return {
    credentials: state.issueRoleCredentials(arn, duration, {
      chained: isRoleSession(caller.arn),
      withDurationSeconds: params.has("DurationSeconds"),
    }),
    arn,
    assumedRoleId: `${roleId}:${sessionName}`,
  };
}
