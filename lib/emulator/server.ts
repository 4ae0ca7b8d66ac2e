/**
 * A local AWS Sign-In emulator (plus STS GetCallerIdentity and AssumeRole, and the console's
 * federation endpoint) for demos and tests: the browser
 * authorize step, CreateOAuth2Token with DPoP, the SigV4-signed revoke and introspect calls, and
 * test controls (clock offset, injected failures, denied actions, counters). It listens on
 * 127.0.0.1 only.
 *
 * It runs on `node:http` rather than `Deno.serve` for one reason: a test must be able to drop a
 * connection without any response (a "connection reset"), which `Deno.serve` cannot do. Requests are
 * turned into web `Request`s whose URL is rebuilt from the `Host` header (what the client used, as
 * DPoP's `htu` requires); every response gets a `Date` header from the emulator's clock.
 *
 * @module
 */
import http from "node:http";
import { EmulatorError } from "../errors.ts";
import { handleAdmin } from "./admin.ts";
import { handleFederation } from "./federation.ts";
import { handleAuthorize, handleConfirmation, handleDecision } from "./authorize_page.ts";
import { JtiCache } from "./dpop_verify.ts";
import { createIdTokenSigner } from "./id_token.ts";
import { signinError } from "./signin_errors.ts";
import {
  type Account,
  arnProblem,
  type Counters,
  EmulatorState,
  type TokenFailure,
} from "./state.ts";
import { handleIamTokenCall, isIamTokenCall } from "./revoke_introspect.ts";
import { parseRoles, type RoleDefinition, type RolesFileEntry } from "./roles.ts";
import { handleSts } from "./sts.ts";
import { handleToken, RESET, type TokenContext } from "./token_endpoint.ts";

/** How to start an emulator. */
export interface EmulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Approve every sign-in at once as this ARN (no page). */
  autoApprove?: string;
  /** Credential lifetime, `expiresIn`: 1 to 900 as the service model allows (default 900). */
  accessTtlSeconds?: number;
  /** How long a session can be refreshed (default 43200, 12 h). */
  sessionTtlSeconds?: number;
  /** Identities the sign-in page offers (default one demo user). */
  accounts?: { arn: string; name?: string }[];
  /** Initial offset of the emulator clock from the system clock. */
  clockOffsetMs?: number;
  /**
   * The roles STS AssumeRole knows, as a roles file lists them (lib/emulator/roles.ts); default:
   * any role ARN, trusting every identity the emulator issued credentials to, for at most 1 h.
   */
  roles?: RolesFileEntry[];
  /** Receives one line per request, with no secrets; default: no logging. */
  log?: (line: string) => void;
}

/** A running emulator. */
export interface Emulator {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly controls: EmulatorControls;
  /** Stops listening, drops open connections and cancels injected delays. */
  close(): Promise<void>;
}

/** Test controls of a running emulator. */
export interface EmulatorControls {
  /** Requests so far; token calls by grant type, including refused and injected failures. */
  counters(): Counters;
  /** Makes the next `n` token calls fail (or wait) as `failure` says; replaces earlier plans. */
  failNextTokenCalls(n: number, failure: TokenFailure): void;
  /** Sets the emulator clock to the system clock plus `ms`. */
  setClockOffset(ms: number): void;
  /** Denies IAM actions (e.g. `signin:RevokeOAuth2TokenWithIAM`) to every identity; [] allows all. */
  denyActions(actions: readonly string[]): void;
}

const MAX_BODY = 1 << 20;

/** Checks the options; returns the roles, read. */
function validate(options: EmulatorOptions): RoleDefinition[] | undefined {
  const whole = (name: string, v: number | undefined, min: number, max: number) => {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < min || v > max)) {
      throw new EmulatorError(`Cannot start the emulator: ${name} must be ${min} to ${max}`);
    }
  };
  whole("port", options.port, 0, 65535);
  whole("accessTtlSeconds", options.accessTtlSeconds, 1, 900);
  whole("sessionTtlSeconds", options.sessionTtlSeconds, 1, 366 * 86_400);
  whole("clockOffsetMs", options.clockOffsetMs, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const arns: [string, unknown][] = (options.accounts ?? []).map((a) => ["an account", a?.arn]);
  if (options.autoApprove !== undefined) arns.push(["autoApprove", options.autoApprove]);
  for (const [what, arn] of arns) {
    const problem = arnProblem(arn);
    if (problem) throw new EmulatorError(`Cannot use "${arn}" as ${what}: ${problem}`);
  }
  if (options.roles === undefined) return undefined;
  const roles = parseRoles(options.roles);
  if (typeof roles === "string") throw new EmulatorError(`Cannot use these roles: ${roles}`);
  return roles;
}

/**
 * Starts an emulator on 127.0.0.1.
 *
 * @throws {EmulatorError} On bad options, or when the port cannot be bound.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const roles = validate(options);
  const state = new EmulatorState({
    ...options,
    roles,
    accounts: options.accounts?.map((a): Account => ({ arn: a.arn, name: a.name })),
  });
  const closing = new AbortController();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        closing.signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      closing.signal.addEventListener("abort", done);
    });
  const token: TokenContext = {
    state,
    jtis: new JtiCache(),
    idTokens: await createIdTokenSigner(),
    sleep,
  };
  const inFlight = new Set<Promise<void>>();
  let port = options.port ?? 0;
  const url = () => `http://127.0.0.1:${port}`;

  async function route(request: Request): Promise<Response | typeof RESET> {
    const requestUrl = new URL(request.url);
    const { pathname } = requestUrl;
    const method = request.method;
    if (pathname.startsWith("/__admin/")) return await handleAdmin(request, state, port);
    if (pathname === "/v1/authorize") {
      if (method === "GET") return handleAuthorize(request, state, url());
      if (method === "POST") return await handleDecision(request, state);
    } else if (pathname === "/v1/sessions/confirmation" && method === "GET") {
      return handleConfirmation(request);
    } else if (method === "POST" && isIamTokenCall(requestUrl)) {
      return await handleIamTokenCall(request, state);
    } else if (pathname.endsWith("/v1/token") && method === "POST") {
      return await handleToken(request, token);
    } else if (pathname === "/" && method === "POST") {
      return await handleSts(request, state);
    } else if (pathname === "/federation" || pathname === "/oauth") {
      return handleFederation(request, state);
    } else if (pathname === "/.well-known/jwks.json" && method === "GET") {
      return Response.json(token.idTokens.jwks());
    }
    return Response.json({ message: `No route for ${method} ${pathname}` }, { status: 404 });
  }

  async function serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = performance.now();
    const method = req.method ?? "GET";
    let path = (req.url ?? "/").split("?")[0]!;
    let outcome: Response | typeof RESET;
    try {
      const body = await readBody(req);
      const headers = new Headers();
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
        headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
      }
      const requestUrl = URL.parse(
        req.url ?? "/",
        `http://${headers.get("host") ?? `127.0.0.1:${port}`}`,
      );
      outcome = requestUrl === null
        ? Response.json({ message: "Bad Host header or request target" }, { status: 400 })
        : await route(
          new Request(requestUrl, {
            method,
            headers,
            body: method === "GET" || method === "HEAD" ? undefined : body,
          }),
        );
      path = requestUrl?.pathname ?? path;
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        outcome = Response.json({ message: "Request body too large" }, { status: 413 });
      } else {
        // A bug in the emulator: say so in the log (the message only, never request data).
        outcome = signinError(500, "InternalServerException", "server_error", "Emulator error");
        options.log?.(`emulator error: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const ms = Math.round(performance.now() - started);
    const stamp = new Date(state.now()).toISOString();
    if (outcome === RESET) {
      req.socket.destroy();
      options.log?.(`${stamp} ${method} ${path} reset (injected) ${ms}ms`);
      return;
    }
    const bytes = new Uint8Array(await outcome.arrayBuffer());
    const headers: Record<string, string> = {};
    outcome.headers.forEach((value, name) => (headers[name] = value));
    headers["date"] = new Date(state.now()).toUTCString();
    headers["content-length"] = String(bytes.length);
    if (!res.destroyed && !res.writableEnded) {
      res.writeHead(outcome.status, headers);
      res.end(bytes);
    }
    const type = outcome.headers.get("x-amzn-errortype");
    options.log?.(
      `${stamp} ${method} ${path} ${outcome.status}${type ? ` ${type}` : ""} ${ms}ms`,
    );
  }

  const server = http.createServer((req, res) => {
    res.on("error", () => {});
    const task = serve(req, res).catch(() => {}).finally(() => inFlight.delete(task));
    inFlight.add(task);
  });
  server.on("clientError", (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: Error & { code?: string }) => {
      reject(
        new EmulatorError(
          `Cannot listen on 127.0.0.1:${port}: ${
            err.code === "EADDRINUSE" ? "the port is in use" : err.message
          }. Choose another --port, or 0 for any free port.`,
          { cause: err },
        ),
      );
    });
    server.listen(port, "127.0.0.1", () => resolve());
  });
  port = (server.address() as { port: number }).port;

  let closed: Promise<void> | undefined;
  return {
    url: url(),
    port,
    controls: {
      counters: () => state.counters(),
      failNextTokenCalls: (n, failure) => state.failNextTokenCalls(n, failure),
      setClockOffset: (ms) => state.setClockOffset(ms),
      denyActions: (actions) => state.denyActions(actions),
    },
    close() {
      return closed ??= (async () => {
        closing.abort();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await Promise.all([stopped, ...inFlight]);
      })();
    },
  };
}

class BodyTooLarge extends Error {}

async function readBody(req: http.IncomingMessage): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Uint8Array).length;
    if (size > MAX_BODY) throw new BodyTooLarge();
    chunks.push(chunk as Uint8Array);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
