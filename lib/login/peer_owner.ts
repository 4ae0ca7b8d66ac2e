/**
 * Which local user owns the other end of a loopback TCP connection, on Linux: the callback listener
 * accepts the one-time sign-in link and the callback only from the user running aws-login, so
 * another local user who read the link from the browser's command line cannot open it first.
 *
 * The kernel lists every TCP socket in `/proc/net/tcp` and `/proc/net/tcp6` with its owner's uid.
 * The peer's socket is the one whose local end is the peer's port and whose remote end is the
 * listener's port, both on 127.0.0.1 (IPv4-mapped in `tcp6` for a dual-stack socket). Only found
 * sockets count: a peer in another network namespace (WSL2's browser, a container) is not listed,
 * and other systems have no such table; the caller then keeps the other defences alone. Deno
 * reads nothing under `/proc/<pid>` without `--allow-all`, so a small shell reads the tables
 * ({@link procNetLookup}).
 *
 * @module
 */

/** One socket of `/proc/net/tcp{,6}`. */
export interface TcpSocket {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly uid: number;
}

/** What is known about a peer's owner. */
export type PeerOwner =
  | { readonly found: true; readonly uid: number }
  | { readonly found: false; readonly why: string };

const TABLES = ["/proc/net/tcp", "/proc/net/tcp6"];
/** Ends each answer of the reader; never a line of the tables. */
const END = "--end of tables--";

/**
 * Parses `/proc/net/tcp` or `/proc/net/tcp6`. Addresses are hexadecimal in the kernel's byte
 * order: 32-bit words as stored (little-endian on the machines Linux runs this on), so `0100007F`
 * is 127.0.0.1; ports are big-endian hexadecimal. Lines that do not parse are skipped.
 */
export function parseProcNetTcp(text: string): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    if (fields.length < 8) continue;
    const local = endpoint(fields[1]!);
    const remote = endpoint(fields[2]!);
    const uid = /^\d+$/.test(fields[7]!) ? Number(fields[7]) : NaN;
    if (local === undefined || remote === undefined || Number.isNaN(uid)) continue;
    sockets.push({
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      uid,
    });
  }
  return sockets;
}

/** `0100007F:1F90` → 127.0.0.1, 8080; a 32-digit address → IPv6 text (IPv4-mapped as dotted). */
function endpoint(text: string): { address: string; port: number } | undefined {
  const match = /^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/.exec(text);
  if (!match) return undefined;
  const words = match[1]!.match(/.{8}/g)!.map((word) =>
    // Each 32-bit word is printed as the host-order integer: reverse its bytes.
    word.match(/../g)!.reverse().map((byte) => parseInt(byte, 16))
  );
  const bytes = words.flat();
  const port = parseInt(match[2]!, 16);
  if (bytes.length === 4) return { address: bytes.join("."), port };
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff &&
    bytes[11] === 0xff;
  if (mapped) return { address: bytes.slice(12).join("."), port };
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return { address: groups.join(":"), port };
}

/**
 * The owner of the peer of a connection to our listener on 127.0.0.1, from the tables' text.
 *
 * @param tables The text of `/proc/net/tcp` and `/proc/net/tcp6` (one after the other is fine).
 * @param peerPort The peer's port (the accepted connection's remote port).
 * @param listenerPort The listener's port.
 */
export function ownerIn(tables: string, peerPort: number, listenerPort: number): PeerOwner {
  const socket = parseProcNetTcp(tables).find((s) =>
    s.localPort === peerPort && s.remotePort === listenerPort &&
    s.localAddress === "127.0.0.1" && s.remoteAddress === "127.0.0.1"
  );
  return socket !== undefined ? { found: true, uid: socket.uid } : {
    found: false,
    why: `port ${peerPort} is not in ${TABLES.join(" or ")} (another network namespace?)`,
  };
}

/** Looks peers up while a listener runs; {@link ProcNetLookup.close} when it stops. */
export interface ProcNetLookup {
  lookup(peerPort: number, listenerPort: number): Promise<PeerOwner>;
  close(): Promise<void>;
}

/**
 * Starts the reader of the `/proc/net/tcp` tables: a `/bin/sh` that prints both tables each time
 * it reads a line. A child process because Deno lets no program read anything under `/proc/<pid>`
 * (which `/proc/net` is a link into) without `--allow-all`, whatever `--allow-read` says; started
 * while the listener starts, so `login` can give up the `run` permission right after and still ask.
 * When it cannot start or stops, every lookup answers "not found" with the reason.
 */
export function procNetLookup(): ProcNetLookup {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("/bin/sh", {
      args: ["-c", `while read -r _; do cat ${TABLES.join(" ")}; echo "${END}"; done`],
      env: { PATH: "/usr/bin:/bin", LC_ALL: "C" },
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
  } catch (err) {
    const why = `cannot start /bin/sh to read ${TABLES.join(" and ")} (${errorName(err)})`;
    return { lookup: () => Promise.resolve({ found: false, why }), close: () => Promise.resolve() };
  }
  const writer = child.stdin.getWriter();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  /** The next answer: everything up to the end marker. */
  const nextAnswer = async (): Promise<string> => {
    for (;;) {
      const end = buffered.indexOf(`\n${END}\n`);
      if (end >= 0) {
        const answer = buffered.slice(0, end);
        buffered = buffered.slice(end + END.length + 2);
        return answer;
      }
      const { value, done } = await lines.read();
      if (done) throw new Error("the reader stopped");
      buffered += value;
    }
  };
  // One question at a time: answers come back in order on one pipe.
  let queue: Promise<unknown> = Promise.resolve();
  let stopped: string | undefined;
  return {
    lookup(peerPort, listenerPort) {
      const answer = queue.then(async (): Promise<PeerOwner> => {
        if (stopped !== undefined) return { found: false, why: stopped };
        try {
          await writer.write(new TextEncoder().encode("\n"));
          return ownerIn(await nextAnswer(), peerPort, listenerPort);
        } catch (err) {
          stopped = `the reader of ${TABLES.join(" and ")} stopped (${errorName(err)})`;
          return { found: false, why: stopped };
        }
      });
      queue = answer;
      return answer;
    },
    async close() {
      stopped ??= "the listener closed";
      await writer.close().catch(() => {}); // the shell's read ends, and with it the shell
      try {
        child.kill();
      } catch { /* already gone */ }
      await lines.cancel().catch(() => {});
      await child.status;
    },
  };
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : "error";
}

/** This process's uid, or undefined where there is none (Windows) or it may not be asked. */
export function ownUid(): number | undefined {
  try {
    return Deno.uid() ?? undefined;
  } catch {
    return undefined;
  }
}

/** Who owns a connection's other end: the injectable lookup (tests fake another user). */
export type PeerOwnerLookup = (
  peerPort: number,
  listenerPort: number,
) => Promise<PeerOwner> | PeerOwner;

/** What a listener's same-user check found for one connection. */
export type OwnerVerdict =
  /** Nothing to check against here (no uid, or no lookup on this system). */
  | { readonly checked: false }
  /** `stranger`: the owner was found and is another user. */
  | { readonly checked: true; readonly owner: PeerOwner; readonly stranger: boolean };

/** The same-user check a loopback listener runs on the connections to its one-time link. */
export interface SameUserCheck {
  /** The verdict for the connection from `peerPort` to the listener on `listenerPort`. */
  check(peerPort: number, listenerPort: number): Promise<OwnerVerdict>;
  /** Starts the `/proc` reader (Linux, no lookup given): call once the listener runs. */
  start(): void;
  close(): Promise<void>;
}

/**
 * The same-user check of the sign-in and console links' listeners.
 *
 * @param p.peerOwner The lookup; default: the `/proc/net/tcp` tables on Linux (read by a child
 *   process started by {@link SameUserCheck.start}), no check elsewhere (`null`).
 * @param p.uid The user connections must come from; default (absent key): this process's.
 */
export function sameUserCheck(
  p: { peerOwner?: PeerOwnerLookup | null; uid?: number },
): SameUserCheck {
  const uid = "uid" in p ? p.uid : ownUid();
  let proc: ProcNetLookup | undefined;
  const ownerOf = p.peerOwner !== undefined
    ? p.peerOwner
    : Deno.build.os === "linux"
    ? (peer: number, listener: number) => proc!.lookup(peer, listener)
    : null;
  return {
    async check(peerPort, listenerPort) {
      if (ownerOf === null || uid === undefined) return { checked: false };
      const owner = await ownerOf(peerPort, listenerPort);
      return { checked: true, owner, stranger: owner.found && owner.uid !== uid };
    },
    start() {
      if (p.peerOwner === undefined && Deno.build.os === "linux" && uid !== undefined) {
        proc = procNetLookup();
      }
    },
    close: () => proc?.close() ?? Promise.resolve(),
  };
}
