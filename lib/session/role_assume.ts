/**
 * The role resolver's AssumeRole side, loaded by role_credentials.ts only when a hop's cached
 * credentials are not fresh (and by the console, which assumes afresh): the AssumeRole under the
 * cache entry's lock with the same locked sequence as a login refresh (locked_refresh.ts), its
 * source credentials resolved only then — a chained role re-assumes its parent only when the
 * parent's cached credentials are not fresh, and the login session at the bottom is refreshed only
 * when needed — the STS region, endpoint and partition checks, the MFA prompt, and the cache's
 * write. The STS client (`lib/sts/`) loads only when the AssumeRole is made.
 *
 * @see docs/PROTOCOL.md §16
 * @module
 */
import { ConfigError, StsError } from "../errors.ts";
import { type ProfileFiles, readProfileFiles, resolveRegion } from "../aws/profile_reader.ts";
import type { ProfileConfig } from "../aws/profile_config.ts";
import { type CredentialDeps, resolveLoginCredentials } from "./credentials.ts";
import type { ResolvedCredentials } from "./credential_types.ts";
import { type AssumedRole, writeRoleCacheEntry } from "./role_cache.ts";
import {
  checkLoginExists,
  defaultSessionName,
  type HopCredentials,
  isFresh,
  readRoleCacheEntry,
  resolveHop,
  roleArnPartition,
  type RoleCacheEntry,
  type RoleContext,
  roleContext,
  type RoleHop,
  type RoleResolveOptions,
} from "./role_credentials.ts";
import { refreshUnderLock } from "./locked_refresh.ts";

/**
 * Hop `index` assumed again under its cache entry's lock (unless another process did meanwhile),
 * after its settings are checked and its MFA code asked for.
 *
 * @param path The hop's cache entry.
 * @param first What the entry held when it was read (undefined: none, or damaged).
 */
export async function refreshHop(
  ctx: RoleContext,
  index: number,
  force: boolean,
  path: string,
  first: RoleCacheEntry | undefined,
): Promise<{ value: HopCredentials; refreshed: boolean; path: string }> {
  const hop = ctx.chain.hops[index]!;
  const { deps } = ctx;
  const read = () => readRoleCacheEntry(path);
  // Settings are checked before the lock and before any network call.
  await stsTarget(ctx, hop);
  // Asked before the lock: concurrent callers then wait on the lock, not on a person.
  const tokenCode = hop.mfaSerial === undefined ? undefined : await askMfa(ctx, hop);
  const outcome = await refreshUnderLock<RoleCacheEntry | undefined>(first, {
    path,
    now: deps.now,
    debug: deps.debug,
    force,
    strict: ctx.options.strict,
    lockTimeoutMs: ctx.options.lockTimeoutMs,
    read,
    isFresh,
    refreshedSince: (before, latest) =>
      latest !== undefined && latest.accessKeyId !== before?.accessKeyId,
    expiresAtMs: (entry) => entry?.expiresAtMs ?? 0,
    fetch: () => assume(ctx, index, hop, tokenCode),
    write: (next) => writeRoleCacheEntry(path, next as AssumedRole),
    warnStale: (current, reason) => {
      const minutes = Math.max(0, Math.floor(((current?.expiresAtMs ?? 0) - deps.now()) / 60_000));
      deps.stderr.write(
        `aws-login: warning: cannot assume role "${hop.roleArn}" for profile "${hop.profile}" ` +
          `again (${reason}); using the cached credentials, which expire in ${minutes} min\n`,
      );
    },
    writeFailed: (_, err) => {
      const why = err instanceof Error ? err.message : String(err);
      deps.stderr.write(
        `aws-login: warning: the role cache could not be updated (${why}); using the new ` +
          `credentials of profile "${hop.profile}" all the same\n`,
      );
    },
  });
  const value = outcome.value!;
  if (!outcome.refreshed) checkLoginExists(ctx);
  return { value, refreshed: outcome.refreshed, path };
}

/** The source credentials of hop `index`, and the AssumeRole with them. */
async function assume(
  ctx: RoleContext,
  index: number,
  hop: RoleHop,
  tokenCode: string | undefined,
): Promise<AssumedRole> {
  const { deps, options, chain, session } = ctx;
  const sts = await stsTarget(ctx, hop);
  let source: HopCredentials;
  let sourceArn: string;
  if (index + 1 < chain.hops.length) {
    source = (await resolveHop(ctx, index + 1, false)).value;
    sourceArn = source.assumedRoleArn ?? chain.hops[index + 1]!.roleArn;
  } else {
    const login = await resolveLoginCredentials(session, deps, {
      ...options,
      forceRefresh: false,
      strict: false,
    });
    source = { ...login, assumedRoleArn: undefined };
    sourceArn = session.loginSession;
  }
  const roleSessionName = hop.roleSessionName ??
    defaultSessionName(session.loginSession, deps.now());
  // A variable specifier: Deno reads the STS client only when an AssumeRole is due.
  const stsModule = "../sts/assume_role.ts";
  const { assumeRole }: typeof import("../sts/assume_role.ts") = await import(stsModule);
  deps.debug(
    `assuming role "${hop.roleArn}" for profile "${hop.profile}" as "${roleSessionName}" at ` +
      `${sts.endpoint} (${sts.region})`,
  );
  const result = await assumeRole({
    endpoint: sts.endpoint,
    region: sts.region,
    credentials: source,
    roleArn: hop.roleArn,
    roleSessionName,
    durationSeconds: hop.durationSeconds,
    externalId: hop.externalId,
    serialNumber: hop.mfaSerial,
    tokenCode,
    profile: hop.profile,
    loginProfile: session.profile,
    sourceArn,
    fetch: deps.fetch,
    now: deps.now,
    sleep: options.sleep,
    debug: deps.debug,
    maxAttempts: options.maxAttempts,
    timeoutMs: options.requestTimeoutMs,
    maxDelayMs: options.maxRetryDelayMs,
  });
  return result;
}

/**
 * The STS region and endpoint of every hop: `--region`/AWS_REGION/AWS_DEFAULT_REGION, else the
 * requested profile's `region`, else us-east-1; the requested profile's endpoint settings. Checks
 * that the role's partition is the region's and that the permission set reaches the endpoint.
 */
async function stsTarget(
  ctx: RoleContext,
  hop: RoleHop,
): Promise<{ region: string; endpoint: string }> {
  const { deps, chain } = ctx;
  const endpointsModule = "../aws/endpoints.ts";
  const { partitionOf, stsEndpoint }: typeof import("../aws/endpoints.ts") = await import(
    endpointsModule
  );
  if (ctx.sts === undefined) {
    let region = resolveRegion(deps.env, undefined, chain.requested.keys);
    if (region === undefined) {
      region = "us-east-1";
      deps.debug(`no region is configured for profile "${chain.requested.name}"; STS in us-east-1`);
    }
    const endpoint = stsEndpoint(deps.env, { region, profile: chain.requested });
    if (endpoint.source !== undefined) checkNetAllowed(endpoint.url, endpoint.source);
    else await checkRegionReached(region, endpoint.url);
    ctx.sts = { region, endpoint: endpoint.url };
  }
  const partition = roleArnPartition(hop.roleArn);
  const regionPartition = partitionOf(ctx.sts.region).id;
  if (partition !== regionPartition) {
    throw new ConfigError(
      "ERR_CONFIG_PROFILE",
      `Profile "${hop.profile}" has role_arn "${hop.roleArn}" in partition "${partition}", but ` +
        `the region "${ctx.sts.region}" is in partition "${regionPartition}": set "region" in ` +
        `profile "${chain.requested.name}" to a region of the role's partition`,
    );
  }
  return ctx.sts;
}

/**
 * Refuses, before any network call, a region aws-login does not list whose default STS host the
 * permission set does not reach: most likely a typo (`eu-wst-1`), which gets the closest known
 * region, rather than only a hint to add a host that does not exist to deno.json. A new AWS region
 * is told how to add its host (STS hosts are listed per region: no wildcard can cover them).
 */
async function checkRegionReached(region: string, url: string): Promise<void> {
  const host = `${new URL(url).hostname}:443`;
  try {
    if (Deno.permissions.querySync({ name: "net", host }).state === "granted") return;
  } catch {
    return;
  }
  const regionsModule = "../aws/regions.ts", suggestModule = "../cli/suggest.ts";
  const { isKnownRegion, REGIONS }: typeof import("../aws/regions.ts") = await import(
    regionsModule
  );
  if (isKnownRegion(region)) return; // the set lists it: whatever refused it says so on use
  const { withSuggestion }: typeof import("../cli/suggest.ts") = await import(suggestModule);
  const refused = withSuggestion(
    `AWS region "${region}" is not one aws-login knows, and its STS host "${host}" is not in ` +
      `the Deno permission set`,
    region,
    REGIONS,
  );
  throw new ConfigError(
    "ERR_CONFIG_REGION",
    `${refused}${refused.endsWith("?") ? "" : "."} If it is a new AWS region, add "${host}" to ` +
      `"net" in deno.json's "default" set`,
  );
}

/** Refuses a custom STS endpoint the permission set cannot reach, naming it. */
function checkNetAllowed(url: string, source: string): void {
  const parsed = new URL(url);
  const port = parsed.port || (parsed.protocol === "https:" ? "443" : "80");
  const host = `${parsed.hostname}:${port}`;
  let state: Deno.PermissionState;
  try {
    state = Deno.permissions.querySync({ name: "net", host }).state;
  } catch {
    return;
  }
  if (state === "granted") return;
  throw new ConfigError(
    "ERR_CONFIG_ENDPOINT",
    `The STS endpoint "${url}" (from ${source}) is a host aws-login's permission set does not ` +
      `reach ("${host}"). From a checkout, add it to "net" in deno.json's "default" permission ` +
      `set; or remove ${source}`,
  );
}

/** Asks for the MFA code of a hop, checking its shape before anything is sent. */
async function askMfa(ctx: RoleContext, hop: RoleHop): Promise<string> {
  const prompt = ctx.options.mfaPrompt ?? (async (serial: string, profile: string) => {
    const promptModule = "./mfa_prompt.ts";
    const { ttyMfaPrompt }: typeof import("./mfa_prompt.ts") = await import(promptModule);
    return await ttyMfaPrompt(serial, profile, ctx.chain.requested.name);
  });
  const code = (await prompt(hop.mfaSerial!, hop.profile)).trim();
  if (!/^\d{6}$/.test(code)) {
    throw new StsError(
      "ERR_STS_MFA",
      `The MFA code for "${hop.mfaSerial}" must be six digits; nothing was sent to AWS STS`,
    );
  }
  return code;
}

/**
 * The requested role assumed afresh, for the console (`aws-login console`): the chain resolved and
 * its source credentials found as `resolveRoleCredentials` (role_credentials.ts) does (a chained role's parent from
 * the role cache, or assumed), but the requested role assumed once more *without*
 * `DurationSeconds` — the federation endpoint refuses credentials of an AssumeRole made with it by
 * temporary credentials (docs/PROTOCOL.md §17) — and neither read from nor written to the role
 * cache, whose entry may carry a duration and have minutes left.
 *
 * @throws As `resolveRoleCredentials`.
 */
export async function assumeRoleAfresh(
  requested: ProfileConfig,
  deps: CredentialDeps,
  options: RoleResolveOptions = {},
  files: ProfileFiles = readProfileFiles(deps.env),
): Promise<ResolvedCredentials> {
  const ctx = await roleContext(requested, deps, options, files);
  const { chain, session, loginPath } = ctx;
  const { durationSeconds: _, ...hop } = chain.hops[0]!;
  await stsTarget(ctx, hop);
  const tokenCode = hop.mfaSerial === undefined ? undefined : await askMfa(ctx, hop);
  const value = await assume(ctx, 0, hop, tokenCode);
  return {
    profile: requested.name,
    region: resolveRegion(deps.env, undefined, requested.keys),
    refreshed: true,
    login: { profile: session.profile, loginSession: session.loginSession, cachePath: loginPath },
    role: {
      roleArn: hop.roleArn,
      assumedRoleArn: value.assumedRoleArn,
      cachePath: "",
      chain: chain.names,
    },
    accessKeyId: value.accessKeyId,
    secretAccessKey: value.secretAccessKey,
    sessionToken: value.sessionToken,
    accountId: value.accountId,
    expiresAtMs: value.expiresAtMs,
  };
}
