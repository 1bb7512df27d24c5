/**
 * The guide end to end, offline, configured as a Prefect Cloud customer with two teams would: two work
 * pools sharing one ECS cluster, each with its own API key in SSM Parameter Store, an explicit network
 * (moto's default VPC, two subnets, an extra security group, no public IP), and every stack's state in an
 * S3 bucket (in moto) with S3-native locking; each work-pool stack reads its AWS outputs from there. One
 * pool is deleted on destroy, the other kept. The Prefect server is a real local one without auth (it
 * ignores the key the script and the workers send), since the pools' API must be on loopback.
 */
import { MOTO_OVERRIDE_FILE, MotoInventory, boto3, pointProviderAt, pointRemoteStateAt, s3BackendConfigFile } from "../support/moto-stack";
import { createFlowRuns, readEcs, submissionOf } from "../support/prefect-worker";
import { terraformOkAsync } from "../support/terraform";
import { describeGuideE2E, EcsStyleWorker, stopTask, GuideScenario, liveResources, resourceCounts, shippedFiles, StackFolders, stackJson, StackOutputs } from "./guide-scenario";

const CLUSTER = "shared-flows";
const STATE_BUCKET = "e2e-terraform-state";
const STATE_KEY = (stack: string) => `prefect-ecs-worker/${stack}/terraform.tfstate`;
/** Each pool's own API key (fake). */
const API_KEYS = { "data-team": "pnu_e2eFAKEdataTEAMfakeFAKEfake000042", "ml-team": "pnu_e2eFAKEmlTEAMfakeFAKEfakeF000043" } as const;
type Pool = keyof typeof API_KEYS;

interface DefaultNetwork {
  readonly vpcId: string;
  readonly subnetIds: string[];
  readonly defaultSecurityGroupId: string;
}

interface PoolStacks extends StackFolders {
  readonly pool: Pool;
  outputs?: StackOutputs;
  created?: number;
}

describeGuideE2E("E2E: two Cloud-style pools sharing a cluster, with SSM, explicit network and S3 state, against moto and a real Prefect server", () => {
  let scenario: GuideScenario;
  let network: DefaultNetwork;
  let baseline: MotoInventory;
  let backendConfig: string;
  let pools: PoolStacks[];
  let synthesizedFiles: string[][];
  let workers: EcsStyleWorker[] = [];
  const flowRunTasks: { arn: string; definition: string }[] = [];
  const awsEnv = (pool: Pool) => ({ TF_VAR_prefect_api_url: scenario.prefect.url, TF_VAR_prefect_api_key: API_KEYS[pool] });
  const prefectEnv = (pool: Pool) => ({ PREFECT_API_KEY: API_KEYS[pool] });
  const s3 = <T>(code: string) => boto3<T>(scenario.moto.url, scenario.region, `s3 = aws("s3")\n${code}`);
  const stateObject = (stack: string) => s3<string>(`print(json.dumps(s3.get_object(Bucket="${STATE_BUCKET}", Key="${STATE_KEY(stack)}")["Body"].read().decode()))`);
  const poolApi = async (pool: Pool, path = "", body?: unknown) =>
    fetch(`${scenario.prefect.url}/work_pools/${pool}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { "Content-Type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  /** Waits until moto has answered `action` (made by `run`); fails at once when `run` fails or ends without it. */
  const untilCall = (run: Promise<unknown>, mark: number, action: string) =>
    Promise.race([
      scenario.aws.answeredCall(mark, (call) => call.action === action),
      run.then(() => Promise.reject(new Error(`finished without calling ${action}`))),
    ]);
  const allStateKeys = () => pools.flatMap(({ pool }) => [STATE_KEY(`${pool}-aws`), STATE_KEY(`${pool}-work-pool`)]).sort();

  beforeAll(async () => {
    scenario = await GuideScenario.start("two Cloud-style pools, one cluster, S3 state");
    network = boto3<DefaultNetwork>(
      scenario.moto.url,
      scenario.region,
      [
        'ec2 = aws("ec2")',
        'vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]',
        'subnets = sorted(s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"])[:2]',
        'group = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]',
        `aws("s3").create_bucket(Bucket="${STATE_BUCKET}")`,
        'print(json.dumps({"vpcId": vpc, "subnetIds": subnets, "defaultSecurityGroupId": group}))',
      ].join("\n"),
    );
    const folders = scenario.synthesizePools({
      prefect: { server: "self-hosted", auth: "api-key" },
      secret: { store: "ssm" },
      cluster: { name: CLUSTER },
      network: { vpcId: network.vpcId, subnetIds: network.subnetIds, securityGroupIds: [network.defaultSecurityGroupId], assignPublicIp: false },
      backend: { type: "s3", bucket: STATE_BUCKET },
      pools: [{ workPool: { name: "data-team", deleteOnDestroy: true } }, { workPool: { name: "ml-team" } }],
    });
    pools = folders.map((folder) => ({ ...folder, pool: folder.config.workPoolName as Pool }));
    synthesizedFiles = pools.flatMap(({ awsDir, workPoolDir }) => [shippedFiles(awsDir), shippedFiles(workPoolDir)]);
    for (const { awsDir, workPoolDir } of pools) {
      pointProviderAt(awsDir, scenario.aws.url);
      pointRemoteStateAt(workPoolDir, "aws_stack", scenario.aws.url);
    }
    baseline = scenario.inventory();
    backendConfig = s3BackendConfigFile(scenario.aws.url, scenario.scratchDir);
  }, 180_000);
  afterAll(() => scenario?.stop());

  it("GIVEN the synthesized stacks THEN each keeps its state in the bucket, the second pool uses the first pool's cluster, and the moto settings are the test's own files", () => {
    expect(pools.map(({ pool }) => pool)).toEqual(["data-team", "ml-team"]);
    const workPoolFiles = ["assets", "base-job-template.json", "cdk.tf.json"];
    expect(synthesizedFiles).toEqual([["cdk.tf.json"], workPoolFiles, ["cdk.tf.json"], workPoolFiles]);
    for (const { pool, awsDir, workPoolDir } of pools) {
      expect(stackJson(awsDir).terraform.backend).toEqual({
        s3: { bucket: STATE_BUCKET, key: STATE_KEY(`${pool}-aws`), region: "us-east-1", encrypt: true, use_lockfile: true },
      });
      expect(shippedFiles(awsDir)).toEqual(["cdk.tf.json", MOTO_OVERRIDE_FILE]);
      expect(shippedFiles(workPoolDir)).toEqual([...workPoolFiles, MOTO_OVERRIDE_FILE]);
    }
    expect(Object.keys(stackJson(pools[0].awsDir).resource.aws_ecs_cluster ?? {})).toEqual(["cluster"]);
    expect(stackJson(pools[1].awsDir).resource.aws_ecs_cluster).toBeUndefined();
  });

  it("WHEN the AWS stacks are applied, the second once the first has made the cluster, THEN their state is in the bucket, locked while they ran, and moto holds both pools' resources in one cluster", async () => {
    const [first, second] = pools;
    // One after the other: concurrent inits race on the shared plugin cache ("mkdir ...: file exists").
    await scenario.step("aws: init both (S3 backend)", async () => {
      for (const { awsDir } of pools) await terraformOkAsync(awsDir, ["init", "-input=false", "-no-color", `-backend-config=${backendConfig}`]);
    });
    const mark = scenario.aws.mark();
    const apply = (stacks: PoolStacks) => terraformOkAsync(stacks.awsDir, ["apply", "-auto-approve", "-input=false", "-no-color"], awsEnv(stacks.pool));
    const [firstApplied, secondApplied] = await scenario.step("aws: apply both (the second from CreateCluster on)", async () => {
      const firstApply = apply(first);
      await untilCall(firstApply, mark, "CreateCluster");
      return Promise.all([firstApply, apply(second)]);
    });
    first.created = resourceCounts(firstApplied).added;
    second.created = resourceCounts(secondApplied).added;
    expect(first.created).toBe(second.created! + 1); // the cluster
    for (const stacks of pools) stacks.outputs = await scenario.outputs(stacks.awsDir);
    const moto = scenario.inventory();

    // S3-native locking: each stack's lock object was written and removed again; no state file beside the stacks.
    for (const { pool, awsDir } of pools) {
      const lockKey = `${STATE_KEY(`${pool}-aws`)}.tflock`;
      expect(scenario.aws.since(mark).filter((call) => call.key === lockKey).map((call) => call.action)).toEqual(
        expect.arrayContaining(["PUT object", "DELETE object"]),
      );
      expect(shippedFiles(awsDir)).toEqual(["cdk.tf.json", MOTO_OVERRIDE_FILE]);
    }
    expect(moto.buckets[STATE_BUCKET]).toEqual(pools.map(({ pool }) => STATE_KEY(`${pool}-aws`)).sort());

    // One cluster; each pool's worker service in it, in the given network, with its own task definition and key.
    expect(Object.entries(moto.clusters).filter(([, cluster]) => cluster.status === "ACTIVE").map(([name]) => name)).toEqual([CLUSTER]);
    expect(new Set(pools.map(({ outputs }) => outputs!.cluster_arn))).toEqual(new Set([`arn:aws:ecs:us-east-1:123456789012:cluster/${CLUSTER}`]));
    for (const { pool, outputs } of pools) {
      const service = moto.services[`prefect-worker-service-${pool}`];
      expect(service).toMatchObject({ cluster: CLUSTER, status: "ACTIVE", launchType: "FARGATE" });
      const vpcConfiguration = service.networkConfiguration.awsvpcConfiguration;
      expect(vpcConfiguration.subnets.sort()).toEqual(network.subnetIds);
      expect(vpcConfiguration.assignPublicIp).toBe("DISABLED");
      expect(vpcConfiguration.securityGroups.sort()).toEqual([...(outputs!.security_group_ids as string[])].sort());
      expect(outputs!.security_group_ids).toContain(network.defaultSecurityGroupId);
      const definition = Object.values(moto.taskDefinitions).find((d) => d.arn === service.taskDefinition)!;
      expect(definition.containerDefinitions[0].secrets).toEqual([{ name: "PREFECT_API_KEY", valueFrom: outputs!.secret_arn }]);
      expect(definition.containerDefinitions[0].environment).toContainEqual({ name: "PREFECT_INTEGRATIONS_AWS_ECS_OBSERVER_SQS_QUEUE_NAME", value: `${pool}-events` });
      expect(definition.containerDefinitions[0].command).toEqual(["prefect", "worker", "start", "--pool", pool, "--type", "ecs", "--with-healthcheck"]);

      // The key went into an SSM SecureString through the write-only attribute; each of the pool's two execution
      // roles (worker, flow runs) reads only it, and writes only to its own log group, no managed policy.
      expect(moto.parameters[`/prefect/${pool}/api/key`]).toEqual({ type: "SecureString", value: API_KEYS[pool], keyId: "alias/aws/ssm" });
      const executionRoles = { [`ecsTaskExecutionRole-${pool}`]: outputs!.log_group_name, [`PrefectECSRunnerExecutionRole-${pool}`]: outputs!.flow_run_log_group_name };
      for (const [name, logGroup] of Object.entries(executionRoles)) {
        const role = moto.roles[name];
        expect(outputs![name.startsWith("ecs") ? "execution_role_arn" : "flow_run_execution_role_arn"]).toBe(`arn:aws:iam::123456789012:role/${name}`);
        expect(role.attachedPolicies).toEqual([]);
        expect(role.trustConditions).toEqual([
          { StringEquals: { "aws:SourceAccount": "123456789012" }, ArnLike: { "aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*" } },
        ]);
        expect(role.inlinePolicies.PrefectECSWorkerSecretPolicy.Statement).toEqual([
          { Sid: "ReadPrefectApiSecret", Effect: "Allow", Action: "ssm:GetParameters", Resource: outputs!.secret_arn },
        ]);
        expect(role.inlinePolicies.PrefectECSTaskExecutionPolicy.Statement).toContainEqual(
          expect.objectContaining({ Sid: "WriteOurLogs", Resource: `arn:aws:logs:us-east-1:123456789012:log-group:${logGroup as string}:log-stream:*` }),
        );
      }
      // Only the flow runs' role pulls images, and only from the pool's repository.
      const pulls = (name: string) => moto.roles[name].inlinePolicies.PrefectECSTaskExecutionPolicy.Statement.filter((statement) => statement.Sid === "PullOurImages");
      expect(pulls(`ecsTaskExecutionRole-${pool}`)).toEqual([]);
      expect(pulls(`PrefectECSRunnerExecutionRole-${pool}`)).toEqual([
        expect.objectContaining({ Resource: `arn:aws:ecr:us-east-1:123456789012:repository/${pool}-flows` }),
      ]);
      const state = stateObject(`${pool}-aws`);
      expect(state).not.toContain(API_KEYS[pool]);
      const parameter = (JSON.parse(state) as { resources: { type: string; instances: { attributes: Record<string, unknown> }[] }[] }).resources.find(
        (resource) => resource.type === "aws_ssm_parameter",
      );
      expect(parameter?.instances[0].attributes).toMatchObject({ value_wo: null, value: "" });

      // Each pool's rule watches the shared cluster and feeds its own queue.
      expect(moto.rules[`${pool}-task-state-changes`]).toMatchObject({
        eventPattern: {
          detail: { clusterArn: [outputs!.cluster_arn], taskDefinitionArn: [{ prefix: `arn:aws:ecs:us-east-1:123456789012:task-definition/prefect_${pool}_` }] },
        },
        targets: [{ Arn: outputs!.events_queue_arn }],
      });
    }
  }, 420_000);

  it("WHEN the work-pool stacks are applied THEN each reads its AWS outputs from the bucket and its pool gets them as defaults", async () => {
    await scenario.step("work pools: init and apply both", async () => {
      for (const { pool, workPoolDir } of pools) {
        await terraformOkAsync(workPoolDir, ["init", "-input=false", "-no-color", `-backend-config=${backendConfig}`]);
        await terraformOkAsync(workPoolDir, ["apply", "-auto-approve", "-input=false", "-no-color"], prefectEnv(pool));
      }
    });
    for (const { pool, outputs } of pools) {
      const response = await poolApi(pool);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { base_job_template: { variables: { properties: Record<string, { default?: unknown }> } } };
      const defaults = Object.fromEntries(Object.entries(body.base_job_template.variables.properties).map(([name, variable]) => [name, variable.default]));
      expect(defaults).toMatchObject({
        cluster: outputs!.cluster_arn,
        vpc_id: network.vpcId,
        execution_role_arn: outputs!.flow_run_execution_role_arn,
        prefect_api_key_secret_arn: outputs!.secret_arn,
        network_configuration: { subnets: network.subnetIds, securityGroups: outputs!.security_group_ids, assignPublicIp: "DISABLED" },
      });
      expect(stateObject(`${pool}-work-pool`)).not.toContain(API_KEYS[pool]);
    }
    expect(scenario.inventory().buckets[STATE_BUCKET]).toEqual(allStateKeys());
  }, 180_000);

  it("WHEN both workers are started from their task definitions as ECS would THEN each is healthy and online in its own pool only", async () => {
    const moto = scenario.inventory();
    workers = await scenario.step("workers: start both until healthy and online", () =>
      Promise.all(
        pools.map(async ({ pool }) => {
          const definition = Object.values(moto.taskDefinitions).find((d) => d.arn === moto.services[`prefect-worker-service-${pool}`].taskDefinition)!;
          const worker = await scenario.startWorker(definition);
          const online = async () => ((await (await poolApi(pool, "/workers/filter", {})).json()) as unknown[]).length > 0;
          await worker.process.waitFor(async () => (await worker.healthCheck()) === 0 && (await online()), 150_000);
          return worker;
        }),
      ),
    );
    for (const [index, { pool }] of pools.entries()) {
      expect(workers[index].env.PREFECT_API_KEY).toBe(API_KEYS[pool]);
      const listed = (await (await poolApi(pool, "/workers/filter", {})).json()) as { status: string }[];
      expect(listed).toEqual([expect.objectContaining({ status: "ONLINE" })]);
    }
  }, 240_000);

  it("WHEN each pool's deployment gets a flow run THEN each lands in the shared cluster through its own pool's worker, with its own roles and key", async () => {
    await scenario.moto.startRecording();
    const mark = scenario.aws.mark();
    const flowRuns = pools.map(({ pool }) => createFlowRuns(scenario.prefect, pool, [{ name: `${pool}-deployment` }])[0]);
    await scenario.step("flow runs: until both RunTasks are answered", () => scenario.aws.answeredCalls(mark, (call) => call.action === "RunTask", 2, 180_000));
    const ecs = readEcs(scenario.moto, CLUSTER);
    const requests = await scenario.moto.recordedRequests();
    for (const [index, { pool, outputs }] of pools.entries()) {
      const submission = submissionOf({ flowRuns, worker: { log: workers[index].process.log }, ecs, requests }, flowRuns[index]);
      flowRunTasks.push({ arn: submission.task.taskArn as string, definition: submission.runTask.taskDefinition });
      expect(submission.runTask).toMatchObject({ cluster: outputs!.cluster_arn, overrides: { taskRoleArn: outputs!.flow_run_task_role_arn } });
      // Tagged with its own pool and in its pool's family: what its worker's policy and its event rule admit.
      expect(submission.runTask.tags).toContainEqual({ key: "prefect.io/work-pool-name", value: pool });
      expect(submission.taskDefinition.family).toMatch(new RegExp(`^prefect_${pool}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`));
      expect(submission.taskDefinition).toMatchObject({ executionRoleArn: outputs!.flow_run_execution_role_arn });
      expect(submission.taskDefinition.containerDefinitions[0].secrets).toEqual([{ name: "PREFECT_API_KEY", valueFrom: outputs!.secret_arn }]);
      expect(submission.task).toMatchObject({ clusterArn: outputs!.cluster_arn });
    }
  }, 300_000);

  it("WHEN all stacks are destroyed THEN nothing of ours is left in moto, no lock remains, and only the pool with deleteOnDestroy is gone", async () => {
    await Promise.all(workers.map((worker) => worker.process.stop()));
    // Flow runs end before the teardown (runbook step 7: ECS keeps a cluster that still has tasks).
    for (const task of flowRunTasks) stopTask(scenario, CLUSTER, task.arn);
    await scenario.step("work pools: destroy both", () =>
      Promise.all(pools.map(({ pool, workPoolDir }) => terraformOkAsync(workPoolDir, ["destroy", "-auto-approve", "-input=false", "-no-color"], prefectEnv(pool)))),
    );
    expect((await poolApi("data-team")).status).toBe(404);
    expect((await poolApi("ml-team")).status).toBe(200);
    const [first, second] = pools;
    const mark = scenario.aws.mark();
    const destroy = (stacks: PoolStacks) => terraformOkAsync(stacks.awsDir, ["destroy", "-auto-approve", "-input=false", "-no-color"], awsEnv(stacks.pool));
    // In the runbook's order: the pool that uses the cluster goes first; the cluster's pool starts once its service is gone.
    const [secondDestroyed, firstDestroyed] = await scenario.step("aws: destroy both (the first from DeleteService on)", async () => {
      const secondDestroy = destroy(second);
      await untilCall(secondDestroy, mark, "DeleteService");
      return Promise.all([secondDestroy, destroy(first)]);
    });
    expect(resourceCounts(firstDestroyed).destroyed).toBe(first.created);
    expect(resourceCounts(secondDestroyed).destroyed).toBe(second.created);
    const moto = scenario.inventory();
    // The bucket is the test's; it keeps the four (now empty) states and no lock object.
    expect(moto.buckets[STATE_BUCKET]).toEqual(allStateKeys());
    for (const { pool } of pools) expect(JSON.parse(stateObject(`${pool}-aws`)).resources).toEqual([]);
    // The flow runs' task definitions are the workers', not ours: they stay registered, as on AWS.
    const workerDefinitions = flowRunTasks.map((task) => task.definition);
    expect(Object.values(moto.taskDefinitions).map((d) => d.arn).sort()).toEqual([...workerDefinitions].sort());
    expect(liveResources({ ...moto, buckets: {} }, workerDefinitions)).toEqual(liveResources({ ...baseline, buckets: {} }));
  }, 420_000);
});
