/**
 * npm run bench: how long synthesis takes and how much memory it needs, as the
 * README runs it (`node synth.js`), next to the ts-node way `cdktf init` sets up,
 * tsx, npm run and cdktf synth, a floor (Node + cdktf + one empty stack), 1 to 100
 * work pools, Terraform for context, and the test suite. Every row is measured in
 * this one run, round by round, so ratios are fair. Writes bench-results/latest.json,
 * the generated section of help/performance.md and help/performance-scaling.svg.
 *   npm run bench                       (BENCH_RUNS=5 timed runs per row by default)
 *   npm run bench -- --no-tests         (without the two test-suite rows, about 5 minutes less)
 *   npm run bench -- --report-only      (re-renders the outputs from bench-results/latest.json)
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { Command, detectRssMethod, runMeasured, Sample, stats } from "./measure";
import { fileTree } from "../__tests__/support/files";
import { writePoolsConfig } from "./pools";
import { find, Measurement, renderSvg, renderTables, Results, SCALING_SERIES, Target, updateMarkdown } from "./report";
import { findTerraform, planArgs, prepareStackDir, validateArgs } from "./terraform";

const ROOT = resolve(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? "5");
const POOLS = [1, 10, 50, 100];
const WITH_TESTS = !process.argv.includes("--no-tests");
const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);

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

/** Fails unless two cdktf output folders hold the same files with the same bytes. */
function assertSameOutput(a: string, b: string, what: string): void {
  const [filesA, filesB] = [fileTree(a), fileTree(b)];
  if ([...filesA.keys()].join("\n") !== [...filesB.keys()].join("\n")) throw new Error(`${what}: different files\n${[...filesA.keys()].join("\n")}\n---\n${[...filesB.keys()].join("\n")}`);
  for (const [file, content] of filesA) if (filesB.get(file) !== content) throw new Error(`${what}: ${file} differs`);
}

function main(): void {
  const started = performance.now();
  const atStart = machine();
  const env = userEnv();
  const rssMethod = detectRssMethod();
  const work = mkdtempSync(join(tmpdir(), "prefect-ecs-bench-"));
  const notes: string[] = [];
  try {
    const node = process.execPath;
    const at = (argv: string[]): Command => ({ argv, cwd: ROOT, env });
    const poolFiles = new Map(POOLS.map((pools) => [pools, writePoolsConfig(pools, join(work, `pools-${pools}.json`))]));
    const poolsFile = (pools: number) => poolFiles.get(pools) as string;
    const synthJs = (out: string, ...args: string[]) => at([node, "synth.js", ...args, "--out", out]);

    const variants: Variant[] = [
      { id: "floor", label: "Floor: Node + cdktf + one empty stack", display: "node bench/floor.js", command: (out) => at([node, "bench/floor.js", out]), synthesizes: true, warmUp: true },
      { id: "synth", label: "Default config as the README runs it", display: "node synth.js", command: (out) => synthJs(out), synthesizes: true, warmUp: true },
      {
        id: "synth-rebuild",
        label: "Default config, first run after a source change (bundle rebuilt)",
        display: "rm -r .build && node synth.js",
        command: (out) => at(["sh", "-c", `rm -rf .build && exec "$0" synth.js --out "$1"`, node, out]),
        synthesizes: true,
        warmUp: false,
      },
      { id: "npm-run-synth", label: "Default config via npm run synth", display: "npm run synth", command: (out) => at(["npm", "run", "--silent", "synth", "--", "--out", out]), synthesizes: true, warmUp: true },
      {
        id: "cdktf-synth",
        label: "Default config via cdktf synth (cdktf-cli, then node synth.js)",
        display: "npx cdktf synth",
        command: (out) => ({ ...at(["npx", "cdktf", "synth", "--output", out]), env: { ...env, CHECKPOINT_DISABLE: "1", CI: "1" } }),
        synthesizes: true,
        warmUp: true,
      },
      { id: "tsx", label: "Default config from source with tsx (no type-check)", display: "npx tsx main.ts", command: (out) => at(["npx", "tsx", "main.ts", "--out", out]), synthesizes: true, warmUp: true },
      { id: "ts-node", label: "Default config the cdktf init way (ts-node, type-checks)", display: "npx ts-node main.ts", command: (out) => at(["npx", "ts-node", "main.ts", "--out", out]), synthesizes: true, warmUp: true },
      ...SCALING_SERIES.flatMap((series) =>
        POOLS.map((pools) => ({
          id: `${series.prefix}-${pools}`,
          label: `${pools} pools, ${series.name}`,
          display: `${series.command} --config pools-<N>.json`,
          command: (out: string) => (series.prefix === "pools" ? synthJs(out, "--config", poolsFile(pools)) : at([bin("tsx"), "main.ts", "--config", poolsFile(pools), "--out", out])),
          pools,
          synthesizes: true,
          warmUp: pools <= 10,
        })),
      ),
    ];

    // Terraform, for context: validate and an offline plan of the default configuration's AWS stack.
    const toolchain = findTerraform();
    if (typeof toolchain === "string") {
      notes.push(`Terraform rows skipped: ${toolchain}.`);
    } else {
      const tfOut = join(work, "terraform");
      runMeasured(synthJs(tfOut), rssMethod);
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
      const keep = variant.id !== "floor" ? join(work, `warm-${variant.id}`) : undefined;
      runOne(variant, keep);
      if (keep) outputs.set(variant.id, keep);
    }
    for (const [id, dir] of outputs) {
      // Same configuration, same files: the other ways against node synth.js, tsx's pools against ours.
      const reference = id.startsWith("tsx-pools-") ? id.replace(/^tsx-/, "") : id.startsWith("pools-") ? undefined : "synth";
      if (reference !== undefined && id !== reference) assertSameOutput(outputs.get(reference) as string, dir, `${id} vs ${reference}`);
    }
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

    const measurements: Measurement[] = variants.map((variant) => ({
      id: variant.id,
      label: variant.label,
      command: variant.display,
      pools: variant.pools,
      stats: stats(samples.get(variant.id) as Sample[]),
    }));
    if (WITH_TESTS) measurements.push(...testSuiteRows(at, rssMethod));

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

/** The test suite, timed once each (CI=true: a missing Terraform fails instead of skipping). */
function testSuiteRows(at: (argv: string[]) => Command, rssMethod: ReturnType<typeof detectRssMethod>): Measurement[] {
  const rows = [
    { id: "test-unit", label: "Unit tests (Terraform gates skipped)", display: "npm run test:unit", argv: ["npm", "run", "--silent", "test:unit"] },
    { id: "test-all", label: "Whole test suite, Terraform gates included", display: "npm test", argv: ["npm", "test", "--silent"] },
  ];
  return rows.map((row) => {
    process.stderr.write(`${row.display} ... `);
    const command = at(row.argv);
    const sample = runMeasured({ ...command, env: { ...command.env, CI: "true" } }, rssMethod);
    process.stderr.write(`${(sample.wallMs / 1000).toFixed(0)} s\n`);
    return { id: row.id, label: row.label, command: row.display, stats: stats([sample]) };
  });
}

function targets(results: Results): Target[] {
  const ms = (id: string) => find(results, id)?.stats.medianMs;
  const rssMiB = (id: string, which: "peakRssKb" | "medianRssKb" = "peakRssKb") => {
    const kb = find(results, id)?.stats[which];
    return kb === undefined ? undefined : kb / 1024;
  };
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined ? a / b : undefined);
  const [t1, t100] = [ms("pools-1"), ms("pools-100")];
  const [r1, r100] = [rssMiB("pools-1", "medianRssKb"), rssMiB("pools-100", "medianRssKb")];
  const target = (id: string, description: string, unit: string, limit: number, value: number | undefined, atMost = true): Target[] =>
    value === undefined ? [] : [{ id, description, unit, limit, value, pass: atMost ? value <= limit : value < limit }];
  return [
    ...target("vs-ts-node", "Default config (node synth.js) wall time / ts-node way", "%", 25, mul(ratio(ms("synth"), ms("ts-node")))),
    ...target("vs-floor", "Default config (node synth.js) wall time / floor", "x", 2, ratio(ms("synth"), ms("floor"))),
    ...target("rss", "Default config (node synth.js) peak RSS", "MiB", 200, rssMiB("synth"), false),
    ...target("marginal-ms", "Marginal wall time per pool, (t100 - t1) / 99", "ms", 20, t1 !== undefined && t100 !== undefined ? (t100 - t1) / 99 : undefined),
    ...target("marginal-rss", "Marginal peak RSS per pool, (rss100 - rss1) / 99", "MiB", 2, r1 !== undefined && r100 !== undefined ? (r100 - r1) / 99 : undefined),
    ...target("pools-100", "100 pools (200 stacks), wall time", "s", 4, div(ms("pools-100")), false),
    // The unit run starts the real launcher and cdktf's CLI about 60 times (launcher, output folder).
    ...target("test-unit", "npm run test:unit (no Terraform), wall time", "s", 40, div(ms("test-unit")), false),
    // Real peers since 2026-11-30: a Prefect server per suite (about 10), three applies against moto, Checkov, the real worker.
    ...target("test-all", "npm test (whole suite, Terraform gates included), wall time", "s", 900, div(ms("test-all")), false),
  ];
}

const mul = (v: number | undefined) => (v === undefined ? undefined : v * 100);
const div = (v: number | undefined) => (v === undefined ? undefined : v / 1000);

if (process.argv.includes("--report-only")) {
  const results = JSON.parse(readFileSync(join(ROOT, "bench-results", "latest.json"), "utf8")) as Results;
  // The limits are this file's: a report re-rendered after a limit changed judges by the new one.
  publish({ ...results, targets: targets(results) });
} else {
  main();
}
