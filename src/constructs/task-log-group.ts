import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { Construct } from "constructs";

export interface TaskLogGroupProps {
  readonly groupName: string;
  readonly retentionInDays: number;
  /** Terraform logical id of the group, e.g. `worker` or `flow_runs`. */
  readonly logicalId: string;
}

/**
 * The log group of a kind of ECS task (the worker, or flow runs), created
 * here with a retention period, so neither ECS nor the worker needs
 * logs:CreateLogGroup on "*" and the execution role can be limited to it.
 */
export class TaskLogGroup extends Construct {
  public readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: TaskLogGroupProps) {
    super(scope, id);
    this.logGroup = new CloudwatchLogGroup(this, "logs", {
      name: props.groupName,
      retentionInDays: props.retentionInDays,
    });
    this.logGroup.overrideLogicalId(props.logicalId);
  }

  /** ARN pattern of every stream of the group (what logs:CreateLogStream / PutLogEvents authorize against). */
  get streamsArn(): string {
    return `${this.logGroup.arn}:log-stream:*`;
  }
}
