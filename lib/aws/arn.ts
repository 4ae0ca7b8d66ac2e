/**
 * Amazon Resource Names: the login session ARN (the id token's `sub`) carries the account id.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
 * @module
 */

/** The parts of an ARN: `arn:partition:service:region:account:resource`. */
export interface Arn {
  partition: string;
  service: string;
  region: string;
  accountId: string;
  resource: string;
}

/**
 * Parses an ARN, or returns undefined when `text` is not one.
 *
 * @example
 * parseArn("arn:aws:iam::123456789012:user/Alice")?.accountId // "123456789012"
 */
export function parseArn(text: string): Arn | undefined {
  const parts = text.split(":");
  if (parts.length < 6 || parts[0] !== "arn") return undefined;
  const [, partition, service, region, accountId] = parts as [
    string,
    string,
    string,
    string,
    string,
  ];
  const resource = parts.slice(5).join(":");
  if (partition === "" || service === "" || resource === "") return undefined;
  return { partition, service, region, accountId, resource };
}

/** The account id of a login session ARN, or undefined when it has none (12 digits). */
export function accountIdOf(arn: string): string | undefined {
  const accountId = parseArn(arn)?.accountId;
  return accountId !== undefined && /^\d{12}$/.test(accountId) ? accountId : undefined;
}
