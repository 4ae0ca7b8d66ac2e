/**
 * The URLs of a console sign-in by federation (`aws-login console`), per partition: the console
 * destination (a full console URL on the partition's console host, or a service name mapped to its
 * console page), the federation endpoint that issues and takes the sign-in token, and the
 * console's logout that runs first. Pure rules, checked before any network call.
 *
 * @see docs/PROTOCOL.md §17
 * @module
 */
import { UsageError } from "../errors.ts";
import { partitionOf } from "./endpoints.ts";

/** A partition's console and sign-in hosts (the partitions with a documented federation host). */
interface ConsoleHosts {
  /** The console host; in `aws` the region leads it: `{region}.console.aws.amazon.com`. */
  readonly console: string;
  readonly regionalConsole: boolean;
  /** The federation endpoint's host, `{region}` standing for the region. */
  readonly signin: string;
  /** Where the console's logout is known to redirect afterwards (undefined: no logout step). */
  readonly logoutHost?: string;
}

const HOSTS: Record<string, ConsoleHosts> = {
  aws: {
    console: "console.aws.amazon.com",
    regionalConsole: true,
    signin: "{region}.signin.aws.amazon.com",
    // The console's logout follows redirect_uri only on us-east-1's sign-in host (aws-vault,
    // Janus and others found this); the token must then come from that host too.
    logoutHost: "us-east-1.signin.aws.amazon.com",
  },
  "aws-us-gov": {
    console: "console.amazonaws-us-gov.com",
    regionalConsole: false,
    signin: "signin.amazonaws-us-gov.com",
  },
  "aws-cn": {
    console: "console.amazonaws.cn",
    regionalConsole: false,
    signin: "signin.amazonaws.cn",
  },
};

/** A service name of `--destination`: lowercase letters, digits and dashes. */
const SERVICE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The hosts of the partition of `region`; refuses a partition without console federation. */
function hostsOf(region: string): { partition: string; hosts: ConsoleHosts } {
  const partition = partitionOf(region).id;
  const hosts = HOSTS[partition];
  if (hosts === undefined) {
    throw new UsageError(
      `The region "${region}" is in partition "${partition}", where aws-login knows no console ` +
        `sign-in by federation (it knows aws, aws-us-gov and aws-cn)`,
    );
  }
  return { partition, hosts };
}

/** The partition of a region (for comparing with the identity's). */
export function consolePartition(region: string): string {
  return hostsOf(region).partition;
}

/**
 * The console URL to land on.
 *
 * @param destination `--destination`: a full `https://` URL on the partition's console host
 *   (`console.aws.amazon.com` or `<region>.console.aws.amazon.com`, `console.amazonaws-us-gov.com`,
 *   `console.amazonaws.cn`), or a service name (`s3`, `cloudwatch`) mapped to its console page in
 *   the region; undefined: the console home of the region.
 * @param region The destination's region.
 * @throws {UsageError} For anything else (another host, http:, user info, a port, a service name
 *   with other characters), or a partition without console federation.
 */
export function consoleDestination(destination: string | undefined, region: string): string {
  const { partition, hosts } = hostsOf(region);
  const base = hosts.regionalConsole
    ? `https://${region === "aws-global" ? "us-east-1" : region}.${hosts.console}`
    : `https://${hosts.console}`;
  const page = (service: string) => `${base}/${service}/home?region=${encodeURIComponent(region)}`;
  if (destination === undefined) return page("console");
  if (SERVICE.test(destination)) return page(destination);
  const url = URL.parse(destination);
  const host = url?.hostname ?? "";
  const onConsole = host === hosts.console ||
    (host.endsWith(`.${hosts.console}`) &&
      /^[a-z0-9][a-z0-9-]*$/.test(host.slice(0, -hosts.console.length - 1)));
  if (
    url === null || url.protocol !== "https:" || url.username !== "" || url.password !== "" ||
    url.port !== "" || !onConsole
  ) {
    throw new UsageError(
      `--destination "${destination}" is neither a service name (lowercase letters, digits and ` +
        `"-", like "s3") nor an https:// URL on the ${partition} console (${
          hosts.regionalConsole ? `${hosts.console} or <region>.${hosts.console}` : hosts.console
        })`,
    );
  }
  return url.href;
}

/** Where the federation calls go, and whether the console's logout runs first. */
export interface FederationTarget {
  /** `https://…/federation`: getSigninToken and the login URL. */
  readonly federationUrl: string;
  /** `https://…/oauth`: the console's logout, when it runs first; undefined: no logout step. */
  readonly logoutUrl?: string;
}

/**
 * The federation endpoint for the region: the partition's sign-in host — never a FIPS or
 * dual-stack API host, which do not serve federation — or `{custom}/federation` for a custom
 * Sign-In endpoint (the emulator). With `logout`, the console's logout on the same host runs first
 * where it is known to redirect onwards (in `aws`, us-east-1's host for both calls; no logout step
 * in aws-us-gov and aws-cn).
 *
 * @param custom A custom Sign-In base URL (AWS_ENDPOINT_URL_SIGNIN, …), no trailing slash.
 */
export function federationTarget(
  region: string,
  p: { custom?: string; logout: boolean },
): FederationTarget {
  if (p.custom !== undefined) {
    return {
      federationUrl: `${p.custom}/federation`,
      ...(p.logout ? { logoutUrl: `${p.custom}/oauth` } : {}),
    };
  }
  const { hosts } = hostsOf(region);
  if (p.logout && hosts.logoutHost !== undefined) {
    return {
      federationUrl: `https://${hosts.logoutHost}/federation`,
      logoutUrl: `https://${hosts.logoutHost}/oauth`,
    };
  }
  const signinRegion = region === "aws-global" ? "us-east-1" : region;
  return { federationUrl: `https://${hosts.signin.replace("{region}", signinRegion)}/federation` };
}

/** The host of every region's federation endpoint, for the permission set (tools/net_allowlist.ts). */
export function federationHosts(region: string): string[] {
  const partition = partitionOf(region).id;
  if (HOSTS[partition] === undefined) return [];
  return [false, true].map((logout) =>
    new URL(federationTarget(region, { logout }).federationUrl).hostname
  );
}
