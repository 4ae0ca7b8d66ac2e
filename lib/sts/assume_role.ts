/**
 * The AWS STS `AssumeRole` client: the awsQuery request (`POST /`, form body, API 2011-06-15)
 * signed with SigV4 for `sts` by the source credentials, the XML reply parsed strictly and its
 * credentials checked as the Sign-In ones are, and STS's errors turned into what a person can act
 * on. Transient failures (network, timeout, 5xx, throttling) are retried with backoff as Sign-In
 * calls are; a refusal whose `Date` shows our clock is off is retried once with the clock
 * corrected.
 *
 * Loaded only when an AssumeRole is due: the signer (`aws4fetch`) is imported on first use.
 * Nothing secret is logged or quoted: STS's messages are cut of every value this request sent, as
 * Sign-In's are (`lib/aws/service_reply.ts`).
 *
 * @see docs/PROTOCOL.md §16
 * @module
 */
import { StsError } from "../errors.ts";
import { sleep, withRetries } from "../aws/retry.ts";
import {
  isRedirect,
  parseHttpDate,
  parseRetryAfter,
  type Service,
  serviceName,
  serviceText,
  transportError,
} from "../aws/service_reply.ts";
import { type Arn, parseArn } from "../aws/arn.ts";
import { parseRfc3339 } from "../session/utc_time.ts";
import { child, parseXml, textAt, type XmlElement, XmlError } from "./xml.ts";

/** What the caller knows about the request, and how to talk to the world. */
export interface AssumeRoleRequest {
  /** The STS base URL (`https://sts.eu-west-1.amazonaws.com`), no trailing slash. */
  readonly endpoint: string;
  /** The signing region. */
  readonly region: string;
  /** The source credentials. */
  readonly credentials: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken: string;
  };
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly durationSeconds?: number;
  readonly externalId?: string;
  readonly serialNumber?: string;
  readonly tokenCode?: string;
  /** For messages: the profile asked for, the profile holding `role_arn`, the login profile. */
  readonly profile: string;
  readonly loginProfile: string;
  /** For messages: the identity that asks (the login session, or the role beneath). */
  readonly sourceArn: string;
  readonly fetch: typeof fetch;
  now(): number;
  /** Waits between attempts (default: a timer). */
  sleep?(ms: number): Promise<void>;
  debug(message: string): void;
  /** Attempts in all (default 3). */
  readonly maxAttempts?: number;
  /** Per-request timeout (default 10 s). */
  readonly timeoutMs?: number;
  /** Longest wait between attempts (default 3 s). */
  readonly maxDelayMs?: number;
}

/** What STS answered. */
export interface AssumeRoleResult {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiresAtMs: number;
  readonly accountId: string;
  readonly assumedRoleArn: string;
  readonly assumedRoleId: string;
  readonly requestId: string | undefined;
}

const ACCESS_KEY_ID = /^[A-Za-z0-9_]{1,256}$/;
const TOKEN_TEXT = /^[\x21-\x7e]+$/;

/**
 * Assumes the role.
 *
 * @throws {StsError} When STS refuses, or answers with something unusable.
 * @throws {NetworkError} When STS cannot be reached (after the retries).
 * @throws {PermissionError} When the permission set does not allow the STS host.
 */
export async function assumeRole(req: AssumeRoleRequest): Promise<AssumeRoleResult> {
  return await withRetries((now) => sendOnce(req, now), {
    attempts: req.maxAttempts ?? 3,
    maxDelayMs: req.maxDelayMs ?? 3000,
    now: req.now,
    sleep: (ms) => req.sleep ? req.sleep(ms) : sleep(ms),
    onRetry: (err, attempt) => req.debug(`STS: attempt ${attempt} failed (${err.name}); retrying`),
  });
}

/** The form body of the request (also what the tests compare). */
export function assumeRoleBody(req: AssumeRoleRequest): string {
  const form = new URLSearchParams({ Action: "AssumeRole", Version: "2011-06-15" });
  form.set("RoleArn", req.roleArn);
  form.set("RoleSessionName", req.roleSessionName);
  if (req.durationSeconds !== undefined) form.set("DurationSeconds", `${req.durationSeconds}`);
  if (req.externalId !== undefined) form.set("ExternalId", req.externalId);
  if (req.serialNumber !== undefined) form.set("SerialNumber", req.serialNumber);
  if (req.tokenCode !== undefined) form.set("TokenCode", req.tokenCode);
  return form.toString();
}

/** `YYYYMMDDTHHMMSSZ` of `ms`. */
function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, "");
}

async function sendOnce(req: AssumeRoleRequest, now: () => number): Promise<AssumeRoleResult> {
  const { AwsClient } = await import("aws4fetch");
  const signer = new AwsClient({
    accessKeyId: req.credentials.accessKeyId,
    secretAccessKey: req.credentials.secretAccessKey,
    sessionToken: req.credentials.sessionToken,
    service: "sts",
    region: req.region,
    retries: 0,
  });
  const timeoutMs = req.timeoutMs ?? 10_000;
  const url = `${req.endpoint}/`;
  const signed = await signer.sign(url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" },
    body: assumeRoleBody(req),
    aws: { datetime: amzDate(now()) },
  });
  const host = new URL(url).host;
  req.debug(`STS: AssumeRole of ${req.roleArn} at ${host}`);
  let response: Response;
  let text: string;
  try {
    response = await req.fetch(
      new Request(signed, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" }),
    );
    text = await response.text();
  } catch (err) {
    throw transportError(err, STS, host, timeoutMs);
  }
  return processAssumeRoleResponse(response, text, req);
}

/** AWS STS, as messages name it. */
const STS: Service = { name: "AWS STS", endpoint: "the STS endpoint" };

/**
 * Reads an AssumeRole reply.
 *
 * @throws {StsError} For an error reply, a redirect, or a reply without usable credentials.
 */
export function processAssumeRoleResponse(
  response: Response,
  text: string,
  req: AssumeRoleRequest,
): AssumeRoleResult {
  const status = response.status;
  const serverDate = parseHttpDate(response.headers.get("date"));
  const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"), serverDate);
  const details = { status, serverDate, retryAfterSeconds };
  const head = `Cannot assume role "${req.roleArn}" for profile "${req.profile}"`;
  if (isRedirect(response)) {
    throw new StsError(
      "ERR_STS_RESPONSE",
      `${head}: AWS STS answered with a redirect (HTTP ${status}), which aws-login does not ` +
        `follow. Check the STS endpoint`,
      details,
    );
  }
  let doc: XmlElement | undefined;
  try {
    doc = parseXml(text);
  } catch (err) {
    if (!(err instanceof XmlError)) throw err;
    doc = undefined;
  }
  if (status < 200 || status >= 300) {
    throw errorOf(doc, req, details, head);
  }
  const result = child(doc, "AssumeRoleResult");
  if (doc?.name !== "AssumeRoleResponse" || result === undefined) {
    throw new StsError(
      "ERR_STS_RESPONSE",
      `${head}: AWS STS answered HTTP ${status} with a reply that is not an AssumeRole result. ` +
        `Check the STS endpoint`,
      details,
    );
  }
  const bad: string[] = [];
  const field = (shape: RegExp, ...path: string[]) => {
    const v = textAt(result, ...path);
    if (v === undefined || !shape.test(v)) bad.push(path.join("."));
    return v ?? "";
  };
  const accessKeyId = field(ACCESS_KEY_ID, "Credentials", "AccessKeyId");
  const secretAccessKey = field(TOKEN_TEXT, "Credentials", "SecretAccessKey");
  const sessionToken = field(TOKEN_TEXT, "Credentials", "SessionToken");
  const expiration = textAt(result, "Credentials", "Expiration") ?? "";
  const expiresAtMs = parseRfc3339(expiration.trim());
  if (Number.isNaN(expiresAtMs) || expiresAtMs <= req.now()) bad.push("Credentials.Expiration");
  const assumedRoleArn = textAt(result, "AssumedRoleUser", "Arn") ?? "";
  const arn: Arn | undefined = parseArn(assumedRoleArn);
  if (arn === undefined || !/^\d{12}$/.test(arn.accountId)) bad.push("AssumedRoleUser.Arn");
  const assumedRoleId = textAt(result, "AssumedRoleUser", "AssumedRoleId") ?? "";
  if (bad.length > 0) {
    throw new StsError(
      "ERR_STS_RESPONSE",
      `${head}: AWS STS answered with missing or invalid ${bad.join(", ")}. Try again; if it ` +
        `persists, check the STS endpoint`,
      details,
    );
  }
  return {
    accessKeyId,
    secretAccessKey,
    sessionToken,
    expiresAtMs,
    accountId: arn!.accountId,
    assumedRoleArn,
    assumedRoleId,
    requestId: textAt(doc, "ResponseMetadata", "RequestId"),
  };
}

/** The values the request carried that STS must never be quoted saying. */
function sentSecrets(req: AssumeRoleRequest): string[] {
  return [req.credentials.secretAccessKey, req.credentials.sessionToken, req.tokenCode]
    .filter((s): s is string => s !== undefined && s !== "");
}

function errorOf(
  doc: XmlElement | undefined,
  req: AssumeRoleRequest,
  details: { status: number; serverDate?: number; retryAfterSeconds?: number },
  head: string,
): StsError {
  const error = doc?.name === "ErrorResponse" ? child(doc, "Error") : undefined;
  const sent = sentSecrets(req);
  const rawCode = textAt(error, "Code")?.trim();
  const code = rawCode === undefined ? undefined : serviceName(rawCode, sent);
  const message = serviceText(textAt(error, "Message")?.trim() ?? "", sent, 500) ?? "";
  const said = code === undefined
    ? `HTTP ${details.status}`
    : `${code}${message ? `: "${message}"` : ""}`;
  const d = { ...details, stsCode: code };
  const status = details.status;
  if (code === "Throttling" || code === "ThrottlingException" || status === 429) {
    return new StsError("ERR_STS_THROTTLED", `${head}: AWS STS is throttling (${said})`, d);
  }
  if (status >= 500 || code === "InternalFailure" || code === "ServiceUnavailable") {
    return new StsError(
      "ERR_STS_SERVER",
      `${head}: AWS STS failed (${said}). Try again later`,
      d,
    );
  }
  if (code === "AccessDenied" && /MultiFactorAuthentication/i.test(message)) {
    return new StsError(
      "ERR_STS_MFA",
      `${head}: AWS STS refused the MFA code for "${req.serialNumber}": it was wrong or already ` +
        `used (${said}). Try again with the next code`,
      d,
    );
  }
  if (code === "AccessDenied") {
    const externalId = req.externalId === undefined
      ? 'and whether the role requires an external ID ("external_id" in the profile)'
      : `and that "external_id" in profile "${req.profile}" is the one the role expects`;
    return new StsError(
      "ERR_STS_ACCESS_DENIED",
      `${head}: ${req.sourceArn} is not allowed to assume it (${said}). Check that the role's ` +
        `trust policy allows ${req.sourceArn}, that this identity may call sts:AssumeRole on ` +
        `the role, ${externalId}`,
      d,
    );
  }
  if (code === "ExpiredToken" || code === "InvalidClientTokenId") {
    return new StsError(
      "ERR_STS_EXPIRED_TOKEN",
      `${head}: the login session of profile "${req.loginProfile}" has ended (${said}). Run ` +
        `"aws-login login --profile ${req.loginProfile}" to sign in again`,
      d,
    );
  }
  if (code === "ValidationError" && /duration/i.test(message)) {
    return new StsError(
      "ERR_STS_VALIDATION",
      `${head}: ${said}. Lower "duration_seconds" in profile "${req.profile}"` +
        ` (to at most the role's maximum session duration; 3600 when the role is assumed ` +
        `through another role)`,
      d,
    );
  }
  if (code === "ValidationError") {
    return new StsError(
      "ERR_STS_VALIDATION",
      `${head}: ${said}. Check "role_arn", "role_session_name", "external_id" and ` +
        `"mfa_serial" in profile "${req.profile}"`,
      d,
    );
  }
  if (code === "RegionDisabledException") {
    return new StsError(
      "ERR_STS_REGION_DISABLED",
      `${head}: ${said}. Activate STS in region "${req.region}" for the account, or set ` +
        `"region" in profile "${req.profile}" to a region where it is active`,
      d,
    );
  }
  if (code === undefined) {
    return new StsError(
      "ERR_STS_RESPONSE",
      `${head}: AWS STS answered HTTP ${status} with a reply that is not an STS error. ` +
        `Check the STS endpoint`,
      d,
    );
  }
  return new StsError("ERR_STS_ACCESS_DENIED", `${head}: AWS STS refused (${said})`, d);
}
