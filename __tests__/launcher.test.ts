/**
 * `node synth.js`, the README's main command: main.ts as one esbuild bundle
 * run by plain node, rebuilt when a source changes. The tests run it in one
 * copy of the project (so they can edit sources), in order: a fresh checkout,
 * later runs, edits, two runs at once.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesizeApps } from "../src/synthesize";
import { loadConfigs } from "../src/config/load";
import { expectSameFiles } from "./support/files";
import { projectCopy, run, synthJs, userEnv } from "./support/launcher";

const synth = (project: string, outdir: string) => synthJs(project, ["--out", outdir]);

const buildFiles = (project: string) => readdirSync(join(project, ".build")).sort();
const mtime = (path: string) => statSync(path).mtimeMs;
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

  it("WHEN node synth.js runs THEN it succeeds and leaves the bundle, its inputs and the script beside it in .build, and nothing else", () => {
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(first.stdout).toBe(`Synthesized into ${outdir}/stacks/\n`);
    expect(buildFiles(project)).toEqual(["main.inputs.json", "main.js", "upsert-work-pool.sh"]);
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

describe("GIVEN node synth.js called the wrong way", () => {
  const entries = () => readdirSync(project).sort();
  let help: string;
  let before: string[];
  beforeAll(() => {
    writeFileSync(join(project, "c.json"), JSON.stringify({ workPool: { name: "from-c" } }));
    writeFileSync(join(project, "d.json"), JSON.stringify({ workPool: { name: "from-d" } }));
    help = synthJs(project, ["--help"]).stdout;
    before = entries();
  });

  it.each([
    [["--frobnicate"], {}, "Unknown option '--frobnicate'"],
    [["--conifg", "c.json"], {}, "Unknown option '--conifg'"],
    [["c.json"], {}, "Unexpected argument 'c.json'. This command does not take positional arguments"],
    [["--config"], {}, "Option '--config <value>' argument missing"],
    [["--config", "--out", "out-x"], {}, "Option '--config' argument is ambiguous."],
    [["--config", ""], {}, "--config needs a non-empty value"],
    [["--config="], {}, "--config needs a non-empty value"],
    [["--out"], {}, "Option '--out <value>' argument missing"],
    [["--out", ""], {}, "--out needs a non-empty value"],
    [["--config", "c.json", "--config", "d.json"], {}, "--config given more than once"],
    [[], { PREFECT_ECS_WORKER_CONFIG: "" }, "PREFECT_ECS_WORKER_CONFIG is set but empty: set it to a configuration file, or unset it for the guide's defaults"],
  ])("WHEN called with %j and environment %j THEN it exits 2 with one line saying what is wrong, then the usage, and writes nothing", (args, env, message) => {
    const result = synthJs(project, args, env);
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 2, stdout: "", stderr: `synth.js: ${message}\n\n${help}` });
    expect(entries()).toEqual(before);
  });

  it.each([["--help"], ["-h"]])("WHEN called with %s THEN it prints the usage (flags, environment variable, examples, docs) and writes nothing", (flag) => {
    const result = synthJs(project, [flag, "--config", "c.json"]);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(help);
    const lines = help.split("\n");
    for (const option of ["--config FILE", "--out DIR", "-h, --help", "--version"]) expect(lines.some((line) => line.trimStart().startsWith(option))).toBe(true);
    expect(lines.some((line) => line.trimStart().startsWith("PREFECT_ECS_WORKER_CONFIG "))).toBe(true);
    expect(lines.filter((line) => line.trimStart().startsWith("node synth.js")).length).toBeGreaterThanOrEqual(2);
    expect(lines.find((line) => line.startsWith("Docs: "))).toContain("help/configuration.md");
    expect(entries()).toEqual(before);
  });

  it("WHEN called with --version THEN it prints the package's version and writes nothing", () => {
    const result = synthJs(project, ["--version"]);
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({
      status: 0,
      stdout: `${JSON.parse(readFileSync(join(project, "package.json"), "utf8")).version}\n`,
      stderr: "",
    });
    expect(entries()).toEqual(before);
  });

  it("WHEN the configuration comes as --config=FILE THEN it is used", () => {
    const outdir = join(project, "out-equals");
    expect(synthJs(project, ["--config=c.json", "--out", outdir]).status).toBe(0);
    expect(readdirSync(join(outdir, "stacks")).sort()).toEqual(["from-c-aws", "from-c-work-pool"]);
  });

  it("WHEN --out names a folder whose parents are missing THEN it creates them", () => {
    const outdir = join(project, "out-deep", "er", "out");
    expect(synthJs(project, ["--out", outdir]).status).toBe(0);
    expect(readdirSync(join(outdir, "stacks")).sort()).toEqual(["my-ecs-pool-aws", "my-ecs-pool-work-pool"]);
  });

  it.each([
    ["is a file", (file: string) => file, (file: string) => `output folder ${file} is a file, not a folder`],
    ["is inside a file", (file: string) => join(file, "out"), (file: string) => `cannot create output folder ${join(file, "out")}: ENOTDIR: not a directory, mkdir '${join(file, "out")}'`],
  ])("WHEN --out %s THEN it exits 2 with one line naming it, and the file is unchanged", (_what, outOf, messageOf) => {
    const file = join(project, "c.json");
    const content = readFileSync(file, "utf8");
    const result = synthJs(project, ["--out", outOf(file)]);
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 2, stdout: "", stderr: `synth.js: ${messageOf(file)}\n` });
    expect(readFileSync(file, "utf8")).toBe(content);
  });

  it.each([
    ["a file that does not exist", "missing.json", undefined],
    ["a folder", "src", undefined],
    ["invalid JSON", "broken.json", "{ \"workPool\": "],
    ["invalid YAML", "broken.yaml", "workPool: [\n"],
    ["an empty YAML file", "empty.yaml", "# nothing yet\n"],
  ])("WHEN --config names %s THEN it exits 1 with the configuration error, no stack trace, and writes nothing", (_what, name, content) => {
    if (content !== undefined) writeFileSync(join(project, name), content);
    const outdir = join(project, "out-config-mistake");
    const result = synthJs(project, ["--config", name, "--out", outdir]);
    expect(result.status).toBe(1);
    expect(result.stderr.split("\n")[0]).toMatch(/^Invalid configuration( \(.*\))?:$/);
    expect(result.stderr.split("\n")[1]).toMatch(new RegExp(`^  - \\(file\\) \\(got "${name.replace(".", "\\.")}"\\): (cannot be read|is not valid (JSON|YAML)): `));
    expect(result.stderr.split("\n").filter((line) => /^\s+at /.test(line) || line.includes("main.js"))).toEqual([]);
    expect(existsSync(outdir)).toBe(false);
    if (content !== undefined) rmSync(join(project, name));
  });
});

describe("GIVEN a project where node synth.js has run", () => {
  const bundle = join(project, ".build", "main.js");

  it("WHEN it runs again with no change THEN it reuses the bundle", () => {
    const before = mtime(bundle);
    expect(synth(project, join(project, "out-again")).status).toBe(0);
    expect(mtime(bundle)).toBe(before);
  });

  it("WHEN a source changes THEN it rebuilds the bundle and the output follows the change", () => {
    const resolveTs = join(project, "src", "config", "resolve.ts");
    writeFileSync(resolveTs, readFileSync(resolveTs, "utf8").replace('name ?? "my-ecs-cluster"', 'name ?? "edited-cluster"'));
    const outdir = join(project, "out-edited");
    expect(synth(project, outdir).status).toBe(0);
    expect(clusterName(outdir)).toBe("edited-cluster");
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

describe("GIVEN npm run synth:hcl (scripts/synth-hcl.sh) called the wrong way", () => {
  const ROOT = join(__dirname, "..");
  const hcl = (args: string[]) => run(ROOT, ["sh", "scripts/synth-hcl.sh", ...args]);
  const help = () => hcl(["--help"]).stdout;

  it.each([
    [["--frobnicate"], "unknown argument --frobnicate"],
    [["prefect-ecs-worker.json"], "unknown argument prefect-ecs-worker.json"],
    [["--config"], "--config needs a value"],
    [["--config="], "--config needs a non-empty value"],
    [["--out", ""], "--out needs a non-empty value"],
    [["--out=a", "--out", "b"], "--out given more than once"],
  ])("WHEN called with %j THEN it exits 2 with one line and the usage, before running cdktf", (args, message) => {
    const result = hcl(args);
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 2, stdout: "", stderr: `synth:hcl: ${message}\n\n${help()}` });
  });

  it("WHEN called with --help THEN it prints its usage, which points at node synth.js --help", () => {
    const result = hcl(["--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout.split("\n")[0]).toBe("Usage: npm run synth:hcl [-- [--config FILE] [--out DIR]]");
    expect(result.stdout).toContain("node synth.js --help");
  });
});
