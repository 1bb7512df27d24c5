/**
 * The guide's policies as the tests specify them, written from the guide (inventory), not derived
 * from src/: what the least-privilege policies are checked against.
 */

/** The guide's worker-policy.json (inventory §2.5), in its order. */
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
];

/** The guide's sqs-policy.json (inventory §2.7). */
export const GUIDE_WORKER_SQS_ACTIONS = [
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:GetQueueAttributes",
  "sqs:GetQueueUrl",
  "sqs:ChangeMessageVisibility",
];
