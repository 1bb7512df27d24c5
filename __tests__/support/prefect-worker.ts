/**
 * The real prefect-aws ECS worker against a real Prefect server and moto (test only, never shipped):
 * a deployment and a flow run made through the real Prefect client, one `prefect worker start --type ecs
 * --run-once` with its AWS calls sent to moto, and what reached moto read back (the ECS API's own answers
 * and the raw requests moto's recorder saw). The Python halves live in __tests__/peers/.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MotoServer, peerCommand, peerEnv, PeerProcess, PrefectServer, RecordedAwsRequest, runPython } from "./peers";

const SCRIPTS = join(__dirname, "..", "peers");
/** The ECS API's JSON-protocol target prefix (`X-Amz-Target`). */
const ECS_TARGET = "AmazonEC2ContainerServiceV20141113.";

/** Runs one of the peers' scripts with a throwaway home; fails with its output when it exits non-zero. */
function runScript(script: string, args: string[], env: NodeJS.ProcessEnv, input: unknown): unknown {
  const home = mkdtempSync(join(tmpdir(), "prefect-worker-peer-"));
  try {
    const result = runPython("prefect", [join(SCRIPTS, script), ...args], inHome(home, env), JSON.stringify(input));
    if (result.status !== 0) throw new Error(`${script} failed (${result.status}):\n${result.stderr.slice(-4000)}`);
    return JSON.parse(result.stdout);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** A peer's environment with `env` on top, in a home of its own (the peer writes its Prefect profile there). */
function inHome(home: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { HOME: _home, PREFECT_HOME: _prefectHome, ...rest } = env;
  return peerEnv(home, rest);
}

/** Names of the AWS resources a pool's flow runs use (what the AWS stack would create). */
export interface FlowRunAwsNames {
  readonly cluster_name: string;
  readonly security_group_name: string;
  readonly execution_role_name: string;
  readonly task_role_name: string;
  readonly secret_name: string;
  readonly log_group_name: string;
}

/**
 * Creates in moto what a pool's flow runs need (cluster, security group in the default VPC, execution and
 * task roles, the credential secret, the flow-run log group) and returns the AWS stack's outputs for them (the worker's and the flow runs' execution roles apart),
 * without `prefect_api_url` and `assign_public_ip`.
 */
export function seedFlowRunAws(moto: MotoServer, names: FlowRunAwsNames): Record<string, unknown> {
  return runScript("seed_flow_run_aws.py", [], moto.clientEnv, names) as Record<string, unknown>;
}

export interface DeploymentSpec {
  readonly name: string;
  /** The deployment's job-variable overrides. @default {} */
  readonly jobVariables?: Record<string, unknown>;
}

export interface CreatedFlowRun {
  readonly flowId: string;
  readonly deploymentId: string;
  readonly flowRunId: string;
}

/**
 * One deployment on the pool per spec, each with one flow run scheduled now, made through the real
 * Prefect client (one Python process for all). Returned in the order of `deployments`.
 */
export function createFlowRuns(server: PrefectServer, workPoolName: string, deployments: readonly DeploymentSpec[], flowName = "real-worker-flow"): CreatedFlowRun[] {
  const created = runScript("create_flow_run.py", [], server.clientEnv, {
    work_pool_name: workPoolName,
    flow_name: flowName,
    deployments: deployments.map((deployment) => ({ name: deployment.name, job_variables: deployment.jobVariables ?? {} })),
  }) as { flow_id: string; deployment_id: string; flow_run_id: string }[];
  return created.map((run) => ({ flowId: run.flow_id, deploymentId: run.deployment_id, flowRunId: run.flow_run_id }));
}

export interface WorkerRun {
  /** What the worker printed (its log), for failure messages. */
  readonly log: string;
}

/**
 * `prefect worker start --pool <pool> --type ecs --run-once`: one poll, every scheduled flow run of the pool
 * submitted, then exit. The worker talks to `server` with `env`'s credentials on top of the server's client
 * environment (say `PREFECT_API_KEY`), and to moto for every AWS call.
 */
export async function runEcsWorkerOnce(
  server: PrefectServer,
  moto: MotoServer,
  pool: string,
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 180_000,
): Promise<WorkerRun> {
  const home = mkdtempSync(join(tmpdir(), "prefect-worker-"));
  const worker = PeerProcess.start(
    `prefect worker for pool ${pool}`,
    peerCommand("prefect", "prefect"),
    ["worker", "start", "--pool", pool, "--type", "ecs", "--run-once", "--install-policy", "never"],
    // The worker's ECS observer finds no queue in moto: it logs a warning and stops; nothing here waits for ECS events.
    inHome(home, { ...server.clientEnv, ...moto.clientEnv, ...env }),
  );
  try {
    const deadline = Date.now() + timeoutMs;
    while (worker.running && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    if (worker.running) throw new Error(`the worker did not exit after ${timeoutMs / 1000} s:\n${worker.log}`);
    return { log: worker.log };
  } finally {
    await worker.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

/** What ECS in moto holds: DescribeTaskDefinition and DescribeTasks answers (tags included). */
export interface EcsState {
  readonly taskDefinitions: Record<string, unknown>[];
  readonly tasks: Record<string, unknown>[];
}

/** Every task definition in moto and every task of `cluster` (name or ARN). */
export function readEcs(moto: MotoServer, cluster: string): EcsState {
  return runScript("read_ecs.py", [cluster], moto.clientEnv, {}) as EcsState;
}

/** The parsed bodies of the ECS requests named `action` (e.g. `RunTask`) among the recorded requests. */
export function ecsRequests(requests: readonly RecordedAwsRequest[], action: string): Record<string, unknown>[] {
  return requests.filter((request) => request.target === ECS_TARGET + action).map((request) => JSON.parse(request.body) as Record<string, unknown>);
}

/** What one run of the worker sent to ECS for the flow runs it found. */
export interface WorkerSubmissions {
  readonly flowRuns: readonly CreatedFlowRun[];
  readonly worker: WorkerRun;
  /** ECS in moto afterwards. */
  readonly ecs: EcsState;
  /** Every AWS request that reached moto while the worker ran. */
  readonly requests: readonly RecordedAwsRequest[];
}

/**
 * One deployment and flow run per spec on the pool, then one run of the real worker, recorded by moto:
 * the whole path from a scheduled flow run to ECS. `cluster` is where the tasks are read back from.
 */
export async function submitFlowRuns(
  server: PrefectServer,
  moto: MotoServer,
  options: { readonly pool: string; readonly cluster: string; readonly deployments: readonly DeploymentSpec[]; readonly workerEnv?: NodeJS.ProcessEnv },
): Promise<WorkerSubmissions> {
  const flowRuns = createFlowRuns(server, options.pool, options.deployments);
  await moto.startRecording();
  const worker = await runEcsWorkerOnce(server, moto, options.pool, options.workerEnv);
  return { flowRuns, worker, ecs: readEcs(moto, options.cluster), requests: await moto.recordedRequests() };
}

/** A container definition as ECS returns it (the fields the tests read). */
export interface EcsContainerDefinition {
  readonly name: string;
  readonly image: string;
  readonly secrets?: readonly { name: string; valueFrom: string }[];
  readonly environment?: readonly { name: string; value: string }[];
  readonly logConfiguration?: { readonly logDriver: string; readonly options: Readonly<Record<string, string>> };
}

/** A RunTask request as the worker sent it (the fields the tests read). */
export interface RunTaskRequest {
  readonly cluster: string;
  readonly taskDefinition: string;
  readonly launchType?: string;
  readonly networkConfiguration: {
    readonly awsvpcConfiguration: { readonly subnets: string[]; readonly securityGroups: string[]; readonly assignPublicIp: string };
  };
  readonly overrides: {
    readonly taskRoleArn?: string;
    readonly containerOverrides: readonly { name: string; environment?: readonly { name: string; value: string }[] }[];
  };
  readonly tags: readonly { key: string; value: string }[];
}

/** What ECS got for one flow run: its RunTask request, the task definition it names and the task moto started. */
export interface FlowRunSubmission {
  readonly runTask: RunTaskRequest;
  readonly taskDefinition: Record<string, unknown> & { readonly containerDefinitions: EcsContainerDefinition[] };
  readonly task: Record<string, unknown>;
}

/** A RunTask tag's value. */
export function runTaskTag(runTask: RunTaskRequest, key: string): string | undefined {
  return runTask.tags.find((tag) => tag.key === key)?.value;
}

/**
 * The flow run's submission, found by the `prefect.io/flow-run-id` tag the worker puts on its RunTask;
 * fails with the worker's log unless there is exactly one RunTask, a task definition and a started task.
 */
export function submissionOf(submissions: WorkerSubmissions, flowRun: CreatedFlowRun): FlowRunSubmission {
  const fail = (what: string): never => {
    throw new Error(`flow run ${flowRun.flowRunId}: ${what}; the worker printed:\n${submissions.worker.log}`);
  };
  const runTasks = (ecsRequests(submissions.requests, "RunTask") as unknown as RunTaskRequest[]).filter(
    (request) => runTaskTag(request, "prefect.io/flow-run-id") === flowRun.flowRunId,
  );
  if (runTasks.length !== 1) return fail(`expected one RunTask, got ${runTasks.length}`);
  const [runTask] = runTasks;
  const taskDefinition = submissions.ecs.taskDefinitions.find((definition) => definition.taskDefinitionArn === runTask.taskDefinition);
  if (!taskDefinition) return fail(`RunTask names ${runTask.taskDefinition}, which moto does not hold`);
  const tasks = submissions.ecs.tasks.filter((task) =>
    (task.tags as { key: string; value: string }[] | undefined)?.some((tag) => tag.key === "prefect.io/flow-run-id" && tag.value === flowRun.flowRunId),
  );
  if (tasks.length !== 1) return fail(`expected one task in moto, got ${tasks.length}`);
  return { runTask, taskDefinition: taskDefinition as FlowRunSubmission["taskDefinition"], task: tasks[0] };
}
