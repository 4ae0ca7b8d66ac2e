/**
 * The container credentials endpoint behind `exec` and `serve`: a small HTTP server on 127.0.0.1
 * that speaks the protocol every AWS SDK and the AWS CLI read through
 * `AWS_CONTAINER_CREDENTIALS_FULL_URI` and `AWS_CONTAINER_AUTHORIZATION_TOKEN`, so a long-running
 * tool gets refreshed credentials for the whole session instead of a 15-minute snapshot.
 *
 * Each answer comes from the same locked resolver as every other command (`resolveProfileCredentials`):
 * credentials are refreshed when 5 minutes or less remain, and concurrent requests share one
 * resolution (and across processes, one refresh under the cache file's lock).
 *
 * Who may ask: requests must name the exact `Host` the URI names (a web page that rebinds a DNS
 * name to 127.0.0.1 sends its own; 400), and carry the random 256-bit token verbatim in
 * `Authorization` (none: 401; another: 403; compared in constant time), before the random path is
 * even looked at. The server binds 127.0.0.1 only, never another address.
 *
 * Who cannot stop it: it runs on the bounded loopback listener of login (`lib/net/loopback_http.ts`:
 * at most 32 connections, idle ones evicted, a request head due within 10 s), so another local user
 * who floods the port with idle or half-sent connections neither exhausts the process's
 * descriptors nor keeps a client out; when accepting fails anyway (a low descriptor limit), it
 * backs off and keeps serving instead of failing. One request per connection, answered with
 * `Connection: close`.
 *
 * Answers: 200 `{"AccessKeyId","SecretAccessKey","Token","Expiration","AccountId"}` with
 * `Expiration` in the `…Z` form the JS SDK requires; 403 `{"Code":"LoginRequired","Message":…}`
 * once the session is over (ended, revoked, logged out: the message says to log in again); 503
 * while AWS Sign-In cannot be reached and the credentials have expired. Nothing secret is logged.
 *
 * @see docs/PROTOCOL.md §15
 * @module
 */
import { AwsLoginError, StsError } from "../errors.ts";
import { type LoopbackRequest, serveLoopback } from "../net/loopback_http.ts";
import {
  type CredentialDeps,
  type MfaPrompt,
  resolveProfileCredentials,
} from "./profile_credentials.ts";
import type { ResolvedCredentials } from "./credential_types.ts";

/** The variable that holds the endpoint's URL. */
export const FULL_URI_VARIABLE = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
/** The variable that holds the token the endpoint requires in `Authorization`. */
export const TOKEN_VARIABLE = "AWS_CONTAINER_AUTHORIZATION_TOKEN";

/** How to start a server. */
export interface CredentialServerOptions {
  /** The profile whose session it serves (default: AWS_PROFILE, …, `default`). */
  readonly profile?: string;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  /** Opens the listener (tests replace it); default `Deno.listen`. */
  readonly listen?: (options: Deno.TcpListenOptions) => Deno.Listener;
  /** Asks for a role's MFA code (default: the controlling terminal). */
  readonly mfaPrompt?: MfaPrompt;
}

/** A running credential server. */
export interface CredentialServer extends AsyncDisposable {
  /** `http://127.0.0.1:PORT/<random path>`: the value of {@link FULL_URI_VARIABLE}. */
  readonly url: string;
  readonly port: number;
  /** The value of {@link TOKEN_VARIABLE}. A secret: never log it. */
  readonly authorizationToken: string;
  /**
   * Settles with the error that ended the session, after the request that met it was answered
   * (403); never rejects.
   */
  readonly sessionOver: Promise<AwsLoginError>;
  /**
   * Settles with the error that stopped the listener for good (it no longer answers); never
   * rejects, and stays pending while it serves. A failure to accept a connection is not one: the
   * server backs off and keeps serving.
   */
  readonly failed: Promise<unknown>;
  /** The two variables a client needs, URI first. */
  variables(): [string, string][];
  /** Stops listening; requests already being answered are finished first. */
  close(): Promise<void>;
}

/** Random bytes as base64url. */
function randomBase64Url(bytes: number): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

const encoder = new TextEncoder();

/**
 * Compares a presented secret with the expected one in time that depends only on the expected
 * one's length, so response timing reveals nothing of how much of a guess was right.
 */
export function timingSafeEqual(presented: string, expected: string): boolean {
  const a = encoder.encode(presented);
  const b = encoder.encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a.length === 0 ? 0 : a[i % a.length]!) ^ b[i]!;
  return diff === 0;
}

/**
 * Whether `err` means the session cannot give credentials any more until the user logs in again
 * (the error's own `sessionOver`: a refused refresh, a removed cache file, a profile without its
 * session, and whatever else an error family says).
 */
export function isSessionOver(err: unknown): err is AwsLoginError {
  return err instanceof AwsLoginError && err.sessionOver;
}

/** `Expiration` as the SDKs parse it: RFC 3339 in UTC with `Z`, no fraction. */
export function containerExpiration(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** The 200 body for `creds`. */
export function containerCredentialsJson(creds: ResolvedCredentials): Record<string, string> {
  const body: Record<string, string> = {
    AccessKeyId: creds.accessKeyId,
    SecretAccessKey: creds.secretAccessKey,
    Token: creds.sessionToken,
    Expiration: containerExpiration(creds.expiresAtMs),
  };
  if (creds.accountId) body.AccountId = creds.accountId;
  return body;
}

function problem(status: number, code: string, message: string): Response {
  return Response.json({ Code: code, Message: message }, {
    status,
    headers: { "cache-control": "no-store" },
  });
}

/**
 * Starts the endpoint on 127.0.0.1 with a new random path and token.
 *
 * @param deps Environment, fetch, clock, stderr (resolver warnings) and debug log.
 * @param options Profile and port.
 * @returns The running server; close it (or `await using`) when done.
 * @throws {Deno.errors.AddrInUse} When `port` is taken.
 */
export function startCredentialServer(
  deps: CredentialDeps,
  options: CredentialServerOptions = {},
): CredentialServer {
  const path = `/${randomBase64Url(16)}`;
  const token = randomBase64Url(32);
  let reportOver: (err: AwsLoginError) => void = () => {};
  const sessionOver = new Promise<AwsLoginError>((resolve) => (reportOver = resolve));

  // Requests that arrive together share one resolution: one read, and at most one refresh.
  let pending: Promise<ResolvedCredentials> | undefined;
  const resolve = () =>
    pending ??= resolveProfileCredentials(deps, {
      profile: options.profile,
      mfaPrompt: options.mfaPrompt,
    }).finally(() => {
      pending = undefined;
    });

  let host = "";
  async function answer(request: LoopbackRequest): Promise<Response> {
    if (request.headers.get("host") !== host) {
      return problem(400, "InvalidHost", `This endpoint answers only requests to ${host}`);
    }
    const authorization = request.headers.get("authorization");
    if (authorization === null || authorization === "") {
      return problem(401, "MissingToken", `Send the value of ${TOKEN_VARIABLE} as Authorization`);
    }
    if (!timingSafeEqual(authorization, token)) {
      return problem(403, "InvalidToken", `The Authorization header is not the endpoint's token`);
    }
    if (request.url.pathname !== path) {
      return problem(404, "NotFound", `Use the URL in ${FULL_URI_VARIABLE}`);
    }
    if (request.method !== "GET") {
      return problem(405, "MethodNotAllowed", "Only GET is allowed");
    }
    try {
      const creds = await resolve();
      return Response.json(containerCredentialsJson(creds), {
        headers: { "cache-control": "no-store" },
      });
    } catch (err) {
      // An MFA role that cannot prompt: the child keeps running; a terminal run fills the cache.
      if (err instanceof StsError && err.code === "ERR_STS_MFA") {
        return problem(403, "MfaRequired", err.message);
      }
      if (isSessionOver(err)) {
        queueMicrotask(() => reportOver(err));
        return problem(403, "LoginRequired", err.message);
      }
      if (err instanceof AwsLoginError) return problem(503, "CredentialsUnavailable", err.message);
      deps.debug(`credential endpoint: unexpected error: ${(err as Error)?.name}`);
      return problem(500, "InternalError", "Unexpected error while resolving credentials");
    }
  }

  const server = serveLoopback({
    port: options.port ?? 0,
    keepServing: true,
    listen: options.listen,
    onAcceptError: (err, retryInMs) =>
      deps.debug(
        `credential endpoint: accepting a connection failed (${(err as Error)?.message}); ` +
          `trying again in ${retryInMs} ms`,
      ),
    handler: async (request) => {
      const response = await answer(request);
      // Method and status only: the path and the headers are secrets.
      deps.debug(`credential endpoint: ${request.method} → ${response.status}`);
      return response;
    },
  });
  const port = server.port;
  host = `127.0.0.1:${port}`;
  const url = `http://${host}${path}`;
  const failed = server.finished.then(() => new Promise<never>(() => {}), (err) => err);

  const close = () => server.close();
  return {
    url,
    port,
    authorizationToken: token,
    sessionOver,
    failed,
    variables: () => [[FULL_URI_VARIABLE, url], [TOKEN_VARIABLE, token]],
    close,
    [Symbol.asyncDispose]: close,
  };
}
