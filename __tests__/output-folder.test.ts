/**
 * The output folder holds exactly the last successful synthesis: earlier runs' stacks go (in both
 * forms, with their HCL metadata), the user's files stay (Terraform state above all), and a failed
 * synthesis changes nothing. Runs the real `node synth.js` (and once `cdktf synth`) in a copy of
 * the project.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectSameFiles, fileTree } from "./support/files";
import { projectCopy, run, synthJs } from "./support/launcher";

const project = projectCopy();
const SCRATCH = mkdtempSync(join(tmpdir(), "prefect-ecs-output-"));
afterAll(() => {
  rmSync(project, { recursive: true, force: true });
  rmSync(SCRATCH, { recursive: true, force: true });
});

const C1 = join(project, "c1.json");
writeFileSync(C1, JSON.stringify({ workPool: { name: "c1" } }));

const stackFolders = (outdir: string) => readdirSync(join(outdir, "stacks")).sort();
const manifestStacks = (outdir: string) => Object.keys(JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")).stacks).sort();
const scratch = (name: string) => mkdtempSync(join(SCRATCH, `${name}-`));

function synthOk(args: string[], env: NodeJS.ProcessEnv = {}): string {
  const result = synthJs(project, args, env);
  if (result.status !== 0) throw new Error(`node synth.js ${args.join(" ")} failed (${result.status}):\n${result.stderr}`);
  return result.stderr;
}

/** A fresh synthesis of `args` into an empty folder: what the output folder must hold afterwards. */
function fresh(args: string[], env: NodeJS.ProcessEnv = {}): string {
  const outdir = join(scratch("fresh"), "out");
  synthOk([...args, "--out", outdir], env);
  return outdir;
}

/** What Terraform leaves in a stack folder after init and apply with the local backend. */
function addTerraformFiles(stackDir: string): void {
  writeFileSync(join(stackDir, "terraform.tfstate"), '{"version":4,"resources":[{"type":"aws_ecs_cluster"}]}\n');
  writeFileSync(join(stackDir, ".terraform.lock.hcl"), "# lock\n");
  mkdirSync(join(stackDir, ".terraform", "providers"), { recursive: true });
  writeFileSync(join(stackDir, ".terraform", "providers", "marker"), "provider\n");
}

describe("GIVEN an output folder of the guide's defaults", () => {
  it("WHEN another configuration is synthesized into it THEN it holds exactly that configuration's stacks and manifest", () => {
    const outdir = join(scratch("switch"), "out");
    synthOk(["--out", outdir]);
    expect(synthOk(["--config", C1, "--out", outdir])).toBe("");
    expect(stackFolders(outdir)).toEqual(["c1-aws", "c1-work-pool"]);
    expect(manifestStacks(outdir)).toEqual(["c1-aws", "c1-work-pool"]);
    expectSameFiles(outdir, fresh(["--config", C1]), "the output after a second configuration against a fresh synthesis of it");
  });

  it("WHEN the earlier stacks hold Terraform state THEN their folders stay whole, each named in a warning, and the rest goes", () => {
    const outdir = join(scratch("state"), "out");
    synthOk(["--out", outdir]);
    const awsDir = join(outdir, "stacks", "my-ecs-pool-aws");
    addTerraformFiles(awsDir);
    const kept = fileTree(awsDir);

    const warnings = synthOk(["--config", C1, "--out", outdir]);

    expect(stackFolders(outdir)).toEqual(["c1-aws", "c1-work-pool", "my-ecs-pool-aws"]);
    expect(manifestStacks(outdir)).toEqual(["c1-aws", "c1-work-pool"]);
    expect(fileTree(awsDir)).toEqual(kept);
    expect(warnings.split("\n").filter((line) => line.startsWith("Warning: "))).toEqual([
      `Warning: ${awsDir} is no longer synthesized but holds .terraform, .terraform.lock.hcl, terraform.tfstate (Terraform state of real infrastructure): ` +
        `left in place. Destroy its resources (terraform -chdir=${awsDir} destroy) or move the folder away, then delete it.`,
    ]);
    // Still warned about on the next run, and removed once only synthesized files are left in it.
    expect(synthOk(["--config", C1, "--out", outdir])).toContain(`Warning: ${awsDir} is no longer synthesized`);
    for (const name of ["terraform.tfstate", ".terraform.lock.hcl", ".terraform"]) rmSync(join(awsDir, name), { recursive: true });
    expect(synthOk(["--config", C1, "--out", outdir])).toBe("");
    expectSameFiles(outdir, fresh(["--config", C1]), "the output once the kept folder is emptied against a fresh synthesis");
  });

  it("WHEN synthesized again THEN the current stacks' state, .terraform and plan files are untouched", () => {
    const outdir = join(scratch("current"), "out");
    synthOk(["--out", outdir]);
    const awsDir = join(outdir, "stacks", "my-ecs-pool-aws");
    addTerraformFiles(awsDir);
    writeFileSync(join(awsDir, "plan.bin"), "plan\n");
    const userFiles = new Map([...fileTree(awsDir)].filter(([path]) => path !== "cdk.tf.json"));
    synthOk(["--out", outdir]);
    expect(new Map([...fileTree(awsDir)].filter(([path]) => path !== "cdk.tf.json"))).toEqual(userFiles);
  });
});

describe("GIVEN an output folder written as HCL (cdk.tf, metadata.json)", () => {
  it("WHEN synthesized as JSON THEN no HCL file or metadata.json is left, and the other way round", () => {
    const outdir = join(scratch("forms"), "out");
    const hcl = { SYNTH_HCL_OUTPUT: "true" };
    synthOk(["--out", outdir], hcl);
    expect(readdirSync(join(outdir, "stacks", "my-ecs-pool-aws")).sort()).toEqual(["cdk.tf", "metadata.json"]);
    synthOk(["--out", outdir]);
    expectSameFiles(outdir, fresh([]), "JSON over HCL against a fresh JSON synthesis");
    synthOk(["--out", outdir], hcl);
    expectSameFiles(outdir, fresh([], hcl), "HCL over JSON against a fresh HCL synthesis");
  });
});

describe("GIVEN --out pointing at a folder of the user's (the project root, say)", () => {
  it("WHEN two configurations are synthesized into it in turn THEN only synthesis's own files change", () => {
    const root = scratch("root");
    writeFileSync(join(root, "README.md"), "mine\n");
    mkdirSync(join(root, "stacks", "mine"), { recursive: true });
    writeFileSync(join(root, "stacks", "mine", "notes.txt"), "mine too\n");
    mkdirSync(join(root, "stacks", "empty-of-mine"));
    const before = fileTree(root);

    synthOk(["--out", root]);
    synthOk(["--config", C1, "--out", root]);

    const after = fileTree(root);
    for (const [path, content] of before) expect(after.get(path)).toBe(content);
    expect(existsSync(join(root, "stacks", "empty-of-mine"))).toBe(true);
    const expected = fileTree(fresh(["--config", C1]));
    expect([...after.keys()].filter((path) => !before.has(path)).sort()).toEqual([...expected.keys()].sort());
    expect(readdirSync(root).filter((name) => name.startsWith(".synth-"))).toEqual([]);
  });

  it("WHEN it holds a manifest.json that is not cdktf's THEN it exits 2 with one line and changes nothing", () => {
    const root = scratch("foreign-manifest");
    writeFileSync(join(root, "manifest.json"), '{"name":"my-web-app","icons":[]}\n');
    const before = fileTree(root);
    const result = synthJs(project, ["--out", root]);
    expect({ status: result.status, stderr: result.stderr }).toEqual({
      status: 2,
      stderr: `synth.js: ${join(root, "manifest.json")} is not a cdktf manifest: choose an empty folder or an earlier synthesis's output folder\n`,
    });
    expect(fileTree(root)).toEqual(before);
    expect(readdirSync(root)).toEqual(["manifest.json"]);
  });
});

describe("GIVEN a synthesis that fails after writing some stacks (an injected fault)", () => {
  const workPoolStack = join(project, "src", "work-pool", "work-pool-stack.ts");
  const original = readFileSync(workPoolStack, "utf8");
  const outdir = join(scratch("failed"), "out");
  let before: Map<string, string>;
  let failed: ReturnType<typeof synthJs>;
  let failedNew: ReturnType<typeof synthJs>;
  const newOutdir = join(scratch("failed-new"), "deep", "out");
  beforeAll(() => {
    synthOk(["--config", C1, "--out", outdir]);
    before = fileTree(outdir);
    // The work-pool stack is synthesized after the AWS stack: its failure comes once the AWS stack is written.
    writeFileSync(
      workPoolStack,
      original.replace(/export class WorkPoolStack extends (\w+) \{/, (line) => `${line}\n  public toTerraform(): never {\n    throw new Error("injected fault");\n  }\n`),
    );
    failed = synthJs(project, ["--out", outdir]);
    failedNew = synthJs(project, ["--out", newOutdir]);
  });
  afterAll(() => writeFileSync(workPoolStack, original));

  it("WHEN it fails over an earlier output THEN the earlier output is byte for byte what it was", () => {
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain("injected fault");
    expect(fileTree(outdir)).toEqual(before);
    expect(readdirSync(outdir).sort()).toEqual(["manifest.json", "stacks"]);
  });

  it("WHEN it fails into a folder that did not exist THEN no folder is left", () => {
    expect(failedNew.status).toBe(1);
    expect(existsSync(join(newOutdir, ".."))).toBe(false);
  });
});

describe("GIVEN cdktf synth (whose CLI deletes every folder under stacks/ the new manifest does not list)", () => {
  it("WHEN an earlier stack that holds state would vanish THEN it refuses, naming the folder, and the folder and output are untouched", () => {
    const outdir = join(project, "cdktf.out");
    synthOk(["--out", outdir]);
    const awsDir = join(outdir, "stacks", "my-ecs-pool-aws");
    addTerraformFiles(awsDir);
    const before = fileTree(outdir);
    const result = run(project, ["npx", "cdktf", "synth"], { PREFECT_ECS_WORKER_CONFIG: C1, CHECKPOINT_DISABLE: "1", CI: "1" });
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain(`stacks/my-ecs-pool-aws (.terraform, .terraform.lock.hcl, terraform.tfstate)`);
    expect(fileTree(outdir)).toEqual(before);
  });
});
