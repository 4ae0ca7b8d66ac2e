/**
 * The version `aws-login --version` prints. It mirrors `version` in deno.json (a test keeps them
 * equal, and the release workflow checks the tag against deno.json): importing deno.json itself at
 * run time costs about 13 ms of start-up.
 *
 * @module
 */

/** The release version. */
export const VERSION = "0.1.0";
