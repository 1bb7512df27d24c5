/**
 * The guide end to end, offline, on its defaults: the AWS stack applied against moto (default VPC,
 * Secrets Manager, local state), the work-pool stack against a real Prefect server reading the AWS
 * stack's state, then both destroyed. Self-hosted with basic auth stands in for Prefect Cloud (the
 * pool's API must be the local server); everything else is the guide's default configuration.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MOTO_OVERRIDE_FILE, MotoInventory, PolicyDocument, pointProviderAt } from "../support/moto-stack";
import { createFlowRuns, readEcs, submissionOf } from "../support/prefect-worker";
import { terraformOkAsync } from "../support/terraform";
import { StackOutputs, stackJson, stopTask, describeGuideE2E, EcsStyleWorker, GuideScenario, liveResources, resourceCounts, shippedFiles, StackFolders } from "./guide-scenario";

/** Inline policies with each statement's actions in order (the policy document keeps them as a set). */
function sortedActions(policies: Record<string, PolicyDocument>): Record<string, PolicyDocument> {
  return Object.fromEntries(
    Object.entries(policies).map(([name, document]) => [
      name,
      { ...document, Statement: document.Statement.map((statement) => ({ ...statement, Action: Array.isArray(statement.Action) ? [...statement.Action].sort() : statement.Action })) },
    ]),
  );
}

const AUTH_STRING = "e2e-admin:e2e-not-a-real-password";
const POOL = "my-ecs-pool";

describeGuideE2E("E2E: the guide's defaults against moto and a real Prefect server", () => {
  let scenario: GuideScenario;
  let stacks: StackFolders;
  let baseline: MotoInventory;
  let outputs: StackOutputs;
  let created = 0;
  let synthesizedFiles: string[][];
  const awsEnv = () => ({ TF_VAR_prefect_api_url: scenario.prefect.url, TF_VAR_prefect_api_auth_string: AUTH_STRING });
  const prefectEnv = { PREFECT_API_AUTH_STRING: AUTH_STRING };
  let worker: EcsStyleWorker | undefined;
  let flowRunTask: { arn: string; definition: string } | undefined;
  const authorization = { Authorization: `Basic ${Buffer.from(AUTH_STRING).toString("base64")}` };
  const getPool = () => fetch(`${scenario.prefect.url}/work_pools/${POOL}`, { headers: authorization });
  /** GET, or POST with a JSON body, against the Prefect server's API; fails unless it answers 2xx. */
  const prefectApi = async <T>(path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${scenario.prefect.url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { ...authorization, "Content-Type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as T;
  };

  beforeAll(async () => {
    scenario = await GuideScenario.start("guide defaults, local state", { authString: AUTH_STRING });
    stacks = scenario.synthesize({ prefect: { server: "self-hosted" } });
    synthesizedFiles = [shippedFiles(stacks.awsDir), shippedFiles(stacks.workPoolDir)];
    pointProviderAt(stacks.awsDir, scenario.aws.url);
    baseline = scenario.inventory();
  }, 180_000);
  afterAll(() => scenario?.stop());

  it("GIVEN the synthesized stacks THEN they hold only the shipped files, the provider names no endpoint, and the moto override is the test's own file", () => {
    expect(synthesizedFiles).toEqual([["cdk.tf.json"], ["assets", "base-job-template.json", "cdk.tf.json"]]);
    expect(readdirSync(join(stacks.workPoolDir, "assets"), { recursive: true }).sort()).toEqual(["upsert_script", join("upsert_script", "upsert-work-pool.sh")]);
    expect(Object.keys(stackJson(stacks.awsDir).provider.aws[0]).sort()).toEqual(["default_tags", "region"]);
    expect(shippedFiles(stacks.awsDir)).toEqual(["cdk.tf.json", MOTO_OVERRIDE_FILE]);
  });

  it("WHEN the AWS stack is applied THEN moto holds every resource of the guide, wired to each other", async () => {
    await scenario.terraform("aws: init", stacks.awsDir, ["init"]);
    const applied = await scenario.terraform("aws: apply", stacks.awsDir, ["apply", "-auto-approve"], awsEnv());
    created = resourceCounts(applied).added;
    const state = (await terraformOkAsync(stacks.awsDir, ["state", "list"])).stdout.split("\n").filter((line) => line && !line.startsWith("data."));
    expect(created).toBe(state.length);
    outputs = await scenario.outputs(stacks.awsDir);
    const moto = scenario.inventory();
    const added = <T>(entries: Record<string, T>, before: Record<string, T>) => Object.keys(entries).filter((name) => !(name in before)).sort();

    // IAM: the four roles, trusted by ECS tasks of our account and cluster's region only, with their policies.
    const account = "123456789012";
    expect(added(moto.roles, baseline.roles)).toEqual(["PrefectECSRunnerExecutionRole", "PrefectECSRunnerTaskRole", "ecsTaskExecutionRole", "ecsTaskRole"]);
    for (const name of added(moto.roles, baseline.roles)) {
      expect(moto.roles[name].trustedServices).toEqual(["ecs-tasks.amazonaws.com"]);
      expect(moto.roles[name].trustConditions).toEqual([
        { StringEquals: { "aws:SourceAccount": account }, ArnLike: { "aws:SourceArn": `arn:aws:ecs:us-east-1:${account}:*` } },
      ]);
    }
    // Separate execution roles: no managed policy, each an inline policy limited to its own logs (and images).
    const streamsOf = (group: unknown) => `arn:aws:logs:us-east-1:${account}:log-group:${group as string}:log-stream:*`;
    const secretRead = {
      PrefectECSWorkerSecretPolicy: {
        Version: "2012-10-17",
        Statement: [{ Sid: "ReadPrefectApiSecret", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: outputs.secret_arn }],
      },
    };
    expect(moto.roles.ecsTaskExecutionRole.attachedPolicies).toEqual([]);
    expect(sortedActions(moto.roles.ecsTaskExecutionRole.inlinePolicies)).toEqual({
      PrefectECSTaskExecutionPolicy: {
        Version: "2012-10-17",
        Statement: [{ Sid: "WriteOurLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: streamsOf(outputs.log_group_name) }],
      },
      ...secretRead,
    });
    expect(moto.roles.PrefectECSRunnerExecutionRole.attachedPolicies).toEqual([]);
    expect(sortedActions(moto.roles.PrefectECSRunnerExecutionRole.inlinePolicies)).toEqual({
      PrefectECSTaskExecutionPolicy: {
        Version: "2012-10-17",
        Statement: [
          { Sid: "EcrLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
          {
            Sid: "PullOurImages",
            Effect: "Allow",
            Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            Resource: `arn:aws:ecr:us-east-1:${account}:repository/${POOL}-flows`,
          },
          { Sid: "WriteOurLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: streamsOf(outputs.flow_run_log_group_name) },
        ],
      },
      ...secretRead,
    });
    expect(outputs.flow_run_execution_role_arn).toBe(`arn:aws:iam::${account}:role/PrefectECSRunnerExecutionRole`);
    expect(outputs.execution_role_arn).toBe(`arn:aws:iam::${account}:role/ecsTaskExecutionRole`);
    expect(moto.roles.ecsTaskRole.attachedPolicies).toEqual(["ecsTaskPolicy"]);
    const sqsReads = Object.values(moto.roles.ecsTaskRole.inlinePolicies).flatMap((policy) => policy.Statement);
    expect(sqsReads).toContainEqual(expect.objectContaining({ Effect: "Allow", Resource: outputs.events_queue_arn }));
    // The worker runs, tags and passes only what belongs to its pool.
    const workerPolicy = (sid: string) => moto.policies.ecsTaskPolicy.Statement.find((statement) => statement.Sid === sid);
    const ourFamilies = `arn:aws:ecs:us-east-1:${account}:task-definition/prefect_${POOL}_????????-????-????-????-????????????:*`;
    expect(workerPolicy("RunOurFlowRunsInOurCluster")).toMatchObject({
      Action: "ecs:RunTask",
      Resource: ourFamilies,
      Condition: { ArnEquals: { "ecs:cluster": outputs.cluster_arn }, StringEquals: { "aws:RequestTag/prefect.io/work-pool-name": POOL } },
    });
    expect(workerPolicy("RegisterOurFlowRunTaskDefinitions")).toMatchObject({ Action: "ecs:RegisterTaskDefinition", Resource: ourFamilies });
    expect([workerPolicy("PassOnlyOurRolesToEcsTasks")?.Resource].flat().sort()).toEqual([outputs.flow_run_execution_role_arn, outputs.flow_run_task_role_arn].sort());

    // SQS: the events queue redrives to the dead-letter queue; only the rule may send to it.
    expect(added(moto.queues, baseline.queues)).toEqual([`${POOL}-events`, `${POOL}-events-dlq`]);
    const events = moto.queues[`${POOL}-events`].attributes;
    expect(JSON.parse(events.RedrivePolicy)).toEqual({ deadLetterTargetArn: outputs.events_dead_letter_queue_arn, maxReceiveCount: 3 });
    const rule = moto.rules[`${POOL}-task-state-changes`];
    expect(JSON.parse(events.Policy).Statement).toEqual([
      expect.objectContaining({
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: outputs.events_queue_arn,
        Condition: { ArnEquals: { "aws:SourceArn": `arn:aws:events:us-east-1:123456789012:rule/${POOL}-task-state-changes` } },
      }),
    ]);

    // EventBridge: task state changes of our pool's flow runs in our cluster go to the queue.
    expect(rule).toMatchObject({
      state: "ENABLED",
      eventPattern: {
        source: ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        detail: { clusterArn: [outputs.cluster_arn], taskDefinitionArn: [{ prefix: `arn:aws:ecs:us-east-1:${account}:task-definition/prefect_${POOL}_` }] },
      },
      targets: [{ Arn: outputs.events_queue_arn }],
    });

    // ECS: the cluster, the worker's task definition and its Fargate service in the default VPC.
    expect(moto.clusters["my-ecs-cluster"]).toEqual({ status: "ACTIVE", settings: [{ name: "containerInsights", value: "enabled" }] });
    const service = moto.services["prefect-worker-service"];
    const definition = Object.values(moto.taskDefinitions).find((d) => d.arn === service.taskDefinition);
    expect(service).toMatchObject({ cluster: "my-ecs-cluster", status: "ACTIVE", desiredCount: 1, launchType: "FARGATE" });
    expect(service.networkConfiguration.awsvpcConfiguration.subnets.sort()).toEqual([...(outputs.subnet_ids as string[])].sort());
    expect(service.networkConfiguration.awsvpcConfiguration).toMatchObject({ securityGroups: outputs.security_group_ids, assignPublicIp: "ENABLED" });
    expect(definition).toMatchObject({
      cpu: "512",
      memory: "1024",
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      executionRoleArn: outputs.execution_role_arn,
      taskRoleArn: outputs.worker_task_role_arn,
    });
    const [container] = definition!.containerDefinitions;
    expect(container).toMatchObject({
      name: "prefect-worker",
      image: "prefecthq/prefect-aws:latest",
      command: ["prefect", "worker", "start", "--pool", POOL, "--type", "ecs", "--with-healthcheck"],
      secrets: [{ name: "PREFECT_API_AUTH_STRING", valueFrom: outputs.secret_arn }],
      logConfiguration: { logDriver: "awslogs", options: expect.objectContaining({ "awslogs-group": outputs.log_group_name }) },
      // Not root, a read-only image, and one ephemeral volume at /tmp for HOME.
      user: "1000:1000",
      readonlyRootFilesystem: true,
      mountPoints: [{ sourceVolume: "scratch", containerPath: "/tmp", readOnly: false }],
    });
    expect(definition!.volumes).toEqual([expect.objectContaining({ name: "scratch" })]);
    expect(container.environment).toContainEqual({ name: "PREFECT_API_URL", value: scenario.prefect.url });
    expect(container.environment).toContainEqual({ name: "HOME", value: "/tmp" });

    // The worker's own security group: no ingress, egress on 443 only, in the default VPC.
    const groups = Object.values(moto.securityGroups).filter((group) => (outputs.security_group_ids as string[]).includes(group.id));
    expect(groups).toEqual([{ id: expect.any(String), vpcId: outputs.vpc_id, ingress: [], egress: [{ IpProtocol: "tcp", FromPort: 443, ToPort: 443 }] }]);

    // ECR and CloudWatch Logs.
    expect(moto.repositories[`${POOL}-flows`]).toMatchObject({ imageTagMutability: "MUTABLE", lifecyclePolicy: { rules: expect.any(Array) } });
    expect(moto.logGroups).toMatchObject({ [outputs.log_group_name as string]: { retentionInDays: 30 }, [outputs.flow_run_log_group_name as string]: { retentionInDays: 30 } });

    // The secret holds the credential, written through the write-only attribute.
    expect(moto.secrets.PrefectECSWorkerAuthString).toEqual({ value: AUTH_STRING });
  }, 300_000);

  it("THEN the credential is in neither the state nor the outputs", async () => {
    const state = readFileSync(join(stacks.awsDir, "terraform.tfstate"), "utf8");
    const version = (JSON.parse(state) as { resources: { type: string; instances: { attributes: Record<string, unknown> }[] }[] }).resources.find(
      (resource) => resource.type === "aws_secretsmanager_secret_version",
    );
    expect(version?.instances[0].attributes).toMatchObject({ secret_string_wo: null, has_secret_string_wo: true });
    expect(state).not.toContain(AUTH_STRING);
    expect(JSON.stringify(outputs)).not.toContain(AUTH_STRING);
  });

  it("WHEN the work-pool stack is applied THEN the real Prefect server has the pool with the AWS stack's values as its defaults", async () => {
    await scenario.terraform("work pool: init", stacks.workPoolDir, ["init"]);
    const applied = await scenario.terraform("work pool: apply", stacks.workPoolDir, ["apply", "-auto-approve"], prefectEnv);
    expect(applied.stdout).toContain(`Prefect work pool "${POOL}" created`);
    const response = await getPool();
    expect(response.status).toBe(200);
    const pool = (await response.json()) as { type: string; base_job_template: { variables: { properties: Record<string, { default?: unknown }> } } };
    expect(pool.type).toBe("ecs");
    const defaults = Object.fromEntries(Object.entries(pool.base_job_template.variables.properties).map(([name, variable]) => [name, variable.default]));
    expect(defaults).toMatchObject({
      cluster: outputs.cluster_arn,
      vpc_id: outputs.vpc_id,
      execution_role_arn: outputs.flow_run_execution_role_arn,
      task_role_arn: outputs.flow_run_task_role_arn,
      prefect_api_auth_string_secret_arn: outputs.secret_arn,
      network_configuration: { subnets: outputs.subnet_ids, securityGroups: outputs.security_group_ids, assignPublicIp: "ENABLED" },
      cloudwatch_logs_options: { "awslogs-group": outputs.flow_run_log_group_name, "awslogs-create-group": "false" },
    });
  }, 120_000);

  it("WHEN the worker is started from its task definition as ECS would THEN its own health check passes and Prefect sees it online in the pool", async () => {
    const moto = scenario.inventory();
    const definition = Object.values(moto.taskDefinitions).find((d) => d.arn === moto.services["prefect-worker-service"].taskDefinition);
    const workers = () => prefectApi<{ status: string; last_heartbeat_time: string | null }[]>(`/work_pools/${POOL}/workers/filter`, {});
    const mark = scenario.aws.mark();
    const pollsEventsQueue = () => scenario.aws.since(mark).some((call) => call.service === "sqs" && call.action === "ReceiveMessage");
    worker = await scenario.step("worker: start until healthy, online, polling SQS", async () => {
      const started = await scenario.startWorker(definition!);
      expect(await started.healthCheck()).not.toBe(0);
      await started.process.waitFor(async () => (await started.healthCheck()) === 0 && (await workers()).length > 0 && pollsEventsQueue(), 150_000);
      return started;
    });
    // The credential came from moto's secret, as the execution role would have read it.
    expect(worker.env.PREFECT_API_AUTH_STRING).toBe(AUTH_STRING);
    expect(await workers()).toEqual([expect.objectContaining({ status: "ONLINE", last_heartbeat_time: expect.any(String) })]);
    expect((await prefectApi<{ status: string }>(`/work_pools/${POOL}`)).status).toBe("READY");
    // Its ECS observer reads our events queue.
    expect(scenario.aws.since(mark).filter((call) => call.service === "sqs").map((call) => call.action)).toEqual(
      expect.arrayContaining(["GetQueueUrl", "ReceiveMessage"]),
    );
  }, 240_000);

  it("WHEN the guide's deployment gets a flow run THEN the worker registers its task definition and runs it in our cluster, network, roles, secret and logs, as moto shows", async () => {
    await scenario.moto.startRecording();
    const mark = scenario.aws.mark();
    // The deployment prefect_yaml describes, made through the API: the flow image from our ECR repository.
    const [flowRun] = createFlowRuns(scenario.prefect, POOL, [{ name: "my_ecs_deployment", jobVariables: { image: `${outputs.ecr_repository_url}:latest` } }]);
    await scenario.step("flow run: until the worker's RunTask is answered", () => scenario.aws.answeredCall(mark, (call) => call.action === "RunTask", 180_000));
    const submission = submissionOf(
      { flowRuns: [flowRun], worker: { log: worker!.process.log }, ecs: readEcs(scenario.moto, outputs.cluster_arn as string), requests: await scenario.moto.recordedRequests() },
      flowRun,
    );
    flowRunTask = { arn: submission.task.taskArn as string, definition: submission.runTask.taskDefinition };
    expect(submission.runTask).toMatchObject({
      cluster: outputs.cluster_arn,
      networkConfiguration: { awsvpcConfiguration: { securityGroups: outputs.security_group_ids, assignPublicIp: "ENABLED" } },
      overrides: { taskRoleArn: outputs.flow_run_task_role_arn },
    });
    // Tagged with its pool: the only RunTask the worker's policy allows.
    expect(submission.runTask.tags).toContainEqual({ key: "prefect.io/work-pool-name", value: POOL });
    expect([...submission.runTask.networkConfiguration.awsvpcConfiguration.subnets].sort()).toEqual([...(outputs.subnet_ids as string[])].sort());
    // In the pool's family, with the flow runs' own execution role.
    expect(submission.taskDefinition).toMatchObject({ executionRoleArn: outputs.flow_run_execution_role_arn });
    expect(submission.taskDefinition.family).toMatch(new RegExp(`^prefect_${POOL}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`));
    expect(submission.taskDefinition.containerDefinitions[0]).toMatchObject({
      image: `${outputs.ecr_repository_url}:latest`,
      secrets: [{ name: "PREFECT_API_AUTH_STRING", valueFrom: outputs.secret_arn }],
      logConfiguration: { logDriver: "awslogs", options: expect.objectContaining({ "awslogs-group": outputs.flow_run_log_group_name }) },
    });
    expect(submission.task).toMatchObject({ clusterArn: outputs.cluster_arn, taskDefinitionArn: submission.runTask.taskDefinition });
  }, 240_000);

  it("WHEN both stacks are destroyed THEN nothing of ours is left in moto but what AWS keeps too, and the pool stays in Prefect", async () => {
    await worker?.process.stop();
    // Flow runs end before the teardown (runbook step 7: ECS keeps a cluster that still has tasks).
    if (flowRunTask) stopTask(scenario, outputs.cluster_arn as string, flowRunTask.arn);
    await scenario.terraform("work pool: destroy", stacks.workPoolDir, ["destroy", "-auto-approve"], prefectEnv);
    const destroyed = await scenario.terraform("aws: destroy", stacks.awsDir, ["destroy", "-auto-approve"], awsEnv());
    expect(resourceCounts(destroyed).destroyed).toBe(created);
    const moto = scenario.inventory();
    // The flow run's task definition is the worker's, not ours: it stays registered, as on AWS.
    expect(Object.values(moto.taskDefinitions).map((d) => d.arn)).toEqual(flowRunTask ? [flowRunTask.definition] : []);
    expect(liveResources(moto, flowRunTask ? [flowRunTask.definition] : [])).toEqual(liveResources(baseline));
    // Kept as AWS keeps them: the cluster and service as INACTIVE, the secret for its recovery window.
    expect(moto.clusters["my-ecs-cluster"].status).toBe("INACTIVE");
    expect(moto.services["prefect-worker-service"].status).toBe("INACTIVE");
    expect(moto.secrets.PrefectECSWorkerAuthString).toEqual({ deletedDate: expect.any(String) });
    expect((await getPool()).status).toBe(200);
  }, 300_000);
});
