/**
 * The AWS Sign-In base URL for a profile and region: endpoint overrides (flag, environment,
 * profile), FIPS, dual-stack, and the partition default for the region. Its own module, apart from
 * the whole-file reading in profile.ts: a refresh needs only these rules, and loading that with
 * them cost a refresh about 1 ms.
 *
 * The region → partition mapping is the AWS partitions data (`partitions.json` as shipped in
 * `@aws-sdk/core` util-endpoints): each partition's `regionRegex` plus its `*-global` names, and
 * `aws` for anything else. The host names are the Sign-In endpoint rules of `@aws-sdk/nested-clients`
 * (signin), as run for every partition × FIPS × dual-stack.
 *
 * @see docs/PROTOCOL.md §2 (endpoints)
 * @module
 */
import { ConfigError } from "../errors.ts";
import type { EnvLike } from "./paths.ts";
import type { ProfileConfig } from "./profile_config.ts";

/** One AWS partition's names, from the AWS partitions data. */
export interface Partition {
  readonly id: string;
  readonly regionRegex: RegExp;
  readonly globalRegion: string;
  readonly dnsSuffix: string;
  readonly dualStackDnsSuffix: string;
  /** The default Sign-In host is `{region}.signin.{signinDomain}`. */
  readonly signinDomain: string;
}

/** From the AWS partitions data, in its order; `aws` is also the fallback. */
const PARTITIONS: readonly Partition[] = [
  p("aws", /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/, "amazonaws.com", "api.aws", "aws.amazon.com"),
  p("aws-cn", /^cn-\w+-\d+$/, "amazonaws.com.cn", "api.amazonwebservices.com.cn", "amazonaws.cn"),
  p(
    "aws-eusc",
    /^eusc-(de)-\w+-\d+$/,
    "amazonaws.eu",
    "api.amazonwebservices.eu",
    "amazonaws-eusc.eu",
  ),
  p("aws-iso", /^us-iso-\w+-\d+$/, "c2s.ic.gov", "api.aws.ic.gov", "c2shome.ic.gov"),
  p("aws-iso-b", /^us-isob-\w+-\d+$/, "sc2s.sgov.gov", "api.aws.scloud", "sc2shome.sgov.gov"),
  p(
    "aws-iso-e",
    /^eu-isoe-\w+-\d+$/,
    "cloud.adc-e.uk",
    "api.cloud-aws.adc-e.uk",
    "csphome.adc-e.uk",
  ),
  p("aws-iso-f", /^us-isof-\w+-\d+$/, "csp.hci.ic.gov", "api.aws.hci.ic.gov", "csphome.hci.ic.gov"),
  p("aws-us-gov", /^us-gov-\w+-\d+$/, "amazonaws.com", "api.aws", "amazonaws-us-gov.com"),
];

function p(
  id: string,
  regionRegex: RegExp,
  dnsSuffix: string,
  dualStackDnsSuffix: string,
  signinDomain: string,
): Partition {
  const globalRegion = id === "aws" ? "aws-global" : `${id}-global`;
  return { id, regionRegex, globalRegion, dnsSuffix, dualStackDnsSuffix, signinDomain };
}

/** The partition of a region (its `*-global` name included); `aws` for a region it does not know. */
export function partitionOf(region: string): Partition {
  return PARTITIONS.find((p) => p.globalRegion === region) ??
    PARTITIONS.find((p) => p.regionRegex.test(region)) ?? PARTITIONS[0]!;
}

/** A region is one lowercase DNS label (the partition patterns are lowercase). */
const REGION_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** What picks a Sign-In endpoint besides the environment: the flag, the region and the profile. */
export interface EndpointSettings {
  endpointUrl?: string;
  region: string;
  profile: ProfileConfig;
  fips?: boolean;
  dualStack?: boolean;
}

/**
 * The AWS Sign-In base URL (no trailing slash) for a profile and region: the first of
 * `--endpoint-url`, AWS_ENDPOINT_URL_SIGNIN, AWS_ENDPOINT_URL, the `signin` → `endpoint_url` of
 * the profile's `[services NAME]` section, the profile's `endpoint_url`; all but the flag are
 * skipped when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (else the profile's
 * `ignore_configured_endpoint_urls`) is true. Otherwise the partition's default for the region,
 * with FIPS (`fips`, else AWS_USE_FIPS_ENDPOINT, else `use_fips_endpoint`) and dual-stack
 * (`dualStack`, else AWS_USE_DUALSTACK_ENDPOINT, else `use_dualstack_endpoint`), which a custom
 * endpoint makes irrelevant, as in the AWS CLI. An override keeps its path prefix; the token URL
 * is this + `/v1/token`. Plain `http:` is accepted only for a loopback host (the emulator, a local
 * test server): anywhere else the code, the refresh token and the credentials would cross the
 * network in the clear.
 *
 * @throws {ConfigError} `ERR_CONFIG_ENDPOINT` for a malformed URL or flag value, `http:` to a host
 *   that is not loopback, or a `services` key naming a missing section; `ERR_CONFIG_REGION` for a
 *   missing or malformed region.
 * @see docs/PROTOCOL.md §2
 */
export function signinBaseUrl(env: EnvLike, p: EndpointSettings): string {
  return signinEndpoint(env, p).url;
}

/** The `CreateOAuth2Token` URL of a Sign-In base URL: `{base}/v1/token` (an override keeps its path). */
export function signinTokenUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/v1/token`;
}

/** A resolved Sign-In base URL, and where it came from when it is not the region's default. */
export interface SigninEndpoint {
  /** The base URL, no trailing slash. */
  readonly url: string;
  /** The setting that named a custom endpoint (`AWS_ENDPOINT_URL_SIGNIN`, …); absent: the default. */
  readonly source?: string;
}

/**
 * {@link signinBaseUrl}, with the setting a custom endpoint came from, so commands can say that a
 * non-default endpoint is in use.
 *
 * @throws {ConfigError} As {@link signinBaseUrl}.
 */
export function signinEndpoint(env: EnvLike, p: EndpointSettings): SigninEndpoint {
  const { keys, name } = p.profile;
  if (p.region) checkRegion(p.region);
  // A custom endpoint wins and FIPS/dual-stack are ignored, as in the AWS CLI (botocore passes
  // AWS::UseFIPS and AWS::UseDualStack as false when an endpoint URL is given).
  const custom = customEndpoint(env, p.endpointUrl, p.profile);
  if (custom !== undefined) return custom;
  const fips = p.fips ??
    flagSetting(env, "AWS_USE_FIPS_ENDPOINT", keys, "use_fips_endpoint", name);
  const dualStack = p.dualStack ??
    flagSetting(env, "AWS_USE_DUALSTACK_ENDPOINT", keys, "use_dualstack_endpoint", name);
  if (!p.region) {
    throw new ConfigError(
      "ERR_CONFIG_REGION",
      `No region is configured. Pass --region, set AWS_REGION, or set "region" in profile ` +
        `"${name}"`,
    );
  }
  return { url: partitionUrl(p.region, fips, dualStack) };
}

/** The Sign-In endpoint rules (IsOAuthEndpoint unset) for a valid region. */
function partitionUrl(r: string, fips: boolean, dualStack: boolean): string {
  const part = partitionOf(r);
  if (fips && dualStack) return `https://signin-fips.${r}.${part.dualStackDnsSuffix}`;
  if (fips) {
    if (part.id === "aws-us-gov") {
      return r === "us-gov-west-1"
        ? "https://signin-fips.amazonaws-us-gov.com"
        : `https://${r}.signin-fips.amazonaws-us-gov.com`;
    }
    return `https://signin-fips.${r}.${part.dnsSuffix}`;
  }
  if (dualStack) return `https://signin.${r}.${part.dualStackDnsSuffix}`;
  return `https://${r}.signin.${part.signinDomain}`;
}

function checkRegion(region: string): void {
  if (!REGION_RE.test(region)) {
    throw new ConfigError(
      "ERR_CONFIG_REGION",
      `Invalid region "${region}": a region is lowercase letters, digits and "-", like "us-east-1"`,
    );
  }
}

/** How a service's endpoint is named in the settings (its SDK service id, docs/PROTOCOL.md §2). */
interface ServiceNames {
  /** `AWS_ENDPOINT_URL_<ID>`. */
  readonly variable: string;
  /** The key of its block in a `[services NAME]` section. */
  readonly key: string;
}

const SIGNIN: ServiceNames = { variable: "AWS_ENDPOINT_URL_SIGNIN", key: "signin" };
const STS: ServiceNames = { variable: "AWS_ENDPOINT_URL_STS", key: "sts" };

/**
 * The AWS STS base URL (no trailing slash) for AssumeRole: the first of AWS_ENDPOINT_URL_STS,
 * AWS_ENDPOINT_URL, the `sts` → `endpoint_url` of the profile's `[services NAME]` section, the
 * profile's `endpoint_url` (all skipped when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, else
 * `ignore_configured_endpoint_urls`, is true); otherwise the regional endpoint as the AWS CLI v2
 * picks it (`sts_regional_endpoints = regional`): `https://sts.{region}.{dnsSuffix}`, FIPS
 * `sts-fips.…` (aws-us-gov's regular endpoints already are FIPS), dual-stack on the partition's
 * dual-stack suffix. The same URL checks as Sign-In's (plain `http:` only to a loopback host).
 *
 * @throws {ConfigError} As {@link signinBaseUrl}.
 * @see docs/PROTOCOL.md §16
 */
export function stsEndpoint(
  env: EnvLike,
  p: { region: string; profile: ProfileConfig },
): SigninEndpoint {
  const { keys, name } = p.profile;
  checkRegion(p.region);
  const custom = customEndpoint(env, undefined, p.profile, STS);
  if (custom !== undefined) return custom;
  const fips = flagSetting(env, "AWS_USE_FIPS_ENDPOINT", keys, "use_fips_endpoint", name);
  const dualStack = flagSetting(
    env,
    "AWS_USE_DUALSTACK_ENDPOINT",
    keys,
    "use_dualstack_endpoint",
    name,
  );
  const r = p.region;
  const part = partitionOf(r);
  const suffix = dualStack ? part.dualStackDnsSuffix : part.dnsSuffix;
  if (r === "aws-global" && !fips && !dualStack) return { url: "https://sts.amazonaws.com" };
  const host = fips && !(part.id === "aws-us-gov" && !dualStack) ? "sts-fips" : "sts";
  return { url: `https://${host}.${r}.${suffix}` };
}

function customEndpoint(
  env: EnvLike,
  flag: string | undefined,
  profile: ProfileConfig,
  service: ServiceNames = SIGNIN,
): { url: string; source: string } | undefined {
  if (flag) return checkUrl(flag, "--endpoint-url");
  const { keys, name } = profile;
  const ignore = flagSetting(
    env,
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    keys,
    "ignore_configured_endpoint_urls",
    name,
  );
  if (ignore) return undefined;
  for (const variable of [service.variable, "AWS_ENDPOINT_URL"]) {
    const value = env.get(variable);
    if (value) return checkUrl(value, variable);
  }
  if (keys.services) {
    if (profile.services === undefined) {
      throw new ConfigError(
        "ERR_CONFIG_ENDPOINT",
        `Profile "${name}" names the services section "${keys.services}", which does not exist. ` +
          `Add [services ${keys.services}] to the config file or remove "services" from the profile`,
      );
    }
    const url = profile.services.subKeys[service.key]?.endpoint_url;
    if (url) {
      return checkUrl(url, `"${service.key}" "endpoint_url" in [services ${keys.services}]`);
    }
  }
  if (keys.endpoint_url) return checkUrl(keys.endpoint_url, `"endpoint_url" in profile "${name}"`);
  return undefined;
}

function checkUrl(value: string, source: string): { url: string; source: string } {
  const text = value.trim();
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (
    url === undefined || (url.protocol !== "https:" && url.protocol !== "http:") ||
    url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== ""
  ) {
    throw new ConfigError(
      "ERR_CONFIG_ENDPOINT",
      `Invalid endpoint URL "${text}" in ${source}: use http:// or https:// with a host and ` +
        `an optional path, no query`,
    );
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    throw new ConfigError(
      "ERR_CONFIG_ENDPOINT",
      `Refusing the endpoint URL "${text}" in ${source}: plain http:// would send the sign-in ` +
        `code, the refresh token and the credentials unencrypted. Use https://, or http:// only ` +
        `to a loopback host (127.0.0.1, localhost, [::1])`,
    );
  }
  if (isLoopbackHost(url.hostname) && !PERMITTED_LOOPBACK.includes(url.hostname)) {
    // The permission set (deno.json) names these three; another 127.x address would fail later
    // with a bare Deno permission error, after the browser opened.
    throw new ConfigError(
      "ERR_CONFIG_ENDPOINT",
      `Refusing the endpoint URL "${text}" in ${source}: aws-login may connect to this machine ` +
        `only as ${PERMITTED_LOOPBACK.join(", ")} (its Deno permission set). Use one of those`,
    );
  }
  // The parsed form, not the text: the URL parser drops tabs and line breaks and encodes the rest.
  return { url: `${url.protocol}//${url.host}${url.pathname}`.replace(/\/+$/, ""), source };
}

/**
 * The loopback hosts the "default" permission set allows (tools/net_allowlist.ts writes them to
 * deno.json), so the only ones an endpoint URL may name.
 */
export const PERMITTED_LOOPBACK: readonly string[] = ["127.0.0.1", "localhost", "[::1]"];

/** 127.0.0.0/8, `localhost` and `[::1]`: hosts that never leave this machine. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** A boolean setting: the variable when set, else the profile key, else false. */
function flagSetting(
  env: EnvLike,
  variable: string,
  keys: Readonly<Record<string, string>>,
  key: string,
  profile: string,
): boolean {
  const fromEnv = env.get(variable);
  const [value, source] = fromEnv
    ? [fromEnv, variable]
    : [Object.hasOwn(keys, key) ? keys[key] : undefined, `"${key}" in profile "${profile}"`];
  if (!value) return false;
  const lower = value.trim().toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  throw new ConfigError(
    "ERR_CONFIG_ENDPOINT",
    `${source} must be "true" or "false", not "${value}"`,
  );
}
