import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { Fn } from "cdktf";

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
export const UNSCOPABLE_WORKER_ACTIONS = [
  "ec2:DescribeSubnets",
  "ec2:DescribeVpcs",
  "ecs:DeregisterTaskDefinition",
  "ecs:DescribeTaskDefinition",
] as const;

/** The observer's SQS calls (sqs:GetQueueAttributes is granted by the guide but never called). */
export const WORKER_SQS_ACTIONS = [
  "sqs:GetQueueUrl",
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:ChangeMessageVisibility",
] as const;

export interface WorkerPolicyProps {
  readonly style: IamPolicyStyle;
  /** ARN of the cluster flow runs start in (may be a Terraform reference). */
  readonly clusterArn: string;
  /** Roles the worker may pass to flow-run tasks: the execution role and the flow-run task role. */
  readonly passRoleArns: string[];
  readonly eventsQueueArn: string;
  /** Flow-run log group, whose crashed-run logs the observer forwards. @default none: no logs:GetLogEvents */
  readonly flowRunLogGroupArn?: string;
}

/** ARN parts of the cluster, so the policy needs no account lookup (a plan stays offline). */
export function clusterParts(clusterArn: string) {
  const part = (index: number) => Fn.element(Fn.split(":", clusterArn), index);
  return {
    partition: part(1),
    region: part(3),
    account: part(4),
    name: Fn.element(Fn.split("/", clusterArn), 1),
  };
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
  const c = clusterParts(props.clusterArn);
  const ecsArn = (resource: string) => `arn:${c.partition}:ecs:${c.region}:${c.account}:${resource}`;
  const inCluster = { test: "ArnEquals", variable: "ecs:cluster", values: [props.clusterArn] };
  const tasksOfCluster = ecsArn(`task/${c.name}/*`);
  const statements: DataAwsIamPolicyDocumentStatement[] = [
    {
      sid: "NoResourceLevelPermissionsExist",
      effect: "Allow",
      actions: [...UNSCOPABLE_WORKER_ACTIONS],
      resources: ["*"],
    },
    {
      sid: "RegisterFlowRunTaskDefinitions",
      effect: "Allow",
      actions: ["ecs:RegisterTaskDefinition"],
      resources: [ecsArn("task-definition/*")],
    },
    {
      sid: "RunFlowRunTasksInOurCluster",
      effect: "Allow",
      actions: ["ecs:RunTask"],
      resources: [ecsArn("task-definition/*")],
      condition: [inCluster],
    },
    {
      sid: "WatchAndStopTasksOfOurCluster",
      effect: "Allow",
      actions: ["ecs:DescribeTasks", "ecs:StopTask"],
      resources: [tasksOfCluster],
      condition: [inCluster],
    },
    {
      sid: "TagTasksOnlyWhileRunningThem",
      effect: "Allow",
      actions: ["ecs:TagResource"],
      resources: [tasksOfCluster],
      condition: [{ test: "StringEquals", variable: "ecs:CreateAction", values: ["RunTask"] }],
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
