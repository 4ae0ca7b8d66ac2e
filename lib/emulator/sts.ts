/**
 * STS for the emulator: `GetCallerIdentity`, so tools can prove the issued credentials work, and
 * `AssumeRole` (lib/emulator/assume_role.ts), so role profiles can be resolved against it. Every
 * request must be SigV4-signed (service `sts`, any region, `X-Amz-Date` within 15 minutes of the
 * emulator clock) with credentials this emulator issued — a login session's or a role session's —
 * that have not expired, with their session token. GetCallerIdentity names the caller's ARN
 * (`…:assumed-role/<role>/<session>` for role credentials), account and user id.
 *
 * Protocols: awsQuery (form body `Action=GetCallerIdentity&Version=2011-06-15`, XML reply) — what
 * `@aws-sdk/client-sts` 3.1174 sends, and the only one the AWS CLI's STS model lists, so the only
 * one for AssumeRole — and, for GetCallerIdentity, awsJson1_0 (`X-Amz-Target:
 * AWSSecurityTokenServiceV20110615.GetCallerIdentity`, JSON reply). Not Smithy RPCv2 CBOR.
 *
 * @see https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
 * @module
 */
import { accountIdOf, parseArn } from "../aws/arn.ts";
import { assumeRole } from "./assume_role.ts";
import { sha256Hex, type SigV4Problem, SigV4Refusal, verifySignedRequest } from "./sigv4.ts";
import type { EmulatorState, IssuedCredentials } from "./state.ts";

const XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";
const JSON_TARGET = "AWSSecurityTokenServiceV20110615.GetCallerIdentity";

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/** An STS failure: its code, HTTP status and message. */
class StsFault {
  constructor(readonly code: string, readonly status: number, readonly message: string) {}
}

/** 17 characters of `A-Z2-7` derived from `text`, for a stable fake unique id. */
async function idSuffix(text: string): Promise<string> {
  const digest = (await sha256Hex(text)).toUpperCase();
  return Array.from(
    digest.slice(0, 34).match(/../g)!,
    (pair) => "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[parseInt(pair, 16) % 32],
  ).join("").slice(0, 17);
}

/** The stable fake `AROA…` id of a role, from its ARN without path (`arn:aws:iam::1…:role/Admin`). */
export function roleIdOf(roleArn: string): Promise<string> {
  return idSuffix(roleArn).then((suffix) => `AROA${suffix}`);
}

/**
 * A stable fake unique id, like the `AIDA…` of an IAM user or the `AROA…:<session>` of a role
 * session (the role's id, so it equals the AssumedRoleId AssumeRole answered).
 */
export async function userIdOf(arn: string): Promise<string> {
  const parsed = parseArn(arn);
  if (parsed?.resource === "root") return parsed.accountId;
  const role = /^assumed-role\/([^/]+)\/(.+)$/.exec(parsed?.resource ?? "");
  if (parsed && role) {
    const roleArn = `arn:${parsed.partition}:iam::${parsed.accountId}:role/${role[1]}`;
    return `${await roleIdOf(roleArn)}:${role[2]}`;
  }
  return `AIDA${await idSuffix(arn)}`;
}

/** STS's code and status for each way a signature is refused. */
const STS_REFUSALS: Record<SigV4Problem, [code: string, status: number]> = {
  missing: ["MissingAuthenticationToken", 403],
  malformed: ["IncompleteSignature", 400],
  "wrong-service": ["SignatureDoesNotMatch", 403],
  "unknown-key": ["InvalidClientTokenId", 403],
  expired: ["ExpiredToken", 400],
  "bad-date": ["IncompleteSignature", 400],
  "stale-date": ["SignatureDoesNotMatch", 403],
  mismatch: ["SignatureDoesNotMatch", 403],
};

/** Checks the signature and credentials of `request`; returns the credentials that signed it. */
async function authenticate(
  request: Request,
  body: Uint8Array,
  state: EmulatorState,
): Promise<IssuedCredentials> {
  try {
    const { credentials } = await verifySignedRequest(request, body, {
      service: "sts",
      now: state.now(),
      credentialsOf: (id) => state.credentialsOf(id),
    });
    return credentials;
  } catch (err) {
    if (!(err instanceof SigV4Refusal)) throw err;
    const [code, status] = STS_REFUSALS[err.problem];
    const message = err.problem === "missing"
      ? "Request is missing Authentication Token"
      : err.message;
    throw new StsFault(code, status, message);
  }
}

/** The operations the emulator's STS answers. */
type Action = "GetCallerIdentity" | "AssumeRole";

/** The operation a query-protocol request names, checked, and its parameters. */
function queryAction(
  request: Request,
  body: Uint8Array,
): { action: Action; params: URLSearchParams } {
  const params = new URLSearchParams(new URL(request.url).search);
  const type = request.headers.get("content-type") ?? "";
  if (type.includes("application/x-www-form-urlencoded")) {
    for (const [k, v] of new URLSearchParams(new TextDecoder().decode(body))) params.set(k, v);
  }
  const action = params.get("Action");
  const version = params.get("Version");
  if (
    (action !== "GetCallerIdentity" && action !== "AssumeRole") ||
    (version !== null && version !== "2011-06-15")
  ) {
    throw new StsFault(
      "InvalidAction",
      400,
      `Could not find operation ${action ?? "(none)"} for version ${version ?? "(none)"}`,
    );
  }
  return { action, params };
}

/** Seconds precision, as STS writes `Expiration` (`2026-12-06T21:00:00Z`). */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Runs AssumeRole for the authenticated caller; its XML reply, or the STS error. */
async function assumeRoleReply(
  params: URLSearchParams,
  caller: IssuedCredentials,
  state: EmulatorState,
  requestId: string,
): Promise<Response> {
  const outcome = await assumeRole(params, caller, state, roleIdOf);
  if ("code" in outcome) throw new StsFault(outcome.code, outcome.status, outcome.message);
  const c = outcome.credentials;
  return new Response(
    `<AssumeRoleResponse xmlns="${XMLNS}">\n  <AssumeRoleResult>\n` +
      `    <AssumedRoleUser>\n      <AssumedRoleId>${escapeXml(outcome.assumedRoleId)}` +
      `</AssumedRoleId>\n      <Arn>${escapeXml(outcome.arn)}</Arn>\n    </AssumedRoleUser>\n` +
      `    <Credentials>\n      <AccessKeyId>${c.accessKeyId}</AccessKeyId>\n` +
      `      <SecretAccessKey>${c.secretAccessKey}</SecretAccessKey>\n` +
      `      <SessionToken>${c.sessionToken}</SessionToken>\n` +
      `      <Expiration>${isoSeconds(c.expiresAt)}</Expiration>\n    </Credentials>\n` +
      `  </AssumeRoleResult>\n` +
      `  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n` +
      `</AssumeRoleResponse>\n`,
    { headers: { "content-type": "text/xml", "x-amzn-requestid": requestId } },
  );
}

/**
 * Answers one STS request (`POST /`).
 *
 * @returns The GetCallerIdentity reply or an STS error, in the request's protocol.
 */
export async function handleSts(request: Request, state: EmulatorState): Promise<Response> {
  state.count("sts");
  const target = request.headers.get("x-amz-target");
  const json = target !== null;
  const requestId = crypto.randomUUID();
  const body = new Uint8Array(await request.arrayBuffer());
  try {
    if (json && target !== JSON_TARGET) {
      throw new StsFault("UnknownOperationException", 400, `Unknown operation ${target}`);
    }
    const query = json ? undefined : queryAction(request, body);
    if (query?.action === "AssumeRole") state.count("assume_role");
    const caller = await authenticate(request, body, state);
    if (query?.action === "AssumeRole") {
      return await assumeRoleReply(query.params, caller, state, requestId);
    }
    const arn = caller.arn;
    const account = accountIdOf(arn) ?? "";
    const userId = await userIdOf(arn);
    if (json) {
      return Response.json({ Arn: arn, UserId: userId, Account: account }, {
        headers: { "x-amzn-requestid": requestId, "content-type": "application/x-amz-json-1.0" },
      });
    }
    return new Response(
      `<GetCallerIdentityResponse xmlns="${XMLNS}">\n  <GetCallerIdentityResult>\n` +
        `    <Arn>${escapeXml(arn)}</Arn>\n    <UserId>${escapeXml(userId)}</UserId>\n` +
        `    <Account>${account}</Account>\n  </GetCallerIdentityResult>\n` +
        `  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n` +
        `</GetCallerIdentityResponse>\n`,
      { headers: { "content-type": "text/xml", "x-amzn-requestid": requestId } },
    );
  } catch (err) {
    if (!(err instanceof StsFault)) throw err;
    if (json) {
      return Response.json({ __type: `com.amazonaws.sts#${err.code}`, message: err.message }, {
        status: err.status,
        headers: {
          "content-type": "application/x-amz-json-1.0",
          "x-amzn-errortype": err.code,
          "x-amzn-query-error": `${err.code};Sender`,
          "x-amzn-requestid": requestId,
        },
      });
    }
    return new Response(
      `<ErrorResponse xmlns="${XMLNS}">\n  <Error>\n    <Type>Sender</Type>\n` +
        `    <Code>${err.code}</Code>\n    <Message>${escapeXml(err.message)}</Message>\n` +
        `  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`,
      {
        status: err.status,
        headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
      },
    );
  }
}
