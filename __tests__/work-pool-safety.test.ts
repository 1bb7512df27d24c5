/**
 * End to end against a real Prefect server (prefect server start on loopback) and real Terraform:
 * a work pool is never deleted by accident (a new API URL, auth mode, CSRF flag, template or AWS
 * default keeps its id and its deployments), the drift check reports UI edits without changing
 * anything, and workPool.enforceOnEveryApply puts them back.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfig } from "../src/config/resolve";
import { PrefectEcsWorkerConfigInput } from "../src/config/schema";
import { synthesizeApps } from "../src/synthesize";
import { SYNTHESIZED_STACK_FILES } from "../src/output-folder";
import { awsStackName } from "../src/stacks/worker-aws-stack";
import { workPoolStackName } from "../src/work-pool/work-pool-stack";
import { awsOutputsState, exampleAwsOutputs } from "./support/aws-state";
import { describeWithPeers, PrefectServer, runPython, startPrefectServer } from "./support/peers";
import { describeWithTerraform, init, terraform, TerraformResult } from "./support/terraform";

const AUTH_STRING = "admin:safety-test-not-a-real-password";

/** One work-pool stack folder that keeps its state while the configuration changes, as a user's would. */
class WorkPoolFolder {
  readonly root = mkdtempSync(join(tmpdir(), "pool-safety-"));
  private stackDir = "";
  private awsDir = "";

  /** Synthesizes `config` and puts the new synthesized files beside the old state. */
  synth(config: PrefectEcsWorkerConfigInput, outputs: Record<string, unknown>): this {
    const resolved = resolveConfig(config);
    const outdir = mkdtempSync(join(tmpdir(), "pool-safety-synth-"));
    synthesizeApps([resolved], outdir);
    const name = workPoolStackName(awsStackName(resolved));
    this.stackDir = join(this.root, name);
    this.awsDir = join(this.root, awsStackName(resolved));
    mkdirSync(this.stackDir, { recursive: true });
    mkdirSync(this.awsDir, { recursive: true });
    // Every file synthesis writes (cdk.tf.json, the script, the template file), as a new synthesis replaces them.
    for (const entry of SYNTHESIZED_STACK_FILES) {
      rmSync(join(this.stackDir, entry), { recursive: true, force: true });
      const synthesized = join(outdir, "stacks", name, entry);
      if (existsSync(synthesized)) cpSync(synthesized, join(this.stackDir, entry), { recursive: true });
    }
    rmSync(outdir, { recursive: true, force: true });
    writeFileSync(join(this.awsDir, "terraform.tfstate"), awsOutputsState(outputs));
    if (!existsSync(join(this.stackDir, ".terraform"))) init(this.stackDir);
    return this;
  }

  apply(env: NodeJS.ProcessEnv = {}): TerraformResult {
    return terraform(this.stackDir, ["apply", "-auto-approve", "-input=false", "-no-color"], env);
  }

  applyOk(env: NodeJS.ProcessEnv = {}): TerraformResult {
    return expectOk(this.apply(env));
  }

  destroyOk(env: NodeJS.ProcessEnv = {}): TerraformResult {
    return expectOk(terraform(this.stackDir, ["destroy", "-auto-approve", "-input=false", "-no-color"], env));
  }

  /** The documented drift check: (cd <stack folder> && terraform output -raw drift_check | sh). */
  driftCheck(env: NodeJS.ProcessEnv = {}): { status: number; output: string } {
    const command = expectOk(terraform(this.stackDir, ["output", "-raw", "drift_check"])).stdout;
    const result = spawnSync("sh", ["-c", command], { cwd: this.stackDir, encoding: "utf8", env: { PATH: process.env.PATH, ...env } });
    return { status: result.status ?? -1, output: result.stdout + result.stderr };
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

function expectOk(result: TerraformResult): TerraformResult {
  if (result.status !== 0) throw new Error(`terraform failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** A small client of the real server's REST API, for what a user would do in the UI or with the CLI. */
class Prefect {
  constructor(
    readonly url: string,
    private readonly authString?: string,
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (this.authString) headers.Authorization = `Basic ${Buffer.from(this.authString).toString("base64")}`;
    const send = () => fetch(`${this.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    // Once more when a kept-alive connection was closed by the server's idle timeout just then.
    const response = await send().catch(send);
    const text = await response.text();
    return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async pool(name: string): Promise<Record<string, unknown> | undefined> {
    const { status, json } = await this.call("GET", `/work_pools/${encodeURIComponent(name)}`);
    return status === 200 ? json : undefined;
  }

  /** A deployment of a new flow in the pool; returns its id. */
  async deploy(pool: string): Promise<string> {
    const flow = await this.call("POST", "/flows/", { name: `flow-${Date.now()}` });
    const deployment = await this.call("POST", "/deployments/", { name: "nightly", flow_id: flow.json.id, work_pool_name: pool });
    if (deployment.status >= 300) throw new Error(`cannot create a deployment: ${JSON.stringify(deployment.json)}`);
    return String(deployment.json.id);
  }

  async deployment(id: string): Promise<Record<string, unknown>> {
    return (await this.call("GET", `/deployments/${id}`)).json;
  }
}

/** The JSON block after `<!-- example: NAME -->` in a help page: the docs show what the tests run. */
function helpExample(page: string, name: string): PrefectEcsWorkerConfigInput {
  const text = readFileSync(join(__dirname, "..", "help", page), "utf8");
  const match = new RegExp(`<!-- example: ${name} -->\\s*\`\`\`json\\n([\\s\\S]*?)\`\`\``).exec(text);
  if (!match) throw new Error(`help/${page} has no example ${name}`);
  return JSON.parse(match[1]) as PrefectEcsWorkerConfigInput;
}

/**
 * What the real worker makes of a pool's template for a deployment that passes no job variables:
 * prefect-aws's ECSJobConfiguration.from_template_and_values, as the worker calls it for each flow run.
 */
function renderWithWorker(template: unknown, env: NodeJS.ProcessEnv): { task_definition?: Record<string, unknown>; error?: string } {
  const code = [
    "import asyncio, json, sys",
    "from prefect_aws.workers.ecs_worker import ECSJobConfiguration",
    "template = json.load(sys.stdin)",
    "async def main():",
    "    try:",
    "        configuration = await ECSJobConfiguration.from_template_and_values(template, {})",
    "    except Exception as error:",
    "        print(json.dumps({'error': str(error)}))",
    "        return",
    "    print(json.dumps({'task_definition': configuration.task_definition}))",
    "asyncio.run(main())",
  ].join("\n");
  const result = runPython("prefect", ["-c", code], env, JSON.stringify(template));
  if (result.status !== 0) throw new Error(`python failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").pop()!) as { task_definition?: Record<string, unknown>; error?: string };
}

type Properties = Record<string, { default?: unknown }>;
const propertiesOf = (pool: Record<string, unknown> | undefined) =>
  (pool?.base_job_template as { variables: { properties: Properties } }).variables.properties;

describeWithTerraform("Terraform gate: work pool safety against a real Prefect server", () => {
  describeWithPeers("with the real Prefect server", ["prefect"], () => {
    let server: PrefectServer;
    let prefect: Prefect;

    beforeAll(async () => {
      server = await startPrefectServer();
      prefect = new Prefect(server.url);
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
    });

    describe("GIVEN a pool with deleteOnDestroy, applied, and a deployment in it", () => {
      const folder = new WorkPoolFolder();
      const base: PrefectEcsWorkerConfigInput = {
        workPool: { name: "safe-pool", deleteOnDestroy: true },
        prefect: { server: "self-hosted", auth: "none" },
      };
      let outputs: Record<string, unknown>;
      let poolId: unknown;
      let deploymentId: string;
      let queueId: unknown;

      beforeAll(async () => {
        outputs = exampleAwsOutputs(server.url);
        folder.synth(base, outputs).applyOk();
        poolId = (await prefect.pool("safe-pool"))?.id;
        deploymentId = await prefect.deploy("safe-pool");
        queueId = (await prefect.deployment(deploymentId)).work_queue_id;
      }, 120_000);
      afterAll(() => folder.remove());

      /** The pool kept its id, and the deployment its pool and queue. */
      async function expectPoolKept(): Promise<void> {
        expect(poolId).toEqual(expect.any(String));
        expect((await prefect.pool("safe-pool"))?.id).toBe(poolId);
        expect(await prefect.deployment(deploymentId)).toMatchObject({ work_pool_name: "safe-pool", work_queue_id: queueId });
        expect(queueId).toEqual(expect.any(String));
      }

      it("WHEN the API URL changes (same server, new address) THEN the pool keeps its id and the deployment its pool", async () => {
        outputs = exampleAwsOutputs(server.url.replace("127.0.0.1", "localhost"));
        const result = folder.synth(base, outputs).applyOk();
        expect(result.stdout).not.toContain("deleted");
        await expectPoolKept();
      });

      it("WHEN the auth mode changes THEN the pool keeps its id", async () => {
        folder.synth({ ...base, prefect: { server: "self-hosted", auth: "basic-auth" } }, outputs).applyOk({ PREFECT_API_AUTH_STRING: AUTH_STRING });
        await expectPoolKept();
        folder.synth(base, outputs).applyOk();
        await expectPoolKept();
      });

      it("WHEN the CSRF flag changes (wrongly, the server has none) THEN the apply fails but deletes nothing", async () => {
        const result = folder.synth({ ...base, workPool: { ...base.workPool, csrf: true } }, outputs).apply();
        expect(result.status).not.toBe(0);
        expect(result.stderr.replace(/[\s│]+/g, " ")).toContain("has CSRF protection turned off");
        await expectPoolKept();
        folder.synth(base, outputs).applyOk();
        await expectPoolKept();
      });

      it("WHEN the template and the AWS defaults change THEN the pool is updated in place", async () => {
        outputs = { ...outputs, subnet_ids: ["subnet-0a0a0a0a"] };
        folder.synth({ ...base, workPool: { ...base.workPool, description: "changed", extraVariables: { team: { type: "string", default: "data" } } } }, outputs).applyOk();
        await expectPoolKept();
        const pool = await prefect.pool("safe-pool");
        expect(pool?.description).toBe("changed");
        expect(propertiesOf(pool).team.default).toBe("data");
        expect(propertiesOf(pool).network_configuration.default).toMatchObject({ subnets: ["subnet-0a0a0a0a"] });
      });

      it("WHEN the stack is destroyed THEN the pool is deleted, where it lives now", async () => {
        const result = folder.destroyOk();
        expect(result.stdout).toContain('Prefect work pool "safe-pool" deleted');
        expect(await prefect.pool("safe-pool")).toBeUndefined();
      });
    });

    describe("GIVEN a pool with deleteOnDestroy that is renamed", () => {
      it("WHEN applied THEN the old pool is deleted and the new one created", async () => {
        const folder = new WorkPoolFolder();
        try {
          const config = (name: string): PrefectEcsWorkerConfigInput => ({
            workPool: { name, deleteOnDestroy: true },
            prefect: { server: "self-hosted", auth: "none" },
          });
          folder.synth(config("old-name"), exampleAwsOutputs(server.url)).applyOk();
          expect(await prefect.pool("old-name")).toBeDefined();
          // The same stack folder: a rename that keeps the folder name is the case where Terraform sees it.
          const renamed = folder.synth({ ...config("old-name"), workPool: { name: "OLD_name", deleteOnDestroy: true } }, exampleAwsOutputs(server.url));
          renamed.applyOk();
          expect(await prefect.pool("old-name")).toBeUndefined();
          expect(await prefect.pool("OLD_name")).toBeDefined();
          renamed.destroyOk();
        } finally {
          folder.remove();
        }
      });
    });

    describe("GIVEN the customization of the base job template", () => {
      const noAuth: PrefectEcsWorkerConfigInput = { prefect: { server: "self-hosted", auth: "none" } };
      const folder = new WorkPoolFolder();
      afterAll(() => folder.remove());

      async function appliedTemplate(config: PrefectEcsWorkerConfigInput): Promise<unknown> {
        folder.synth({ ...config, ...noAuth }, exampleAwsOutputs(server.url)).applyOk();
        const name = config.workPool?.name ?? "my-ecs-pool";
        return (await prefect.pool(name))?.base_job_template;
      }

      it("WHEN help/work-pool.md's example is applied THEN the real worker renders a job for a deployment without job variables", async () => {
        const example = helpExample("work-pool.md", "customize-base-job-template");
        const rendered = renderWithWorker(await appliedTemplate({ ...example, workPool: { ...example.workPool, name: "custom-pool" } }), server.clientEnv);
        expect(rendered.error).toBeUndefined();
        expect(rendered.task_definition).toMatchObject({
          ephemeralStorage: { sizeInGiB: 21 },
          executionRoleArn: exampleAwsOutputs(server.url).flow_run_execution_role_arn,
        });
        expect(JSON.stringify(rendered.task_definition)).not.toContain("{{");
      });

      it("WHEN the guide's own example (task_definition defaulting to {}) is applied THEN the real worker refuses every such flow run", async () => {
        const guide: PrefectEcsWorkerConfigInput = {
          workPool: {
            name: "guide-pool",
            extraVariables: { task_definition: { type: "object", title: "Task Definition", description: "Custom ECS task definition overrides", default: {} } },
            jobConfiguration: { task_definition: "{{ task_definition }}" },
          },
        };
        const rendered = renderWithWorker(await appliedTemplate(guide), server.clientEnv);
        expect(rendered.error).toContain("A task definition must be provided");
      });
    });

    describe("GIVEN an applied pool that someone edits in the UI", () => {
      const folder = new WorkPoolFolder();
      const config: PrefectEcsWorkerConfigInput = {
        workPool: { name: "drifting-pool", description: "Flows of the <data> team & friends" },
        prefect: { server: "self-hosted", auth: "none" },
      };
      beforeAll(() => {
        folder.synth(config, exampleAwsOutputs(server.url)).applyOk();
      }, 120_000);
      afterAll(() => folder.remove());

      it("WHEN nothing was edited THEN the drift check exits 0", () => {
        const check = folder.driftCheck();
        expect(check).toEqual({ status: 0, output: 'Prefect work pool "drifting-pool" matches the configuration\n' });
      });

      it("WHEN the description, pause flag and a default are edited THEN the check lists each, exits 2 and changes nothing", async () => {
        const before = await prefect.pool("drifting-pool");
        const template = before!.base_job_template as { variables: { properties: Properties } };
        template.variables.properties.cpu.default = 4096;
        const edit = await prefect.call("PATCH", "/work_pools/drifting-pool", { description: "edited in the UI", is_paused: true, base_job_template: template });
        expect(edit.status).toBe(204);
        const edited = await prefect.pool("drifting-pool");

        const check = folder.driftCheck();

        expect(check.status).toBe(2);
        const lines = check.output.split("\n").filter((line) => /^ {2}[-+] /.test(line)).sort();
        expect(lines).toEqual([
          "  + base_job_template.variables.properties.cpu.default = 4096",
          '  + description = "edited in the UI"',
          "  + is_paused = true",
          "  - base_job_template.variables.properties.cpu.default = null",
          '  - description = "Flows of the <data> team & friends"',
          "  - is_paused = false",
        ]);
        expect(await prefect.pool("drifting-pool")).toEqual(edited);
      });

      it("WHEN applied by default THEN nothing is sent and the drift stays", () => {
        folder.applyOk();
        expect(folder.driftCheck().status).toBe(2);
      });

      it("WHEN applied with enforceOnEveryApply THEN the pool is put back, keeping its id, and again on the next apply", async () => {
        const id = (await prefect.pool("drifting-pool"))?.id;
        folder.synth({ ...config, workPool: { ...config.workPool, enforceOnEveryApply: true } }, exampleAwsOutputs(server.url)).applyOk();
        expect(folder.driftCheck()).toEqual({ status: 0, output: expect.any(String) });
        await prefect.call("PATCH", "/work_pools/drifting-pool", { is_paused: true });
        folder.applyOk();
        expect(folder.driftCheck()).toEqual({ status: 0, output: expect.any(String) });
        expect((await prefect.pool("drifting-pool"))?.id).toBe(id);
      });

      it("WHEN the pool was deleted THEN the check says so and exits 2", async () => {
        await prefect.call("DELETE", "/work_pools/drifting-pool");
        const check = folder.driftCheck();
        expect(check.status).toBe(2);
        expect(check.output).toContain('Prefect work pool "drifting-pool" does not exist');
      });
    });
  });
});

