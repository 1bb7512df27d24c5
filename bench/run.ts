/**
 * npm run bench: how long synthesis takes and how much memory it needs, next to
 * the ts-node way `cdktf init` sets up, a floor (Node + cdktf + one empty stack),
 * 1 to 100 work pools, and Terraform for context. Every row is measured in this
 * one run, round by round, so ratios are fair. Writes bench-results/latest.json,
 * the generated section of help/performance.md and help/performance-scaling.svg.
 *   npm run bench                       (BENCH_RUNS=5 timed runs per row by default)
 *   npm run bench -- --report-only      (re-renders the outputs from bench-results/latest.json)
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { delimiter, join, relative, resolve } from "node:path";
import { buildSync } from "esbuild";
import { Command, detectRssMethod, median, runMeasured, Sample, stats } from "./measure";
import { find, Measurement, Phases, renderSvg, renderTables, Results, Target, updateMarkdown } from "./report";
import { findTerraform, planArgs, prepareStackDir, validateArgs } from "./terraform";

const ROOT = resolve(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? "5");
const POOLS = [1, 10, 50, 100];
const WHAT_IF_FLAGS = ["--skip-validation", "--cap-stack-traces"];
const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);
const shQuote = (value: string) => `'${value.replace(/'/g, "'\\''")}'`;

interface Variant {
  readonly id: string;
  readonly label: string;
  /** As shown in the tables. */
  readonly display: string;
  readonly command: (outdir: string) => Command;
  readonly pools?: number;
  /** Writes a cdktf output folder (checked and removed after each run). */
  readonly synthesizes: boolean;
  readonly warmUp: boolean;
}

/** The environment of a user's shell: no npm run variables, no node_modules/.bin on PATH, no app settings. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || ["INIT_CWD", "NODE", "PREFECT_ECS_WORKER_CONFIG", "CDKTF_OUTDIR", "NODE_OPTIONS"].includes(key)) continue;
    env[key] = value;
  }
  env.PATH = (env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => !dir.endsWith(join("node_modules", ".bin")) && !dir.includes(join("node_modules", "@npmcli")))
    .join(delimiter);
  return env;
}

function machine(): Results["machine"] {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: totalmem() / 1024 ** 3,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverageStart: loadavg(),
  };
}

/** Every file below `dir`, relative, sorted. */
function filesBelow(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? filesBelow(join(dir, entry.name), base) : [relative(base, join(dir, entry.name))]))
    .sort();
}

/** Fails unless two cdktf output folders hold the same files with the same bytes. */
function assertSameOutput(a: string, b: string, what: string): void {
  const filesA = filesBelow(a);
  const filesB = filesBelow(b);
  if (filesA.join("\n") !== filesB.join("\n")) throw new Error(`${what}: different files\n${filesA.join("\n")}\n---\n${filesB.join("\n")}`);
  for (const file of filesA) {
    if (!readFileSync(join(a, file)).equals(readFileSync(join(b, file)))) throw new Error(`${what}: ${file} differs`);
  }
}

/** The esbuild bundles of the proposal, beside the script the work-pool stack ships as an asset. */
function bundle(dir: string): { mainJs: string; poolsJs: string; buildMs: number } {
  const start = performance.now();
  const common = { bundle: true, platform: "node", target: "node20", logLevel: "warning" } as const;
  buildSync({ ...common, entryPoints: [join(ROOT, "main.ts")], outfile: join(dir, "main.js") });
  const buildMs = performance.now() - start;
  buildSync({ ...common, entryPoints: [join(ROOT, "bench", "synth-pools.ts")], outfile: join(dir, "synth-pools.js") });
  copyFileSync(join(ROOT, "src", "work-pool", "upsert-work-pool.sh"), join(dir, "upsert-work-pool.sh"));
  return { mainJs: join(dir, "main.js"), poolsJs: join(dir, "synth-pools.js"), buildMs };
}

function main(): void {
  const started = performance.now();
  const atStart = machine();
  const env = userEnv();
  const rssMethod = detectRssMethod();
  // cdktf runs `terraform version` while synthesizing a terraform_data resource (help/performance.md).
  if (spawnSync("terraform", ["version"], { env: { ...env, CHECKPOINT_DISABLE: "1" } }).status !== 0) {
    throw new Error("synthesis needs a terraform binary on PATH (cdktf validates the terraform_data resource with `terraform version`)");
  }
  const work = mkdtempSync(join(tmpdir(), "prefect-ecs-bench-"));
  const notes: string[] = [];
  try {
    const node = process.execPath;
    const bundleDir = join(work, "bundle");
    mkdirSync(bundleDir);
    const bundles = bundle(bundleDir);
    notes.push(`Bundling main.ts with esbuild (the proposal's one-off build step) took ${bundles.buildMs.toFixed(0)} ms in-process.`);
    const buildRunDir = join(work, "build-run");
    const at = (argv: string[]): Command => ({ argv, cwd: ROOT, env });

    const variants: Variant[] = [
      { id: "floor", label: "Floor: Node + cdktf + one empty stack", display: "node bench/floor.js", command: (out) => at([node, "bench/floor.js", out]), synthesizes: true, warmUp: true },
      { id: "tsx", label: "Default config, tsx directly", display: "node_modules/.bin/tsx main.ts", command: (out) => at([bin("tsx"), "main.ts", "--out", out]), synthesizes: true, warmUp: true },
      { id: "npx-tsx", label: "Default config as the README/cdktf.json run it", display: "npx tsx main.ts", command: (out) => at(["npx", "tsx", "main.ts", "--out", out]), synthesizes: true, warmUp: true },
      { id: "npm-run-synth", label: "Default config via npm run synth", display: "npm run synth", command: (out) => at(["npm", "run", "--silent", "synth", "--", "--out", out]), synthesizes: true, warmUp: true },
      { id: "ts-node", label: "Default config the cdktf init way (type-checks)", display: "node_modules/.bin/ts-node main.ts", command: (out) => at([bin("ts-node"), "main.ts", "--out", out]), synthesizes: true, warmUp: true },
      { id: "bundle", label: "Proposal: esbuild bundle run by node", display: "node .build/main.js", command: (out) => at([node, bundles.mainJs, "--out", out]), synthesizes: true, warmUp: true },
      {
        id: "build-run",
        label: "Proposal: bundle on every run, then node",
        display: "esbuild main.ts --bundle ... && node .build/main.js",
        command: (out) =>
          at([
            "sh",
            "-c",
            `${shQuote(bin("esbuild"))} main.ts --bundle --platform=node --target=node20 --log-level=warning --outfile=${shQuote(join(buildRunDir, "main.js"))}` +
              ` && cp src/work-pool/upsert-work-pool.sh ${shQuote(buildRunDir)}/ && ${shQuote(node)} ${shQuote(join(buildRunDir, "main.js"))} --out ${shQuote(out)}`,
          ]),
        synthesizes: true,
        warmUp: true,
      },
      ...POOLS.map((pools) => ({
        id: `pools-${pools}`,
        label: `${pools} pools, tsx`,
        display: "tsx bench/synth-pools.ts <N>",
        command: (out: string) => at([bin("tsx"), "bench/synth-pools.ts", String(pools), out]),
        pools,
        synthesizes: true,
        warmUp: pools <= 10,
      })),
      ...POOLS.map((pools) => ({
        id: `proposal-pools-${pools}`,
        label: `${pools} pools, proposal`,
        display: `node .build/synth-pools.js <N> ${WHAT_IF_FLAGS.join(" ")}`,
        command: (out: string) => at([node, bundles.poolsJs, String(pools), out, ...WHAT_IF_FLAGS]),
        pools,
        synthesizes: true,
        warmUp: pools <= 10,
      })),
    ];

    // Terraform, for context: validate and an offline plan of the default configuration's AWS stack.
    const toolchain = findTerraform();
    if (typeof toolchain === "string") {
      notes.push(`Terraform rows skipped: ${toolchain}.`);
    } else {
      const tfOut = join(work, "terraform");
      runMeasured(at([bin("tsx"), "main.ts", "--out", tfOut]), rssMethod);
      const stackDir = join(tfOut, "stacks", readdirSync(join(tfOut, "stacks")).find((name) => name.endsWith("-aws")) as string);
      try {
        prepareStackDir(toolchain, stackDir);
        const tf = (args: string[]): Command => ({ argv: [toolchain.bin, ...args], cwd: ROOT, env: toolchain.env });
        variants.push(
          { id: "tf-validate", label: `Context: terraform validate (${toolchain.version}, AWS stack)`, display: "terraform validate", command: () => tf(validateArgs(stackDir)), synthesizes: false, warmUp: false },
          { id: "tf-plan", label: "Context: offline terraform plan (AWS stack)", display: "terraform plan -var ...", command: () => tf(planArgs(stackDir)), synthesizes: false, warmUp: false },
        );
      } catch (error) {
        notes.push(`Terraform rows skipped: ${(error as Error).message.split("\n")[0]}.`);
      }
    }

    const samples = new Map<string, Sample[]>(variants.map((v) => [v.id, []]));
    const runOne = (variant: Variant, keep?: string): Sample => {
      const out = keep ?? mkdtempSync(join(work, `${variant.id}-`));
      try {
        const sample = runMeasured(variant.command(out), rssMethod);
        if (variant.synthesizes) {
          const stacks = readdirSync(join(out, "stacks"));
          const expected = 2 * (variant.pools ?? 1);
          if (variant.id !== "floor" && stacks.length !== expected) {
            throw new Error(`${variant.id}: expected ${expected} stacks, got ${stacks.length}: ${stacks.join(", ")}`);
          }
        }
        return sample;
      } finally {
        if (!keep) rmSync(out, { recursive: true, force: true });
      }
    };

    // Warm-up: caches (tsx's transform cache, the page cache) as a user's second run finds them; not timed.
    // The ways of running the default configuration must write identical output.
    process.stderr.write("warm-up:");
    const outputs = new Map<string, string>();
    for (const variant of variants.filter((v) => v.warmUp)) {
      process.stderr.write(` ${variant.id}`);
      const keep = variant.pools === undefined && variant.id !== "floor" ? join(work, `warm-${variant.id}`) : undefined;
      runOne(variant, keep);
      if (keep) outputs.set(variant.id, keep);
    }
    for (const [id, dir] of outputs) if (id !== "tsx") assertSameOutput(outputs.get("tsx") as string, dir, `${id} vs tsx`);
    process.stderr.write("\n");

    for (let round = 1; round <= RUNS; round++) {
      process.stderr.write(`round ${round}/${RUNS}:`);
      for (const variant of variants) {
        const sample = runOne(variant);
        (samples.get(variant.id) as Sample[]).push(sample);
        process.stderr.write(` ${variant.id} ${(sample.wallMs / 1000).toFixed(2)}s`);
      }
      process.stderr.write("\n");
    }

    const measurements: Measurement[] = variants.map((variant) => {
      const runs = samples.get(variant.id) as Sample[];
      let phases: Phases | undefined;
      if (variant.pools !== undefined) {
        const parsed = runs.map((r) => JSON.parse(r.stdout.trim().split("\n").pop() as string) as Phases);
        phases = {
          loadedMs: median(parsed.map((p) => p.loadedMs)),
          resolveMs: median(parsed.map((p) => p.resolveMs)),
          buildMs: median(parsed.map((p) => p.buildMs)),
          synthMs: median(parsed.map((p) => p.synthMs)),
        };
      }
      return { id: variant.id, label: variant.label, command: variant.display, pools: variant.pools, stats: stats(runs), phases };
    });

    const results: Results = {
      date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      machine: { ...atStart, loadAverageEnd: loadavg() },
      runsPerMeasurement: RUNS,
      rssMethod,
      durationS: (performance.now() - started) / 1000,
      measurements,
      targets: [],
      notes,
    };
    const finalResults: Results = { ...results, targets: targets(results) };

    mkdirSync(join(ROOT, "bench-results"), { recursive: true });
    writeFileSync(join(ROOT, "bench-results", "latest.json"), `${JSON.stringify(finalResults, null, 2)}\n`);
    publish(finalResults);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Writes the SVG and the generated section of help/performance.md, and prints the tables and verdicts. */
function publish(results: Results): void {
  writeFileSync(join(ROOT, "help", "performance-scaling.svg"), renderSvg(results));
  const markdownPath = join(ROOT, "help", "performance.md");
  const existing = existsSync(markdownPath) ? readFileSync(markdownPath, "utf8") : undefined;
  writeFileSync(markdownPath, updateMarkdown(existing, results, "performance-scaling.svg"));
  console.log(renderTables(results));
  console.log("");
  for (const note of results.notes) console.log(`- ${note}`);
  console.log("");
  for (const t of results.targets) console.log(`${t.pass ? "PASS" : "FAIL"}  ${t.description}: ${t.value.toFixed(2)} ${t.unit} (limit ${t.limit} ${t.unit})`);
  console.log(`\nWrote bench-results/latest.json, help/performance.md, help/performance-scaling.svg (run took ${results.durationS.toFixed(0)} s).`);
}

function targets(results: Results): Target[] {
  const ms = (id: string) => find(results, id)?.stats.medianMs;
  const rssMiB = (id: string, which: "peakRssKb" | "medianRssKb" = "peakRssKb") => {
    const kb = find(results, id)?.stats[which];
    return kb === undefined ? undefined : kb / 1024;
  };
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined ? a / b : undefined);
  const marginalMs = (prefix: string) => {
    const [t1, t100] = [ms(`${prefix}-1`), ms(`${prefix}-100`)];
    return t1 !== undefined && t100 !== undefined ? (t100 - t1) / 99 : undefined;
  };
  const marginalMiB = (prefix: string) => {
    const [r1, r100] = [rssMiB(`${prefix}-1`, "medianRssKb"), rssMiB(`${prefix}-100`, "medianRssKb")];
    return r1 !== undefined && r100 !== undefined ? (r100 - r1) / 99 : undefined;
  };
  const target = (id: string, description: string, unit: string, limit: number, value: number | undefined, proposal: number | undefined, atMost = true): Target[] => {
    if (value === undefined) return [];
    const ok = (v: number) => (atMost ? v <= limit : v < limit);
    return [{ id, description, unit, limit, value, pass: ok(value), proposalValue: proposal, proposalPass: proposal === undefined ? undefined : ok(proposal) }];
  };
  const tsNode = ms("ts-node");
  const floor = ms("floor");
  return [
    ...target("vs-ts-node", "Default config (npx tsx main.ts) wall time / ts-node way", "%", 25, mul(ratio(ms("npx-tsx"), tsNode)), mul(ratio(ms("bundle"), tsNode))),
    ...target("vs-floor", "Default config (npx tsx main.ts) wall time / floor", "x", 2, ratio(ms("npx-tsx"), floor), ratio(ms("bundle"), floor)),
    ...target("rss", "Default config (npx tsx main.ts) peak RSS", "MiB", 200, rssMiB("npx-tsx"), rssMiB("bundle"), false),
    ...target("marginal-ms", "Marginal wall time per pool, (t100 - t1) / 99", "ms", 20, marginalMs("pools"), marginalMs("proposal-pools")),
    ...target("marginal-rss", "Marginal peak RSS per pool, (rss100 - rss1) / 99", "MiB", 2, marginalMiB("pools"), marginalMiB("proposal-pools")),
    ...target("pools-100", "100 pools (200 stacks), wall time", "s", 4, div(ms("pools-100")), div(ms("proposal-pools-100")), false),
  ];
}

const mul = (v: number | undefined) => (v === undefined ? undefined : v * 100);
const div = (v: number | undefined) => (v === undefined ? undefined : v / 1000);

if (process.argv.includes("--report-only")) {
  publish(JSON.parse(readFileSync(join(ROOT, "bench-results", "latest.json"), "utf8")) as Results);
} else {
  main();
}
