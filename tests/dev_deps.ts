/**
 * The npm packages only tests and developer tools use: the official AWS SDK for JavaScript (the
 * independent client our cache, refresh and emulator are checked against) and a YAML parser for the
 * workflow checks. They are not in `deno.json`'s import map and not in `deno.lock`, because Deno
 * fetches every package of the lock file on a first run, and a newcomer's first `deno task login`
 * should fetch only what the product uses. Their resolution is pinned in `tests/deno.lock` instead:
 * whatever imports this module runs with `--lock=tests/deno.lock` (`deno task test`, `deno task
 * check`, `deno task demo` do). `tests/dependencies_test.ts` checks that the product's graph and lock
 * file stay free of them.
 *
 * @module
 */
export { fromLoginCredentials } from "npm:@aws-sdk/credential-provider-login@3.972.93";
export { GetCallerIdentityCommand, STSClient } from "npm:@aws-sdk/client-sts@3.1174.0";
export { defaultProvider } from "npm:@aws-sdk/credential-provider-node@3.972.98";
export { parse as parseYaml } from "npm:yaml@2.9.1";
export { fromIni } from "npm:@aws-sdk/credential-provider-ini@3.973.31";
