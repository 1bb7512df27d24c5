/**
 * Least privilege, proven with a real IAM evaluation engine
 * (@cloud-copilot/iam-simulate through support/iam-simulator.ts).
 *
 * For a matrix of configurations, the policies the stack synthesizes are
 * rendered to IAM JSON (support/policy-render.ts, with example ARNs in account
 * 123456789012 / us-east-1) and every AWS call the Prefect ECS worker and its
 * observer make (shared/spec/worker-aws-calls.md) is simulated with the request
 * context AWS sends: each must be Allowed, and requests outside our resources
 * must be denied. Static checks cover every policy document of the stack.
 */
import { GUIDE_WORKER_ACTIONS, GUIDE_WORKER_SQS_ACTIONS } from "./support/guide-policies";
import { PrefectEcsWorkerConfigInput } from "../src/config/schema";
import {
  actionSupportsResourceLevel,
  ContextValues,
  isKnownAction,
  simulateWithDetails,
  SimulationRequest,
  SimulationResult,
} from "./support/iam-simulator";
import {
  EXAMPLE_ENVIRONMENT,
  exampleRefs,
  interpolate,
  policyDocumentNames,
  PolicyJson,
  PolicyJsonStatement,
  policyOf,
  renderPolicyDocument,
  TerraformRefs,
} from "./support/policy-render";
import { parseJsonencode } from "./support/hcl-expression";
import { synthesize, synthesizePools, TerraformJson } from "./support/synth";

// ------------------------------------------------------------ example world

const { account: ACCOUNT, region: REGION } = EXAMPLE_ENVIRONMENT;
const POOL = "my-ecs-pool";
const DEPLOYMENT_ID = "3f0c8a52-9d1e-4b7a-a6c2-5e8f9b0d1c2a";
/** What the worker registers and runs for a pool: family prefect_<pool>_<deployment-id>, with a revision. */
const taskDefinitionOf = (pool: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/prefect_${pool}_${DEPLOYMENT_ID}:1`;
const TASK_DEFINITION_ARN = taskDefinitionOf(POOL);
const TASK_ID = "0123456789abcdef0123456789abcdef";
const FLOW_RUN_ID = "6a1f2d3c-4b5a-4c69-8e7f-0a1b2c3d4e5f";
const DEFAULT_CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/my-ecs-cluster`;
const EXISTING_CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/shared-cluster`;
const EXISTING_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prefect/worker-api-key-Q1w2E3`;
const KMS_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

const OTHER_CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/other-cluster`;
const OTHER_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/AdminRole`;
const OTHER_QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:other-queue`;
const OTHER_LOG_STREAM_ARN = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/ecs/other-app:log-stream:app/app/${TASK_ID}`;
/** The log group prefect-aws uses when the work pool names none (configure_cloudwatch_logs). */
const PREFECT_DEFAULT_LOG_STREAM_ARN = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:prefect:log-stream:prefect-logs_${POOL}_abc/prefect/${TASK_ID}`;
const OTHER_RULE_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:rule/other-rule`;
const OTHER_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:other-secret-XyZ123`;
const OTHER_PARAMETER_ARN = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/other/secret`;
const OTHER_REPOSITORY_ARN = `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/other-team/app`;
const OTHER_KMS_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/99999999-8888-7777-6666-555555555555`;

/**
 * The default key policy AWS gives a customer key: it delegates to IAM, so
 * identity policies of the account take effect. Without such a statement KMS
 * ignores identity policies (the engine models this), so every kms:Decrypt
 * request below carries it: a denial then comes from our policy alone.
 */
const DEFAULT_KEY_POLICY = {
  Version: "2012-10-17",
  Statement: [
    { Sid: "EnableIamUserPermissions", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" },
  ],
};

const ECS_TASKS = "ecs-tasks.amazonaws.com";
/** Tags prefect-aws puts on RunTask (labels of the flow run, its work pool among them). */
const runTaskTags = (pool: string): ContextValues => ({
  "aws:RequestTag/prefect.io/flow-run-id": FLOW_RUN_ID,
  "aws:RequestTag/prefect.io/work-pool-name": pool,
  "aws:TagKeys": ["prefect.io/flow-run-id", "prefect.io/flow-run-name", "prefect.io/version", "prefect.io/work-pool-name"],
});
const RUN_TASK_TAGS = runTaskTags(POOL);
/** What StopTask and DescribeTasks see on a flow-run task of a pool (the tags RunTask put on it). */
const taggedTask = (clusterArn: string, pool: string): ContextValues => ({
  "ecs:cluster": clusterArn,
  "aws:ResourceTag/prefect.io/work-pool-name": pool,
});

const taskOf = (clusterArn: string) => `${clusterArn.replace(":cluster/", ":task/")}/${TASK_ID}`;

// ------------------------------------------------------------ configurations

interface Case {
  title: string;
  input: PrefectEcsWorkerConfigInput;
  clusterArn: string;
  flowRunTaskRole: boolean;
  flowRunLogs: boolean;
  /** How the execution role reads the credential; undefined: no auth, no secret. */
  secret?: { readAction: "secretsmanager:GetSecretValue" | "ssm:GetParameters"; existingArn?: string };
  kmsKeyArn?: string;
  /** workPool.autoDeregisterTaskDefinitions: the observer deregisters task definitions. */
  autoDeregister?: boolean;
}

const SELF_HOSTED = { server: "self-hosted", apiUrl: "http://prefect.internal:4200/api" } as const;

const CASES: Case[] = [
  {
    title: "the defaults (Cloud, API key in a new Secrets Manager secret, new cluster)",
    input: {},
    clusterArn: DEFAULT_CLUSTER_ARN,
    flowRunTaskRole: true,
    flowRunLogs: true,
    secret: { readAction: "secretsmanager:GetSecretValue" },
  },
  {
    title: "self-hosted basic auth in SSM with a customer KMS key, an existing cluster by ARN, an explicit network and S3 buckets for flow runs",
    input: {
      prefect: { ...SELF_HOSTED, auth: "basic-auth" },
      secret: { store: "ssm", kmsKeyArn: KMS_KEY_ARN },
      cluster: { existing: EXISTING_CLUSTER_ARN },
      network: { vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"] },
      flowRunTaskRole: { s3Buckets: ["my-flow-results", "my-flow-code"] },
    },
    clusterArn: EXISTING_CLUSTER_ARN,
    flowRunTaskRole: true,
    flowRunLogs: true,
    secret: { readAction: "ssm:GetParameters" },
    kmsKeyArn: KMS_KEY_ARN,
  },
  {
    title: "a self-hosted server without auth, no flow-run task role, no flow-run logs, task definitions deregistered after each run",
    input: {
      prefect: { ...SELF_HOSTED, auth: "none" },
      flowRunTaskRole: { enabled: false },
      flowRunLogs: { enabled: false },
      workPool: { autoDeregisterTaskDefinitions: true },
    },
    clusterArn: DEFAULT_CLUSTER_ARN,
    flowRunTaskRole: false,
    flowRunLogs: false,
    autoDeregister: true,
  },
  {
    title: "Prefect Cloud with the API key in Secrets Manager encrypted with a customer KMS key",
    input: { secret: { kmsKeyArn: KMS_KEY_ARN } },
    clusterArn: DEFAULT_CLUSTER_ARN,
    flowRunTaskRole: true,
    flowRunLogs: true,
    secret: { readAction: "secretsmanager:GetSecretValue" },
    kmsKeyArn: KMS_KEY_ARN,
  },
  {
    title: "an existing Secrets Manager secret given by ARN",
    input: { secret: { existing: EXISTING_SECRET_ARN } },
    clusterArn: DEFAULT_CLUSTER_ARN,
    flowRunTaskRole: true,
    flowRunLogs: true,
    secret: { readAction: "secretsmanager:GetSecretValue", existingArn: EXISTING_SECRET_ARN },
  },
];

// ------------------------------------------------------------ the stack, rendered

interface Stack {
  json: TerraformJson;
  /** Our cluster (the case's: created with the default name, or the existing one). */
  clusterArn: string;
  refs: TerraformRefs;
  /** Every aws_iam_policy_document of the stack, rendered. */
  documents: Record<string, PolicyJson>;
  /** Identity policies of the worker task role: the managed worker_task_policy and the inline worker_task_sqs_policy. */
  workerPolicies: PolicyJson[];
  /** The two execution roles ECS uses: the worker's and the flow runs' (the same role in guide mode). */
  executionRoles: ExecutionRole[];
  queuePolicy: PolicyJson;
  workerPrincipal: string;
  /** The queue the observer reads: the one named in the worker's PREFECT_INTEGRATIONS_AWS_ECS_OBSERVER_SQS_QUEUE_NAME. */
  queueArn: string;
  ruleArn: string;
  /** The worker's own execution role: never passed to flow runs. */
  executionRoleArn: string;
  /** The flow runs' execution role (the work pool's execution_role_arn). */
  flowRunExecutionRoleArn: string;
  flowRunTaskRoleArn?: string;
  flowImageRepositoryArn?: string;
  flowRunLogStreamArn?: string;
  workerLogStreamArn: string;
  /** The ARN ECS reads the worker's credential from (the container's secrets[].valueFrom). */
  secretArn?: string;
}

interface ExecutionRole {
  /** Terraform logical name of the role, e.g. `execution_role`. */
  role: string;
  principal: string;
  /** Its inline policies, rendered (`<role>_policy`, `<role>_secret_policy`, when present). */
  policies: PolicyJson[];
  /** A stream of the log group its tasks log to. */
  logStreamArn?: string;
  /** The ECR repository its tasks pull from. */
  repositoryArn?: string;
}

function named(document: PolicyJson, id: string): PolicyJson {
  return { ...document, Id: id };
}

function loadStack(c: Case, json: TerraformJson = synthesize(c.input).json): Stack {
  const refs = exampleRefs(json);
  const documents = Object.fromEntries(policyDocumentNames(json).map((name) => [name, renderPolicyDocument(json, name, refs)]));
  const render = (type: string, name: string) => named(documents[policyOf(json, type, name)], `${type}.${name}`);
  const inlinePolicies = (role: string) =>
    [`${role}_policy`, `${role}_secret_policy`]
      .filter((name) => json.resource.aws_iam_role_policy?.[name] !== undefined)
      .map((name) => render("aws_iam_role_policy", name));

  const container = json.locals?.worker_container as
    | { environment?: { name: string; value: string }[]; secrets?: { name: string; valueFrom: string }[] }
    | undefined;
  if (!container) throw new Error("locals.worker_container (the worker's container definition) is missing");
  const queueName = container.environment?.find((e) => e.name === "PREFECT_INTEGRATIONS_AWS_ECS_OBSERVER_SQS_QUEUE_NAME")?.value;
  if (!queueName) throw new Error("the worker container has no PREFECT_INTEGRATIONS_AWS_ECS_OBSERVER_SQS_QUEUE_NAME");
  const valueFrom = container.secrets?.[0]?.valueFrom;
  const roleName = (name: string) => refs[`aws_iam_role.${name}.name`];
  const flowRunGroup = refs["aws_cloudwatch_log_group.flow_runs.arn"];
  const flowRunLogStreamArn = flowRunGroup && `${flowRunGroup}:log-stream:prefect-logs_${POOL}_abc/prefect/${TASK_ID}`;
  const workerLogStreamArn = `${refs["aws_cloudwatch_log_group.worker.arn"]}:log-stream:worker/prefect-worker/${TASK_ID}`;

  return {
    json,
    refs,
    documents,
    clusterArn: c.clusterArn,
    workerPolicies: [render("aws_iam_policy", "worker_task_policy"), render("aws_iam_role_policy", "worker_task_sqs_policy")],
    executionRoles: [
      {
        role: "execution_role",
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName("execution_role")}/${TASK_ID}`,
        policies: inlinePolicies("execution_role"),
        logStreamArn: workerLogStreamArn,
      },
      {
        role: "flow_run_execution_role",
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName("flow_run_execution_role")}/${TASK_ID}`,
        policies: inlinePolicies("flow_run_execution_role"),
        logStreamArn: flowRunLogStreamArn,
        repositoryArn: refs["aws_ecr_repository.flow_images.arn"],
      },
    ],
    queuePolicy: render("aws_sqs_queue_policy", "events_queue_policy"),
    workerPrincipal: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName("worker_task_role")}/${TASK_ID}`,
    queueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${interpolate(queueName, refs)}`,
    ruleArn: refs["aws_cloudwatch_event_rule.ecs_task_state_changes.arn"],
    executionRoleArn: refs["aws_iam_role.execution_role.arn"],
    flowRunExecutionRoleArn: refs["aws_iam_role.flow_run_execution_role.arn"] ?? refs["aws_iam_role.execution_role.arn"],
    flowRunTaskRoleArn: refs["aws_iam_role.flow_run_task_role.arn"],
    flowImageRepositoryArn: refs["aws_ecr_repository.flow_images.arn"],
    flowRunLogStreamArn,
    workerLogStreamArn,
    secretArn: valueFrom === undefined ? undefined : interpolate(valueFrom, refs),
  };
}

/** The trust policy of role `aws_iam_role.<role>`, rendered. */
function renderTrust(stack: Stack, role: string): PolicyJson {
  return stack.documents[policyOf(stack.json, "aws_iam_role", role, "assume_role_policy")];
}

/** Policies attached to role `aws_iam_role.<role>`: managed policy ARNs and inline policy logical names. */
function attachedTo(json: TerraformJson, role: string) {
  const roleName = `\${aws_iam_role.${role}.name}`;
  const managed = Object.values(json.resource.aws_iam_role_policy_attachment ?? {})
    .filter((a) => a.role === roleName)
    .map((a) => a.policy_arn as string)
    .sort();
  const inline = Object.entries(json.resource.aws_iam_role_policy ?? {})
    .filter(([, p]) => p.role === roleName)
    .map(([name]) => name)
    .sort();
  const body = json.resource.aws_iam_role[role];
  const embedded = ["inline_policy", "managed_policy_arns"].filter((key) => body[key] !== undefined);
  return { managed, inline, embedded };
}

// ------------------------------------------------------------ simulation helpers

type Request = Pick<SimulationRequest, "action" | "resource" | "context" | "resourcePolicy">;

interface Call {
  title: string;
  when?: (c: Case) => boolean;
  request: (s: Stack) => Request;
}

async function decide(principal: string, identityPolicies: object[], request: Request) {
  const details = await simulateWithDetails({ principal, identityPolicies, ...request });
  // The explanation (granting statement, or why each near-miss did not match) shows in the diff on failure.
  return { result: details.result, explanation: details.explanation };
}

function expectDecision(actual: { result: SimulationResult; explanation: string }, expected: SimulationResult) {
  // On failure the message shows the decision with the engine's explanation.
  expect(actual.result === expected ? expected : `${actual.result}\n${actual.explanation}`).toBe(expected);
}

const sqsCall = (action: string) => (s: Stack): Request => ({ action, resource: s.queueArn, resourcePolicy: s.queuePolicy });

/** Every call of shared/spec/worker-aws-calls.md, with the context AWS sends. */
const WORKER_CALLS: Call[] = [
  {
    title: "ecs:RegisterTaskDefinition of a flow-run task definition (FARGATE, 1024 CPU / 2048 MiB)",
    request: () => ({
      action: "ecs:RegisterTaskDefinition",
      resource: TASK_DEFINITION_ARN,
      context: { "ecs:compute-compatibility": "FARGATE", "ecs:task-cpu": "1024", "ecs:task-memory": "2048" },
    }),
  },
  {
    title: "iam:PassRole of the flow runs' execution role (executionRoleArn of the task definition) to ECS tasks",
    request: (s) => ({ action: "iam:PassRole", resource: s.flowRunExecutionRoleArn, context: { "iam:PassedToService": ECS_TASKS } }),
  },
  { title: "ecs:DescribeTaskDefinition", request: () => ({ action: "ecs:DescribeTaskDefinition", resource: "*" }) },
  {
    title: "ecs:RunTask of the flow-run task definition in our cluster, with the flow-run tags",
    request: (s) => ({
      action: "ecs:RunTask",
      resource: TASK_DEFINITION_ARN,
      context: { "ecs:cluster": s.clusterArn, ...RUN_TASK_TAGS },
    }),
  },
  {
    title: "ecs:TagResource of the task RunTask creates (ecs:CreateAction RunTask)",
    request: (s) => ({
      action: "ecs:TagResource",
      resource: taskOf(s.clusterArn),
      context: { "ecs:CreateAction": "RunTask", ...RUN_TASK_TAGS },
    }),
  },
  {
    title: "iam:PassRole of the flow-run task role (overrides.taskRoleArn) to ECS tasks",
    when: (c) => c.flowRunTaskRole,
    request: (s) => ({ action: "iam:PassRole", resource: s.flowRunTaskRoleArn as string, context: { "iam:PassedToService": ECS_TASKS } }),
  },
  {
    title: "ecs:StopTask of a flow-run task of our pool in our cluster (cancellation)",
    request: (s) => ({ action: "ecs:StopTask", resource: taskOf(s.clusterArn), context: taggedTask(s.clusterArn, POOL) }),
  },
  { title: "ec2:DescribeVpcs", request: () => ({ action: "ec2:DescribeVpcs", resource: "*", context: { "ec2:Region": REGION } }) },
  { title: "ec2:DescribeSubnets", request: () => ({ action: "ec2:DescribeSubnets", resource: "*", context: { "ec2:Region": REGION } }) },
  { title: "sqs:GetQueueUrl of the events queue (observer start)", request: sqsCall("sqs:GetQueueUrl") },
  { title: "sqs:ReceiveMessage from the events queue", request: sqsCall("sqs:ReceiveMessage") },
  { title: "sqs:DeleteMessage from the events queue", request: sqsCall("sqs:DeleteMessage") },
  { title: "sqs:ChangeMessageVisibility on the events queue", request: sqsCall("sqs:ChangeMessageVisibility") },
  {
    title: "ecs:DescribeTasks of a flow-run task of our pool in our cluster (observer reads its tags)",
    request: (s) => ({ action: "ecs:DescribeTasks", resource: taskOf(s.clusterArn), context: taggedTask(s.clusterArn, POOL) }),
  },
  {
    title: "logs:GetLogEvents of a stream of the flow-run log group (crashed-run logs)",
    when: (c) => c.flowRunLogs,
    request: (s) => ({ action: "logs:GetLogEvents", resource: s.flowRunLogStreamArn as string }),
  },
  {
    title: "ecs:DeregisterTaskDefinition (observer, on STOPPED events of runs tagged for deregistration)",
    when: (c) => c.autoDeregister === true,
    request: () => ({ action: "ecs:DeregisterTaskDefinition", resource: "*" }),
  },
];

/** Requests outside what the worker needs, or outside our resources. */
const OUT_OF_SCOPE: Call[] = [
  {
    title: "ecs:RunTask in another cluster",
    request: () => ({ action: "ecs:RunTask", resource: TASK_DEFINITION_ARN, context: { "ecs:cluster": OTHER_CLUSTER_ARN, ...RUN_TASK_TAGS } }),
  },
  {
    title: "ecs:RunTask of our family without the pool tag (only a worker of this pool tags for it)",
    request: (s) => ({ action: "ecs:RunTask", resource: TASK_DEFINITION_ARN, context: { "ecs:cluster": s.clusterArn } }),
  },
  {
    title: "ecs:RunTask of our family tagged for another pool",
    request: (s) => ({ action: "ecs:RunTask", resource: TASK_DEFINITION_ARN, context: { "ecs:cluster": s.clusterArn, ...runTaskTags("prod") } }),
  },
  {
    title: "ecs:RunTask of another pool's flow-run family, tagged for ours (its execution role reads its secret)",
    request: (s) => ({ action: "ecs:RunTask", resource: taskDefinitionOf("prod"), context: { "ecs:cluster": s.clusterArn, ...RUN_TASK_TAGS } }),
  },
  {
    title: "ecs:RunTask of a pool whose name extends ours (prefect_<pool>_x_<id>)",
    request: (s) => ({ action: "ecs:RunTask", resource: taskDefinitionOf(`${POOL}_x`), context: { "ecs:cluster": s.clusterArn, ...RUN_TASK_TAGS } }),
  },
  {
    title: "ecs:RunTask of the worker's own task definition (its task role would run a flow)",
    request: (s) => ({
      action: "ecs:RunTask",
      resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/prefect-worker-task:1`,
      context: { "ecs:cluster": s.clusterArn, ...RUN_TASK_TAGS },
    }),
  },
  {
    title: "ecs:RegisterTaskDefinition of another family than prefect_<pool>_<id>",
    request: () => ({
      action: "ecs:RegisterTaskDefinition",
      resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/prefect-worker-task:2`,
      context: { "ecs:compute-compatibility": "FARGATE", "ecs:task-cpu": "1024", "ecs:task-memory": "2048" },
    }),
  },
  {
    title: "ecs:StopTask of another pool's flow run in our cluster",
    request: (s) => ({ action: "ecs:StopTask", resource: taskOf(s.clusterArn), context: taggedTask(s.clusterArn, "prod") }),
  },
  {
    title: "ecs:DescribeTasks of another pool's flow run in our cluster",
    request: (s) => ({ action: "ecs:DescribeTasks", resource: taskOf(s.clusterArn), context: taggedTask(s.clusterArn, "prod") }),
  },
  {
    title: "ecs:StopTask of an untagged task in our cluster (a worker task)",
    request: (s) => ({ action: "ecs:StopTask", resource: taskOf(s.clusterArn), context: { "ecs:cluster": s.clusterArn } }),
  },
  {
    title: "ecs:TagResource of a task RunTask creates, tagged for another pool",
    request: (s) => ({ action: "ecs:TagResource", resource: taskOf(s.clusterArn), context: { "ecs:CreateAction": "RunTask", ...runTaskTags("prod") } }),
  },
  {
    title: "ecs:StopTask of a task in another cluster",
    request: () => ({ action: "ecs:StopTask", resource: taskOf(OTHER_CLUSTER_ARN), context: taggedTask(OTHER_CLUSTER_ARN, POOL) }),
  },
  {
    title: "ecs:DescribeTasks of a task in another cluster",
    request: () => ({ action: "ecs:DescribeTasks", resource: taskOf(OTHER_CLUSTER_ARN), context: taggedTask(OTHER_CLUSTER_ARN, POOL) }),
  },
  {
    title: "ecs:TagResource of a task of our cluster outside RunTask (a plain TagResource call, no ecs:CreateAction)",
    request: (s) => ({ action: "ecs:TagResource", resource: taskOf(s.clusterArn), context: RUN_TASK_TAGS }),
  },
  {
    title: "iam:PassRole of another role to ECS tasks",
    request: () => ({ action: "iam:PassRole", resource: OTHER_ROLE_ARN, context: { "iam:PassedToService": ECS_TASKS } }),
  },
  {
    title: "iam:PassRole of the worker's own execution role to ECS tasks (a flow run could otherwise run as it)",
    request: (s) => ({ action: "iam:PassRole", resource: s.executionRoleArn, context: { "iam:PassedToService": ECS_TASKS } }),
  },
  {
    title: "iam:PassRole of the flow runs' execution role to another service (lambda.amazonaws.com)",
    request: (s) => ({ action: "iam:PassRole", resource: s.flowRunExecutionRoleArn, context: { "iam:PassedToService": "lambda.amazonaws.com" } }),
  },
  {
    title: "iam:PassRole of our flow-run task role to another service (ec2.amazonaws.com)",
    when: (c) => c.flowRunTaskRole,
    request: (s) => ({
      action: "iam:PassRole",
      resource: s.flowRunTaskRoleArn as string,
      context: { "iam:PassedToService": "ec2.amazonaws.com" },
    }),
  },
  ...["sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"].map(
    (action): Call => ({ title: `${action} on another queue`, request: () => ({ action, resource: OTHER_QUEUE_ARN }) }),
  ),
  { title: "sqs:SendMessage to our queue (only EventBridge sends)", request: sqsCall("sqs:SendMessage") },
  { title: "sqs:GetQueueAttributes of our queue (never called; the guide grants it)", request: sqsCall("sqs:GetQueueAttributes") },
  {
    title: "logs:GetLogEvents of another log group",
    request: () => ({ action: "logs:GetLogEvents", resource: OTHER_LOG_STREAM_ARN }),
  },
  {
    title: "logs:GetLogEvents of prefect-aws's default log group when flow-run logs are disabled (nothing to read)",
    when: (c) => !c.flowRunLogs,
    request: () => ({ action: "logs:GetLogEvents", resource: PREFECT_DEFAULT_LOG_STREAM_ARN }),
  },
  {
    title: "logs:PutLogEvents into the worker's own log group (the guide grants it; ECS writes logs with the execution role)",
    request: (s) => ({ action: "logs:PutLogEvents", resource: s.workerLogStreamArn }),
  },
  {
    title: "logs:PutLogEvents into the flow-run log group",
    when: (c) => c.flowRunLogs,
    request: (s) => ({ action: "logs:PutLogEvents", resource: s.flowRunLogStreamArn as string }),
  },
  {
    title: "ecs:DeregisterTaskDefinition while the pool does not deregister task definitions",
    when: (c) => !c.autoDeregister,
    request: () => ({ action: "ecs:DeregisterTaskDefinition", resource: "*" }),
  },
  { title: "iam:CreateRole", request: () => ({ action: "iam:CreateRole", resource: `arn:aws:iam::${ACCOUNT}:role/NewRole` }) },
  { title: "ecs:DeleteCluster of our cluster", request: (s) => ({ action: "ecs:DeleteCluster", resource: s.clusterArn }) },
  {
    title: "secretsmanager:GetSecretValue (the worker's credential reaches it through ECS and the execution role)",
    request: (s) => ({
      action: "secretsmanager:GetSecretValue",
      resource: s.secretArn?.includes(":secretsmanager:") ? s.secretArn : OTHER_SECRET_ARN,
    }),
  },
  {
    title: "ssm:GetParameters of our parameter",
    when: (c) => c.secret?.readAction === "ssm:GetParameters",
    request: (s) => ({ action: "ssm:GetParameters", resource: s.secretArn as string }),
  },
];

// ------------------------------------------------------------ static policy checks

function actionsOf(statement: PolicyJsonStatement): string[] {
  return statement.Action ?? [];
}

function statementsOf(documents: Record<string, PolicyJson>): { where: string; statement: PolicyJsonStatement }[] {
  return Object.entries(documents).flatMap(([name, doc]) =>
    doc.Statement.map((statement, i) => ({ where: `${name}.Statement[${i}]${statement.Sid ? ` (${statement.Sid})` : ""}`, statement })),
  );
}

async function unknownActions(documents: Record<string, PolicyJson>): Promise<string[]> {
  const found: string[] = [];
  for (const { where, statement } of statementsOf(documents)) {
    for (const action of [...actionsOf(statement), ...(statement.NotAction ?? [])]) {
      if (!(await isKnownAction(action))) found.push(`${where}: ${action}`);
    }
  }
  return found;
}

function wildcardActions(documents: Record<string, PolicyJson>): string[] {
  return statementsOf(documents).flatMap(({ where, statement }) =>
    [...actionsOf(statement), ...(statement.NotAction ?? [])]
      .filter((action) => action === "*" || action.endsWith(":*"))
      .map((action) => `${where}: ${action}`),
  );
}

/** Actions granted on Resource "*" although they support resource-level permissions (CKV_AWS_355). */
async function restrictableActionsOnStar(documents: Record<string, PolicyJson>): Promise<string[]> {
  const found: string[] = [];
  for (const { where, statement } of statementsOf(documents)) {
    if (!(statement.Resource ?? []).includes("*")) continue;
    for (const action of actionsOf(statement)) {
      if (await actionSupportsResourceLevel(action)) found.push(`${where}: ${action}`);
    }
  }
  return found;
}

/** iam:PassRole statements on "*" or without an iam:PassedToService condition (CKV_AWS_286). */
function unsafePassRoles(documents: Record<string, PolicyJson>): string[] {
  const found: string[] = [];
  for (const { where, statement } of statementsOf(documents)) {
    if (statement.Effect !== "Allow") continue;
    const passRole =
      actionsOf(statement).some((a) => ["iam:passrole", "iam:*", "*"].includes(a.toLowerCase())) ||
      (statement.NotAction !== undefined && !statement.NotAction.some((a) => a.toLowerCase() === "iam:passrole"));
    if (!passRole) continue;
    if ((statement.Resource ?? []).some((r) => r === "*") || statement.NotResource) found.push(`${where}: iam:PassRole on "*"`);
    const keys = Object.values(statement.Condition ?? {}).flatMap((byKey) => Object.keys(byKey).map((k) => k.toLowerCase()));
    if (!keys.includes("iam:passedtoservice")) found.push(`${where}: iam:PassRole without an iam:PassedToService condition`);
  }
  return found;
}

function actionsOnStar(documents: Record<string, PolicyJson>): string[] {
  return [
    ...new Set(
      statementsOf(documents)
        .filter(({ statement }) => (statement.Resource ?? []).includes("*"))
        .flatMap(({ statement }) => actionsOf(statement)),
    ),
  ].sort();
}

// ------------------------------------------------------------ the matrix

describe.each(CASES)("GIVEN $title", (c) => {
  let stack: Stack;

  beforeAll(() => {
    stack = loadStack(c);
  });

  describe("WHEN the worker task role's policies are collected", () => {
    it("THEN our cluster is the one the policies and the events rule are about", () => {
      if (c.input.cluster?.existing) expect(stack.json.resource.aws_ecs_cluster).toBeUndefined();
      else expect(stack.refs["aws_ecs_cluster.cluster.arn"]).toBe(c.clusterArn);
    });

    it("THEN the role has exactly the managed worker_task_policy and the inline worker_task_sqs_policy (nothing else to simulate)", () => {
      expect(attachedTo(stack.json, "worker_task_role")).toEqual({
        managed: ["${aws_iam_policy.worker_task_policy.arn}"],
        inline: ["worker_task_sqs_policy"],
        embedded: [],
      });
    });

    it("THEN the worker task definition runs with the worker task role and the execution role", () => {
      const task = stack.json.resource.aws_ecs_task_definition.worker;
      expect([task.task_role_arn, task.execution_role_arn]).toEqual([
        "${aws_iam_role.worker_task_role.arn}",
        "${aws_iam_role.execution_role.arn}",
      ]);
    });
  });

  describe("WHEN the worker and its observer make each of their AWS calls as the worker task role", () => {
    it.each(WORKER_CALLS.filter((call) => call.when?.(c) ?? true))("THEN $title is Allowed", async (call) => {
      expectDecision(await decide(stack.workerPrincipal, stack.workerPolicies, call.request(stack)), "Allowed");
    });
  });

  describe("WHEN the worker task role makes a request outside what the worker needs", () => {
    it.each(OUT_OF_SCOPE.filter((call) => call.when?.(c) ?? true))("THEN $title is ImplicitlyDenied", async (call) => {
      expectDecision(await decide(stack.workerPrincipal, stack.workerPolicies, call.request(stack)), "ImplicitlyDenied");
    });
  });

  describe.each([
    { index: 0, name: "the worker's execution role" },
    { index: 1, name: "the flow runs' execution role" },
  ])("WHEN ECS starts a task with $name", ({ index }) => {
    const role = () => stack.executionRoles[index];
    const ask = (request: Request) => decide(role().principal, role().policies, request);
    const store = c.secret?.readAction.startsWith("ssm:") ? "ssm" : "secretsmanager";
    const otherOfStore = store === "ssm" ? OTHER_PARAMETER_ARN : OTHER_SECRET_ARN;
    const encryptionContextKey = store === "ssm" ? "kms:EncryptionContext:PARAMETER_ARN" : "kms:EncryptionContext:SecretARN";
    const viaService = { "kms:ViaService": `${store}.${REGION}.amazonaws.com` };

    it("THEN the role has no AWS managed policy (which would allow every repository and log group), only our inline policies", () => {
      const attached = attachedTo(stack.json, role().role);
      expect({ ...attached, inline: attached.inline.filter((name) => !name.endsWith("secret_policy")) }).toEqual({
        managed: [],
        inline: role().policies.length > 0 ? [`${role().role}_policy`] : [],
        embedded: [],
      });
    });

    it("THEN the awslogs driver's logs:CreateLogStream and logs:PutLogEvents into its own log group are Allowed", async () => {
      const stream = role().logStreamArn;
      if (!stream) return expect(c.flowRunLogs).toBe(false);
      for (const action of ["logs:CreateLogStream", "logs:PutLogEvents"]) {
        expectDecision(await ask({ action, resource: stream }), "Allowed");
      }
    });

    it("THEN writing into the other role's log group or another group is ImplicitlyDenied", async () => {
      const others = [OTHER_LOG_STREAM_ARN, ...stack.executionRoles.filter((_, i) => i !== index).map((r) => r.logStreamArn)];
      for (const stream of others.filter((arn): arn is string => arn !== undefined)) {
        expectDecision(await ask({ action: "logs:PutLogEvents", resource: stream }), "ImplicitlyDenied");
      }
    });

    it("THEN pulling its images is Allowed exactly where it has an ECR repository (ecr:GetAuthorizationToken only with it)", async () => {
      const repository = role().repositoryArn;
      expectDecision(await ask({ action: "ecr:GetAuthorizationToken", resource: "*" }), repository ? "Allowed" : "ImplicitlyDenied");
      if (!repository) return;
      for (const action of ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]) {
        expectDecision(await ask({ action, resource: repository }), "Allowed");
      }
    });

    it("THEN pulling from another ECR repository is ImplicitlyDenied", async () => {
      expectDecision(await ask({ action: "ecr:BatchGetImage", resource: OTHER_REPOSITORY_ARN }), "ImplicitlyDenied");
    });

    if (c.secret) {
      const secret = c.secret;

      it("THEN the container's secret is the expected one", () => {
        if (secret.existingArn) expect(stack.secretArn).toBe(secret.existingArn);
        else expect(stack.secretArn).toBe(stack.refs[`${store === "ssm" ? "aws_ssm_parameter" : "aws_secretsmanager_secret"}.prefect_api_secret.arn`]);
      });

      it(`THEN ${secret.readAction} on exactly the container's secret ARN is Allowed, on another secret ImplicitlyDenied`, async () => {
        expectDecision(await ask({ action: secret.readAction, resource: stack.secretArn as string }), "Allowed");
        expectDecision(await ask({ action: secret.readAction, resource: otherOfStore }), "ImplicitlyDenied");
      });

      it("THEN writing our secret is ImplicitlyDenied", async () => {
        const write = store === "ssm" ? "ssm:PutParameter" : "secretsmanager:PutSecretValue";
        expectDecision(await ask({ action: write, resource: stack.secretArn as string }), "ImplicitlyDenied");
      });

      if (c.kmsKeyArn) {
        const kmsKeyArn = c.kmsKeyArn;
        const decrypt = (context: ContextValues, keyPolicy: object = DEFAULT_KEY_POLICY, resource = kmsKeyArn) =>
          ask({ action: "kms:Decrypt", resource, context, resourcePolicy: keyPolicy });

        it("THEN kms:Decrypt with our key, via the secret's service, for our secret is Allowed", async () => {
          expectDecision(await decrypt({ ...viaService, [encryptionContextKey]: stack.secretArn as string }), "Allowed");
        });

        it("THEN kms:Decrypt called directly (no kms:ViaService: a flow run holding the role) is ImplicitlyDenied", async () => {
          expectDecision(await decrypt({ [encryptionContextKey]: stack.secretArn as string }), "ImplicitlyDenied");
        });

        it("THEN kms:Decrypt of another secret encrypted with our key is ImplicitlyDenied", async () => {
          expectDecision(await decrypt({ ...viaService, [encryptionContextKey]: otherOfStore }), "ImplicitlyDenied");
        });

        it("THEN kms:Decrypt with our key is ImplicitlyDenied when the key policy does not delegate to IAM (the key's owner must keep the default statement)", async () => {
          const keyPolicyWithoutIam = {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/KeyAdmin` }, Action: "kms:*", Resource: "*" }],
          };
          expectDecision(await decrypt({ ...viaService, [encryptionContextKey]: stack.secretArn as string }, keyPolicyWithoutIam), "ImplicitlyDenied");
        });

        it("THEN kms:Decrypt with another key is ImplicitlyDenied", async () => {
          expectDecision(
            await decrypt({ ...viaService, [encryptionContextKey]: stack.secretArn as string }, DEFAULT_KEY_POLICY, OTHER_KMS_KEY_ARN),
            "ImplicitlyDenied",
          );
        });
      } else {
        it("THEN kms:Decrypt is ImplicitlyDenied (no customer key configured)", async () => {
          expectDecision(await ask({ action: "kms:Decrypt", resource: OTHER_KMS_KEY_ARN, resourcePolicy: DEFAULT_KEY_POLICY }), "ImplicitlyDenied");
        });
      }
    } else {
      it("THEN there is no secret and no secret policy", () => {
        expect(stack.secretArn).toBeUndefined();
        expect(attachedTo(stack.json, role().role).inline.filter((name) => name.endsWith("secret_policy"))).toEqual([]);
      });
    }
  });

  describe("WHEN ECS (ecs-tasks.amazonaws.com) assumes one of our roles for a task (trust policy, confused deputy)", () => {
    const roles = ["execution_role", "flow_run_execution_role", "worker_task_role", ...(c.flowRunTaskRole ? ["flow_run_task_role"] : [])];
    const assume = (role: string, sourceAccount: string, sourceArn: string) =>
      decide(ECS_TASKS, [], {
        action: "sts:AssumeRole",
        resource: stack.refs[`aws_iam_role.${role}.arn`],
        resourcePolicy: named(renderTrust(stack, role), `aws_iam_role.${role}.assume_role_policy`),
        context: { "aws:SourceAccount": sourceAccount, "aws:SourceArn": sourceArn },
      });

    it.each(roles)("THEN for a task of our account and region, assuming %s is Allowed", async (role) => {
      expectDecision(await assume(role, ACCOUNT, taskOf(stack.clusterArn)), "Allowed");
    });

    it.each(roles)("THEN for a task of another account, assuming %s is ImplicitlyDenied", async (role) => {
      expectDecision(await assume(role, "210987654321", `arn:aws:ecs:${REGION}:210987654321:task/their-cluster/${TASK_ID}`), "ImplicitlyDenied");
    });

    it.each(roles)("THEN for a task of our account in another region, assuming %s is ImplicitlyDenied", async (role) => {
      expectDecision(await assume(role, ACCOUNT, `arn:aws:ecs:eu-west-1:${ACCOUNT}:task/my-ecs-cluster/${TASK_ID}`), "ImplicitlyDenied");
    });
  });

  describe("WHEN EventBridge delivers ECS task state changes to the events queue (queue policy)", () => {
    const send = (sourceArn: string) =>
      decide("events.amazonaws.com", [], {
        action: "sqs:SendMessage",
        resource: stack.queueArn,
        resourcePolicy: stack.queuePolicy,
        context: { "aws:SourceArn": sourceArn },
      });

    it("THEN sqs:SendMessage on behalf of our rule is Allowed", async () => {
      expectDecision(await send(stack.ruleArn), "Allowed");
    });

    it("THEN sqs:SendMessage on behalf of another rule is ImplicitlyDenied", async () => {
      expectDecision(await send(OTHER_RULE_ARN), "ImplicitlyDenied");
    });
  });

  describe("WHEN every policy document of the stack is checked against the IAM data", () => {
    it("THEN every action exists (a typo cannot pass)", async () => {
      expect(await unknownActions(stack.documents)).toEqual([]);
    });

    it('THEN no action is "*" or "service:*" (CKV_AWS_63 / CKV_AWS_49)', () => {
      expect(wildcardActions(stack.documents)).toEqual([]);
    });

    it('THEN Resource "*" carries only actions without resource-level permissions (CKV_AWS_355)', async () => {
      expect(await restrictableActionsOnStar(stack.documents)).toEqual([]);
    });

    it('THEN iam:PassRole always has an iam:PassedToService condition and never Resource "*" (CKV_AWS_286)', () => {
      expect(unsafePassRoles(stack.documents)).toEqual([]);
    });

    it('THEN the actions left on "*" are exactly the worker\'s wildcard-only ones (ecs:DeregisterTaskDefinition only with auto-deregistration), plus ecr:GetAuthorizationToken where flow images come from ECR', () => {
      expect(actionsOnStar(stack.documents)).toEqual(
        [
          "ec2:DescribeSubnets",
          "ec2:DescribeVpcs",
          "ecs:DescribeTaskDefinition",
          ...(c.autoDeregister ? ["ecs:DeregisterTaskDefinition"] : []),
          ...(stack.flowImageRepositoryArn ? ["ecr:GetAuthorizationToken"] : []),
        ].sort(),
      );
    });
  });
});

// ------------------------------------------------------------ pools sharing a cluster

describe("GIVEN two pools, dev and prod, sharing an existing cluster (one configuration with pools)", () => {
  const POOLS = ["dev", "prod"] as const;
  const stacks: Record<string, Stack> = {};
  const poolCase: Case = {
    title: "pool",
    input: {},
    clusterArn: EXISTING_CLUSTER_ARN,
    flowRunTaskRole: true,
    flowRunLogs: true,
    secret: { readAction: "secretsmanager:GetSecretValue" },
  };

  beforeAll(() => {
    const synthesized = synthesizePools({ cluster: { existing: EXISTING_CLUSTER_ARN }, pools: POOLS.map((name) => ({ workPool: { name } })) });
    synthesized.forEach(({ config, json }) => (stacks[config.workPoolName] = loadStack(poolCase, json)));
  });

  describe.each([
    { me: "dev", other: "prod" },
    { me: "prod", other: "dev" },
  ])("WHEN $me's worker acts in the shared cluster", ({ me, other }) => {
    const ask = (request: Request) => decide(stacks[me].workerPrincipal, stacks[me].workerPolicies, request);
    const task = taskOf(EXISTING_CLUSTER_ARN);

    it(`THEN ecs:RunTask of ${me}'s flow-run family tagged for ${me} is Allowed`, async () => {
      const context = { "ecs:cluster": EXISTING_CLUSTER_ARN, ...runTaskTags(me) };
      expectDecision(await ask({ action: "ecs:RunTask", resource: taskDefinitionOf(me), context }), "Allowed");
    });

    it(`THEN ecs:RunTask of ${other}'s flow-run family, or tagged for ${other}, is ImplicitlyDenied`, async () => {
      const cluster = { "ecs:cluster": EXISTING_CLUSTER_ARN };
      expectDecision(await ask({ action: "ecs:RunTask", resource: taskDefinitionOf(other), context: { ...cluster, ...runTaskTags(me) } }), "ImplicitlyDenied");
      expectDecision(await ask({ action: "ecs:RunTask", resource: taskDefinitionOf(me), context: { ...cluster, ...runTaskTags(other) } }), "ImplicitlyDenied");
    });

    it.each(["ecs:StopTask", "ecs:DescribeTasks"])(`THEN %s of ${me}'s flow run is Allowed, of ${other}'s ImplicitlyDenied`, async (action) => {
      expectDecision(await ask({ action, resource: task, context: taggedTask(EXISTING_CLUSTER_ARN, me) }), "Allowed");
      expectDecision(await ask({ action, resource: task, context: taggedTask(EXISTING_CLUSTER_ARN, other) }), "ImplicitlyDenied");
    });

    it(`THEN iam:PassRole of ${me}'s flow-run roles is Allowed, of ${other}'s ImplicitlyDenied`, async () => {
      const pass = (role: string) => ask({ action: "iam:PassRole", resource: role, context: { "iam:PassedToService": ECS_TASKS } });
      for (const role of [stacks[me].flowRunExecutionRoleArn, stacks[me].flowRunTaskRoleArn as string]) expectDecision(await pass(role), "Allowed");
      for (const role of [stacks[other].flowRunExecutionRoleArn, stacks[other].flowRunTaskRoleArn as string, stacks[other].executionRoleArn]) {
        expectDecision(await pass(role), "ImplicitlyDenied");
      }
    });

    it(`THEN ${me}'s flow runs' execution role can neither pull ${other}'s images, nor write ${other}'s logs, nor read ${other}'s secret`, async () => {
      const [, mine] = stacks[me].executionRoles;
      const [, theirs] = stacks[other].executionRoles;
      const askAs = (request: Request) => decide(mine.principal, mine.policies, request);
      expectDecision(await askAs({ action: "ecr:BatchGetImage", resource: theirs.repositoryArn as string }), "ImplicitlyDenied");
      expectDecision(await askAs({ action: "logs:PutLogEvents", resource: theirs.logStreamArn as string }), "ImplicitlyDenied");
      expectDecision(await askAs({ action: "secretsmanager:GetSecretValue", resource: stacks[other].secretArn as string }), "ImplicitlyDenied");
      expectDecision(await askAs({ action: "secretsmanager:GetSecretValue", resource: stacks[me].secretArn as string }), "Allowed");
    });

    it(`THEN ${me}'s EventBridge rule captures ${me}'s flow runs in the cluster and not ${other}'s`, () => {
      const rule = stacks[me].json.resource.aws_cloudwatch_event_rule.ecs_task_state_changes;
      const pattern = parseJsonencode(rule.event_pattern) as {
        detail: { clusterArn: string[]; taskDefinitionArn: { prefix: string }[] };
      };
      expect(pattern.detail.clusterArn).toEqual([EXISTING_CLUSTER_ARN]);
      const prefixes = pattern.detail.taskDefinitionArn.map(({ prefix }) => interpolate(prefix, stacks[me].refs));
      const matches = (arn: string) => prefixes.some((prefix) => arn.startsWith(prefix));
      expect([matches(taskDefinitionOf(me)), matches(taskDefinitionOf(other))]).toEqual([true, false]);
    });
  });
});

// ------------------------------------------------------------ the guide's policy

describe('GIVEN iam.policies "guide" (the guide\'s worker-policy.json and sqs-policy.json as printed)', () => {
  const c: Case = {
    title: "guide",
    input: { iam: { policies: "guide" } },
    clusterArn: DEFAULT_CLUSTER_ARN,
    flowRunTaskRole: true,
    flowRunLogs: true,
    secret: { readAction: "secretsmanager:GetSecretValue" },
  };
  let stack: Stack;

  beforeAll(() => {
    stack = loadStack(c);
  });

  it('WHEN the worker policy is rendered THEN it is the guide\'s: twelve actions on "*"', () => {
    const [managed, sqs] = stack.workerPolicies;
    expect(managed.Statement).toHaveLength(1);
    const [statement] = managed.Statement;
    expect({ ...statement, Action: [...(statement.Action ?? [])].sort() }).toEqual({
      Sid: "PrefectEcsWorker",
      Effect: "Allow",
      Action: [...GUIDE_WORKER_ACTIONS].sort(),
      Resource: ["*"],
    });
    expect(sqs.Statement.flatMap((s) => s.Action ?? []).sort()).toEqual([...GUIDE_WORKER_SQS_ACTIONS].sort());
  });

  describe("WHEN the worker and its observer make each of their AWS calls", () => {
    it.each(WORKER_CALLS.filter((call) => call.when?.(c) ?? true))("THEN $title is Allowed", async (call) => {
      expectDecision(await decide(stack.workerPrincipal, stack.workerPolicies, call.request(stack)), "Allowed");
    });
  });

  describe("WHEN the worker task role makes requests our least-privilege policy denies", () => {
    const broader: Call[] = [
      OUT_OF_SCOPE.find((call) => call.title === "iam:PassRole of another role to ECS tasks") as Call,
      OUT_OF_SCOPE.find((call) => call.title.startsWith("iam:PassRole of the flow runs' execution role to another service")) as Call,
      OUT_OF_SCOPE.find((call) => call.title.startsWith("iam:PassRole of the worker's own execution role")) as Call,
      OUT_OF_SCOPE.find((call) => call.title === "ecs:RunTask in another cluster") as Call,
      OUT_OF_SCOPE.find((call) => call.title === "ecs:StopTask of a task in another cluster") as Call,
      OUT_OF_SCOPE.find((call) => call.title === "ecs:StopTask of another pool's flow run in our cluster") as Call,
      OUT_OF_SCOPE.find((call) => call.title.startsWith("ecs:DeregisterTaskDefinition while the pool")) as Call,
      OUT_OF_SCOPE.find((call) => call.title.startsWith("ecs:RunTask of the worker's own task definition")) as Call,
      OUT_OF_SCOPE.find((call) => call.title.startsWith("ecs:TagResource of a task of our cluster outside RunTask")) as Call,
      OUT_OF_SCOPE.find((call) => call.title === "logs:GetLogEvents of another log group") as Call,
      OUT_OF_SCOPE.find((call) => call.title.startsWith("logs:PutLogEvents into the worker's own log group")) as Call,
      OUT_OF_SCOPE.find((call) => call.title.startsWith("sqs:GetQueueAttributes of our queue")) as Call,
    ];

    it("THEN the calls are all found", () => {
      expect(broader.every(Boolean)).toBe(true);
    });

    it.each(broader.filter(Boolean))("THEN $title is Allowed: the guide's policy is broader", async (call) => {
      expectDecision(await decide(stack.workerPrincipal, stack.workerPolicies, call.request(stack)), "Allowed");
    });
  });

  it("WHEN the documents are checked THEN the guide's policy breaks CKV_AWS_355 and CKV_AWS_286, and every action still exists", async () => {
    expect(await unknownActions(stack.documents)).toEqual([]);
    const restrictable = await restrictableActionsOnStar(stack.documents);
    for (const action of ["ecs:RunTask", "ecs:StopTask", "ecs:TagResource", "iam:PassRole", "logs:PutLogEvents"]) {
      expect(restrictable).toContain(`worker_task_policy.Statement[0] (PrefectEcsWorker): ${action}`);
    }
    expect(unsafePassRoles(stack.documents)).toEqual([
      'worker_task_policy.Statement[0] (PrefectEcsWorker): iam:PassRole on "*"',
      "worker_task_policy.Statement[0] (PrefectEcsWorker): iam:PassRole without an iam:PassedToService condition",
    ]);
  });
});

// ------------------------------------------------------------ the renderer itself

describe("GIVEN a policy document data source with Terraform interpolations", () => {
  const json = {
    resource: {
      aws_iam_role_policy: {
        p: { policy: "${data.aws_iam_policy_document.doc.json}" },
        literal: { policy: '{"Version":"2012-10-17"}' },
      },
    },
    data: {
      aws_iam_policy_document: {
        doc: {
          statement: [
            {
              sid: "S",
              actions: ["ecs:StopTask"],
              resources: [
                'arn:${element(split(":", aws_ecs_cluster.c.arn), 1)}:ecs:${var.aws_region}:${element(split(":", aws_ecs_cluster.c.arn), 4)}:task/${element(split("/", aws_ecs_cluster.c.arn), 1)}/*',
                '${element(split(":", "arn:aws:ecs:eu-west-1:210987654321:cluster/lit"), 3)}',
              ],
              principals: [{ type: "AWS", identifiers: ["${aws_iam_role.r.arn}"] }],
              condition: [{ test: "ArnEquals", variable: "ecs:cluster", values: ["${aws_ecs_cluster.c.arn}"] }],
            },
          ],
        },
        bad: { statement: [{ actions: ["s3:GetObject"], resources: ['${format("%s", var.aws_region)}'] }] },
        missing: { statement: [{ actions: ["s3:GetObject"], resources: ["${aws_s3_bucket.b.arn}/*"] }] },
      },
    },
    variable: {},
    output: {},
    provider: {},
    terraform: {},
  } as unknown as TerraformJson;
  const refs = {
    "aws_ecs_cluster.c.arn": "arn:aws:ecs:us-east-1:123456789012:cluster/main",
    "aws_iam_role.r.arn": "arn:aws:iam::123456789012:role/r",
    "var.aws_region": "us-east-1",
  };

  it("WHEN it is rendered THEN references, element(split(...)) on references and literals, and several per string are evaluated", () => {
    expect(renderPolicyDocument(json, "doc", refs)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "S",
          Effect: "Allow",
          Action: ["ecs:StopTask"],
          Resource: ["arn:aws:ecs:us-east-1:123456789012:task/main/*", "eu-west-1"],
          Principal: { AWS: ["arn:aws:iam::123456789012:role/r"] },
          Condition: { ArnEquals: { "ecs:cluster": ["arn:aws:ecs:us-east-1:123456789012:cluster/main"] } },
        },
      ],
    });
  });

  it("WHEN an expression uses another function THEN rendering throws with the expression", () => {
    expect(() => renderPolicyDocument(json, "bad", refs)).toThrow(/statement\[0\]\.resources\[0\].*\$\{format\("%s", var\.aws_region\)\}.*format\(\) is not supported/);
  });

  it("WHEN a reference has no example value THEN rendering throws naming it", () => {
    expect(() => renderPolicyDocument(json, "missing", refs)).toThrow(/no example value for reference aws_s3_bucket\.b\.arn/);
  });

  it("WHEN a resource's policy is followed THEN policyOf names the data source, and rejects anything but such a reference", () => {
    expect(policyOf(json, "aws_iam_role_policy", "p")).toBe("doc");
    expect(() => policyOf(json, "aws_iam_role_policy", "literal")).toThrow(/not a reference to an aws_iam_policy_document/);
    expect(() => policyOf(json, "aws_iam_role_policy", "absent")).toThrow(/no resource aws_iam_role_policy\.absent/);
  });
});
