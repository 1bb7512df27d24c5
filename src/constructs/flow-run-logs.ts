import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { Construct } from "constructs";

export interface FlowRunLogsProps {
  readonly groupName: string;
  readonly retentionInDays: number;
}

/**
 * The log group of flow-run containers, created here so neither ECS nor the
 * worker needs logs:CreateLogGroup on "*", and with a retention period.
 */
export class FlowRunLogs extends Construct {
  public readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: FlowRunLogsProps) {
    super(scope, id);
    this.logGroup = new CloudwatchLogGroup(this, "logs", {
      name: props.groupName,
      retentionInDays: props.retentionInDays,
    });
    this.logGroup.overrideLogicalId("flow_runs");
  }
}
