/**
 * STS `GetCallerIdentity` for the emulator, so tools can prove the issued credentials work: the
 * request must be SigV4-signed (service `sts`, any region, `X-Amz-Date` within 15 minutes of the
 * emulator clock) with credentials this emulator issued and that have not expired, with their
 * session token. The reply names the session's ARN, account and user id.
 *
 * Protocols: awsQuery (form body `Action=GetCallerIdentity&Version=2011-06-15`, XML reply) — what
 * `@aws-sdk/client-sts` 3.1174 sends — and awsJson1_0 (`X-Amz-Target:
 * AWSSecurityTokenServiceV20110615.GetCallerIdentity`, JSON reply). Not Smithy RPCv2 CBOR.
 *
 * @see https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
 * @module
 */
import { accountIdOf, parseArn } from "../aws/arn.ts";
import { sha256Hex, type SigV4Problem, SigV4Refusal, verifySignedRequest } from "./sigv4.ts";
import type { EmulatorState } from "./state.ts";

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

/** A stable fake unique id, like the `AIDA…` of an IAM user or the `AROA…` of a role. */
export async function userIdOf(arn: string): Promise<string> {
  const parsed = parseArn(arn);
  if (parsed?.resource === "root") return parsed.accountId;
  const digest = (await sha256Hex(arn)).toUpperCase();
  const suffix = Array.from(
    digest.slice(0, 34).match(/../g)!,
    (pair) => "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[parseInt(pair, 16) % 32],
  ).join("").slice(0, 17);
  const role = /^assumed-role\/[^/]+\/(.+)$/.exec(parsed?.resource ?? "");
  if (role) return `AROA${suffix}:${role[1]}`;
  return `AIDA${suffix}`;
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

/** Checks the signature and credentials of `request`; returns the caller's ARN. */
async function authenticate(
  request: Request,
  body: Uint8Array,
  state: EmulatorState,
): Promise<string> {
  try {
    const { credentials } = await verifySignedRequest(request, body, {
      service: "sts",
      now: state.now(),
      credentialsOf: (id) => state.credentialsOf(id),
    });
    return credentials.arn;
  } catch (err) {
    if (!(err instanceof SigV4Refusal)) throw err;
    const [code, status] = STS_REFUSALS[err.problem];
    const message = err.problem === "missing"
      ? "Request is missing Authentication Token"
      : err.message;
    throw new StsFault(code, status, message);
  }
}

/** The operation a query-protocol request names, checked. */
function queryAction(request: Request, body: Uint8Array): void {
  const params = new URLSearchParams(new URL(request.url).search);
  const type = request.headers.get("content-type") ?? "";
  if (type.includes("application/x-www-form-urlencoded")) {
    for (const [k, v] of new URLSearchParams(new TextDecoder().decode(body))) params.set(k, v);
  }
  const action = params.get("Action");
  const version = params.get("Version");
  if (action !== "GetCallerIdentity" || (version !== null && version !== "2011-06-15")) {
    throw new StsFault(
      "InvalidAction",
      400,
      `Could not find operation ${action ?? "(none)"} for version ${version ?? "(none)"}`,
    );
  }
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
    if (!json) queryAction(request, body);
    const arn = await authenticate(request, body, state);
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
