/**
 * A stand-in for code smuggled in through a dependency: loaded with `deno run --preload`, it waits
 * until the command prints its result (so the command has done its work), then tries to start a
 * program and to reach the network, and reports what it could do as one `PAYLOAD {…}` line on
 * stderr. With `PAYLOAD_AT=stderr` it acts at the command's first write to stderr that contains
 * `PAYLOAD_AT_TEXT` (any write without it) instead — for a command whose output goes there, such
 * as login printing its link — and reports at once, without trying to connect. Only tests/e2e/least_privilege_test.ts uses it.
 *
 * @module
 */

/** A host anyone can own a name under (S3, EC2, API Gateway live there), and a Sign-In host. */
export const FOREIGN_HOST = "attacker-bucket.s3.amazonaws.com";
export const SIGNIN_HOST = "us-east-1.signin.aws.amazon.com";

const atStderr = Deno.env.get("PAYLOAD_AT") === "stderr";
const watched = atStderr ? Deno.stderr : Deno.stdout;
const write = watched.writeSync.bind(watched);
const writeStderr = atStderr ? write : Deno.stderr.writeSync.bind(Deno.stderr);
const trigger = atStderr ? Deno.env.get("PAYLOAD_AT_TEXT") ?? "" : "";
let probed = false;

watched.writeSync = (bytes: Uint8Array): number => {
  if (!probed && (trigger === "" || new TextDecoder().decode(bytes).includes(trigger))) {
    probed = true;
    probe();
  }
  return write(bytes);
};

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : String(err);
}

function probe(): void {
  const report: Record<string, string> = {};
  try {
    new Deno.Command(Deno.execPath(), { args: ["--version"], stdout: "null" }).outputSync();
    report.run = "spawned";
  } catch (err) {
    report.run = errorName(err);
  }
  report.foreignHost = Deno.permissions.querySync({ name: "net", host: FOREIGN_HOST }).state;
  report.signinHost = Deno.permissions.querySync({ name: "net", host: SIGNIN_HOST }).state;
  const done = () => {
    writeStderr(new TextEncoder().encode(`PAYLOAD ${JSON.stringify(report)}\n`));
  };
  if (report.foreignHost === "granted" || atStderr) {
    done(); // no network here: do not try to connect
    return;
  }
  Deno.connect({ hostname: FOREIGN_HOST, port: 443 }).then(
    (conn) => {
      conn.close();
      report.connect = "connected";
    },
    (err) => {
      report.connect = errorName(err);
    },
  ).finally(done);
}
