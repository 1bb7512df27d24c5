import { join } from "node:path";
import { DataResource, IResolvable, TerraformLocal, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { ResolvedConfig } from "../config/resolve";
import { StableFileAsset } from "../constructs/stable-file-asset";
import { writeBesideStack } from "../stacks/stack-files";
import { BaseJobTemplate, withPoolDefaults } from "./base-job-template";
import { ecsBaseJobTemplate } from "./ecs-base-job-template";

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

/** Job variables whose pool-level defaults come from the AWS stack (the guide's "Configure work pool defaults"). */
const SECRET_VARIABLE = {
  PREFECT_API_KEY: "prefect_api_key_secret_arn",
  PREFECT_API_AUTH_STRING: "prefect_api_auth_string_secret_arn",
} as const;

/**
 * The Terraform expression of a pool name as a URL path segment: urlencode() writes a space as +,
 * which Prefect reads as a plus sign in a path, so spaces become %20.
 */
export function encodedPoolName(nameExpression: string): string {
  return `replace(urlencode(${nameExpression}), "+", "%20")`;
}

/**
 * The AWS values the pool's defaults and the API call take: the AWS stack's outputs (read from its
 * state) in the work-pool stack, the resources themselves in the module.
 */
export interface WorkPoolAwsValues {
  readonly prefectApiUrl: string;
  readonly clusterArn: string;
  readonly vpcId: string;
  /** The execution role of flow runs (work pool variable execution_role_arn). */
  readonly executionRoleArn: string;
  readonly subnetIds: string | string[];
  readonly securityGroupIds: string | string[];
  /** awsvpcConfiguration's assignPublicIp, "ENABLED" or "DISABLED": an expression of the boolean setting. */
  readonly assignPublicIp: string;
  /** When flowRunTaskRole.enabled. */
  readonly flowRunTaskRoleArn?: string;
  /** When flowRunLogs.enabled. */
  readonly flowRunLogGroupName?: string;
  /** When the server has auth. */
  readonly secretArn?: string;
}

/** The pool's own settings, each a literal or a Terraform reference (the module passes variables). */
export interface WorkPoolSettings {
  /** A reference may be null: no description. @default config.workPool.description */
  readonly description?: string;
  /** A reference may be null: no limit. @default config.workPool.concurrencyLimit */
  readonly concurrencyLimit?: number;
  /** @default config.workPool.paused */
  readonly paused?: boolean | IResolvable;
}

export interface WorkPoolUpsertProps {
  readonly config: ResolvedConfig;
  /** The pool's name, a literal or a Terraform reference. @default config.workPoolName */
  readonly workPoolName?: string;
  /** @default the configuration's (config.workPool) */
  readonly settings?: WorkPoolSettings;
  readonly aws: WorkPoolAwsValues;
}

/**
 * The guide's last infrastructure step as part of `terraform apply`: create or
 * update the Prefect ECS work pool through the Prefect REST API, with the
 * whole base job template owned by Terraform and its defaults taken from the
 * AWS values. A `terraform_data` resource runs a shipped POSIX sh + curl
 * script; credentials come from the environment of the Terraform run.
 */
export class WorkPoolUpsert extends Construct {
  /** The WorkPoolUpdate body (a Terraform local holding plain JSON). */
  public readonly updateBody: TerraformLocal;
  public readonly workPool: DataResource;
  /** Deletes the pool on destroy; undefined unless workPool.deleteOnDestroy. */
  public readonly deletion?: DataResource;
  /** A read-only drift check, a shell command run from the configuration's folder: exit 2 on drift. */
  public readonly driftCheck: string;

  constructor(scope: Construct, id: string, props: WorkPoolUpsertProps) {
    super(scope, id);
    const { config, aws } = props;
    const defaults: Record<string, unknown> = {
      cluster: aws.clusterArn,
      vpc_id: aws.vpcId,
      execution_role_arn: aws.executionRoleArn,
      // Top level: the worker reads only top-level defaults; this is the awsvpcConfiguration body.
      network_configuration: {
        subnets: aws.subnetIds,
        securityGroups: aws.securityGroupIds,
        assignPublicIp: aws.assignPublicIp,
      },
    };
    if (config.flowRunTaskRole.enabled) defaults.task_role_arn = required(aws.flowRunTaskRoleArn, "flowRunTaskRoleArn");
    // The worker role may deregister only when the pool turns this on (ecs:DeregisterTaskDefinition).
    if (config.workPool.autoDeregisterTaskDefinitions) defaults.auto_deregister_task_definition = true;
    if (config.flowRunLogs.enabled) {
      // The group exists (the AWS side made it), so the execution role needs no logs:CreateLogGroup.
      defaults.configure_cloudwatch_logs = true;
      defaults.cloudwatch_logs_options = {
        "awslogs-group": required(aws.flowRunLogGroupName, "flowRunLogGroupName"),
        "awslogs-create-group": "false",
      };
    }
    let template: BaseJobTemplate = config.workPool.baseJobTemplate ?? ecsBaseJobTemplate();
    if (config.secret) {
      // Flow runs read the credential from the secret instead of a plaintext override.
      const variable = SECRET_VARIABLE[config.secret.environmentName];
      template = withSecretVariable(template, variable);
      defaults[variable] = required(aws.secretArn, "secretArn");
    }
    const pool = config.workPool;
    // The template is a file beside the stack (read, diffed and reviewed as the JSON Prefect gets), and the
    // values from the AWS stack are a small local Terraform sets as its variables' defaults.
    withPoolDefaults(template, defaults); // throws when a default names no job variable of the template
    writeBesideStack(TerraformStack.of(this), BASE_JOB_TEMPLATE_FILE, `${JSON.stringify(template, null, 2)}\n`);
    local(this, "base_job_template", `\${jsondecode(file("\${path.module}/${BASE_JOB_TEMPLATE_FILE}"))}`);
    local(this, "pool_defaults", defaults);
    const settings = props.settings ?? {};
    this.updateBody = local(this, "work_pool_update", {
      description: settings.description ?? pool.description ?? null,
      is_paused: settings.paused ?? pool.paused,
      concurrency_limit: settings.concurrencyLimit ?? pool.concurrencyLimit ?? null,
      base_job_template: WITH_POOL_DEFAULTS,
    });
    const name = new TerraformLocal(this, "work_pool_name", props.workPoolName ?? config.workPoolName);
    name.overrideLogicalId("work_pool_name");
    const createBody = `\${jsonencode(merge(local.work_pool_update, { name = local.work_pool_name, type = "ecs" }))}`;

    // On the stack, so its folder is assets/upsert_script (a nested construct's logical id carries a hash).
    const script = new StableFileAsset(TerraformStack.of(this), "upsert_script", { path: join(__dirname, "upsert-work-pool.sh") });
    const command = (action: string) => `sh "\${path.module}/${script.path}" ${action}`;
    const target = {
      api_url: aws.prefectApiUrl,
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

    this.workPool = new DataResource(this, "work_pool", {
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
      this.deletion = new DataResource(this, "work_pool_deletion", {
        input: target,
        triggersReplace: { pool_name: target.pool_name },
        dependsOn: [this.workPool],
        provisioners: [{ type: "local-exec", when: "destroy", command: command("delete"), environment: environment("self.input") }],
      });
      this.deletion.overrideLogicalId("work_pool_deletion");
    }

    const shellQuoted = (interpolation: string) => `'\${replace(${interpolation.slice(2, -1)}, "'", "'\\\\''")}'`;
    const checkEnvironment = { ...environment("local.work_pool_target"), WORK_POOL_UPDATE_BODY: "${jsonencode(local.work_pool_update)}" };
    this.driftCheck = [...Object.entries(checkEnvironment).map(([key, value]) => `${key}=${shellQuoted(value)}`), command("check")].join(" ");
  }
}

function required<T>(value: T | undefined, name: keyof WorkPoolAwsValues): T {
  if (value === undefined) throw new Error(`WorkPoolUpsert: the configuration needs aws.${name}`);
  return value;
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
