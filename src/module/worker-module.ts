import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region";
import { Fn, TerraformLocal, TerraformOutput, TerraformResource, Token } from "cdktf";
import { Construct } from "constructs";
import { ResolvedConfig } from "../config/resolve";
import { PrefectEcsWorker } from "../constructs/prefect-ecs-worker";
import { terraformElementsOf } from "../hcl/elements";
import { SelfContainedStack, SelfContainedStackProps } from "../stacks/self-contained-stack";
import { addWorkerOutputs, ownTags } from "../stacks/worker-aws-stack";
import { WorkerVariables } from "../stacks/worker-variables";
import { BASE_JOB_TEMPLATE_FILE, WorkPoolUpsert } from "../work-pool/work-pool-upsert";

/** The module's folder under `<out>/modules/`, and the name its README uses. */
export const MODULE_NAME = "prefect-ecs-worker";

export interface WorkerModuleStackProps extends SelfContainedStackProps {
  readonly config: ResolvedConfig;
}

/**
 * Both stacks of a work pool as one reusable Terraform module, applied in one go: the AWS resources
 * and the work-pool step, which references the resources directly instead of reading a stack's state.
 * No backend and no provider configuration (the caller's); every per-environment value and every
 * name a variable whose default is the configuration's; a `tags` variable on every resource that takes
 * tags (a module cannot set the provider's default_tags). What the configuration's shape decides (which
 * secret store, a created or an existing cluster, which optional parts) is fixed at synthesis.
 * The stack's JSON output still holds cdktf's local backend: writeModule() writes the module's own terraform block.
 */
export class WorkerModuleStack extends SelfContainedStack {
  public readonly variables: WorkerVariables;
  public readonly worker: PrefectEcsWorker;
  /** Undefined when workPool.manage is false. */
  public readonly upsert?: WorkPoolUpsert;

  constructor(scope: Construct, id: string, props: WorkerModuleStackProps) {
    super(scope, id, props);
    const { config } = props;
    // The caller's provider decides the region.
    const region = new DataAwsRegion(this, "current_region");
    region.overrideLogicalId("current");
    this.variables = new WorkerVariables(this, "variables", config, { form: "module", region: region.name });
    const settings = this.variables.settings;
    this.worker = new PrefectEcsWorker(this, "worker", { config, settings });
    const w = this.worker;

    // The stacks' default_tags, as each resource's own tags.
    const tags = new TerraformLocal(this, "tags", Fn.merge([this.variables.tags?.value, ownTags(w.workPoolName)]));
    tags.overrideLogicalId("tags");
    for (const element of terraformElementsOf(this)) {
      if (element instanceof TerraformResource && "tags" in element) element.addOverride("tags", "${local.tags}");
    }
    addWorkerOutputs(this, w, settings);

    if (config.workPool.manage) {
      this.upsert = new WorkPoolUpsert(this, "work_pool", {
        config,
        workPoolName: w.workPoolName,
        settings: this.variables.workPool,
        aws: {
          prefectApiUrl: settings.prefectApiUrl as string,
          clusterArn: w.cluster.arn,
          vpcId: w.network.vpcId,
          executionRoleArn: w.flowRunExecutionRole.role.arn,
          subnetIds: w.network.subnetIds,
          securityGroupIds: w.securityGroupIds,
          assignPublicIp: Token.asString(Fn.conditional(settings.assignPublicIp, "ENABLED", "DISABLED")),
          flowRunTaskRoleArn: w.flowRunTaskRole?.role.arn,
          flowRunLogGroupName: w.flowRunLogs?.logGroup.name,
          secretArn: w.apiSecret?.arn,
        },
      });
      new TerraformOutput(this, "drift_check", {
        value: this.upsert.driftCheck,
        description: "Shell command that compares the pool on the server with the configuration, changing nothing (exit 2 on drift); run it from the root module's folder.",
      });
      new TerraformOutput(this, "pool_defaults", {
        value: "${local.pool_defaults}",
        description: `The job variable defaults the work-pool step sets; the rest of the base job template is ${BASE_JOB_TEMPLATE_FILE} in this module.`,
      });
    }
  }
}
