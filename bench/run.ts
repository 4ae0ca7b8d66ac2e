/**
 * `deno task bench`: the benchmark suite behind BENCHMARKS.md. Installs what it compares against
 * (Debian's hyperfine and awscli with apt-get, the official AWS SDK's login provider with npm into
 * bench/.node), starts the emulator, makes a session in a temporary HOME, then measures:
 *
 * 1. warm-cache `credential-process` and `export-env` (whole process) against the Deno floor, the AWS
 *    SDK for JavaScript's `fromLoginCredentials` in Node, and `aws configure export-credentials`;
 * 2. the refresh path: latency over the warm path, round trips per refresh, DPoP proof cost;
 * 3. 32 concurrent `credential-process` on an expiring token: wall time and refreshes made;
 * 4. start-up: modules loaded before the command is known, lazy vs eager command loading.
 *
 * Results go to BENCHMARKS.md (overwritten) and to stdout.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { startEmulator } from "../lib/emulator/server.ts";
import { createSession } from "../tests/helpers/session.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const MAIN = `${ROOT}main.ts`;
const DENO = Deno.execPath();
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 40);

async function sh(cmd: string, args: string[], env?: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

async function has(cmd: string): Promise<boolean> {
  try {
    return (await new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`] }).output()).success;
  } catch {
    return false;
  }
}

/** Installs hyperfine and the AWS CLI from Debian, and the SDK from npm, when missing. */
async function installTools(): Promise<void> {
  const apt: string[] = [];
  if (!(await has("hyperfine"))) apt.push("hyperfine");
  if (!(await has("/usr/bin/aws"))) apt.push("awscli");
  if (apt.length > 0) {
    console.log(`bench: installing ${apt.join(", ")} with apt-get (root needed)`);
    await sh("apt-get", ["update", "-qq"]);
    await sh("apt-get", ["install", "-y", "-qq", ...apt], { DEBIAN_FRONTEND: "noninteractive" });
  }
  // The version the tests pin (tests/dev_deps.ts), so the benchmark measures the SDK they check.
  const devDeps = await Deno.readTextFile(`${ROOT}tests/dev_deps.ts`);
  const sdk = /"npm:(@aws-sdk\/credential-provider-login@[^"]+)"/.exec(devDeps)![1]!;
  const nodeDir = `${ROOT}bench/.node`;
  try {
    await Deno.stat(`${nodeDir}/node_modules/@aws-sdk/credential-provider-login`);
  } catch {
    console.log(`bench: installing ${sdk} with npm into bench/.node`);
    await Deno.mkdir(nodeDir, { recursive: true });
    await sh("npm", ["install", "--silent", "--prefix", nodeDir, sdk]);
  }
}

interface Measured {
  name: string;
  median: number;
  mean: number;
  stddev: number;
}

/** Runs hyperfine over `commands` and returns each one's median/mean in milliseconds. */
async function hyperfine(
  commands: Record<string, string>,
  env: Record<string, string>,
  options: { prepare?: string; runs?: number } = {},
): Promise<Measured[]> {
  const json = await Deno.makeTempFile({ suffix: ".json" });
  const args = ["--shell=none", "--warmup", "3", "--runs", String(options.runs ?? RUNS)];
  if (options.prepare) args.push("--prepare", options.prepare);
  args.push("--export-json", json);
  for (const [name, command] of Object.entries(commands)) args.push("-n", name, command);
  await sh("hyperfine", args, env);
  const results = JSON.parse(await Deno.readTextFile(json)).results as {
    command: string;
    median: number;
    mean: number;
    stddev: number;
  }[];
  await Deno.remove(json);
  return results.map((r) => ({
    name: r.command,
    median: r.median * 1000,
    mean: r.mean * 1000,
    stddev: r.stddev * 1000,
  }));
}

const ms = (n: number) => `${n.toFixed(1)} ms`;

function table(rows: Measured[], floor: number): string {
  const lines = ["| command | median | mean ± σ | × floor |", "|---|---|---|---|"];
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${ms(r.median)} | ${ms(r.mean)} ± ${r.stddev.toFixed(1)} | ${
        (r.median / floor).toFixed(2)
      }× |`,
    );
  }
  return lines.join("\n");
}

/**
 * Starts `n` credential-process runs at once on an expiring token, five times; reports wall time
 * and how many refreshes reached the emulator (the goal: one per trial) and that all agreed.
 */
async function concurrentRefresh(
  n: number,
  expire: string,
  command: string,
  env: Record<string, string>,
  refreshCount: () => number,
): Promise<string> {
  const [bin, ...args] = command.split(" ");
  const [expireBin, ...expireArgs] = expire.split(" ");
  const rows = [
    "| trial | wall time | refreshes | distinct credentials printed |",
    "|---|---|---|---|",
  ];
  for (let trial = 1; trial <= 5; trial++) {
    await sh(expireBin!, expireArgs, env);
    const before = refreshCount();
    const start = performance.now();
    const outputs = await Promise.all(
      Array.from({ length: n }, () => sh(bin!, args, env)),
    );
    const wall = performance.now() - start;
    const distinct = new Set(outputs.map((o) => JSON.parse(o).AccessKeyId)).size;
    rows.push(`| ${trial} | ${ms(wall)} | ${refreshCount() - before} | ${distinct} |`);
  }
  return rows.join("\n");
}

/** Medians over 30 processes of where a warm credential-process spends its in-process time. */
async function hotPathStages(
  env: Record<string, string>,
): Promise<{ table: string; total: number }> {
  const samples: Record<string, number>[] = [];
  for (let i = 0; i < 30; i++) {
    const out = await sh(
      DENO,
      ["run", "-q", "-A", `${ROOT}bench/fixtures/hot_path_stages.ts`, "bench"],
      env,
    );
    samples.push(JSON.parse(out));
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;
  const rows = ["| step (in process, cold, median of 30) | time |", "|---|---|"];
  let total = 0;
  for (const key of Object.keys(samples[0]!).filter((k) => k !== "bytes")) {
    const value = median(samples.map((s) => s[key]!));
    total += value;
    rows.push(`| ${key} | ${ms(value)} |`);
  }
  return { table: rows.join("\n"), total };
}

async function main(): Promise<void> {
  await installTools();
  const home = await Deno.makeTempDir({ prefix: "aws-login-bench-" });
  const emulator = await startEmulator({ autoApprove: "arn:aws:iam::123456789012:user/bench" });
  const report: string[] = [];
  try {
    const base: Record<string, string> = {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: home,
      NO_COLOR: "1",
    };
    const session = await createSession({
      url: emulator.url,
      home: { home, env: base },
      profile: "bench",
      region: "us-east-1",
    });
    // HOME, the emulator's endpoint and the host's Deno cache (so a refresh finds jose cached).
    const env = session.env;
    // A static-key profile for the AWS CLI's start-up floor (it has no `login` in Debian's 2.9).
    await Deno.writeTextFile(
      `${home}/.aws/credentials`,
      "[static]\naws_access_key_id = AKIAEXAMPLEBENCH0000\naws_secret_access_key = benchsecret\n",
    );
    const nodeScript = `${ROOT}bench/fixtures/sdk_login.cjs`;
    const cli = (command: string) => `${DENO} run -q -P ${MAIN} ${command} --profile bench`;

    // 1. The warm path.
    const warm = await hyperfine({
      "deno floor (one-line script)": `${DENO} run -q ${ROOT}bench/fixtures/floor.ts`,
      "aws-login credential-process": cli("credential-process"),
      "aws-login export-env": cli("export-env"),
      "AWS SDK for JS fromLoginCredentials (node)": `node ${nodeScript} bench`,
      "aws configure export-credentials (static keys)":
        "/usr/bin/aws configure export-credentials --profile static --format process",
    }, { ...env, NODE_PATH: `${ROOT}bench/.node/node_modules` });
    const floor = warm[0]!.median;
    report.push("## 1. Warm cache, whole process", "", table(warm, floor), "");
    const stages = await hotPathStages(env);
    report.push(
      stages.table,
      "",
      `credential-process is ${
        ms(warm[1]!.median - floor)
      } over the floor; the steps above add up ` +
        `to ${ms(stages.total)} of it. The rest is main.ts and the modules every command loads, ` +
        "the permission set and process exit. Every step runs cold (first call: V8 compiles it, " +
        "the first file read and the first WebCrypto call set up their machinery), which is why a " +
        "few small files cost milliseconds.",
      "",
    );

    // 2. The refresh path: each run starts from a cache that expires within the refresh window.
    const expire = `${DENO} run -q -A ${ROOT}bench/fixtures/expire_cache.ts ${session.cachePath}`;
    const before = emulator.controls.counters().refresh_token;
    const refresh = await hyperfine(
      { "credential-process, refresh needed": cli("credential-process") },
      env,
      { prepare: expire, runs: 20 },
    );
    const refreshes = emulator.controls.counters().refresh_token - before;
    const runs = 20 + 3; // hyperfine's warmup runs refresh too
    const warmCp = warm[1]!.median;
    report.push(
      "## 2. Refresh path",
      "",
      table([warm[1]!, ...refresh], floor),
      "",
      `Latency added by a refresh over the warm path: ${ms(refresh[0]!.median - warmCp)} (median).`,
      `Round trips to AWS Sign-In per refresh: ${
        (refreshes / runs).toFixed(2)
      } (${refreshes} token calls in ${runs} runs).`,
      "",
    );
    const dpop = await sh(DENO, ["bench", "-q", "-A", `${ROOT}bench/dpop_bench.ts`], env);
    report.push("DPoP proof cost (in process, `deno bench`):", "", "```", dpop.trim(), "```", "");

    // 3. 32 concurrent processes on an expiring token.
    const concurrency = await concurrentRefresh(
      32,
      expire,
      cli("credential-process"),
      env,
      () => emulator.controls.counters().refresh_token,
    );
    report.push("## 3. 32 concurrent credential-process on an expiring token", "", concurrency, "");

    // 4. Start-up: what loads before the command is known, lazy vs eager.
    const startup = await hyperfine({
      "deno floor (one-line script)": `${DENO} run -q ${ROOT}bench/fixtures/floor.ts`,
      "aws-login --version (lazy commands)": `${DENO} run -q -P ${MAIN} --version`,
      "eager: every command imported up front":
        `${DENO} run -q -A ${ROOT}bench/fixtures/eager_main.ts`,
    }, env);
    const graph = await sh(DENO, ["run", "-q", "-A", `${ROOT}bench/fixtures/module_graph.ts`], env);
    report.push("## 4. Start-up", "", table(startup, startup[0]!.median), "", graph, "");

    const versions = [
      (await sh(DENO, ["--version"])).split("\n")[0],
      `node ${(await sh("node", ["--version"])).trim()}`,
      (await sh("/usr/bin/aws", ["--version"])).trim(),
      (await sh("hyperfine", ["--version"])).trim(),
    ];
    const cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.*)/)?.[1];
    const header = [
      "# Benchmarks",
      "",
      "Written by `deno task bench` (bench/run.ts); every number below comes from one run.",
      "",
      `- Machine: ${
        cpu ?? Deno.build.arch
      }, ${navigator.hardwareConcurrency} cores, ${Deno.build.os}`,
      `- Versions: ${versions.join("; ")}`,
      `- Method: hyperfine (--shell=none, 3 warm-up runs, ${RUNS} runs unless noted), medians;`,
      "  whole processes against the bundled emulator in a temporary HOME. Goal for the warm path:",
      "  within 1.15× of the Deno floor.",
      `- Date: ${new Date().toISOString().slice(0, 10)}`,
      "",
    ];
    const text = [...header, ...report].join("\n");
    await Deno.writeTextFile(`${ROOT}BENCHMARKS.md`, text);
    await sh(DENO, ["fmt", "-q", `${ROOT}BENCHMARKS.md`]); // so `deno task check` stays clean
    console.log(text);
  } finally {
    await emulator.close();
    await Deno.remove(home, { recursive: true });
  }
}

await main();
