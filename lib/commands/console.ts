/**
 * `aws-login console`: open the AWS Management Console as a profile — a role profile (the role
 * assumed afresh, without DurationSeconds, over the chain's source credentials) or a login profile
 * (the session's own credentials) — through AWS's federation endpoint: a sign-in token for the
 * credentials, then the login URL, opened through a one-time 127.0.0.1 link (so the token never
 * appears on a command line) or printed with `--print`.
 *
 * @see docs/PROTOCOL.md §17
 * @module
 */
import { intOption, parseArgs } from "../cli/args.ts";
import type { Deps } from "../cli/deps.ts";
import { EXIT, LoginError, SigninError, UsageError } from "../errors.ts";
import { profileName, readProfileFiles, resolveRegion } from "../aws/profile_reader.ts";
import { signinEndpoint } from "../aws/endpoints.ts";
import { consoleDestination, consolePartition, federationTarget } from "../aws/console_urls.ts";
import { federationLoginUrl, getSigninToken, logoutThen } from "../signin/federation.ts";
import { isRoleProfile, resolveProfileCredentials } from "../session/profile_credentials.ts";
import type { ResolvedCredentials } from "../session/credential_types.ts";
import { type LinkOpened, linkReusedError, startConsoleLink } from "../login/console_link.ts";

export const help =
  `Usage: aws-login console [--profile NAME] [--destination URL|SERVICE] [--region REGION]
                         [--print] [--duration SECONDS] [--no-logout]

Open the AWS Management Console in the browser as a profile: a role profile (role_arn +
source_profile) signs in as the role — assumed afresh for the console — and a login profile as
the login session itself. aws-login gets a console sign-in token from AWS's federation endpoint
with the profile's credentials and starts the browser at a one-time link on 127.0.0.1 that
forwards to the console, so the token never appears on a command line.

A browser already signed in to the console is sent through the console's logout first (where AWS
allows it: the aws partition), so the new sign-in is not refused; --no-logout skips that (for a
browser with the console's multi-session enabled, where both sessions can stay).

Options:
  --profile NAME          Profile to sign in as (default: AWS_PROFILE, AWS_DEFAULT_PROFILE,
                          "default")
  --destination URL|SERVICE
                          Where to land: an https:// URL on the partition's console host
                          (console.aws.amazon.com, <region>.console.aws.amazon.com,
                          console.amazonaws-us-gov.com, console.amazonaws.cn), or a service name
                          (lowercase letters, digits, "-": s3, ec2, cloudwatch) for its console
                          page in the region (default: the console home)
  --region REGION         The destination's region (default: AWS_REGION, AWS_DEFAULT_REGION, the
                          profile's region, else us-east-1)
  --print                 Print the sign-in URL instead of opening a browser (another browser
                          profile, a container). It is a secret: anyone who opens it within 15
                          minutes is signed in as the profile
  --duration SECONDS      How long the console session lasts, 900 to 43200 (default: AWS's).
                          Not for a role reached through another role (role chaining): its
                          console session lasts what the role session has left
  --no-logout             Do not go through the console's logout first
  --debug                 Log what happens to stderr (secrets are never logged)
  -h, --help              Show this help

Environment: BROWSER (commands to open the URL, ":"-separated; %s stands for the URL),
AWS_ENDPOINT_URL_SIGNIN (a custom Sign-In endpoint, e.g. the emulator: its /federation is used),
AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE.
`;

export interface ConsoleOptions {
  readonly profile?: string;
  readonly destination?: string;
  readonly region?: string;
  readonly print: boolean;
  readonly duration?: number;
  readonly logout: boolean;
}

export function parse(argv: readonly string[]): ConsoleOptions {
  const { flags, values } = parseArgs(argv, {
    boolean: ["print", "no-logout"],
    string: ["profile", "destination", "region", "duration"],
  });
  return {
    profile: values.profile,
    destination: values.destination,
    region: values.region,
    print: flags.print,
    duration: intOption("duration", values.duration, { min: 900, max: 43_200 }),
    logout: !flags["no-logout"],
  };
}

/** How long the browser may take to open the link. */
const OPEN_TIMEOUT_MS = 5 * 60_000;
/**
 * How long the link still listens after its first use, to see a second opener — only where the
 * first opener's owner could not be checked (on Linux it is: no wait).
 */
const REUSE_WINDOW_MS = 1_500;

const ASSUMED_ROLE = /^arn:[^:]+:sts::\d{12}:assumed-role\//;

export async function run(options: ConsoleOptions, deps: Deps): Promise<number> {
  // Everything the command line and the profile decide is checked before any network call.
  const files = readProfileFiles(deps.env);
  const config = files.profile(profileName(deps.env, options.profile));
  const region = resolveRegion(deps.env, options.region, config.keys) ?? "us-east-1";
  const destination = consoleDestination(options.destination, region);
  const identityArn = isRoleProfile(config.keys)
    ? config.keys.role_arn?.trim()
    : config.keys.login_session?.trim();
  const identityPartition = /^arn:([^:]+):/.exec(identityArn ?? "")?.[1];
  const partition = consolePartition(region);
  if (identityPartition !== undefined && identityPartition !== partition) {
    throw new UsageError(
      `Profile "${config.name}" is in partition "${identityPartition}", but the region ` +
        `"${region}" is in "${partition}": pass --region with a region of "${identityPartition}"`,
    );
  }
  const endpoint = signinEndpoint(deps.env, { region, profile: config });
  const target = federationTarget(region, {
    custom: endpoint.source !== undefined ? endpoint.url : undefined,
    logout: options.logout,
  });
  if (endpoint.source !== undefined) {
    deps.debug(`custom Sign-In endpoint from ${endpoint.source}: ${target.federationUrl}`);
  }

  const role = isRoleProfile(config.keys);
  let creds: ResolvedCredentials;
  if (role) {
    // A variable specifier: the role resolver and STS load only for a role profile.
    const roles = "../session/role_assume.ts";
    const { assumeRoleAfresh }: typeof import("../session/role_assume.ts") = await import(
      roles
    );
    creds = await assumeRoleAfresh(config, deps, { profile: config.name }, files);
  } else {
    creds = await resolveProfileCredentials(deps, { profile: config.name });
  }
  const identity = creds.role?.assumedRoleArn || creds.login.loginSession;
  // A role assumed by a role session (another role, or a login identity that is one) is chained.
  const chained = creds.role !== undefined &&
    (creds.role.chain.length > 2 || ASSUMED_ROLE.test(creds.login.loginSession));
  if (chained && options.duration !== undefined) {
    const minutes = Math.max(0, Math.floor((creds.expiresAtMs - deps.now()) / 60_000));
    deps.stderr.write(
      `aws-login: --duration is not used: "${config.name}" is a role reached through another ` +
        `role session (role chaining), where AWS takes no console session length; the console ` +
        `session lasts what the role session has left (about ${minutes} min)\n`,
    );
  }
  const sessionDuration = chained ? undefined : options.duration;

  let token: string;
  try {
    token = await getSigninToken({
      federationUrl: target.federationUrl,
      credentials: creds,
      sessionDuration,
      fetch: deps.fetch,
      debug: deps.debug,
    });
  } catch (err) {
    throw explainRefusal(err, config.name, role, creds);
  }
  const login = federationLoginUrl(target.federationUrl, token, destination);
  const url = target.logoutUrl === undefined ? login : logoutThen(target.logoutUrl, login);

  if (options.print) {
    deps.stdout.write(`${url}\n`);
    deps.stderr.write(
      `aws-login: the URL above signs in to the AWS console as ${identity} for anyone who opens ` +
        `it within 15 minutes: treat it as a secret (no chats, tickets or shell history)\n`,
    );
    return EXIT.ok;
  }
  return await openThroughLink(url, identity, destination, deps);
}

/** Starts the browser at the one-time link and waits until it has been opened. */
async function openThroughLink(
  url: string,
  identity: string,
  destination: string,
  deps: Deps,
): Promise<number> {
  await using link = startConsoleLink({
    target: url,
    log: (line) => deps.debug(line),
    refused: (message) => deps.stderr.write(`aws-login: ${message}\n`),
  });
  try {
    await deps.openBrowser(link.startUrl);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    // The link itself is no secret once used: printing it is safe (a second opener is refused).
    deps.stderr.write(`aws-login: ${why} Open this link in your browser: ${link.startUrl}\n`);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  let by: LinkOpened;
  try {
    by = await Promise.race([
      link.opened,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() =>
          reject(
            new LoginError(
              "ERR_LOGIN_TIMEOUT",
              `The browser did not open the console link within ${OPEN_TIMEOUT_MS / 60_000} ` +
                `minutes. Run "aws-login console" again, or use --print to open the URL yourself.`,
            ),
          ), OPEN_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  let reused = false;
  if (by.byThisUser) {
    // The token went to this user's connection, and another user's opening is refused: nothing
    // is left to watch for, so the command ends at once (close lets the redirect finish).
    deps.debug("the console link was opened by this user: no wait for a second opening");
  } else {
    // Whoever opened the link is unknown: if it was someone else, the user's own browser comes
    // second, and that is worth the short wait to report.
    await Promise.race([
      link.reopened.then(() => (reused = true)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, REUSE_WINDOW_MS))),
    ]);
    clearTimeout(timer);
  }
  await link.close();
  if (reused) throw linkReusedError();
  deps.stdout.write(`Opened the AWS console in your browser as ${identity} (${destination}).\n`);
  return EXIT.ok;
}

/** A refused getSigninToken, explained with what to do. */
function explainRefusal(
  err: unknown,
  profile: string,
  role: boolean,
  creds: ResolvedCredentials,
): unknown {
  if (!(err instanceof SigninError) || err.code !== "ERR_SIGNIN_ACCESS_DENIED") return err;
  const next = role
    ? `Check that the role "${creds.role?.roleArn}" may be used in the console, then try again`
    : `It may not take a login session's own credentials (AWS does not document it): use a ` +
      `role profile (role_arn + source_profile = ${profile}) for the console; the browser you ` +
      `signed in with ("aws-login login") is already in the console as this identity`;
  return new SigninError("ERR_SIGNIN_ACCESS_DENIED", `${err.message}. ${next}.`, {
    status: err.status,
  });
}
