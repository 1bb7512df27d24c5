/**
 * Where synthesis time goes: the experiments behind help/performance.md.
 *   npx tsx bench/profile.ts        (about a minute; writes bench-results/profile.json)
 * 1. Start-up: node, tsx and npx tsx doing nothing; module load times under node and tsx.
 * 2. CPU profiles (node --cpu-prof) of the default configuration from source under tsx and as
 *    `node synth.js` runs it, self time by package, and the calls to child_process.spawnSync.
 * 3. 100 pools (a bundle of bench/synth-pools.ts): as synthesizeApps does it, with each of its
 *    speed-ups undone, and split over two processes (the machine's cores).
 */
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildSync } from "esbuild";
import { median } from "./measure";

const ROOT = resolve(__dirname, "..");
const node = process.execPath;
const tsx = join(ROOT, "node_modules", ".bin", "tsx");
const work = mkdtempSync(join(tmpdir(), "prefect-ecs-profile-"));

function wall(argv: string[], env: NodeJS.ProcessEnv = process.env): { ms: number; stdout: string } {
  const start = performance.now();
  const result = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${argv.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  return { ms, stdout: result.stdout };
}

function medianWall(argv: string[], runs = 5): number {
  wall(argv);
  return median(Array.from({ length: runs }, () => wall(argv).ms));
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function category(url: string, functionName: string): string {
  if (!url) return `(${functionName || "native"})`;
  const pkg = url.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1];
  if (url.startsWith("node:")) return "node internals";
  if (url.includes("/src/") || url.endsWith("main.ts")) return "this app (src/, main.ts)";
  if (url.includes("/bundle/")) return "the bundle (cdktf, provider, zod, app)";
  return url;
}

/** Self time by package, and which call paths reach spawnSync. */
function summarize(file: string): { totalMs: number; byPackage: [string, number][]; spawnSyncMs: number; spawnSyncVia: string[] } {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byPackage = new Map<string, number>();
  let totalMs = 0;
  let spawnSyncMs = 0;
  const via = new Set<string>();
  for (const n of profile.nodes) {
    const ms = self.get(n.id) ?? 0;
    totalMs += ms;
    const key = category(n.callFrame.url, n.callFrame.functionName);
    byPackage.set(key, (byPackage.get(key) ?? 0) + ms);
    if (n.callFrame.functionName === "spawnSync" && n.callFrame.url === "node:internal/child_process" && ms > 0) {
      spawnSyncMs += ms;
      const chain: string[] = [];
      for (let id = parent.get(n.id); id !== undefined && chain.length < 8; id = parent.get(id)) {
        const frame = (byId.get(id) as ProfileNode).callFrame;
        if (frame.functionName) chain.push(frame.functionName);
      }
      via.add(chain.join(" < "));
    }
  }
  return { totalMs, byPackage: [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 8), spawnSyncMs, spawnSyncVia: [...via] };
}

function cpuProfile(name: string, argv: string[]): ReturnType<typeof summarize> {
  const dir = join(work, `cpu-${name}`);
  wall([node, "--cpu-prof", `--cpu-prof-dir=${dir}`, ...argv]);
  return summarize(join(dir, readdirSync(dir)[0]));
}

async function concurrently(commands: string[][]): Promise<number> {
  const start = performance.now();
  await Promise.all(
    commands.map(
      (argv) =>
        new Promise<void>((done, fail) => {
          const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: "ignore" });
          child.on("exit", (code) => (code === 0 ? done() : fail(new Error(`${argv.join(" ")} exited ${code}`))));
        }),
    ),
  );
  return performance.now() - start;
}

async function main(): Promise<void> {
  const report: Record<string, unknown> = {};
  const bundleDir = join(work, "bundle");
  mkdirSync(bundleDir);
  const common = { bundle: true, platform: "node", target: "node20", logLevel: "warning" } as const;
  buildSync({ ...common, entryPoints: [join(ROOT, "bench", "synth-pools.ts")], outfile: join(bundleDir, "synth-pools.js") });
  copyFileSync(join(ROOT, "src", "work-pool", "upsert-work-pool.sh"), join(bundleDir, "upsert-work-pool.sh"));
  const out = (name: string) => join(work, `out-${name}-${Math.random().toString(36).slice(2)}`);

  console.log("1. Start-up, median of 5 (ms)");
  const startup = {
    "node -e 0": medianWall([node, "-e", "0"]),
    "tsx -e 0": medianWall([tsx, "-e", "0"]),
    "npx tsx -e 0": medianWall(["npx", "tsx", "-e", "0"]),
  };
  for (const [k, v] of Object.entries(startup)) console.log(`   ${k.padEnd(28)} ${v.toFixed(0)}`);
  const loadScript = (modules: string[]) =>
    `const r={};for(const m of ${JSON.stringify(modules)}){const t=performance.now();require(m);r[m]=performance.now()-t}console.log(JSON.stringify(r))`;
  const modules = ["cdktf", "zod", "yaml", "@cdktf/provider-aws/lib/provider", "@cdktf/provider-aws/lib/iam-role", "./src/config/resolve", "./src/app"];
  const nodeModules = modules.filter((m) => !m.startsWith("./"));
  const loads = {
    node: median3(() => JSON.parse(wall([node, "-e", loadScript(nodeModules)]).stdout) as Record<string, number>),
    tsx: median3(() => JSON.parse(wall([tsx, "-e", loadScript(modules)]).stdout) as Record<string, number>),
  };
  console.log("   require() in order, median of 3 (ms)      node    tsx");
  for (const m of modules) console.log(`   ${m.padEnd(40)} ${fmt(loads.node[m])} ${fmt(loads.tsx[m])}`);
  report.startup = startup;
  report.requireMs = loads;

  console.log("\n2. CPU profiles of the default configuration: self time by package (ms)");
  const profiles = {
    tsx: cpuProfile("tsx", ["--require", "tsx/cjs", "main.ts", "--out", out("tsx")]),
    "node synth.js": cpuProfile("synth-js", [join(ROOT, "synth.js"), "--out", out("synth-js")]),
  };
  for (const [name, p] of Object.entries(profiles)) {
    console.log(`   ${name}: ${p.totalMs.toFixed(0)} ms sampled`);
    for (const [pkg, ms] of p.byPackage) console.log(`     ${fmt(ms)}  ${pkg}`);
    console.log(`     spawnSync: ${p.spawnSyncMs.toFixed(0)} ms via ${p.spawnSyncVia.join(" | ") || "-"}`);
  }
  report.cpuProfiles = profiles;

  console.log("\n3. 100 pools (200 stacks), bundle of bench/synth-pools.ts, median of 3 (s)");
  const pools = (flags: string[]) => [node, join(bundleDir, "synth-pools.js"), "100", out("p"), ...flags];
  const experiments: [string, () => number][] = [
    ["as node synth.js synthesizes", () => wall(pools([])).ms],
    ["- resolve once (cdktf resolves 3 times)", () => wall(pools(["--resolve-three-times"])).ms],
    ["- no token creation stacks", () => wall(pools(["--full-token-stacks"])).ms],
    ["cdktf's own way (both undone)", () => wall(pools(["--resolve-three-times", "--full-token-stacks"])).ms],
  ];
  const scaling: Record<string, number> = {};
  for (const [name, run] of experiments) {
    scaling[name] = median([run(), run(), run()]);
    console.log(`   ${name.padEnd(40)} ${(scaling[name] / 1000).toFixed(2)}`);
  }
  const halves = async () =>
    concurrently([0, 1].map(() => [node, join(bundleDir, "synth-pools.js"), "50", out("h")]));
  const two = median([await halves(), await halves(), await halves()]);
  scaling["+ two processes of 50 pools each"] = two;
  console.log(`   ${"+ two processes of 50 pools each".padEnd(40)} ${(two / 1000).toFixed(2)}`);
  const one = median([1, 2, 3].map(() => wall([node, join(bundleDir, "synth-pools.js"), "1", out("one")]).ms));
  scaling["1 pool, as node synth.js synthesizes"] = one;
  console.log(`   ${"1 pool, as node synth.js synthesizes".padEnd(40)} ${(one / 1000).toFixed(2)}`);
  report.pools100Ms = scaling;

  mkdirSync(join(ROOT, "bench-results"), { recursive: true });
  writeFileSync(join(ROOT, "bench-results", "profile.json"), `${JSON.stringify(report, null, 2)}\n`);
  console.log("\nWrote bench-results/profile.json");
}

function median3(run: () => Record<string, number>): Record<string, number> {
  const runs = [run(), run(), run()];
  return Object.fromEntries(Object.keys(runs[0]).map((k) => [k, median(runs.map((r) => r[k]))]));
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? "     -" : ms.toFixed(0).padStart(6);
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(work, { recursive: true, force: true }));
