/**
 * What `login` checks before the browser opens, so a person never signs in only to see the tool
 * fail afterwards (or waits minutes for a page that cannot load): Deno's permission set allows the
 * Sign-In endpoint's host, the directories the config file and the token cache are written to
 * accept a new file, a region the tool does not know has a Sign-In host that exists, and a custom
 * endpoint answers. A missing Deno permission is reported as such ({@link PermissionError}), never
 * as a network or file-system failure.
 *
 * @module
 */
import {
  CacheError,
  ConfigError,
  isPermissionFailure,
  netNotAllowed,
  NetworkError,
  PERMISSION_HINT,
  PermissionError,
} from "../errors.ts";
import { dirname, joinPath } from "../files.ts";
import { isKnownRegion, REGIONS } from "../aws/regions.ts";
import { withSuggestion } from "../cli/suggest.ts";
import { printable } from "../cli/output.ts";

/**
 * Whether a host name exists in DNS: true when it resolves, false when DNS says there is no such
 * name, undefined when that cannot be told (no network, no answer in time, not allowed).
 */
export type HostLookup = (host: string) => Promise<boolean | undefined>;

/** How long a DNS lookup or an endpoint's first answer may take before the check gives up. */
const LOOKUP_TIMEOUT_MS = 5_000;
const ANSWER_TIMEOUT_MS = 10_000;

/**
 * Runs every check.
 *
 * @param p.base The Sign-In base URL.
 * @param p.configPath The config file `login_session` is written to.
 * @param p.cacheDir The token cache directory.
 * @throws {PermissionError} When the permission set lacks the host or the write access.
 * @throws {ConfigError} `ERR_CONFIG_IO` when the config file's directory cannot take a new file.
 * @throws {CacheError} `ERR_CACHE_IO` when the cache directory cannot take a new file.
 */
export async function checkBeforeSignIn(
  p: { base: string; configPath: string; cacheDir: string },
): Promise<void> {
  await checkNetAllowed(p.base);
  const configDir = dirname(await Deno.realPath(p.configPath).catch(() => p.configPath));
  await checkWritable(configDir, (why, cause) =>
    new ConfigError(
      "ERR_CONFIG_IO",
      `Cannot write the config file "${p.configPath}": ${why}. Fix that before signing in`,
      { cause },
    ));
  await checkWritable(p.cacheDir, (why, cause) =>
    new CacheError(
      "ERR_CACHE_IO",
      `Cannot write the login cache "${p.cacheDir}": ${why}. Fix that before signing in (or set ` +
        `AWS_LOGIN_CACHE_DIRECTORY)`,
      { cause },
    ));
}

/**
 * Whether the permission set allows a connection to the URL's host and port (what fetch asks for).
 *
 * @throws {PermissionError} When it does not.
 */
export async function checkNetAllowed(url: string): Promise<void> {
  const parsed = new URL(url);
  const port = parsed.port || (parsed.protocol === "https:" ? "443" : "80");
  const host = `${parsed.hostname}:${port}`;
  const { state } = await Deno.permissions.query({ name: "net", host });
  if (state !== "granted") throw netNotAllowed(host);
}

/**
 * Creates and removes an empty probe file in `dir`, or in its nearest existing ancestor when `dir`
 * does not exist yet (the writers create it). Only a real write tells: mode bits miss read-only
 * mounts, ACLs and root.
 */
async function checkWritable(
  dir: string,
  fail: (why: string, cause: unknown) => Error,
): Promise<void> {
  let existing = dir;
  for (;;) {
    try {
      await Deno.stat(existing);
      break;
    } catch (err) {
      const parent = dirname(existing);
      if (!(err instanceof Deno.errors.NotFound) || parent === existing) break;
      existing = parent;
    }
  }
  const probe = joinPath(existing, `.aws-login-probe-${crypto.randomUUID()}`);
  try {
    (await Deno.open(probe, { write: true, createNew: true, mode: 0o600 })).close();
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable) {
      throw new PermissionError(
        `aws-login's Deno permissions do not allow writing in "${existing}". ${PERMISSION_HINT}`,
        { cause: err },
      );
    }
    const why = err instanceof Deno.errors.PermissionDenied
      ? `"${existing}" is not writable (permission denied)`
      : err instanceof Deno.errors.NotADirectory
      ? `"${existing}" is not a directory`
      : `"${existing}" does not take a new file (${
        err instanceof Error ? err.message.replace(/\s+/g, " ") : err
      })`;
    throw fail(why, err);
  }
  await Deno.remove(probe).catch(() => {});
}

/**
 * The system resolver (getaddrinfo, through `node:dns`), which Deno allows per host name: the
 * Sign-In hosts are in the permission set, whereas `Deno.resolveDns` would need the name server's
 * address allowed, which no permission set can know.
 */
export async function systemHostLookup(host: string): Promise<boolean | undefined> {
  const { lookup } = await import("node:dns/promises");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), LOOKUP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      lookup(host).then(() => true, (err) => (err?.code === "ENOTFOUND" ? false : undefined)),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Refuses a region aws-login does not list whose default Sign-In host does not exist — a typo, which
 * would otherwise send the browser to a host that does not exist and wait minutes — suggesting the
 * closest region it knows. A region it does not list whose host exists is a new AWS region: fine.
 * Known regions are not looked up (no network is needed to start a login).
 *
 * @param base The region's default Sign-In base URL (not a custom endpoint).
 * @throws {ConfigError} `ERR_CONFIG_REGION` when the host does not exist, or when the permission
 *   set does not allow it (FIPS and dual-stack hosts are listed per known region).
 */
export async function checkRegionExists(
  region: string,
  base: string,
  lookup: HostLookup,
): Promise<void> {
  if (isKnownRegion(region)) return;
  const host = new URL(base).hostname;
  const { state } = await Deno.permissions.query({ name: "net", host });
  if (state !== "granted") {
    const refused = withSuggestion(
      `AWS region "${region}" is not one aws-login knows, and its Sign-In host "${host}" is ` +
        `not in the Deno permission set`,
      region,
      REGIONS,
    );
    throw new ConfigError(
      "ERR_CONFIG_REGION",
      `${refused}${refused.endsWith("?") ? "" : "."} If it is a new AWS region, add "${host}" ` +
        `to "net" in deno.json's "default" set`,
    );
  }
  if (await lookup(host) === false) {
    throw new ConfigError(
      "ERR_CONFIG_REGION",
      withSuggestion(
        `Unknown AWS region "${region}": its Sign-In host "${host}" does not exist`,
        region,
        REGIONS,
      ),
    );
  }
}

/**
 * Refuses a custom Sign-In endpoint that does not answer HTTP at all (nothing listening, a host that
 * does not resolve, no answer in time), naming it, before the browser is sent to a page that cannot
 * load. Any HTTP answer will do: this checks reachability, not the service. A `HEAD` of the
 * authorize path, which the browser opens next (an emulator counts no sign-in for it).
 *
 * @param source Where the endpoint came from (`--endpoint-url`, `AWS_ENDPOINT_URL_SIGNIN`, …).
 * @throws {NetworkError} `ERR_NETWORK` or `ERR_TIMEOUT` naming the endpoint and its source.
 * @throws {PermissionError} When the permission set does not allow the host.
 */
export async function checkEndpointAnswers(
  base: string,
  source: string,
  fetchFn: typeof fetch,
): Promise<void> {
  try {
    const reply = await fetchFn(`${base}/v1/authorize`, {
      method: "HEAD",
      redirect: "manual",
      signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
    });
    await reply.body?.cancel();
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable) {
      throw netNotAllowed(/"([^"]+)"/.exec(err.message)?.[1] ?? new URL(base).host, {
        cause: err,
      });
    }
    if (isPermissionFailure(err)) throw err;
    const name = err instanceof Error || err instanceof DOMException ? err.name : "";
    const timedOut = name === "TimeoutError" || name === "AbortError";
    const reason = timedOut ? `no answer within ${ANSWER_TIMEOUT_MS / 1000} s` : innermost(err);
    throw new NetworkError(
      timedOut ? "ERR_TIMEOUT" : "ERR_NETWORK",
      `The Sign-In endpoint "${base}" (from ${source}) does not answer (${
        reason || "the request failed"
      }), so the sign-in page cannot load. Check that it is running and that the URL is right, ` +
        `then run "aws-login login" again`,
      { cause: err },
    );
  }
}

/**
 * The reason at the bottom of a fetch failure: Deno wraps it ("fetch failed" ← "error sending
 * request …: client error (Connect): tcp connect error: Connection refused (os error 111)"), and the
 * last part of the innermost message is what happened.
 */
function innermost(err: unknown): string {
  let e = err;
  for (let depth = 0; e instanceof Error && e.cause instanceof Error && depth < 8; depth++) {
    e = e.cause;
  }
  const message = e instanceof Error ? e.message : String(e);
  return printable(message.split(": ").at(-1) ?? "", 200);
}
