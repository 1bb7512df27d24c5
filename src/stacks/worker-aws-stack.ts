import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformOutput } from "cdktf";
import { Construct } from "constructs";
import { poolSlug } from "../config/derived-names";
import { ResolvedConfig } from "../config/resolve";
import { STACK_TAG_KEYS } from "../config/schema";
import { PrefectEcsWorker, WorkerSettings } from "../constructs/prefect-ecs-worker";
import { configureBackend } from "./backend";
import { SelfContainedStack, SelfContainedStackProps } from "./self-contained-stack";
import { WorkerVariables } from "./worker-variables";

/** Terraform 1.11 brought write-only attributes and ephemeral variables, which keep the API key out of state. */
export const REQUIRED_TERRAFORM_VERSION = ">= 1.11.0";

/**
 * The AWS provider, as registry modules require it: its full source address and a range. The stacks are
 * built and tested with 5.100.0 (@cdktf/provider-aws 20.1.0), the last 5.x; 6.0 changed resources they use.
 */
export const AWS_PROVIDER_REQUIREMENT = { source: "hashicorp/aws", version: ">= 5.100.0, < 6.0.0" } as const;

/** The tags every resource gets besides the configuration's (schema STACK_TAG_KEYS). */
export function ownTags(workPoolName: string): Record<(typeof STACK_TAG_KEYS)[number], string> {
  return { PrefectWorkPool: workPoolName, ManagedBy: "prefect-ecs-worker-cdktf" };
}

export interface WorkerAwsStackProps extends SelfContainedStackProps {
  readonly config: ResolvedConfig;
}

/** Stack name of a work pool's AWS stack, also its directory under cdktf.out/stacks. */
export function awsStackName(config: ResolvedConfig): string {
  return `${poolSlug(config.workPoolName)}-aws`;
}

/**
 * The AWS side of the guide for one work pool: provider, local backend with
 * a relative state path, per-environment variables, the worker, and outputs
 * for ops teams and the work-pool stack.
 */
export class WorkerAwsStack extends SelfContainedStack {
  public readonly worker: PrefectEcsWorker;
  public readonly variables: WorkerVariables;

  constructor(scope: Construct, id: string, props: WorkerAwsStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.addOverride("terraform.required_version", REQUIRED_TERRAFORM_VERSION);
    configureBackend(this, config.backend, id);

    this.variables = new WorkerVariables(this, "variables", config);
    new AwsProvider(this, "aws", {
      region: this.variables.settings.region,
      defaultTags: [{ tags: { ...config.tags, ...ownTags(config.workPoolName) } }],
    });
    // Replaces the binding's own requirement (`source = "aws"`, exactly its version).
    this.addOverride("terraform.required_providers.aws", AWS_PROVIDER_REQUIREMENT);
    this.worker = new PrefectEcsWorker(this, "worker", { config, settings: this.variables.settings });
    addWorkerOutputs(this, this.worker, this.variables.settings);
  }
}

/** The outputs of the worker's AWS resources, for ops teams and the work-pool step. */
export function addWorkerOutputs(scope: Construct, w: PrefectEcsWorker, settings: WorkerSettings): void {
  // Outputs of optional parts exist only when the part does (cdktf cannot write a null output).
  const output = (name: string, value: unknown, description: string) => {
    if (value !== undefined) new TerraformOutput(scope, name, { value, description });
  };
  output("work_pool_name", w.workPoolName, "Prefect work pool the worker polls.");
  output("region", settings.region, "AWS region.");
  output("prefect_api_url", settings.prefectApiUrl, "PREFECT_API_URL of the worker; the work-pool stack calls this API.");
  output("cluster_arn", w.cluster.arn, "ECS cluster ARN (work pool variable `cluster`).");
  output("vpc_id", w.network.vpcId, "VPC ID (work pool variable `vpc_id`).");
  output("subnet_ids", w.network.subnetIds, "Subnet IDs of the worker (work pool `network_configuration.subnets`).");
  output("security_group_ids", w.securityGroupIds, "Security group IDs of the worker.");
  output("assign_public_ip", settings.assignPublicIp, "Whether tasks get a public IP.");
  output("execution_role_arn", w.executionRole.role.arn, "Task execution role ARN of the worker.");
  output(
    "flow_run_execution_role_arn",
    w.flowRunExecutionRole.role.arn,
    "Task execution role ARN of flow runs (work pool variable `execution_role_arn`).",
  );
  output("worker_task_role_arn", w.workerTaskRole.role.arn, "Task role of the worker container.");
  output(
    "flow_run_task_role_arn",
    w.flowRunTaskRole?.role.arn,
    "Task role of flow runs (work pool variable `task_role_arn`).",
  );
  output("events_queue_name", w.eventsQueue.queue.name, "SQS queue of ECS task events.");
  output("events_queue_url", w.eventsQueue.queue.url, "URL of the events queue.");
  output("events_queue_arn", w.eventsQueue.queue.arn, "ARN of the events queue.");
  output("events_dead_letter_queue_arn", w.eventsQueue.deadLetterQueue.arn, "ARN of the dead-letter queue.");
  output("secret_arn", w.apiSecret?.arn, "ARN of the Prefect credential secret.");
  output(
    "secret_environment_name",
    w.apiSecret?.environmentName,
    "Environment variable the secret feeds: PREFECT_API_KEY or PREFECT_API_AUTH_STRING.",
  );
  output(
    "ecr_repository_url",
    w.flowImageRepository?.repositoryUrl,
    "ECR repository for flow images.",
  );
  output("log_group_name", w.service.logGroup.name, "CloudWatch log group of the worker.");
  output("flow_run_log_group_name", w.flowRunLogs?.logGroup.name, "CloudWatch log group of flow runs.");
  output("worker_service_name", w.service.service.name, "ECS service of the worker.");
  output(
    "prefect_yaml",
    w.prefectYaml,
    "prefect.yaml for the guide's deployment: terraform output -raw prefect_yaml > prefect.yaml",
  );
}
