import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { Construct } from "constructs";

export interface WorkerSecurityGroupProps {
  /** Prefix of the group's name; AWS appends a unique suffix, so a replacement can be created before the old group goes. */
  readonly namePrefix: string;
  readonly vpcId: string;
  /**
   * TCP ports the worker and flow runs may reach, anywhere: 443 serves the
   * Prefect Cloud API, image registries and the AWS APIs.
   * @default [443]
   */
  readonly egressPorts?: readonly number[];
}

/**
 * The worker's own security group, instead of the VPC's default group the
 * guide uses: no ingress at all (the health check runs inside the task) and
 * egress limited to the ports the worker needs.
 */
export class WorkerSecurityGroup extends Construct {
  public readonly securityGroup: SecurityGroup;
  public readonly egressRules: VpcSecurityGroupEgressRule[];

  constructor(scope: Construct, id: string, props: WorkerSecurityGroupProps) {
    super(scope, id);
    this.securityGroup = new SecurityGroup(this, "group", {
      namePrefix: props.namePrefix,
      description: "Prefect ECS worker and its flow runs: no ingress, egress to the Prefect API, registries and AWS APIs",
      vpcId: props.vpcId,
      // The service moves to a replacement group before the old one can be deleted.
      lifecycle: { createBeforeDestroy: true },
    });
    this.securityGroup.overrideLogicalId("worker");
    const ports = [...new Set(props.egressPorts ?? [443])].sort((a, b) => a - b);
    this.egressRules = ports.map((port) => {
      const rule = new VpcSecurityGroupEgressRule(this, `egress_${port}`, {
        securityGroupId: this.securityGroup.id,
        description: port === 443 ? "HTTPS: Prefect API, image registries, AWS APIs" : `TCP ${port}: Prefect API`,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrIpv4: "0.0.0.0/0",
      });
      rule.overrideLogicalId(`worker_egress_${port}`);
      return rule;
    });
  }
}
