/**
 * The MFA code prompt: `Enter MFA code for <serial>: ` on the controlling terminal (`/dev/tty`),
 * never on stderr — the AWS CLI and SDKs capture a `credential_process`'s stderr, so a prompt
 * there would never be seen. Without a terminal it fails at once, saying how to fill the role
 * cache from a terminal first.
 *
 * @module
 */
import { StsError } from "../errors.ts";

/** Longest answer read. */
const MAX_ANSWER = 64;

/**
 * Asks for the code on `/dev/tty` and reads one line.
 *
 * @param serial The MFA device (`mfa_serial`).
 * @param profile The profile holding `mfa_serial`.
 * @param requested The profile asked for (named in the way out).
 * @param tty The terminal device (a test seam).
 * @throws {StsError} `ERR_STS_MFA` when there is no terminal.
 */
export async function ttyMfaPrompt(
  serial: string,
  profile: string,
  requested: string,
  tty = "/dev/tty",
): Promise<string> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(tty, { read: true, write: true });
  } catch {
    throw noTerminal(serial, profile, requested);
  }
  try {
    await file.write(new TextEncoder().encode(`Enter MFA code for ${serial}: `));
    const bytes: number[] = [];
    const buffer = new Uint8Array(1);
    while (bytes.length < MAX_ANSWER) {
      const n = await file.read(buffer);
      if (n === null || n === 0 || buffer[0] === 10) break;
      bytes.push(buffer[0]!);
    }
    return new TextDecoder().decode(new Uint8Array(bytes)).replace(/\r$/, "");
  } finally {
    file.close();
  }
}

/** The error when no one can be asked. */
export function noTerminal(serial: string, profile: string, requested: string): StsError {
  return new StsError(
    "ERR_STS_MFA",
    `Profile "${profile}" needs an MFA code for "${serial}", and there is no terminal to ask ` +
      `on. Run "aws-login status --refresh --profile ${requested}" in a terminal first: it ` +
      `fills the role cache for the role's lifetime`,
  );
}
