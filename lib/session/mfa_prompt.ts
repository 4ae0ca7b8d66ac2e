/**
 * The MFA code prompt: `Enter MFA code for <serial>: ` on the controlling terminal (`/dev/tty`),
 * never on a stderr that is not the terminal — the AWS CLI and SDKs capture a
 * `credential_process`'s stderr, so a prompt there would never be seen. Deno lets a program open
 * `/dev/tty` only with every permission (denoland/deno#27980), which aws-login's permission set is
 * not (reading it needs only `read`); so then the prompt goes to stderr when that is the terminal,
 * and the answer comes from the terminal device, else from stdin when that is the terminal. Without a terminal it fails at once, saying how to
 * fill the role cache from a terminal first.
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
 * @param terminal The terminal device, stdin and stderr (a test seam).
 * @throws {StsError} `ERR_STS_MFA` when there is no terminal.
 */
export async function ttyMfaPrompt(
  serial: string,
  profile: string,
  requested: string,
  terminal: Terminal = {
    tty: "/dev/tty",
    stdin: Deno.stdin,
    stderr: Deno.stderr,
  },
): Promise<string> {
  const prompt = new TextEncoder().encode(`Enter MFA code for ${serial}: `);
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(terminal.tty, { read: true, write: true });
  } catch {
    file = undefined;
  }
  if (file !== undefined) {
    try {
      await file.write(prompt);
      return await readLine(file);
    } finally {
      file.close();
    }
  }
  // Writing to /dev/tty needs every permission, reading it only `read`: the prompt goes to stderr
  // when that is the terminal, and the answer comes from the terminal device or stdin.
  if (!terminal.stderr.isTerminal()) {
    throw noTerminal(serial, profile, requested, await isOpenable(terminal.tty));
  }
  let reader: Deno.FsFile | undefined;
  try {
    reader = await Deno.open(terminal.tty, { read: true });
  } catch {
    if (!terminal.stdin.isTerminal()) throw noTerminal(serial, profile, requested);
  }
  terminal.stderr.writeSync(prompt);
  if (reader === undefined) return await readLine(terminal.stdin);
  try {
    return await readLine(reader);
  } finally {
    reader.close();
  }
}

/** Where the prompt may go: the terminal device, or stdin and stderr when both are the terminal. */
export interface Terminal {
  readonly tty: string;
  readonly stdin: { isTerminal(): boolean; read(p: Uint8Array): Promise<number | null> };
  readonly stderr: { isTerminal(): boolean; writeSync(p: Uint8Array): number };
}

/** One line, read byte by byte (nothing past it is consumed), at most {@link MAX_ANSWER} bytes. */
async function readLine(from: { read(p: Uint8Array): Promise<number | null> }): Promise<string> {
  const bytes: number[] = [];
  const buffer = new Uint8Array(1);
  while (bytes.length < MAX_ANSWER) {
    const n = await from.read(buffer);
    if (n === null || n === 0 || buffer[0] === 10) break;
    bytes.push(buffer[0]!);
  }
  return new TextDecoder().decode(new Uint8Array(bytes)).replace(/\r$/, "");
}

/** Whether the terminal device can be opened for reading: there is a controlling terminal. */
async function isOpenable(tty: string): Promise<boolean> {
  try {
    (await Deno.open(tty, { read: true })).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * The error when no one can be asked.
 *
 * @param captured There is a terminal, but stderr is not it (a program running
 *   `credential_process` captures it): say why it is not used, as "no terminal" would puzzle
 *   someone typing in one.
 */
export function noTerminal(
  serial: string,
  profile: string,
  requested: string,
  captured = false,
): StsError {
  const why = captured
    ? `aws-login cannot ask for it here: its stderr is not the terminal (a program that runs ` +
      `credential_process captures it) and Deno lets aws-login write to the terminal device only ` +
      `with every permission. Run "aws-login status --refresh --profile ${requested}" on its own ` +
      `in this terminal first`
    : `there is no terminal to ask on. Run "aws-login status --refresh --profile ${requested}" ` +
      `in a terminal first`;
  return new StsError(
    "ERR_STS_MFA",
    `Profile "${profile}" needs an MFA code for "${serial}", and ${why}: it fills the role cache ` +
      `for the role's lifetime`,
  );
}
