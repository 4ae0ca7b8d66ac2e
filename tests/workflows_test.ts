/**
 * The GitHub workflows, read as YAML: CI runs check and test on Linux, macOS and Windows; a release
 * runs every binary through `deno task smoke` on its own OS and architecture and publishes only after
 * all of them passed, with a build provenance attestation for every file it publishes (signed only in
 * the publishing job); actions are pinned to commits; every workflow uses the minimum Deno (the one
 * the suite is known to pass on).
 */
import assert from "node:assert/strict";
import { parseYaml } from "./dev_deps.ts";
import { ROOT } from "./helpers/cli.ts";

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  if?: string;
}

interface Job {
  needs?: string | string[];
  permissions?: Record<string, string>;
  "runs-on"?: string;
  "timeout-minutes"?: number;
  strategy?: { matrix?: { include?: Record<string, string>[]; os?: string[] } };
  steps?: Step[];
}

interface Workflow {
  jobs: Record<string, Job>;
}

async function workflow(name: string): Promise<Workflow> {
  return parseYaml(await Deno.readTextFile(`${ROOT}.github/workflows/${name}`)) as Workflow;
}

function needs(job: Job): string[] {
  return job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
}

/** Native runner label patterns per target, with the architecture GitHub reports for them. */
const NATIVE: Record<string, { os: RegExp; arch: string }> = {
  "x86_64-unknown-linux-gnu": { os: /^ubuntu-(latest|\d+\.\d+)$/, arch: "X64" },
  "aarch64-unknown-linux-gnu": { os: /^ubuntu-(\d+\.\d+-)?arm$/, arch: "ARM64" },
  "aarch64-apple-darwin": { os: /^macos-(latest|\d+)$/, arch: "ARM64" },
  "x86_64-apple-darwin": { os: /^macos-\d+-intel$/, arch: "X64" },
  "x86_64-pc-windows-msvc": { os: /^windows-/, arch: "X64" },
};

Deno.test("release.yml smoke-tests each native binary on its own runner before publishing", async () => {
  const { jobs } = await workflow("release.yml");
  const built = (jobs.build?.strategy?.matrix?.include ?? []).map((entry) => entry.target);
  const smoke = jobs.smoke;
  assert.ok(smoke, "release.yml has no smoke job");
  assert.deepEqual(needs(smoke), ["build"]);
  assert.ok(smoke["timeout-minutes"], "the smoke job has no time limit");
  const include = smoke.strategy?.matrix?.include ?? [];
  assert.deepEqual(include.map((e) => e.target).sort(), Object.keys(NATIVE).sort());
  for (const entry of include) {
    const native = NATIVE[entry.target!]!;
    assert.ok(built.includes(entry.target), `${entry.target} is smoke-tested but not built`);
    assert.match(entry.os!, native.os, `${entry.target} runs on ${entry.os}`);
    assert.equal(entry.arch, native.arch, `${entry.target} expects ${entry.arch}`);
  }
  assert.equal(
    include.find((e) => e.target === "x86_64-pc-windows-msvc")?.ext,
    ".exe",
    "the Windows artifact is an .exe",
  );
  const steps = smoke.steps ?? [];
  assert.ok(
    steps.some((s) => s.run?.includes('"$ARCH" = "${{ matrix.arch }}"')),
    "no runner.arch check",
  );
  const download = steps.find((s) => s.uses?.startsWith("actions/download-artifact@"));
  assert.equal(download?.with?.name, "aws-login-${{ matrix.target }}");
  const run = steps.find((s) => s.run?.startsWith("deno task smoke "));
  assert.equal(run?.run, "deno task smoke dist/aws-login-${{ matrix.target }}${{ matrix.ext }}");
  assert.deepEqual(needs(jobs.release!).sort(), ["build", "smoke"]);
  assert.deepEqual(include.map((e) => e.target).sort(), built.sort(), "a built target is not run");
});

/** Whether a glob of `subject-path` (only `*` is used) matches a file name. */
function globMatches(glob: string, path: string): boolean {
  const pattern = glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${pattern.join("[^/]*")}$`).test(path);
}

Deno.test("release.yml attests build provenance for every published file, signing in that job only", async () => {
  const { jobs } = await workflow("release.yml");
  const release = jobs.release!;
  const steps = release.steps ?? [];
  const index = (test: (s: Step) => boolean, what: string) => {
    const i = steps.findIndex(test);
    assert.ok(i >= 0, `the release job has no ${what} step`);
    return i;
  };
  const sums = index((s) => s.run?.includes("> SHA256SUMS") ?? false, "checksums");
  const attest = index(
    (s) => s.uses?.startsWith("actions/attest-build-provenance@") ?? false,
    "attest-build-provenance",
  );
  const publish = index((s) => s.run?.includes("gh release create") ?? false, "publish");
  assert.ok(sums < attest && attest < publish, "attest after the checksums, before publishing");
  const subjects = String(steps[attest]!.with?.["subject-path"] ?? "").split(/[\n,]/)
    .map((line) => line.trim()).filter((line) => line !== "");
  // Every file the release publishes (dist/*): each binary, and SHA256SUMS.
  const published = [
    ...(jobs.build?.strategy?.matrix?.include ?? []).map((e) =>
      `dist/aws-login-${e.target}${e.ext ?? ""}`
    ),
    "dist/SHA256SUMS",
  ];
  for (const file of published) {
    assert.ok(subjects.some((glob) => globMatches(glob, file)), `${file} is not attested`);
  }
  assert.match(steps[publish]!.run!, /dist\/\*/);
  assert.equal(release.permissions?.["id-token"], "write");
  assert.equal(release.permissions?.attestations, "write");
  for (const [id, job] of Object.entries(jobs)) {
    if (id === "release") continue;
    assert.equal(job.permissions?.["id-token"], undefined, `${id} gets id-token`);
    assert.equal(job.permissions?.attestations, undefined, `${id} gets attestations`);
  }
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  assert.match(readme, /gh attestation verify aws-login-\S+ --repo /, "README: how to verify");
});

Deno.test("ci.yml runs deno task check and deno task test on Linux, macOS and Windows", async () => {
  const { jobs } = await workflow("ci.yml");
  const test = jobs.test!;
  const os = test.strategy?.matrix?.os ?? [];
  for (const family of [/^ubuntu-/, /^macos-/, /^windows-/]) {
    assert.ok(os.some((o) => family.test(o)), `no ${family} runner`);
  }
  const runs = (test.steps ?? []).map((s) => s.run);
  assert.ok(runs.includes("deno task check"));
  assert.ok(runs.includes("deno task test"));
  assert.ok(
    runs.includes("git diff --exit-code -- deno.lock tests/deno.lock"),
    "CI does not check that the tests left the lock files as committed",
  );
  assert.ok(test["timeout-minutes"], "the test job has no time limit");
});

Deno.test("workflows pin actions to commits and use the minimum Deno", async () => {
  const { minimumDenoVersion } = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  for (const name of ["ci.yml", "release.yml"]) {
    const { jobs } = await workflow(name);
    for (const [id, job] of Object.entries(jobs)) {
      for (const step of job.steps ?? []) {
        if (step.uses === undefined) continue;
        assert.match(step.uses, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, `${name} ${id}: ${step.uses}`);
        if (step.uses.startsWith("denoland/setup-deno@")) {
          assert.equal(step.with?.["deno-version"], `v${minimumDenoVersion}`, `${name} ${id}`);
        }
      }
    }
  }
});
