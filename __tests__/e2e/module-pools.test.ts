/**
 * The reusable module (npm run synth:module) end to end, offline, as an ops team would use it: a root
 * module of theirs calls it for two work pools with `for_each`, setting only each pool's name and tags,
 * and one `terraform apply` creates both pools' AWS resources (in moto) and both work pools (on a real
 * Prefect server); one `terraform destroy` removes them again. Self-hosted with basic auth stands in for
 * Prefect Cloud (the pools' API must be the local server), and deleteOnDestroy makes the destroy delete
 * the pools too.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveConfig, ResolvedConfig } from "../../src/config/resolve";
import { MODULE_NAME } from "../../src/module/worker-module";
import { writeModule } from "../../src/module/write-module";
import { moduleDefaultName, NAME_VARIABLES, poolNameRule } from "../../src/stacks/worker-variables";
import { MOTO_OVERRIDE_FILE, MotoInventory, pointProviderAt } from "../support/moto-stack";
import { describeGuideE2E, GuideScenario, liveResources, resourceCounts, shippedFiles } from "./guide-scenario";

const AUTH_STRING = "e2e-admin:e2e-not-a-real-password";
const POOLS = ["data-team", "ml-team"] as const;
type Pool = (typeof POOLS)[number];
const ACCOUNT = "123456789012";

/**
 * The names the module gives each pool when the root module sets only work_pool_name (its name
 * variables left null): the names a configuration of several pools would give it.
 */
function namesOf(config: ResolvedConfig, pool: Pool, declared: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    NAME_VARIABLES.filter(({ variable }) => variable !== "work_pool_name" && declared.includes(variable)).map((entry) => [
      entry.variable,
      moduleDefaultName(config, entry, pool) as string,
    ]),
  );
}

/** The root module an ops team writes: their provider, their variables, the module once per pool, named by the pool alone. */
function rootModule(region: string): string {
  const hcl = (value: unknown) => JSON.stringify(value);
  return `provider "aws" {
  region = ${hcl(region)}
}

variable "prefect_api_url" {
  type = string
}

variable "prefect_api_auth_string" {
  type      = string
  sensitive = true
  ephemeral = true
}

module "prefect_worker" {
  source   = "./modules/${MODULE_NAME}"
  for_each = toset(${hcl(POOLS)})

  work_pool_name          = each.key
  prefect_api_url         = var.prefect_api_url
  prefect_api_auth_string = var.prefect_api_auth_string
  tags                    = { team = each.key }
}

output "workers" {
  value = module.prefect_worker
}
`;
}

type WorkerOutputs = Record<Pool, Record<string, string | string[]>>;

describeGuideE2E("E2E: the reusable module called for two pools with for_each, against moto and a real Prefect server", () => {
  let scenario: GuideScenario;
  let rootDir: string;
  let names: Record<Pool, Record<string, string>>;
  /** The name variables of each pool's own resources (not the shared container name). */
  let perPool: string[];
  let baseline: MotoInventory;
  let workers: WorkerOutputs;
  let created = 0;
  const env = () => ({
    TF_VAR_prefect_api_url: scenario.prefect.url,
    TF_VAR_prefect_api_auth_string: AUTH_STRING,
    // The work-pool step's script reads the credential from the environment of the Terraform run.
    PREFECT_API_AUTH_STRING: AUTH_STRING,
  });
  const authorization = { Authorization: `Basic ${Buffer.from(AUTH_STRING).toString("base64")}` };
  const getPool = (pool: Pool) => fetch(`${scenario.prefect.url}/work_pools/${pool}`, { headers: authorization });

  beforeAll(async () => {
    scenario = await GuideScenario.start("the module, two pools through for_each", { authString: AUTH_STRING });
    rootDir = scenario.scratchDir;
    const config = resolveConfig({ prefect: { server: "self-hosted" }, workPool: { deleteOnDestroy: true } });
    const { document } = writeModule(config, rootDir);
    const declared = Object.keys(document.variable as Record<string, unknown>);
    names = { "data-team": namesOf(config, "data-team", declared), "ml-team": namesOf(config, "ml-team", declared) };
    perPool = NAME_VARIABLES.filter((entry) => declared.includes(entry.variable) && poolNameRule(config, entry) !== undefined).map(({ variable }) => variable);
    writeFileSync(join(rootDir, "main.tf"), rootModule(config.region));
    pointProviderAt(rootDir, scenario.aws.url);
    baseline = scenario.inventory();
  }, 180_000);
  afterAll(() => scenario?.stop());

  it("GIVEN the root module THEN it holds the module folder, its own main.tf and the test's moto override only", () => {
    expect(shippedFiles(rootDir)).toEqual(["main.tf", "modules", MOTO_OVERRIDE_FILE].sort());
    // The root module names no AWS resource; the module's defaults keep the pools apart.
    expect(perPool.length).toBeGreaterThan(12);
    for (const variable of perPool) expect(names["data-team"][variable]).not.toBe(names["ml-team"][variable]);
  });

  it("WHEN applied THEN moto holds each pool's roles, queues, rule, cluster, service and task definition under its own names, tagged with its pool", async () => {
    await scenario.terraform("module: init", rootDir, ["init"]);
    const applied = await scenario.terraform("module: apply (both pools)", rootDir, ["apply", "-auto-approve"], env());
    created = resourceCounts(applied).added;
    workers = (await scenario.outputs(rootDir)).workers as unknown as WorkerOutputs;
    expect(Object.keys(workers).sort()).toEqual([...POOLS]);
    const moto = scenario.inventory();

    for (const pool of POOLS) {
      const n = names[pool];
      const out = workers[pool];
      const tags = { team: pool, PrefectWorkPool: pool, ManagedBy: "prefect-ecs-worker-cdktf" };
      for (const role of [n.execution_role_name, n.flow_run_execution_role_name, n.worker_task_role_name, n.flow_run_task_role_name]) {
        expect({ role, tags: moto.roles[role]?.tags }).toEqual({ role, tags });
      }
      expect(out.execution_role_arn).toBe(`arn:aws:iam::${ACCOUNT}:role/${n.execution_role_name}`);
      expect(out.flow_run_execution_role_arn).toBe(`arn:aws:iam::${ACCOUNT}:role/${n.flow_run_execution_role_name}`);
      // The worker may run only its own pool's flow runs, in its own cluster.
      const runTask = moto.policies[n.worker_policy_name].Statement.find((statement) => statement.Sid === "RunOurFlowRunsInOurCluster");
      expect(runTask).toMatchObject({ Condition: { ArnEquals: { "ecs:cluster": out.cluster_arn }, StringEquals: { "aws:RequestTag/prefect.io/work-pool-name": pool } } });

      for (const queue of [n.events_queue_name, n.events_dead_letter_queue_name]) expect({ queue, tags: moto.queues[queue]?.tags }).toEqual({ queue, tags });
      expect(moto.queues[n.events_queue_name].attributes.QueueArn).toBe(out.events_queue_arn);
      expect(moto.rules[n.events_rule_name]).toMatchObject({
        state: "ENABLED",
        eventPattern: { detail: { clusterArn: [out.cluster_arn], taskDefinitionArn: [{ prefix: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/prefect_${pool}_` }] } },
        targets: [{ Arn: out.events_queue_arn }],
        tags,
      });

      expect(out.cluster_arn).toBe(`arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/${n.cluster_name}`);
      expect(moto.clusters[n.cluster_name]).toMatchObject({ status: "ACTIVE" });
      const service = moto.services[n.worker_service_name];
      expect(service).toMatchObject({ cluster: n.cluster_name, status: "ACTIVE", desiredCount: 1, launchType: "FARGATE", tags });
      const definition = Object.values(moto.taskDefinitions).find((d) => d.arn === service.taskDefinition)!;
      expect(definition).toMatchObject({ family: n.worker_task_family, executionRoleArn: out.execution_role_arn, taskRoleArn: out.worker_task_role_arn, tags });
      const [container] = definition.containerDefinitions;
      expect(container).toMatchObject({
        name: n.worker_container_name,
        command: ["prefect", "worker", "start", "--pool", pool, "--type", "ecs", "--with-healthcheck"],
        secrets: [{ name: "PREFECT_API_AUTH_STRING", valueFrom: out.secret_arn }],
        logConfiguration: { logDriver: "awslogs", options: expect.objectContaining({ "awslogs-group": n.worker_log_group_name }) },
      });
      expect(container.environment).toContainEqual({ name: "PREFECT_INTEGRATIONS_AWS_ECS_OBSERVER_SQS_QUEUE_NAME", value: n.events_queue_name });

      expect(Object.keys(moto.logGroups)).toEqual(expect.arrayContaining([n.worker_log_group_name, n.flow_run_log_group_name]));
      expect(moto.repositories[n.ecr_repository_name]).toBeDefined();
      // The credential went into each pool's own secret, through the write-only attribute.
      expect(moto.secrets[n.secret_name]).toEqual({ value: AUTH_STRING });
    }
  }, 420_000);

  it("THEN the same apply made both pools on the Prefect server, each with its own cluster, roles, secret and log group as defaults", async () => {
    for (const pool of POOLS) {
      const response = await getPool(pool);
      expect({ pool, status: response.status }).toEqual({ pool, status: 200 });
      const body = (await response.json()) as { type: string; base_job_template: { variables: { properties: Record<string, { default?: unknown }> } } };
      expect(body.type).toBe("ecs");
      const defaults = Object.fromEntries(Object.entries(body.base_job_template.variables.properties).map(([name, variable]) => [name, variable.default]));
      const out = workers[pool];
      expect(defaults).toMatchObject({
        cluster: out.cluster_arn,
        vpc_id: out.vpc_id,
        execution_role_arn: out.flow_run_execution_role_arn,
        task_role_arn: out.flow_run_task_role_arn,
        prefect_api_auth_string_secret_arn: out.secret_arn,
        network_configuration: { subnets: out.subnet_ids, securityGroups: out.security_group_ids, assignPublicIp: "ENABLED" },
        cloudwatch_logs_options: { "awslogs-group": names[pool].flow_run_log_group_name, "awslogs-create-group": "false" },
      });
    }
  });

  it("WHEN destroyed THEN nothing of either pool is left in moto but what AWS keeps too, and both pools are deleted (deleteOnDestroy)", async () => {
    const destroyed = await scenario.terraform("module: destroy (both pools)", rootDir, ["destroy", "-auto-approve"], env());
    expect(resourceCounts(destroyed).destroyed).toBe(created);
    const moto = scenario.inventory();
    expect(liveResources(moto)).toEqual(liveResources(baseline));
    for (const pool of POOLS) {
      expect(moto.clusters[names[pool].cluster_name].status).toBe("INACTIVE");
      expect(moto.secrets[names[pool].secret_name]).toEqual({ deletedDate: expect.any(String) });
      expect({ pool, status: (await getPool(pool)).status }).toEqual({ pool, status: 404 });
    }
  }, 300_000);
});
