import { DataAwsEcsCluster } from "@cdktf/provider-aws/lib/data-aws-ecs-cluster";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { Construct } from "constructs";
import { ResolvedCluster } from "../config/resolve";

export interface WorkerClusterProps {
  readonly cluster: ResolvedCluster;
}

/** The guide's prerequisite cluster: created here, or an existing one by ARN or name. */
export class WorkerCluster extends Construct {
  public readonly arn: string;
  public readonly cluster?: EcsCluster;
  /** Looked up when an existing cluster is given by name (its ARN is needed for the event rule). */
  public readonly lookup?: DataAwsEcsCluster;

  constructor(scope: Construct, id: string, props: WorkerClusterProps) {
    super(scope, id);
    const { cluster } = props;
    if (cluster.mode === "create") {
      this.cluster = new EcsCluster(this, "cluster", {
        name: cluster.name,
        setting:
          cluster.containerInsights === "disabled" ? [] : [{ name: "containerInsights", value: cluster.containerInsights }],
      });
      this.cluster.overrideLogicalId("cluster");
      this.arn = this.cluster.arn;
    } else if (cluster.arn) {
      this.arn = cluster.arn;
    } else {
      this.lookup = new DataAwsEcsCluster(this, "lookup", { clusterName: cluster.name as string });
      this.lookup.overrideLogicalId("existing");
      this.arn = this.lookup.arn;
    }
  }
}
