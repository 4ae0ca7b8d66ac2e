/**
 * `aws-login login`: sign in through the browser, as `aws login` does, and store a refreshable
 * session for a profile (the token cache file and the profile's `login_session`). The flow itself
 * lives in `lib/login/login_flow.ts`; this module parses options and reports the result.
 *
 * @see docs/PROTOCOL.md §1–§8
 * @module
 */
import { intOption, parseArgs } from "../cli/args.ts";
import type { Deps } from "../cli/deps.ts";
import { EXIT } from "../errors.ts";
import {
  DEFAULT_TIMEOUT_SECONDS,
  login,
  type LoginOptions,
  type LoginResult,
} from "../login/login_flow.ts";

export const help = `Usage: aws-login login [--profile NAME] [--region REGION] [--remote]
                       [--endpoint-url URL] [--redirect-port N] [--no-browser] [--yes]
                       [--timeout SECONDS]

Sign in through the browser with your AWS Management Console identity (AWS Sign-In, OAuth 2.0 with
PKCE and DPoP) and store a session that refreshes itself for up to 12 hours: a token cache file
shared with the AWS CLI and SDKs (~/.aws/login/cache) and "login_session" in the profile.

By default the sign-in page opens in a browser on this device and returns to a listener on
127.0.0.1. With --remote, open the printed URL on any device and paste the code it shows.

Before the browser opens, a region aws-login does not know must have a Sign-In host that exists
(else it is refused with the closest known region), and a custom endpoint must answer.

Options:
  --profile NAME       Profile to sign in (default: AWS_PROFILE, AWS_DEFAULT_PROFILE, "default")
  --region REGION      Sign-In region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's
                       region; else asked on a terminal). A profile without a region gets
                       the one given here or asked for
  --remote             Sign in from another device: print the URL, then read the code it shows
  --endpoint-url URL   AWS Sign-In endpoint (default: AWS_ENDPOINT_URL_SIGNIN, AWS_ENDPOINT_URL,
                       the profile's endpoint_url, else the region's Sign-In endpoint)
  --redirect-port N    Port of the 127.0.0.1 callback listener (default: any free port; not
                       with --remote)
  --no-browser         Do not open a browser; print the URL to open by hand
  --yes                Replace the profile's other login session without asking
  --timeout SECONDS    How long to wait for the browser (default ${DEFAULT_TIMEOUT_SECONDS}; not with
                       --remote)
  --debug              Log what happens to stderr (secrets are never logged)
  -h, --help           Show this help

Environment: BROWSER (commands to open the URL, ":"-separated; %s stands for the URL),
AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_LOGIN_CACHE_DIRECTORY.
`;

/**
 * Parses the options of `login`.
 *
 * @throws {UsageError} On an unknown option, a bad port or timeout, or --remote with
 *   --redirect-port or --timeout (the callback listener's options).
 */
export function parse(argv: readonly string[]): LoginOptions {
  const args = parseArgs(argv, {
    boolean: ["remote", "no-browser", "yes"],
    string: ["profile", "region", "endpoint-url", "redirect-port", "timeout"],
    conflicts: [
      ["remote", "redirect-port", "--remote has no callback listener on this device"],
      ["remote", "timeout", "--remote waits for the code you paste, without a time limit"],
    ],
  });
  const v = args.values;
  const redirectPort = intOption("redirect-port", v["redirect-port"], { min: 1, max: 65535 });
  return {
    profile: v.profile,
    region: v.region,
    remote: args.flags.remote,
    endpointUrl: v["endpoint-url"],
    redirectPort,
    noBrowser: args.flags["no-browser"],
    yes: args.flags.yes,
    timeoutSeconds: intOption("timeout", v.timeout, { min: 1, max: 86_400 }) ??
      DEFAULT_TIMEOUT_SECONDS,
  };
}

/** Signs in and reports what was written and how to use it. */
export async function run(options: LoginOptions, deps: Deps): Promise<number> {
  const result = await login(options, deps);
  deps.stdout.write(report(result));
  return EXIT.ok;
}

/** The closing report: what changed, and how tools use the profile. */
export function report(result: LoginResult): string {
  const flag = result.profile === "default" ? "" : ` --profile ${result.profile}`;
  const lines = [
    `Updated profile ${result.profile} to use ${result.loginSession} credentials.`,
  ];
  if (result.regionSaved) {
    const from = result.regionFrom === "--region" ? " (from --region)" : "";
    lines.push(
      `Saved region ${result.region}${from} in profile ${result.profile}: tools use it, and the ` +
        `session is refreshed there.`,
    );
  }
  lines.push(
    `The credentials refresh themselves for up to 12 hours; then run "aws-login login${flag}" again.`,
    "",
    "To use them:",
  );
  const uses: [string, string][] = [
    [`aws sts get-caller-identity${flag}`, "AWS CLI 2.32+ and current SDKs"],
    // Assigned first: `eval "$(…)"` would return 0 when aws-login failed.
    [`creds=$(aws-login export-env${flag}) && eval "$creds"`, "any tool, in this shell"],
    // Always named: the profile holding this line is another one, which AWS_PROFILE may select.
    [
      `credential_process = aws-login credential-process --profile ${result.profile}`,
      "in a profile, for older tools",
    ],
  ];
  const width = Math.max(...uses.map(([command]) => command.length));
  for (const [command, what] of uses) lines.push(`  ${command.padEnd(width)}  # ${what}`);
  lines.push("");
  return lines.join("\n");
}
