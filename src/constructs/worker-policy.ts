import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { Fn, Token } from "cdktf";
import { ClusterArnParts, ClusterReference, ecsArnOf } from "./cluster";

/** How the worker's policies are written. */
export type IamPolicyStyle = "least-privilege" | "guide";

/** The guide's worker-policy.json (steps 7-8), as printed. */
export const GUIDE_WORKER_ACTIONS = [
  "ec2:DescribeSubnets",
  "ec2:DescribeVpcs",
  "ecs:DeregisterTaskDefinition",
  "ecs:DescribeTaskDefinition",
  "ecs:DescribeTasks",
  "ecs:RegisterTaskDefinition",
  "ecs:RunTask",
  "ecs:StopTask",
  "ecs:TagResource",
  "iam:PassRole",
  "logs:GetLogEvents",
  "logs:PutLogEvents",
] as const;

/** The guide's sqs-policy.json (step 17). */
export const GUIDE_WORKER_SQS_ACTIONS = [
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:GetQueueAttributes",
  "sqs:GetQueueUrl",
  "sqs:ChangeMessageVisibility",
] as const;

/**
 * Actions AWS defines without resource-level permissions: "*" is the only
 * possible resource (help/security.md lists them with the reason).
 */
export const UNSCOPABLE_WORKER_ACTIONS = ["ec2:DescribeSubnets", "ec2:DescribeVpcs", "ecs:DescribeTaskDefinition"] as const;

/** Also wildcard-only, and needed only when the observer deregisters task definitions (auto_deregister_task_definition). */
export const DEREGISTER_TASK_DEFINITION = "ecs:DeregisterTaskDefinition";

/** The observer's SQS calls (sqs:GetQueueAttributes is granted by the guide but never called). */
export const WORKER_SQS_ACTIONS = [
  "sqs:GetQueueUrl",
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:ChangeMessageVisibility",
] as const;

/** The tag prefect-aws puts on every flow-run task it starts (RunTask `tags`, from the flow run's labels). */
export const WORK_POOL_TAG_KEY = "prefect.io/work-pool-name";

/**
 * The value prefect-aws writes into a RunTask tag: python-slugify with
 * `regex_pattern=r"[^a-zA-Z0-9_./=+:@-]"`, `allow_unicode=True`, `lowercase=False`
 * (ecs_worker.py, `_prepare_task_run_request`): NFKC, every run of other
 * characters becomes "-", repeated "-" collapse, leading and trailing "-" go.
 */
export function prefectAwsTagValue(value: string): string {
  // A Terraform reference (the module's work_pool_name, validated to letters, digits, - and _): the rest in Terraform.
  if (Token.isUnresolved(value)) return Fn.trim(Fn.replace(value, "/-{2,}/", "-"), "-");
  return value
    .normalize("NFKC")
    .replace(/[^a-zA-Z0-9_./=+:@-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** The families prefect-aws registers for a pool start so: `prefect_<pool>_<deployment or flow id>`. */
export function flowRunFamilyPrefix(workPoolName: string): string {
  return `prefect_${workPoolName}_`;
}

/**
 * The id in a flow-run family is a UUID, matched character by character (`?`) in IAM
 * patterns, so pool `dev` does not also match pool `dev_x`'s `prefect_dev_x_<uuid>`.
 */
const UUID_PATTERN = "????????-????-????-????-????????????";

/** Where the ARNs of a pool's flow-run task definitions start (the EventBridge rule's prefix match). */
export function flowRunTaskDefinitionArnPrefix(cluster: ClusterArnParts, workPoolName: string): string {
  return ecsArnOf(cluster, `task-definition/${flowRunFamilyPrefix(workPoolName)}`);
}

export interface WorkerPolicyProps {
  readonly style: IamPolicyStyle;
  /** The work pool: its flow-run families and the tag its flow runs carry bound what the worker may touch. */
  readonly workPoolName: string;
  /** The cluster flow runs start in: its ARN and parts (WorkerCluster; may be Terraform references). */
  readonly cluster: ClusterReference;
  /** Roles the worker may pass to flow-run tasks: the execution role and the flow-run task role. */
  readonly passRoleArns: string[];
  readonly eventsQueueArn: string;
  /**
   * The observer deregisters the task definitions of stopped flow runs (the pool's auto_deregister_task_definition).
   * @default false: no ecs:DeregisterTaskDefinition
   */
  readonly deregisterTaskDefinitions?: boolean;
  /** Flow-run log group, whose crashed-run logs the observer forwards. @default none: no logs:GetLogEvents */
  readonly flowRunLogGroupArn?: string;
}

/**
 * The worker task role's managed policy: exactly the calls the Prefect ECS
 * worker and its observer make (shared/spec/worker-aws-calls.md), on exactly
 * our resources, or the guide's policy as printed.
 */
export function workerPolicyStatements(props: WorkerPolicyProps): DataAwsIamPolicyDocumentStatement[] {
  if (props.style === "guide") {
    return [{ sid: "PrefectEcsWorker", effect: "Allow", actions: [...GUIDE_WORKER_ACTIONS], resources: ["*"] }];
  }
  const { cluster } = props;
  const inCluster = { test: "ArnEquals", variable: "ecs:cluster", values: [cluster.arn] };
  const poolTag = prefectAwsTagValue(props.workPoolName);
  // Pools that share a cluster see only their own tasks: prefect-aws tags each flow run with its pool.
  const taggedForOurPool = { test: "StringEquals", variable: `aws:RequestTag/${WORK_POOL_TAG_KEY}`, values: [poolTag] };
  const ofOurPool = { test: "StringEquals", variable: `aws:ResourceTag/${WORK_POOL_TAG_KEY}`, values: [poolTag] };
  const ourFamilies = `${flowRunTaskDefinitionArnPrefix(cluster, props.workPoolName)}${UUID_PATTERN}:*`;
  const tasksOfCluster = ecsArnOf(cluster, `task/${cluster.name}/*`);
  const statements: DataAwsIamPolicyDocumentStatement[] = [
    {
      sid: "NoResourceLevelPermissionsExist",
      effect: "Allow",
      actions: [...UNSCOPABLE_WORKER_ACTIONS, ...(props.deregisterTaskDefinitions ? [DEREGISTER_TASK_DEFINITION] : [])].sort(),
      resources: ["*"],
    },
    {
      sid: "RegisterOurFlowRunTaskDefinitions",
      effect: "Allow",
      actions: ["ecs:RegisterTaskDefinition"],
      resources: [ourFamilies],
    },
    {
      sid: "RunOurFlowRunsInOurCluster",
      effect: "Allow",
      actions: ["ecs:RunTask"],
      resources: [ourFamilies],
      condition: [inCluster, taggedForOurPool],
    },
    {
      sid: "WatchAndStopOurFlowRuns",
      effect: "Allow",
      actions: ["ecs:DescribeTasks", "ecs:StopTask"],
      resources: [tasksOfCluster],
      condition: [inCluster, ofOurPool],
    },
    {
      sid: "TagOurFlowRunsOnlyWhileRunningThem",
      effect: "Allow",
      actions: ["ecs:TagResource"],
      resources: [tasksOfCluster],
      condition: [{ test: "StringEquals", variable: "ecs:CreateAction", values: ["RunTask"] }, taggedForOurPool],
    },
    {
      sid: "PassOnlyOurRolesToEcsTasks",
      effect: "Allow",
      actions: ["iam:PassRole"],
      resources: props.passRoleArns,
      condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }],
    },
  ];
  if (props.flowRunLogGroupArn) {
    statements.push({
      sid: "ForwardCrashedRunLogs",
      effect: "Allow",
      actions: ["logs:GetLogEvents"],
      resources: [`${props.flowRunLogGroupArn}:log-stream:*`],
    });
  }
  return statements;
}

/** The worker task role's SQS policy: consume the events queue. */
export function workerSqsStatements(style: IamPolicyStyle, eventsQueueArn: string): DataAwsIamPolicyDocumentStatement[] {
  const actions = style === "guide" ? [...GUIDE_WORKER_SQS_ACTIONS] : [...WORKER_SQS_ACTIONS];
  return [{ sid: "ConsumeEcsEvents", effect: "Allow", actions, resources: [eventsQueueArn] }];
}
