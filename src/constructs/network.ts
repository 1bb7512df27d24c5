import { DataAwsSecurityGroup } from "@cdktf/provider-aws/lib/data-aws-security-group";
import { DataAwsSubnets } from "@cdktf/provider-aws/lib/data-aws-subnets";
import { DataAwsVpc } from "@cdktf/provider-aws/lib/data-aws-vpc";
import { Token } from "cdktf";
import { Construct } from "constructs";

/** Nullable Terraform variables that, when set, replace a default-VPC lookup. */
export interface DefaultVpcOverrides {
  /** Variable name of the VPC ID (type string, nullable). */
  readonly vpcIdVariable: string;
  /** Variable name of the subnet IDs (type list(string), nullable). */
  readonly subnetIdsVariable: string;
  /** Variable name of the security group IDs (type list(string), nullable). */
  readonly securityGroupIdsVariable: string;
}

export type WorkerNetworkProps =
  | {
      /** Look up the account's default VPC, its subnets and its `default` security group, as the guide does. */
      readonly mode: "default-vpc";
      /**
       * Variables that skip each lookup when set, so an ops team can pin the
       * network without re-running synth (and a plan needs no AWS read).
       * @default none: always look up
       */
      readonly overrides?: DefaultVpcOverrides;
    }
  | {
      readonly mode: "explicit";
      readonly vpcId: string;
      readonly subnetIds: string[];
      readonly securityGroupIds: string[];
    };

/** Where the worker runs: the default VPC (looked up) or an explicit VPC, subnets and security groups. */
export class WorkerNetwork extends Construct {
  public readonly vpcId: string;
  public readonly subnetIds: string[];
  public readonly securityGroupIds: string[];
  public readonly defaultVpc?: DataAwsVpc;
  public readonly defaultSubnets?: DataAwsSubnets;
  public readonly defaultSecurityGroup?: DataAwsSecurityGroup;

  constructor(scope: Construct, id: string, props: WorkerNetworkProps) {
    super(scope, id);
    if (props.mode === "explicit") {
      this.vpcId = props.vpcId;
      this.subnetIds = props.subnetIds;
      this.securityGroupIds = props.securityGroupIds;
      return;
    }
    // Addresses are fixed so that the expressions below can name the lookups.
    const lookup = new DefaultVpcLookup(props.overrides);
    this.defaultVpc = new DataAwsVpc(this, "vpc", { default: true, count: lookup.count("vpcIdVariable") });
    this.defaultVpc.overrideLogicalId("default");
    this.vpcId = lookup.value("vpcIdVariable", "data.aws_vpc.default.id");

    this.defaultSubnets = new DataAwsSubnets(this, "subnets", {
      count: lookup.count("subnetIdsVariable"),
      filter: [{ name: "vpc-id", values: [this.vpcId] }],
    });
    this.defaultSubnets.overrideLogicalId("default_vpc");
    this.subnetIds = Token.asList(lookup.value("subnetIdsVariable", "data.aws_subnets.default_vpc.ids"));

    this.defaultSecurityGroup = new DataAwsSecurityGroup(this, "security_group", {
      count: lookup.count("securityGroupIdsVariable"),
      vpcId: this.vpcId,
      name: "default",
    });
    this.defaultSecurityGroup.overrideLogicalId("default_vpc_default");
    this.securityGroupIds = Token.asList(
      lookup.value("securityGroupIdsVariable", "data.aws_security_group.default_vpc_default.id", { asList: true }),
    );
  }
}

/** Builds the Terraform expressions of a lookup that an optional variable can replace. */
class DefaultVpcLookup {
  constructor(private readonly overrides?: DefaultVpcOverrides) {}

  count(variable: keyof DefaultVpcOverrides): number | undefined {
    if (!this.overrides) return undefined;
    return Token.asNumber(`\${var.${this.overrides[variable]} == null ? 1 : 0}`);
  }

  /** `attributePath` is `data.<type>.<name>.<attribute>`. */
  value(variable: keyof DefaultVpcOverrides, attributePath: string, options: { asList?: boolean } = {}): string {
    const wrap = (expression: string) => (options.asList ? `[${expression}]` : expression);
    if (!this.overrides) return `\${${wrap(attributePath)}}`;
    const [data, type, name, attribute] = attributePath.split(".");
    const looked = wrap(`one(${data}.${type}.${name}[*].${attribute})`);
    const override = `var.${this.overrides[variable]}`;
    return `\${${override} != null ? ${override} : ${looked}}`;
  }
}
