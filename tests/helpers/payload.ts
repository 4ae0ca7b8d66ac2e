/**
 * A stand-in for code smuggled in through a dependency: loaded with `deno run --preload`, it waits
 * until the command prints its result (so the command has done its work), then tries to start a
 * program and to reach the network, and reports what it could do as one `PAYLOAD {…}` line on
 * stderr. Only tests/e2e/least_privilege_test.ts uses it.
 *
 * @module
 */

/** A host anyone can own a name under (S3, EC2, API Gateway live there), and a Sign-In host. */
export const FOREIGN_HOST = "attacker-bucket.s3.amazonaws.com";
export const SIGNIN_HOST = "us-east-1.signin.aws.amazon.com";

const stdout = Deno.stdout;
const write = stdout.writeSync.bind(stdout);
let probed = false;

stdout.writeSync = (bytes: Uint8Array): number => {
  if (!probed) {
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
    Deno.stderr.writeSync(new TextEncoder().encode(`PAYLOAD ${JSON.stringify(report)}\n`));
  };
  if (report.foreignHost === "granted") {
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
