/**
 * The AWS regions aws-login knows: every region of the AWS partitions data (`partitions.json` as
 * shipped in `@aws-sdk/core` util-endpoints), `*-global` names included. tools/net_allowlist.ts
 * allows their Sign-In and STS hosts in deno.json; `login` suggests one of them for a region whose
 * Sign-In host does not exist. A region not listed here still works when AWS has it: its default
 * Sign-In host is allowed by its partition's wildcard (`*.signin.aws.amazon.com`).
 *
 * @module
 */

/** Every region of the AWS partitions data, `*-global` included. */
export const REGIONS = [
  // aws
  "af-south-1",
  "ap-east-1",
  "ap-east-2",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ap-south-1",
  "ap-south-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-southeast-3",
  "ap-southeast-4",
  "ap-southeast-5",
  "ap-southeast-6",
  "ap-southeast-7",
  "aws-global",
  "ca-central-1",
  "ca-west-1",
  "eu-central-1",
  "eu-central-2",
  "eu-north-1",
  "eu-south-1",
  "eu-south-2",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "il-central-1",
  "me-central-1",
  "me-south-1",
  "me-west-1",
  "mx-central-1",
  "sa-east-1",
  "sa-west-1",
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
  // aws-cn, aws-eusc, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-us-gov
  "aws-cn-global",
  "cn-north-1",
  "cn-northwest-1",
  "eusc-de-east-1",
  "aws-iso-global",
  "us-iso-east-1",
  "us-iso-west-1",
  "aws-iso-b-global",
  "us-isob-east-1",
  "us-isob-west-1",
  "aws-iso-e-global",
  "eu-isoe-west-1",
  "aws-iso-f-global",
  "us-isof-east-1",
  "us-isof-south-1",
  "aws-us-gov-global",
  "us-gov-east-1",
  "us-gov-west-1",
]; // deno-fmt-ignore

/** Whether aws-login lists `region`. */
export function isKnownRegion(region: string): boolean {
  return (REGIONS as readonly string[]).includes(region);
}
