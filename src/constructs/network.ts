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
}

export type WorkerNetworkProps =
  | {
      /** Look up the account's default VPC and its subnets, as the guide does. */
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
    };

/** Where the worker runs: the default VPC (looked up) or an explicit VPC and subnets. */
export class WorkerNetwork extends Construct {
  public readonly vpcId: string;
  public readonly subnetIds: string[];
  public readonly defaultVpc?: DataAwsVpc;
  public readonly defaultSubnets?: DataAwsSubnets;

  constructor(scope: Construct, id: string, props: WorkerNetworkProps) {
    super(scope, id);
    if (props.mode === "explicit") {
      this.vpcId = props.vpcId;
      this.subnetIds = props.subnetIds;
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
  value(variable: keyof DefaultVpcOverrides, attributePath: string): string {
    if (!this.overrides) return `\${${attributePath}}`;
    const [data, type, name, attribute] = attributePath.split(".");
    const override = `var.${this.overrides[variable]}`;
    return `\${${override} != null ? ${override} : one(${data}.${type}.${name}[*].${attribute})}`;
  }
}
