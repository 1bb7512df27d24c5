import { TerraformLocal, TerraformVariable } from "cdktf";
import { Construct } from "constructs";
import { AWS_FORMATS, AwsFormatName, FARGATE_MEMORY_BY_CPU } from "../config/aws-formats";
import { ResolvedConfig } from "../config/resolve";
import { DefaultVpcOverrides } from "../constructs/network";
import { WorkerSettings } from "../constructs/prefect-ecs-worker";

/**
 * The per-environment values of the AWS stack, as Terraform variables with
 * descriptions, types, validation and defaults from the configuration, so
 * the synthesized Terraform is reusable without re-running synth.
 */
export class WorkerVariables extends Construct {
  public readonly settings: WorkerSettings;
  public readonly variables: Readonly<Record<string, TerraformVariable>>;

  constructor(scope: Construct, id: string, config: ResolvedConfig) {
    super(scope, id);
    const vars: Record<string, TerraformVariable> = {};
    const add = (name: string, options: ConstructorParameters<typeof TerraformVariable>[2]) => {
      const variable = new TerraformVariable(this, name, options);
      variable.overrideLogicalId(name);
      vars[name] = variable;
      return variable;
    };

    const region = add("aws_region", {
      type: "string",
      description: "AWS region of every resource.",
      default: config.region,
      validation: [matchesFormat("aws_region", "region")],
    });
    const apiUrlFormat: AwsFormatName = config.prefect.server === "cloud" ? "prefectCloudWorkspaceUrl" : "selfHostedApiUrl";
    const apiUrl = add("prefect_api_url", {
      type: "string",
      description:
        config.prefect.server === "cloud"
          ? "PREFECT_API_URL of the worker: https://api.prefect.cloud/api/accounts/<account-id>/workspaces/<workspace-id>."
          : "PREFECT_API_URL of the worker: the self-hosted server's API URL, ending in /api.",
      default: config.prefect.apiUrl,
      validation: [matchesFormat("prefect_api_url", apiUrlFormat)],
    });
    const imageTag = add("worker_image_tag", {
      type: "string",
      description: `Tag of the worker image ${config.worker.image}. Pin one in production, e.g. 0.7.11-python3.12.`,
      default: config.worker.imageTag,
      validation: [matchesFormat("worker_image_tag", "imageTag")],
    });
    const cpu = add("worker_cpu", {
      type: "number",
      description: "Fargate CPU units of the worker task.",
      default: config.worker.cpu,
      validation: [
        {
          condition: `\${contains([${Object.keys(FARGATE_MEMORY_BY_CPU).join(", ")}], var.worker_cpu)}`,
          errorMessage: `worker_cpu must be one of ${Object.keys(FARGATE_MEMORY_BY_CPU).join(", ")}.`,
        },
      ],
    });
    // Fargate's task sizes: the memory sizes (MiB) each CPU size allows, keyed by CPU units as text.
    const fargateSizes = new TerraformLocal(this, "fargate_memory_by_cpu", Object.fromEntries(Object.entries(FARGATE_MEMORY_BY_CPU)));
    fargateSizes.overrideLogicalId("fargate_memory_by_cpu");
    const memory = add("worker_memory", {
      type: "number",
      description: "Fargate memory (MiB) of the worker task; must be valid for worker_cpu.",
      default: config.worker.memory,
      validation: [
        {
          condition: "${contains(lookup(local.fargate_memory_by_cpu, tostring(var.worker_cpu), []), var.worker_memory)}",
          errorMessage: "worker_memory is not a valid Fargate memory size for worker_cpu (see the Fargate task size table).",
        },
      ],
    });
    const desiredCount = add("worker_desired_count", {
      type: "number",
      description: "Number of worker tasks.",
      default: config.worker.desiredCount,
      validation: [
        {
          condition: "${var.worker_desired_count >= 0 && floor(var.worker_desired_count) == var.worker_desired_count}",
          errorMessage: "worker_desired_count must be a whole number, 0 or more.",
        },
      ],
    });
    const assignPublicIp = add("assign_public_ip", {
      type: "bool",
      description: "Give the worker task a public IP (needed in subnets without a NAT gateway, such as the default VPC's).",
      default: config.network.assignPublicIp,
    });

    const explicit = config.network.mode === "explicit" ? config.network : undefined;
    const vpcId = add("vpc_id", {
      type: "string",
      description: explicit ? "VPC of the worker and flow runs." : "VPC of the worker and flow runs. null: the default VPC, looked up.",
      default: explicit?.vpcId,
      nullable: !explicit,
      validation: [matchesFormat("vpc_id", "vpcId", { nullable: !explicit })],
    });
    const subnetIds = add("subnet_ids", {
      type: "list(string)",
      description: explicit ? "Subnets of the worker service." : "Subnets of the worker service. null: all subnets of the VPC, looked up.",
      default: explicit?.subnetIds,
      nullable: !explicit,
      validation: [matchesFormat("subnet_ids", "subnetId", { nullable: !explicit, list: true })],
    });
    const securityGroupIds = add("security_group_ids", {
      type: "list(string)",
      description: "Additional security groups of the worker and flow runs, besides the worker's own group.",
      default: [...config.network.extraSecurityGroupIds],
      nullable: false,
      validation: [matchesFormat("security_group_ids", "securityGroupId", { list: true, allowEmpty: true })],
    });
    if (!explicit) {
      // cdktf cannot write `default = null`; an override can.
      for (const variable of [vpcId, subnetIds]) variable.addOverride("default", null);
    }

    let secretValue: string | undefined;
    let secretValueVersion: number | undefined;
    const secret = config.secret;
    if (secret && secret.mode === "create" && secret.valueSource === "ephemeral-variable") {
      const name = secretVariableName(secret.environmentName);
      const value = add(name, {
        type: "string",
        description:
          `${secret.environmentName} for the worker. Ephemeral: written through a write-only attribute, never stored ` +
          `in state or plan files. Needed on every plan and apply (e.g. TF_VAR_${name}).`,
        sensitive: true,
        nullable: false,
        validation: [{ condition: `\${length(trimspace(var.${name})) > 0}`, errorMessage: `${name} must not be empty.` }],
      });
      value.addOverride("ephemeral", true);
      const version = add(`${name}_version`, {
        type: "number",
        description: `Version of ${name}: increase it to write a new value into the secret.`,
        default: 1,
        validation: [
          { condition: `\${var.${name}_version >= 1}`, errorMessage: `${name}_version must be 1 or more.` },
        ],
      });
      secretValue = value.stringValue;
      secretValueVersion = version.numberValue;
    }

    this.variables = vars;
    this.settings = {
      region: region.stringValue,
      prefectApiUrl: apiUrl.stringValue,
      imageTag: imageTag.stringValue,
      cpu: cpu.numberValue,
      memory: memory.numberValue,
      desiredCount: desiredCount.numberValue,
      assignPublicIp: assignPublicIp.booleanValue,
      ...(explicit
        ? { vpcId: vpcId.stringValue, subnetIds: subnetIds.listValue }
        : { defaultVpcOverrides: DEFAULT_VPC_OVERRIDES }),
      extraSecurityGroupIds: securityGroupIds.listValue,
      secretValue,
      secretValueVersion,
    };
  }
}

const DEFAULT_VPC_OVERRIDES: DefaultVpcOverrides = {
  vpcIdVariable: "vpc_id",
  subnetIdsVariable: "subnet_ids",
};

export function secretVariableName(environmentName: string): string {
  return environmentName.toLowerCase();
}

function matchesFormat(
  variable: string,
  formatName: AwsFormatName,
  options: { nullable?: boolean; list?: boolean; allowEmpty?: boolean } = {},
): { condition: string; errorMessage: string } {
  const { pattern, allowed } = AWS_FORMATS[formatName];
  const re = JSON.stringify(pattern);
  const test = options.list
    ? `${options.allowEmpty ? "" : `length(var.${variable}) > 0 && `}alltrue([for value in var.${variable} : can(regex(${re}, value))])`
    : `can(regex(${re}, var.${variable}))`;
  // Conditionals are lazy in Terraform, so a null never reaches regex().
  const condition = options.nullable ? `var.${variable} == null ? true : ${test}` : test;
  return {
    condition: `\${${condition}}`,
    errorMessage: `${variable} must be ${options.list ? `a${options.allowEmpty ? "" : " non-empty"} list of ` : ""}${allowed}${options.nullable ? " (or null)" : ""}.`,
  };
}
