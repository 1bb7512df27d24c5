/**
 * `node synth.js`, the README's main command: main.ts as one esbuild bundle
 * run by plain node, rebuilt when a source changes, with V8's code cache.
 * The tests run it in one copy of the project (so they can edit sources),
 * in order: a fresh checkout, later runs, edits, two runs at once.
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesizeApps } from "../src/synthesize";
import { loadConfigs } from "../src/config/load";
import { expectSameFiles } from "./support/files";

const ROOT = join(__dirname, "..");

/** A copy of what `node synth.js` needs, sharing this project's node_modules unless told not to. */
function projectCopy({ installed = true } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-launcher-"));
  for (const entry of ["main.ts", "synth.js", "tsconfig.json", "package.json", "src"]) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  if (installed) symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

/** The environment without the app's own settings, as in a user's shell. */
function userEnv(): NodeJS.ProcessEnv {
  const { PREFECT_ECS_WORKER_CONFIG: _config, CDKTF_OUTDIR: _outdir, ...env } = process.env;
  return env;
}

function run(project: string, argv: string[]) {
  const result = spawnSync(argv[0], argv.slice(1), { cwd: project, encoding: "utf8", env: userEnv() });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function synth(project: string, outdir: string) {
  return run(project, [process.execPath, "synth.js", "--out", outdir]);
}

const buildFiles = (project: string) => readdirSync(join(project, ".build")).sort();
const mtime = (path: string) => statSync(path).mtimeMs;
const codeCaches = (project: string) => buildFiles(project).filter((name) => name.endsWith(".v8cache"));
const clusterName = (outdir: string) =>
  JSON.parse(readFileSync(join(outdir, "stacks", "my-ecs-pool-aws", "cdk.tf.json"), "utf8")).resource.aws_ecs_cluster.cluster.name;

const project = projectCopy();
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe("GIVEN a fresh checkout (no .build folder)", () => {
  const outdir = join(project, "out-first");
  let first: ReturnType<typeof run>;
  beforeAll(() => {
    first = synth(project, outdir);
  });

  it("WHEN node synth.js runs THEN it succeeds and leaves the bundle, its inputs and a code cache in .build", () => {
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(first.stdout).toBe(`Synthesized into ${outdir}/stacks/\n`);
    expect(buildFiles(project)).toEqual(expect.arrayContaining(["main.js", "main.inputs.json", "upsert-work-pool.sh"]));
    expect(codeCaches(project)).toHaveLength(1);
    const inputs = Object.keys(JSON.parse(readFileSync(join(project, ".build", "main.inputs.json"), "utf8")));
    expect(inputs).toEqual(expect.arrayContaining(["main.ts", "src/app.ts", "src/work-pool/upsert-work-pool.sh", "node_modules/.package-lock.json"]));
    expect(inputs.filter((file) => file.includes("node_modules/") && file !== "node_modules/.package-lock.json")).toEqual([]);
  });

  it("THEN it writes exactly what the sources synthesize in-process", () => {
    const fromSource = mkdtempSync(join(tmpdir(), "prefect-ecs-launcher-reference-"));
    synthesizeApps(loadConfigs(undefined), fromSource);
    expectSameFiles(outdir, fromSource, "node synth.js against the sources");
  });
});

describe("GIVEN a project where node synth.js has run", () => {
  const bundle = join(project, ".build", "main.js");

  it("WHEN it runs again with no change THEN it reuses the bundle and the code cache", () => {
    const [cache] = codeCaches(project);
    const before = { bundle: mtime(bundle), cache: mtime(join(project, ".build", cache)) };
    expect(synth(project, join(project, "out-again")).status).toBe(0);
    expect(codeCaches(project)).toEqual([cache]);
    expect({ bundle: mtime(bundle), cache: mtime(join(project, ".build", cache)) }).toEqual(before);
  });
  it("WHEN runs with other Node flags (cdktf synth sets NODE_OPTIONS) alternate with plain runs THEN each keeps its own code cache", () => {
    const [plainCache] = codeCaches(project);
    const plainCacheTime = mtime(join(project, ".build", plainCache));
    const withOptions = spawnSync(process.execPath, ["synth.js", "--out", join(project, "out-options")], {
      cwd: project,
      env: { ...userEnv(), NODE_OPTIONS: "--max-old-space-size=3072" },
    });
    expect(withOptions.status).toBe(0);
    expect(codeCaches(project)).toHaveLength(2);
    const caches = () => Object.fromEntries(codeCaches(project).map((name) => [name, mtime(join(project, ".build", name))]));
    const before = caches();
    expect(synth(project, join(project, "out-plain")).status).toBe(0);
    expect(caches()).toEqual(before);
    expect(before[plainCache]).toBe(plainCacheTime);
  });

  it("WHEN a source changes THEN it rebuilds the bundle, the output follows the change and the old code cache is gone", () => {
    const [oldCache] = codeCaches(project);
    const resolveTs = join(project, "src", "config", "resolve.ts");
    writeFileSync(resolveTs, readFileSync(resolveTs, "utf8").replace('name ?? "my-ecs-cluster"', 'name ?? "edited-cluster"'));
    const outdir = join(project, "out-edited");
    expect(synth(project, outdir).status).toBe(0);
    expect(clusterName(outdir)).toBe("edited-cluster");
    expect(codeCaches(project)).toHaveLength(1);
    expect(codeCaches(project)).not.toContain(oldCache);
  });

  it("WHEN V8 rejects the code cache (corrupted) THEN the output is still right and the cache is written anew", () => {
    const [cache] = codeCaches(project);
    const cachePath = join(project, ".build", cache);
    const garbage = Buffer.alloc(statSync(cachePath).size, 7);
    writeFileSync(cachePath, garbage);
    const outdir = join(project, "out-after-garbage");
    expect(synth(project, outdir).status).toBe(0);
    expect(clusterName(outdir)).toBe("edited-cluster");
    expect(readFileSync(cachePath).equals(garbage)).toBe(false);
  });

  it("WHEN a source does not compile THEN it exits 1 naming the file and line, and writes nothing", () => {
    const appTs = join(project, "src", "app.ts");
    const original = readFileSync(appTs, "utf8");
    writeFileSync(appTs, `${original}\nexport const broken = ;\n`);
    const outdir = join(project, "out-broken");
    const result = synth(project, outdir);
    writeFileSync(appTs, original);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^synth\.js: cannot bundle main\.ts:\nsrc\/app\.ts:\d+:\d+: /);
    expect(existsSync(outdir)).toBe(false);
  });
});

describe("GIVEN a checkout where npm ci has not run (no node_modules)", () => {
  it("WHEN node synth.js runs THEN it exits 1 and says to run npm ci", () => {
    const bare = projectCopy({ installed: false });
    const result = run(bare, [process.execPath, "synth.js", "--out", join(bare, "out")]);
    rmSync(bare, { recursive: true, force: true });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe("synth.js: esbuild is not installed here; run `npm ci` first\n");
  });
});

describe("GIVEN a fresh checkout and two synthesis runs started at once", () => {
  it("WHEN both build the bundle THEN both succeed with the same output", async () => {
    rmSync(join(project, ".build"), { recursive: true, force: true });
    const start = (outdir: string) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, ["synth.js", "--out", outdir], { cwd: project, stdio: "ignore", env: userEnv() });
        child.on("exit", resolve);
      });
    const outdirs = [join(project, "out-a"), join(project, "out-b")];
    expect(await Promise.all(outdirs.map(start))).toEqual([0, 0]);
    expectSameFiles(outdirs[1], outdirs[0], "the second run against the first");
    expect(readdirSync(join(project, ".build")).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });
});
