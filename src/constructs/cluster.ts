import { DataAwsEcsCluster } from "@cdktf/provider-aws/lib/data-aws-ecs-cluster";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { Fn, propertyAccess, TerraformLocal, Token } from "cdktf";
import { Construct } from "constructs";
import { ResolvedCluster } from "../config/resolve";

/** The parts of a cluster ARN (`arn:<partition>:ecs:<region>:<account>:cluster/<name>`) other ECS ARNs are built from. */
export interface ClusterArnParts {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly name: string;
}

/** A cluster: its ARN and that ARN's parts. */
export interface ClusterReference extends ClusterArnParts {
  readonly arn: string;
}

/** An ECS ARN in the cluster's partition, region and account. */
export function ecsArnOf(cluster: ClusterArnParts, resource: string): string {
  return `arn:${cluster.partition}:ecs:${cluster.region}:${cluster.accountId}:${resource}`;
}

export interface WorkerClusterProps {
  readonly cluster: ResolvedCluster;
}

/**
 * The guide's prerequisite cluster: created here, or an existing one by ARN or name. Its ARN's parts
 * bound the policies and the event rule, so a plan needs no account lookup and stays offline.
 */
export class WorkerCluster extends Construct implements ClusterReference {
  public readonly arn: string;
  public readonly partition: string;
  public readonly region: string;
  public readonly accountId: string;
  public readonly name: string;
  public readonly cluster?: EcsCluster;
  /** Looked up when an existing cluster is given by name (its ARN is needed for the event rule). */
  public readonly lookup?: DataAwsEcsCluster;
  /**
   * `local.cluster`: the ARN split into partition, region, account_id and name once, read by every
   * user. Undefined when the ARN is known at synthesis: the parts are then literals.
   */
  public readonly arnParts?: TerraformLocal;

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

    if (!Token.isUnresolved(this.arn)) {
      // A validated ARN (ecsClusterArn): arn:<partition>:ecs:<region>:<account>:cluster/<name>.
      const [, partition, , region, accountId] = this.arn.split(":");
      this.partition = partition;
      this.region = region;
      this.accountId = accountId;
      this.name = this.arn.split("/")[1];
      return;
    }
    const part = (index: number) => Fn.element(Fn.split(":", this.arn), index);
    const arnParts = new TerraformLocal(this, "arn_parts", {
      partition: part(1),
      region: part(3),
      account_id: part(4),
      name: Fn.element(Fn.split("/", this.arn), 1),
    });
    arnParts.overrideLogicalId("cluster");
    this.arnParts = arnParts;
    const local = (key: string) => Token.asString(propertyAccess(arnParts.expression, [key]));
    this.partition = local("partition");
    this.region = local("region");
    this.accountId = local("account_id");
    this.name = local("name");
  }
}
