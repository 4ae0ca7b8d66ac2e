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
import {
  computeSignature,
  parseAmzDate,
  parseAuthorization,
  sameSignature,
  sha256Hex,
} from "./sigv4.ts";
import type { EmulatorState } from "./state.ts";

const XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";
const JSON_TARGET = "AWSSecurityTokenServiceV20110615.GetCallerIdentity";
/** How far `X-Amz-Date` may be from the emulator clock. */
const SKEW_MS = 15 * 60_000;

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/** An STS failure: its code, HTTP status and message. */
class StsFault {
  constructor(readonly code: string, readonly status: number, readonly message: string) {}
}

const SIGNATURE_MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/** A stable fake unique id, like the `AIDA…` of an IAM user or the `AROA…` of a role. */
async function userIdOf(arn: string): Promise<string> {
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

/** Checks the signature and credentials of `request`; returns the caller's ARN. */
async function authenticate(
  request: Request,
  body: Uint8Array,
  state: EmulatorState,
): Promise<string> {
  const header = request.headers.get("authorization");
  if (header === null) {
    throw new StsFault(
      "MissingAuthenticationToken",
      403,
      "Request is missing Authentication Token",
    );
  }
  const auth = parseAuthorization(header);
  if (!auth) {
    throw new StsFault(
      "IncompleteSignature",
      400,
      "The Authorization header is not a well-formed AWS4-HMAC-SHA256 signature.",
    );
  }
  if (auth.service !== "sts") {
    throw new StsFault(
      "SignatureDoesNotMatch",
      403,
      "Credential should be scoped to correct service: 'sts'.",
    );
  }
  const issued = state.credentialsOf(auth.accessKeyId);
  if (!issued || request.headers.get("x-amz-security-token") !== issued.sessionToken) {
    throw new StsFault(
      "InvalidClientTokenId",
      403,
      "The security token included in the request is invalid.",
    );
  }
  const now = state.now();
  if (issued.expiresAt <= now) {
    throw new StsFault(
      "ExpiredToken",
      400,
      "The security token included in the request is expired",
    );
  }
  const amzDate = request.headers.get("x-amz-date") ?? "";
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) {
    throw new StsFault("IncompleteSignature", 400, "The request has no valid X-Amz-Date header.");
  }
  if (Math.abs(signedAt - now) > SKEW_MS) {
    throw new StsFault(
      "SignatureDoesNotMatch",
      403,
      `Signature expired: ${amzDate} is more than 15 minutes away from the server time.`,
    );
  }
  if (auth.date !== amzDate.slice(0, 8) || !auth.signedHeaders.includes("host")) {
    throw new StsFault("SignatureDoesNotMatch", 403, SIGNATURE_MISMATCH);
  }
  const url = new URL(request.url);
  const expected = await computeSignature(
    {
      method: request.method,
      rawPath: url.pathname,
      rawQuery: url.search,
      headers: request.headers,
      // The hash of the body actually received, never the client's x-amz-content-sha256: with the
      // claimed hash a body changed after signing would pass.
      payloadHash: await sha256Hex(body),
      amzDate,
    },
    auth,
    issued.secretAccessKey,
  );
  if (!sameSignature(expected, auth.signature)) {
    throw new StsFault("SignatureDoesNotMatch", 403, SIGNATURE_MISMATCH);
  }
  return issued.arn;
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
