/**
 * The emulator's test controls over HTTP, for a test or script that runs it as a separate process
 * (`aws-login emulator`); in-process users call `emulator.controls` instead. Loopback only, like the
 * whole emulator. A web page must not be able to drive it: POSTs must be exactly
 * `application/json` (a cross-site form or a "simple" fetch can send `text/plain;…`, never that),
 * and the Host must be the emulator's own `127.0.0.1:PORT` or `localhost:PORT` (a DNS-rebinding
 * page sends its own name).
 *
 * - `GET /__admin/counters` → `{"authorize":…,"authorization_code":…,"refresh_token":…,
 *   "other_grant":…,"sts":…,"assume_role":…,"revoke":…,"introspect":…}` (`sts` counts every STS
 *   request, `assume_role` the AssumeRole ones among them)
 * - `POST /__admin/clock` `{"offsetMs": 600000}` → the emulator clock runs 10 minutes ahead
 * - `POST /__admin/fail` `{"count": 2, "error"?: "TOKEN_EXPIRED", "status"?: 500,
 *   "retryAfterSeconds"?: 2, "delayMs"?: 1500, "reset"?: true}` → the next 2 token calls fail so
 * - `POST /__admin/deny` `{"actions": ["signin:RevokeOAuth2TokenWithIAM"]}` → every identity is
 *   denied these IAM actions (AccessDeniedException) until the next `deny`; `[]` allows all again
 *
 * @module
 */
import type { EmulatorState, TokenFailure } from "./state.ts";

function reply(body: unknown, status = 200): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

function isWhole(v: unknown, min: number): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= min;
}

/** Reads a `POST /__admin/fail` body; a string is the reason it is refused. */
export function parseFailure(body: Record<string, unknown>): [number, TokenFailure] | string {
  const { count, error, status, retryAfterSeconds, delayMs, reset } = body;
  if (!isWhole(count, 0)) return '"count" must be a whole number ≥ 0';
  if (error !== undefined && (typeof error !== "string" || error === "")) {
    return '"error" must be a non-empty string';
  }
  if (status !== undefined && (!isWhole(status, 400) || status > 599)) {
    return '"status" must be an HTTP error status (400 to 599)';
  }
  if (retryAfterSeconds !== undefined && !isWhole(retryAfterSeconds, 0)) {
    return '"retryAfterSeconds" must be a whole number ≥ 0';
  }
  if (delayMs !== undefined && !isWhole(delayMs, 0)) return '"delayMs" must be a whole number ≥ 0';
  if (reset !== undefined && typeof reset !== "boolean") return '"reset" must be true or false';
  const failure: TokenFailure = {};
  if (error !== undefined) failure.error = error as string;
  if (status !== undefined) failure.status = status;
  if (retryAfterSeconds !== undefined) failure.retryAfterSeconds = retryAfterSeconds;
  if (delayMs !== undefined) failure.delayMs = delayMs;
  if (reset !== undefined) failure.reset = reset;
  return [count, failure];
}

/**
 * Answers one `/__admin/…` request.
 *
 * @param port The emulator's port, the only one its Host header may name.
 */
export async function handleAdmin(
  request: Request,
  state: EmulatorState,
  port: number,
): Promise<Response> {
  const path = new URL(request.url).pathname;
  const host = request.headers.get("host")?.toLowerCase();
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
    return reply({ message: `Admin requests must be sent to 127.0.0.1:${port}` }, 403);
  }
  if (request.method === "GET" && path === "/__admin/counters") return reply(state.counters());
  const operations = ["/__admin/clock", "/__admin/fail", "/__admin/deny"];
  if (request.method !== "POST" || !operations.includes(path)) {
    return reply({ message: `No admin operation ${request.method} ${path}` }, 404);
  }
  const mediaType = (request.headers.get("content-type") ?? "").split(";")[0]!.trim();
  if (mediaType.toLowerCase() !== "application/json") {
    return reply({ message: "Admin requests must be application/json" }, 415);
  }
  let body: unknown;
  try {
    body = JSON.parse(await request.text());
  } catch {
    return reply({ message: "The body is not valid JSON" }, 400);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return reply({ message: "The body must be a JSON object" }, 400);
  }
  const fields = body as Record<string, unknown>;
  if (path === "/__admin/clock") {
    const offset = fields.offsetMs;
    if (typeof offset !== "number" || !Number.isSafeInteger(offset)) {
      return reply({ message: '"offsetMs" must be a whole number of milliseconds' }, 400);
    }
    state.setClockOffset(offset);
    return reply({ offsetMs: offset, now: new Date(state.now()).toISOString() });
  }
  if (path === "/__admin/deny") {
    const actions = fields.actions;
    if (
      !Array.isArray(actions) || !actions.every((a) => typeof a === "string" && /^\w+:\w+$/.test(a))
    ) {
      return reply(
        { message: '"actions" must be an array of IAM actions like "signin:Name"' },
        400,
      );
    }
    state.denyActions(actions);
    return reply({ actions });
  }
  const parsed = parseFailure(fields);
  if (typeof parsed === "string") return reply({ message: parsed }, 400);
  state.failNextTokenCalls(...parsed);
  return reply({ count: parsed[0], failure: parsed[1] });
}
