import { TerraformOutput, TerraformRemoteState } from "cdktf";
import { configureBackend, remoteStateOf } from "../stacks/backend";
import { Construct } from "constructs";
import { ResolvedConfig } from "../config/resolve";
import { SelfContainedStack, SelfContainedStackProps } from "../stacks/self-contained-stack";
import { REQUIRED_TERRAFORM_VERSION } from "../stacks/worker-aws-stack";
import { BASE_JOB_TEMPLATE_FILE, encodedPoolName, WorkPoolUpsert } from "./work-pool-upsert";

export interface WorkPoolStackProps extends SelfContainedStackProps {
  readonly config: ResolvedConfig;
  /** Name of the AWS stack whose outputs feed the pool defaults (its folder is a sibling of this stack's). */
  readonly awsStackName: string;
}

/** Stack name of a work pool's Prefect stack. */
export function workPoolStackName(awsStackName: string): string {
  return awsStackName.replace(/-aws$/, "-work-pool");
}

export { BASE_JOB_TEMPLATE_FILE, encodedPoolName };

/**
 * The work-pool step (WorkPoolUpsert) as a stack of its own, applied after the
 * AWS stack and reading the AWS values from that stack's state.
 */
export class WorkPoolStack extends SelfContainedStack {
  public readonly upsert: WorkPoolUpsert;
  public readonly awsState: TerraformRemoteState;

  constructor(scope: Construct, id: string, props: WorkPoolStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.addOverride("terraform.required_version", REQUIRED_TERRAFORM_VERSION);
    configureBackend(this, config.backend, id);

    // The AWS stack's outputs, from wherever that stack keeps its state.
    this.awsState = remoteStateOf(this, "aws_stack", config.backend, props.awsStackName);
    const output = (name: string) => `\${data.terraform_remote_state.aws_stack.outputs.${name}}`;
    this.upsert = new WorkPoolUpsert(this, "upsert", {
      config,
      aws: {
        prefectApiUrl: output("prefect_api_url"),
        clusterArn: output("cluster_arn"),
        vpcId: output("vpc_id"),
        executionRoleArn: output("flow_run_execution_role_arn"),
        subnetIds: output("subnet_ids"),
        securityGroupIds: output("security_group_ids"),
        assignPublicIp: '${data.terraform_remote_state.aws_stack.outputs.assign_public_ip ? "ENABLED" : "DISABLED"}',
        flowRunTaskRoleArn: output("flow_run_task_role_arn"),
        flowRunLogGroupName: output("flow_run_log_group_name"),
        secretArn: output("secret_arn"),
      },
    });

    new TerraformOutput(this, "work_pool_name_output", { value: config.workPoolName, description: "The Prefect work pool." }).overrideLogicalId(
      "work_pool_name",
    );
    // A read-only drift check to run by hand or in CI: (cd <stack folder> && terraform output -raw drift_check | sh)
    new TerraformOutput(this, "drift_check", {
      value: this.upsert.driftCheck,
      description: "Shell command that compares the pool on the server with the configuration, changing nothing (exit 2 on drift).",
    });
    new TerraformOutput(this, "pool_defaults_output", {
      value: "${local.pool_defaults}",
      description: `The job variable defaults set from the AWS stack; the rest of the base job template is ${BASE_JOB_TEMPLATE_FILE} beside this stack.`,
    }).overrideLogicalId("pool_defaults");
  }
}

