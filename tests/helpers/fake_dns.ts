/**
 * DNS for a CLI run in a test (there is no internet here), loaded with `deno run --preload`: the
 * system resolver `login` asks (`node:dns` lookup) answers that exactly the host names listed in
 * FAKE_DNS_HOSTS (comma-separated) exist, and that no other name does (ENOTFOUND, as for NXDOMAIN).
 *
 * @module
 */
import dns from "node:dns";

const hosts = new Set((Deno.env.get("FAKE_DNS_HOSTS") ?? "").split(",").filter(Boolean));

dns.promises.lookup =
  ((host: string) =>
    hosts.has(host) ? Promise.resolve({ address: "192.0.2.1", family: 4 }) : Promise.reject(
      Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" }),
    )) as typeof dns.promises.lookup;
