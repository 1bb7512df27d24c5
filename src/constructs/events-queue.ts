import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { policyDocument } from "./iam-policy";
import { IamPolicyStyle } from "./worker-policy";

export interface EcsEventsQueueProps {
  readonly queueName: string;
  readonly deadLetterQueueName: string;
  readonly ruleName: string;
  /** Cluster whose task state changes are captured. */
  readonly clusterArn: string;
  /**
   * Only tasks whose task definition ARN starts with this are captured, so pools sharing a cluster
   * each see their own flow runs (ECS events carry no tags; the family carries the pool).
   * @default every task of the cluster
   */
  readonly taskDefinitionArnPrefix?: string;
  /**
   * "least-privilege": EventBridge may only send; "guide": also the guide's GetQueueAttributes and GetQueueUrl.
   * @default "least-privilege"
   */
  readonly policyStyle?: IamPolicyStyle;
}

/** The guide's SQS settings (section 2.10). */
export const EVENTS_QUEUE_SETTINGS = {
  deadLetter: { messageRetentionSeconds: 1_209_600, visibilityTimeoutSeconds: 60 },
  events: { messageRetentionSeconds: 604_800, visibilityTimeoutSeconds: 300, maxReceiveCount: 3 },
} as const;

/**
 * Steps 12-16: ECS task state changes of the cluster flow into an SQS queue
 * (with a dead-letter queue) that the worker's observer reads to mark crashed
 * runs. Queues are encrypted with SQS-managed keys; the guide sets none.
 */
export class EcsEventsQueue extends Construct {
  public readonly deadLetterQueue: SqsQueue;
  public readonly queue: SqsQueue;
  public readonly queuePolicy: SqsQueuePolicy;
  public readonly rule: CloudwatchEventRule;
  public readonly target: CloudwatchEventTarget;

  constructor(scope: Construct, id: string, props: EcsEventsQueueProps) {
    super(scope, id);
    const { deadLetter, events } = EVENTS_QUEUE_SETTINGS;
    this.deadLetterQueue = new SqsQueue(this, "dlq", {
      name: props.deadLetterQueueName,
      messageRetentionSeconds: deadLetter.messageRetentionSeconds,
      visibilityTimeoutSeconds: deadLetter.visibilityTimeoutSeconds,
      sqsManagedSseEnabled: true,
    });
    this.deadLetterQueue.overrideLogicalId("events_dead_letter_queue");

    this.queue = new SqsQueue(this, "queue", {
      name: props.queueName,
      messageRetentionSeconds: events.messageRetentionSeconds,
      visibilityTimeoutSeconds: events.visibilityTimeoutSeconds,
      sqsManagedSseEnabled: true,
      redrivePolicy: Fn.jsonencode({
        deadLetterTargetArn: this.deadLetterQueue.arn,
        maxReceiveCount: events.maxReceiveCount,
      }),
    });
    this.queue.overrideLogicalId("events_queue");

    this.rule = new CloudwatchEventRule(this, "rule", {
      name: props.ruleName,
      description: "Capture ECS task state changes for Prefect worker",
      state: "ENABLED",
      eventPattern: Fn.jsonencode({
        source: ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        detail: {
          clusterArn: [props.clusterArn],
          ...(props.taskDefinitionArnPrefix === undefined ? {} : { taskDefinitionArn: [{ prefix: props.taskDefinitionArnPrefix }] }),
        },
      }),
    });
    this.rule.overrideLogicalId("ecs_task_state_changes");

    this.target = new CloudwatchEventTarget(this, "target", {
      rule: this.rule.name,
      targetId: "1",
      arn: this.queue.arn,
    });
    this.target.overrideLogicalId("ecs_task_state_changes_to_queue");

    // Only our rule may send: the guide's policy lets any EventBridge rule in any account do so.
    const document = policyDocument(this, "events_queue_policy", [
      {
        sid: "EventBridgeSendsEcsTaskEvents",
        effect: "Allow",
        principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
        actions:
          props.policyStyle === "guide" ? ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"] : ["sqs:SendMessage"],
        resources: [this.queue.arn],
        condition: [{ test: "ArnEquals", variable: "aws:SourceArn", values: [this.rule.arn] }],
      },
    ]);
    this.queuePolicy = new SqsQueuePolicy(this, "policy", { queueUrl: this.queue.url, policy: document.json });
    this.queuePolicy.overrideLogicalId("events_queue_policy");
  }
}
