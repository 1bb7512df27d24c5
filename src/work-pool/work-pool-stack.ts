import { join } from "node:path";
import { DataResource, TerraformLocal, TerraformRemoteState } from "cdktf";
import { configureBackend, remoteStateOf } from "../stacks/backend";
import { StableFileAsset } from "../constructs/stable-file-asset";
import { writeBesideStack } from "../stacks/stack-files";
import { Construct } from "constructs";
import { ResolvedConfig } from "../config/resolve";
import { HclOutput, hclSafeResource, JsonLocal } from "../hcl/elements";
import { SelfContainedStack, SelfContainedStackProps } from "../stacks/self-contained-stack";
import { REQUIRED_TERRAFORM_VERSION } from "../stacks/worker-aws-stack";
import { BaseJobTemplate, withPoolDefaults } from "./base-job-template";
import { ecsBaseJobTemplate } from "./ecs-base-job-template";

export interface WorkPoolStackProps extends SelfContainedStackProps {
  readonly config: ResolvedConfig;
  /** Name of the AWS stack whose outputs feed the pool defaults (its folder is a sibling of this stack's). */
  readonly awsStackName: string;
}

/** Stack name of a work pool's Prefect stack. */
export function workPoolStackName(awsStackName: string): string {
  return awsStackName.replace(/-aws$/, "-work-pool");
}

/**
 * The Terraform expression of a pool name as a URL path segment: urlencode() writes a space as +,
 * which Prefect reads as a plus sign in a path, so spaces become %20.
 */
export function encodedPoolName(nameExpression: string): string {
  return `replace(urlencode(${nameExpression}), "+", "%20")`;
}

/** The base job template without the pool defaults, beside the stack's cdk.tf.json. */
export const BASE_JOB_TEMPLATE_FILE = "base-job-template.json";

/**
 * The template of the file with each job variable named in local.pool_defaults getting that value as its
 * default: what withPoolDefaults() computes, in Terraform.
 */
const WITH_POOL_DEFAULTS =
  "${merge(local.base_job_template, { variables = merge(local.base_job_template.variables, { properties = " +
  "{ for name, property in local.base_job_template.variables.properties : name => " +
  'merge(property, { for variable, value in local.pool_defaults : "default" => value if variable == name }) } }) })}';

/** A local named `name` in the output. */
function local(scope: Construct, name: string, value: unknown): TerraformLocal {
  const created = new TerraformLocal(scope, name, value);
  created.overrideLogicalId(name);
  return created;
}

/** `when = destroy` and the command's quotes come out right in HCL too. */
const HclSafeDataResource = hclSafeResource(DataResource);

/** Job variables whose pool-level defaults come from the AWS stack (the guide's "Configure work pool defaults"). */
const SECRET_VARIABLE = {
  PREFECT_API_KEY: "prefect_api_key_secret_arn",
  PREFECT_API_AUTH_STRING: "prefect_api_auth_string_secret_arn",
} as const;

/**
 * The guide's last infrastructure step as part of `terraform apply`: create or
 * update the Prefect ECS work pool through the Prefect REST API, with the
 * whole base job template owned by Terraform and its defaults taken from the
 * AWS stack's outputs. A `terraform_data` resource runs a shipped POSIX sh +
 * curl script; credentials come from the environment of the Terraform run.
 */
export class WorkPoolStack extends SelfContainedStack {
  /** The WorkPoolUpdate body (a Terraform local holding plain JSON). */
  public readonly updateBody: TerraformLocal;
  public readonly workPool: DataResource;
  /** Deletes the pool on destroy; undefined unless workPool.deleteOnDestroy. */
  public readonly deletion?: DataResource;
  public readonly awsState: TerraformRemoteState;

  constructor(scope: Construct, id: string, props: WorkPoolStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.addOverride("terraform.required_version", REQUIRED_TERRAFORM_VERSION);
    configureBackend(this, config.backend, id);

    // The AWS stack's outputs, from wherever that stack keeps its state.
    this.awsState = remoteStateOf(this, "aws_stack", config.backend, props.awsStackName);
    const output = (name: string) => `\${data.terraform_remote_state.aws_stack.outputs.${name}}`;

    const defaults: Record<string, unknown> = {
      cluster: output("cluster_arn"),
      vpc_id: output("vpc_id"),
      execution_role_arn: output("flow_run_execution_role_arn"),
      // Top level: the worker reads only top-level defaults; this is the awsvpcConfiguration body.
      network_configuration: {
        subnets: output("subnet_ids"),
        securityGroups: output("security_group_ids"),
        assignPublicIp: '${data.terraform_remote_state.aws_stack.outputs.assign_public_ip ? "ENABLED" : "DISABLED"}',
      },
    };
    if (config.flowRunTaskRole.enabled) defaults.task_role_arn = output("flow_run_task_role_arn");
    // The worker role may deregister only when the pool turns this on (ecs:DeregisterTaskDefinition).
    if (config.workPool.autoDeregisterTaskDefinitions) defaults.auto_deregister_task_definition = true;
    if (config.flowRunLogs.enabled) {
      // The group exists (the AWS stack made it), so the execution role needs no logs:CreateLogGroup.
      defaults.configure_cloudwatch_logs = true;
      defaults.cloudwatch_logs_options = {
        "awslogs-group": output("flow_run_log_group_name"),
        "awslogs-create-group": "false",
      };
    }
    let template: BaseJobTemplate = config.workPool.baseJobTemplate ?? ecsBaseJobTemplate();
    if (config.secret) {
      // Flow runs read the credential from the secret instead of a plaintext override.
      const variable = SECRET_VARIABLE[config.secret.environmentName];
      template = withSecretVariable(template, variable);
      defaults[variable] = output("secret_arn");
    }

    const pool = config.workPool;
    // The template is a file beside the stack (read, diffed and reviewed as the JSON Prefect gets), and the
    // values from the AWS stack are a small local Terraform sets as its variables' defaults.
    withPoolDefaults(template, defaults); // throws when a default names no job variable of the template
    writeBesideStack(this, BASE_JOB_TEMPLATE_FILE, `${JSON.stringify(template, null, 2)}\n`);
    local(this, "base_job_template", `\${jsondecode(file("\${path.module}/${BASE_JOB_TEMPLATE_FILE}"))}`);
    local(this, "pool_defaults", defaults);
    this.updateBody = local(this, "work_pool_update", {
      description: pool.description ?? null,
      is_paused: pool.paused,
      concurrency_limit: pool.concurrencyLimit ?? null,
      base_job_template: WITH_POOL_DEFAULTS,
    });
    const name = new JsonLocal(this, "work_pool_name", config.workPoolName);
    name.overrideLogicalId("work_pool_name");
    const createBody = `\${jsonencode(merge(local.work_pool_update, { name = local.work_pool_name, type = "ecs" }))}`;

    const script = new StableFileAsset(this, "upsert_script", { path: join(__dirname, "upsert-work-pool.sh") });
    const command = (action: string) => `sh "\${path.module}/${script.path}" ${action}`;
    const target = {
      api_url: output("prefect_api_url"),
      pool_name: "${local.work_pool_name}",
      pool_name_encoded: `\${${encodedPoolName("local.work_pool_name")}}`,
      auth: config.prefect.auth,
      csrf: pool.csrf,
    };
    new TerraformLocal(this, "work_pool_target", target).overrideLogicalId("work_pool_target");
    const environment = (from: string) => ({
      PREFECT_API_URL: `\${${from}.api_url}`,
      WORK_POOL_NAME: `\${${from}.pool_name}`,
      WORK_POOL_NAME_ENCODED: `\${${from}.pool_name_encoded}`,
      PREFECT_AUTH: `\${${from}.auth}`,
      PREFECT_CSRF: `\${${from}.csrf}`,
    });

    this.workPool = new HclSafeDataResource(this, "work_pool", {
      input: target,
      // Runs again when (and only when) what it sends, or where it sends it, changes; with
      // enforceOnEveryApply on every apply, which puts back what was changed in the UI.
      triggersReplace: {
        target,
        body: "${sha256(jsonencode(local.work_pool_update))}",
        // uuid(), not plantimestamp(): two applies within one second must both send the pool.
        ...(pool.enforceOnEveryApply ? { every_apply: "${uuid()}" } : {}),
      },
      provisioners: [
        {
          type: "local-exec",
          command: command("upsert"),
          environment: {
            ...environment("self.input"),
            WORK_POOL_UPDATE_BODY: "${jsonencode(local.work_pool_update)}",
            WORK_POOL_CREATE_BODY: createBody,
          },
        },
      ],
    });
    this.workPool.overrideLogicalId("work_pool");

    if (pool.deleteOnDestroy) {
      // A resource of its own, replaced (which deletes the pool) only when the pool name changes:
      // a new URL, auth mode, CSRF flag or body updates its input in place, so the destroy-time
      // delete later reaches the pool where it is then, and the pool keeps its id and deployments.
      this.deletion = new HclSafeDataResource(this, "work_pool_deletion", {
        input: target,
        triggersReplace: { pool_name: target.pool_name },
        dependsOn: [this.workPool],
        provisioners: [{ type: "local-exec", when: "destroy", command: command("delete"), environment: environment("self.input") }],
      });
      this.deletion.overrideLogicalId("work_pool_deletion");
    }

    new HclOutput(this, "work_pool_name_output", { value: config.workPoolName, description: "The Prefect work pool." }).overrideLogicalId(
      "work_pool_name",
    );
    // A read-only drift check to run by hand or in CI: (cd <stack folder> && terraform output -raw drift_check | sh)
    const shellQuoted = (interpolation: string) => `'\${replace(${interpolation.slice(2, -1)}, "'", "'\\\\''")}'`;
    const checkEnvironment = { ...environment("local.work_pool_target"), WORK_POOL_UPDATE_BODY: "${jsonencode(local.work_pool_update)}" };
    new HclOutput(this, "drift_check", {
      value: [...Object.entries(checkEnvironment).map(([key, value]) => `${key}=${shellQuoted(value)}`), command("check")].join(" "),
      description: "Shell command that compares the pool on the server with the configuration, changing nothing (exit 2 on drift).",
    });
    new HclOutput(this, "pool_defaults_output", {
      value: "${local.pool_defaults}",
      description: `The job variable defaults set from the AWS stack; the rest of the base job template is ${BASE_JOB_TEMPLATE_FILE} beside this stack.`,
    }).overrideLogicalId("pool_defaults");
  }
}

/**
 * Older templates (the server's fallback, the collection registry) lack the
 * secret-ARN variables of prefect-aws 0.7.11: declare the variable and use it
 * in job_configuration, or the server would reject the placeholder.
 */
function withSecretVariable(template: BaseJobTemplate, variable: string): BaseJobTemplate {
  if (template.variables.properties[variable]) return template;
  return {
    ...template,
    job_configuration: { ...template.job_configuration, [variable]: `{{ ${variable} }}` },
    variables: {
      ...template.variables,
      properties: {
        ...template.variables.properties,
        [variable]: {
          anyOf: [{ type: "string" }, { type: "null" }],
          default: null,
          title: variable === SECRET_VARIABLE.PREFECT_API_KEY ? "Prefect API Key Secret ARN" : "Prefect API Auth String Secret ARN",
          description: "ARN of the secret whose value flow-run containers receive as a secret environment variable.",
        },
      },
    },
  };
}
