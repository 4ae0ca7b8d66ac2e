/**
 * The `net` allow-list of deno.json's "default" permission set: loopback (the callback listener, the
 * emulator, a local endpoint: the three names endpoints.ts accepts), every AWS Sign-In host the endpoint rules of `lib/aws/endpoints.ts` can resolve for a
 * known region (default, FIPS, dual-stack, both), each region's STS endpoint, and the console's
 * federation host of each region (lib/aws/console_urls.ts: `aws-login console`). A host whose first
 * label is the region becomes one `*.` entry for its Sign-In domain (`*.signin.aws.amazon.com`);
 * Deno accepts a wildcard only as the first label, so the rest are listed one by one.
 *
 * `deno run -A tools/net_allowlist.ts --write` rewrites deno.json; tests/permissions_test.ts fails
 * when deno.json and this list differ (a new region: add it to lib/aws/regions.ts, then run this).
 *
 * @module
 */
import { PERMITTED_LOOPBACK, signinBaseUrl, stsEndpoint } from "../lib/aws/endpoints.ts";
import type { ProfileConfig } from "../lib/aws/profile_config.ts";
import { REGIONS } from "../lib/aws/regions.ts";
import { federationHosts } from "../lib/aws/console_urls.ts";

/** The Sign-In hosts of a region: default, FIPS, dual-stack, FIPS + dual-stack. */
export function signinHosts(region: string): string[] {
  const profile: ProfileConfig = { name: "allowlist", exists: true, keys: {} };
  const none = { get: () => undefined };
  return [[false, false], [true, false], [false, true], [true, true]].map(([fips, dualStack]) =>
    new URL(signinBaseUrl(none, { region, profile, fips, dualStack })).hostname
  );
}

/**
 * The STS hosts of a region (AssumeRole for role profiles): default, FIPS, dual-stack, FIPS +
 * dual-stack. The region sits in the middle of these names, so no wildcard can cover them without
 * covering every `*.amazonaws.com` host (S3 buckets anyone can name): each is listed.
 */
export function stsHosts(region: string): string[] {
  const profile: ProfileConfig = { name: "allowlist", exists: true, keys: {} };
  return [[false, false], [true, false], [false, true], [true, true]].map(([fips, dualStack]) => {
    const vars: Record<string, string> = {
      AWS_USE_FIPS_ENDPOINT: String(fips),
      AWS_USE_DUALSTACK_ENDPOINT: String(dualStack),
    };
    return new URL(stsEndpoint({ get: (k) => vars[k] }, { region, profile }).url).hostname;
  });
}

/** The allow-list: loopback, Sign-In (wildcards where the region leads), STS; sorted, unique. */
export function netAllowlist(): string[] {
  const hosts = new Set<string>();
  for (const region of REGIONS) {
    for (const host of signinHosts(region)) {
      hosts.add(host.startsWith(`${region}.`) ? `*.${host.slice(region.length + 1)}` : host);
    }
    for (const host of stsHosts(region)) hosts.add(host);
    for (const host of federationHosts(region)) {
      hosts.add(host.startsWith(`${region}.`) ? `*.${host.slice(region.length + 1)}` : host);
    }
  }
  // A host a wildcard entry already covers (us-east-1's federation host, asked for by others).
  const covered = (h: string) =>
    !h.startsWith("*.") && hosts.has(`*.${h.slice(h.indexOf(".") + 1)}`);
  return [...PERMITTED_LOOPBACK, ...[...hosts].filter((h) => !covered(h)).sort()];
}

if (import.meta.main) {
  const list = netAllowlist();
  if (Deno.args.includes("--write")) {
    // Replace the array's text only, so the rest of deno.json keeps its layout.
    const path = new URL("../deno.json", import.meta.url);
    const text = await Deno.readTextFile(path);
    const indent = "        ";
    const array = `[\n${list.map((h) => `${indent}${JSON.stringify(h)}`).join(",\n")}\n      ]`;
    // Strings may hold "]" ("[::1]"): the array ends at the first "]" outside a string.
    const next = text.replace(/"net": \[(?:[^\]"]|"[^"]*")*\]/, `"net": ${array}`);
    if (next === text) throw new Error('Cannot find "net": [...] in deno.json');
    await Deno.writeTextFile(path, next);
  } else {
    console.log(JSON.stringify(list, null, 2));
  }
}
