/**
 * The synthesized output stands on its own: produced by the README's commands,
 * deterministic, free of machine-specific values and secrets, and accepted by
 * real Terraform.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { homedir, tmpdir, userInfo } from "node:os";
import { dirname, join } from "node:path";
import { expectSameFiles, fileTree } from "./support/files";
import { CLOUD_API_URL, synthesize, TerraformJson } from "./support/synth";
import { describeWithTerraform, init, terraformOk } from "./support/terraform";

const ROOT = join(__dirname, "..");

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function stackJson(outdir: string, stack = "my-ecs-pool-aws"): TerraformJson {
  return JSON.parse(readFileSync(join(outdir, "stacks", stack, "cdk.tf.json"), "utf8")) as TerraformJson;
}

describe("GIVEN the main command (node synth.js)", () => {
  it("WHEN run without a configuration file THEN it writes the AWS stack with the guide's defaults", () => {
    const outdir = mkdtempSync(join(tmpdir(), "prefect-ecs-main-"));
    const result = run(process.execPath, ["synth.js", "--out", outdir]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const json = stackJson(outdir);
    expect(json.resource.aws_ecs_cluster.cluster.name).toBe("my-ecs-cluster");
    expect(json.resource.aws_ecs_service.worker.name).toBe("prefect-worker-service");
    expect(JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")).stacks["my-ecs-pool-aws"].workingDirectory).toBe(
      "stacks/my-ecs-pool-aws",
    );
  });

  it("WHEN given a YAML file through PREFECT_ECS_WORKER_CONFIG THEN it uses it", () => {
    const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-config-"));
    const configPath = join(dir, "worker.yaml");
    writeFileSync(configPath, `workPool:\n  name: team-a\nprefect:\n  apiUrl: ${CLOUD_API_URL}\n`);
    const result = run(process.execPath, ["synth.js", "--out", join(dir, "out")], { PREFECT_ECS_WORKER_CONFIG: configPath });
    expect(result.status).toBe(0);
    const json = stackJson(join(dir, "out"), "team-a-aws");
    expect(json.resource.aws_sqs_queue.events_queue.name).toBe("team-a-events");
    expect(json.variable.prefect_api_url.default).toBe(CLOUD_API_URL);
  });

  it("WHEN Terraform is not on PATH THEN synthesis still works (it needs neither Terraform nor network)", () => {
    const nodeDir = dirname(process.execPath);
    const outdir = mkdtempSync(join(tmpdir(), "prefect-ecs-main-"));
    const result = spawnSync(process.execPath, ["synth.js", "--out", outdir], {
      cwd: ROOT,
      encoding: "utf8",
      env: { PATH: nodeDir, HOME: process.env.HOME },
    });
    expect(spawnSync("terraform", ["version"], { env: { PATH: nodeDir } }).error).toBeDefined();
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(stackJson(outdir).resource.aws_ecs_service.worker).toBeDefined();
  });

  it('WHEN iam.policies is "guide" THEN it warns that the worker role gets the guide\'s broad policy', () => {
    const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-config-"));
    const configPath = join(dir, "guide.json");
    writeFileSync(configPath, JSON.stringify({ iam: { policies: "guide" } }));
    const result = run(process.execPath, ["synth.js", "--config", configPath, "--out", join(dir, "out")]);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('Warning (my-ecs-pool-aws): iam.policies is "guide"');
  });

  it("WHEN the configuration is invalid THEN it exits 1 naming the file, the field, the value and what is allowed", () => {
    const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-config-"));
    const configPath = join(dir, "bad.json");
    writeFileSync(configPath, JSON.stringify({ network: { vpcId: "vpc-123", subnetIds: ["subnet-nope"] } }));
    const result = run(process.execPath, ["synth.js", "--config", configPath, "--out", join(dir, "out")]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`Invalid configuration (${configPath})`);
    expect(result.stderr).toContain('network.subnetIds[0] (got "subnet-nope"): must be a subnet ID');
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/); // a message, not a stack trace
  });
});

describe("GIVEN any synthesized output", () => {
  const configs = {
    defaults: {},
    "self-hosted SSM": {
      prefect: { server: "self-hosted" as const, apiUrl: "http://prefect.internal:4200/api" },
      secret: { store: "ssm" as const },
    },
  };

  it.each(Object.entries(configs))("WHEN %s is synthesized twice THEN the files are byte-identical", (_name, config) => {
    expectSameFiles(synthesize(config).outdir, synthesize(config).outdir, "second synthesis against the first");
  });

  it.each(Object.entries(configs))("WHEN %s is synthesized THEN no file holds an absolute path or a machine-specific value", (_name, config) => {
    const { outdir, json } = synthesize(config);
    // Paths under the temporary folder leak; "/tmp" itself is the worker container's scratch mount.
    const machineSpecific = [outdir, ROOT, `${tmpdir()}/`, homedir(), `/${userInfo().username}/`, "/work/", "/tmp/"];
    for (const [path, content] of fileTree(outdir)) {
      for (const value of machineSpecific) {
        if (content.includes(value)) throw new Error(`${path} contains the machine-specific value ${value}`);
      }
    }
    // The state path is relative: the state lands beside the stack wherever Terraform runs.
    expect(json.terraform.backend).toEqual({ local: { path: "terraform.tfstate" } });
  });
});

describeWithTerraform("Terraform gate: the README's commands", () => {
  it("GIVEN node synth.js with no configuration WHEN Terraform validates the stack THEN it is valid", () => {
    const outdir = mkdtempSync(join(tmpdir(), "prefect-ecs-main-"));
    expect(run(process.execPath, ["synth.js", "--out", outdir]).status).toBe(0);
    const stackDir = join(outdir, "stacks", "my-ecs-pool-aws");
    init(stackDir);
    const report = JSON.parse(terraformOk(stackDir, ["validate", "-json", "-no-color"]).stdout);
    expect(report).toMatchObject({ valid: true, error_count: 0, warning_count: 0 });
  });

  it("GIVEN cdktf synth WHEN run THEN it writes the same stack as node synth.js", () => {
    const viaCdktf = mkdtempSync(join(tmpdir(), "prefect-ecs-cdktf-"));
    const viaNode = mkdtempSync(join(tmpdir(), "prefect-ecs-main-"));
    const cdktf = run("npx", ["cdktf", "synth", "--output", viaCdktf], { CHECKPOINT_DISABLE: "1", CI: "1" });
    expect(cdktf.status).toBe(0);
    expect(run(process.execPath, ["synth.js", "--out", viaNode]).status).toBe(0);
    expect(stackJson(viaCdktf)).toEqual(stackJson(viaNode));
  });
});
