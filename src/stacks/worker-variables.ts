import { TerraformLocal, TerraformVariable } from "cdktf";
import { Construct } from "constructs";
import { AWS_FORMATS, AwsFormatName, describeFormat, FARGATE_MEMORY_BY_CPU, IdFormat, matches } from "../config/aws-formats";
import { nameFromTemplate, POOL_NAME_TEMPLATES, PoolNameTemplate, ssmSecretNameTemplate } from "../config/derived-names";
import { ResolvedConfig } from "../config/resolve";
import { MAX_USER_TAGS, MAX_WORK_POOL_DESCRIPTION } from "../config/schema";
import { DefaultVpcOverrides } from "../constructs/network";
import { WorkerNames, workerNames, WorkerSettings } from "../constructs/prefect-ecs-worker";
import { WorkPoolSettings } from "../work-pool/work-pool-upsert";

/** A name the module takes as a variable (the stacks keep it fixed at synthesis). */
export interface NameVariable {
  /** The Terraform variable, named after the guide's concept. */
  readonly variable: string;
  /** Which of the worker's names it sets. */
  readonly name: keyof WorkerNames;
  /** The configuration field its default comes from. */
  readonly field: string;
  readonly description: string;
  /** The formats it must match, as synthesis checks the configuration's value. */
  readonly formats: (config: ResolvedConfig) => readonly AwsFormatName[];
  /** Further rules synthesis checks, in Terraform. */
  readonly conditions?: readonly { readonly condition: string; readonly errorMessage: string }[];
  /** Name variables it must differ from (where declared), as synthesis's cross-field checks require. */
  readonly distinctFrom?: readonly string[];
  /**
   * Whether every pool of the module uses the same name (a cluster it does not create, a container
   * name): its default is the configuration's value whatever work_pool_name is.
   * @default false: a name of the pool's own resource, derived from work_pool_name (see moduleDefaultName)
   */
  readonly shared?: (config: ResolvedConfig) => boolean;
}

const only = (...formats: AwsFormatName[]) => () => formats;

/**
 * Every name of the module, one variable each. A variable exists when the configuration's shape uses
 * the name (workerNames(config) defines it), with the configuration's value as its default.
 */
export const NAME_VARIABLES: readonly NameVariable[] = [
  {
    variable: "work_pool_name",
    name: "workPool",
    field: "workPool.name",
    description: "Prefect work pool the worker polls and the work-pool step creates or updates; also the PrefectWorkPool tag.",
    // Its characters fit every AWS name and tag it goes into.
    formats: only("workPoolName"),
    shared: () => true,
    conditions: [
      {
        condition: '${!startswith(lower(var.work_pool_name), "prefect")}',
        errorMessage: 'work_pool_name must not start with "prefect" (in any case): Prefect reserves those names.',
      },
    ],
  },
  {
    variable: "cluster_name",
    name: "cluster",
    field: "cluster.name",
    description: "ECS cluster of the worker and flow runs.",
    formats: only("ecsClusterName"),
    shared: (config) => config.cluster.mode === "existing",
  },
  {
    variable: "cluster_arn",
    name: "clusterArn",
    field: "cluster.existing",
    description: "ARN of the existing ECS cluster of the worker and flow runs.",
    formats: only("ecsClusterArn"),
    shared: () => true,
  },
  {
    variable: "secret_name",
    name: "secret",
    field: "secret.name",
    description: "Name of the secret (Secrets Manager) or SecureString parameter (SSM) holding the Prefect credential.",
    formats: (config) => [config.secret?.store === "ssm" ? "ssmParameterName" : "secretsManagerSecretName"],
  },
  { variable: "execution_role_name", name: "executionRole", field: "roles.executionRoleName", description: "IAM task execution role of the worker (of flow runs too with the guide's policies, iam.policies \"guide\").", formats: only("iamRoleName") },
  {
    variable: "flow_run_execution_role_name",
    name: "flowRunExecutionRole",
    field: "roles.flowRunExecutionRoleName",
    description: "IAM task execution role of flow runs.",
    formats: only("iamRoleName"),
    distinctFrom: ["execution_role_name"],
  },
  {
    variable: "worker_task_role_name",
    name: "workerTaskRole",
    field: "roles.workerTaskRoleName",
    description: "IAM task role of the worker container.",
    formats: only("iamRoleName"),
    distinctFrom: ["execution_role_name", "flow_run_execution_role_name"],
  },
  { variable: "worker_policy_name", name: "workerPolicy", field: "roles.workerPolicyName", description: "Managed IAM policy of the worker task role.", formats: only("iamPolicyName") },
  {
    variable: "flow_run_task_role_name",
    name: "flowRunTaskRole",
    field: "flowRunTaskRole.name",
    description: "IAM task role of flow runs.",
    formats: only("iamRoleName"),
    distinctFrom: ["execution_role_name", "flow_run_execution_role_name", "worker_task_role_name"],
  },
  { variable: "flow_run_task_policy_name", name: "flowRunTaskPolicy", field: "flowRunTaskRole.policyName", description: "Managed IAM policy of the flow-run task role.", formats: only("iamPolicyName") },
  { variable: "events_queue_name", name: "eventsQueue", field: "eventsQueue.name", description: "SQS queue of ECS task events, read by the worker's observer.", formats: only("sqsQueueName") },
  {
    variable: "events_dead_letter_queue_name",
    name: "eventsDeadLetterQueue",
    field: "eventsQueue.deadLetterQueueName",
    description: "Dead-letter queue of the events queue.",
    formats: only("sqsQueueName"),
    distinctFrom: ["events_queue_name"],
  },
  { variable: "events_rule_name", name: "eventsRule", field: "eventsQueue.ruleName", description: "EventBridge rule sending the cluster's ECS task state changes to the events queue.", formats: only("eventRuleName") },
  { variable: "worker_log_group_name", name: "workerLogGroup", field: "logs.groupName", description: "CloudWatch log group of the worker.", formats: only("logGroupName") },
  { variable: "flow_run_log_group_name", name: "flowRunLogGroup", field: "flowRunLogs.groupName", description: "CloudWatch log group of flow runs.", formats: only("logGroupName") },
  { variable: "ecr_repository_name", name: "ecrRepository", field: "ecr.repositoryName", description: "ECR repository of flow images.", formats: only("ecrRepositoryName") },
  { variable: "worker_task_family", name: "workerFamily", field: "worker.family", description: "Task definition family of the worker.", formats: only("ecsName") },
  { variable: "worker_container_name", name: "workerContainer", field: "worker.containerName", description: "Container name of the worker.", formats: only("ecsName"), shared: () => true },
  { variable: "worker_service_name", name: "workerService", field: "worker.serviceName", description: "ECS service of the worker.", formats: only("ecsName") },
];

/**
 * How a name variable's default follows work_pool_name, or undefined for a shared name. A name the
 * configuration derives from its pool name (eventsQueue.name is <pool>-events) keeps that rule; a name
 * it fixes (roles.executionRoleName is ecsTaskExecutionRole) gets the pool name appended, as in a
 * configuration of several pools. Either is shortened to AWS's limits as synthesis shortens names.
 */
export function poolNameRule(config: ResolvedConfig, entry: NameVariable): PoolNameRule | undefined {
  const value = workerNames(config)[entry.name];
  if (value === undefined || entry.shared?.(config)) return undefined;
  const own =
    entry.field === "secret.name"
      ? config.secret?.store === "ssm"
        ? ssmSecretNameTemplate(config.secret.environmentName)
        : undefined
      : (POOL_NAME_TEMPLATES as Record<string, PoolNameTemplate>)[entry.field];
  const [format] = entry.formats(config);
  const template = own !== undefined && nameFromTemplate(config.workPoolName, own) === value ? own : { prefix: `${value}-`, suffix: "", format };
  // The shortest name a pool can get is the template around derivedName's 6-character hash.
  return { value, template, fromConfiguration: template === own, alwaysFits: matches(template.format, `${template.prefix}${"0".repeat(6)}${template.suffix}`) };
}

export interface PoolNameRule {
  /** The configuration's name, for its own pool. */
  readonly value: string;
  readonly template: PoolNameTemplate;
  /** The configuration derives the name from its pool name by this template (else it fixes the name). */
  readonly fromConfiguration: boolean;
  /**
   * Every pool name gets a name that fits AWS's format. False for a fixed name too long to take `-<pool>`
   * or a hash (a 60-character role name): a pool whose derived name does not fit must set the variable.
   */
  readonly alwaysFits: boolean;
}

/**
 * The name a module instance for `pool` gives when the name variable is null: the configuration's
 * name for the configuration's own pool, else derived from `pool` (poolNameRule). What the module's
 * `local.default_names` computes in Terraform.
 */
export function moduleDefaultName(config: ResolvedConfig, entry: NameVariable, pool: string): string | undefined {
  const rule = poolNameRule(config, entry);
  if (rule === undefined) return workerNames(config)[entry.name];
  if (pool === config.workPoolName) return rule.value;
  const name = nameFromTemplate(pool, rule.template);
  return matches(rule.template.format, name) ? name : undefined;
}

/**
 * The candidates derivedName tries, in order, as a Terraform expression over var.work_pool_name:
 * the pool name, its slug, then the slug shortened one character at a time with a hash appended.
 */
const POOL_NAME_LOCALS = {
  pool_slug: '${coalesce(trim(replace(lower(var.work_pool_name), "/[^a-z0-9]+/", "-"), "-"), "pool")}',
  pool_hash: "${substr(sha256(var.work_pool_name), 0, 6)}",
  pool_name_forms:
    '${concat([var.work_pool_name, local.pool_slug], [for n in range(length(local.pool_slug) - 1, -1, -1) : join("-", compact([trimsuffix(substr(local.pool_slug, 0, n), "-"), local.pool_hash]))])}',
};

/** Terraform's form of moduleDefaultName for a name variable that is not shared (without the ${ }). */
function defaultNameExpression(configPool: string, rule: PoolNameRule): string {
  const { prefix, suffix, format } = rule.template;
  const candidate = `"${prefix}\${form}${suffix}"`;
  const fitting = `[for form in local.pool_name_forms : ${candidate} if ${formatTest(format, candidate)}][0]`;
  // No form may fit: null, which the variable's validation then reports.
  const derived = rule.alwaysFits ? fitting : `try(${fitting}, null)`;
  if (rule.fromConfiguration) return derived;
  return `var.work_pool_name == ${JSON.stringify(configPool)} ? ${JSON.stringify(rule.value)} : ${derived}`;
}

/** What a null name variable means, for its description. */
function describeDefaultName(configPool: string, { value, template, fromConfiguration }: PoolNameRule): string {
  const rule = `${template.prefix}<work_pool_name>${template.suffix}`;
  return fromConfiguration
    ? `null (the default): ${rule}, shortened to AWS's limits (${value} for ${configPool}).`
    : `null (the default): ${value} for work pool ${configPool}, ${rule} for any other pool, shortened to AWS's limits.`;
}

export interface WorkerVariablesOptions {
  /**
   * "stack": the AWS stack's variables. "module": also a variable for every name (NAME_VARIABLES), `tags`
   * and the values the stacks fix at synthesis (addModuleValueVariables); no `aws_region` (a module's region
   * is its provider's, given as `region`).
   * @default "stack"
   */
  readonly form?: "stack" | "module";
  /** The region, where it is not a variable (form "module"). */
  readonly region?: string;
}

/**
 * The per-environment values of the AWS stack, as Terraform variables with
 * descriptions, types, validation and defaults from the configuration, so
 * the synthesized Terraform is reusable without re-running synth.
 */
export class WorkerVariables extends Construct {
  public readonly settings: WorkerSettings;
  public readonly variables: Readonly<Record<string, TerraformVariable>>;
  /** The `tags` variable (form "module"). */
  public readonly tags?: TerraformVariable;
  /** The work pool's settings as variables (form "module", when workPool.manage). */
  public readonly workPool?: WorkPoolSettings;

  constructor(scope: Construct, id: string, config: ResolvedConfig, options: WorkerVariablesOptions = {}) {
    super(scope, id);
    const vars: Record<string, TerraformVariable> = {};
    const add: AddVariable = (name, options) => {
      const variable = new TerraformVariable(this, name, options);
      variable.overrideLogicalId(name);
      vars[name] = variable;
      return variable;
    };

    const module = options.form === "module";
    const region = module
      ? undefined
      : add("aws_region", {
          type: "string",
          description: "AWS region of every resource.",
          default: config.region,
          validation: [matchesFormat("aws_region", "region")],
        });
    let names: Record<string, string> = {};
    let values: ModuleValues = {};
    if (module) {
      names = addNameVariables(this, add, config);
      this.tags = addTagsVariable(add, config);
      values = addModuleValueVariables(add, config);
      this.workPool = values.workPool;
    }
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
      validation: [wholeNumber("worker_desired_count")],
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

    const { secretValue, secretValueVersion } = addSecretValueVariables(add, config.secret);

    this.variables = vars;
    this.settings = {
      region: region?.stringValue ?? options.region,
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
      ...values.worker,
      ...(module ? { names } : {}),
    };
  }
}

/**
 * The module's name variables (NAME_VARIABLES, those the configuration's shape uses) and, for the names of
 * the pool's own resources, the locals that give them their defaults; returns each name as the module uses it.
 */
function addNameVariables(scope: Construct, add: AddVariable, config: ResolvedConfig): Record<string, string> {
  const names: Record<string, string> = {};
  const declaredSoFar = new Set<string>();
  const defaults = workerNames(config);
  const declared = NAME_VARIABLES.filter(({ name }) => defaults[name] !== undefined);
  /** Each declared variable's rule; undefined for a shared name. */
  const rules = new Map(declared.map((entry) => [entry.variable, poolNameRule(config, entry)]));
  const perPool = [...rules].flatMap(([variable, rule]) => (rule ? [{ variable, rule }] : []));
  /** A name as the module uses it: the variable, or its default where it is null. */
  const effective = (variable: string) => {
    const rule = rules.get(variable);
    if (rule === undefined) return `var.${variable}`;
    const name = `coalesce(var.${variable}, local.default_names.${variable})`;
    // A name that may have no default for the pool (PoolNameRule.alwaysFits) is reported by its own validation.
    return rule.alwaysFits ? name : `try(${name}, null)`;
  };
  for (const entry of declared) {
    const { variable, name, description, formats, conditions = [], distinctFrom = [] } = entry;
    const rule = rules.get(variable);
    // Variables come in the table's order, so the ones to differ from are declared already (Terraform 1.9+ may refer to them).
    const others = distinctFrom.filter((other) => declaredSoFar.has(other));
    declaredSoFar.add(variable);
    const variableToken = add(variable, {
      type: "string",
      description: rule === undefined ? description : `${description} ${describeDefaultName(config.workPoolName, rule)}`,
      ...(rule === undefined
        ? // Null (a caller passing an optional value through) means the default.
          { default: defaults[name], nullable: false }
        : {}),
      validation: [
        ...formats(config).map((format) => matchesFormat(variable, format, { nullable: rule !== undefined })),
        ...conditions,
        ...others.map((other) => ({
          condition: `\${${effective(variable)} != ${effective(other)}}`,
          errorMessage: `${variable} must differ from ${other}.`,
        })),
        ...(rule?.alwaysFits === false
          ? [
              {
                condition: `\${var.${variable} != null || local.default_names.${variable} != null}`,
                errorMessage:
                  `${variable} must be set for this work pool: ${rule.value} with -<work_pool_name> (or a 6-character hash) ` +
                  `appended is longer than allowed (${describeFormat(rule.template.format)}).`,
              },
            ]
          : []),
      ],
    });
    // cdktf cannot write `default = null`; an override can.
    if (rule !== undefined) variableToken.addOverride("default", null);
    names[name] = rule === undefined ? variableToken.stringValue : `\${local.names.${variable}}`;
  }
  if (perPool.length > 0) {
    for (const [id, expression] of Object.entries(POOL_NAME_LOCALS)) new TerraformLocal(scope, id, expression).overrideLogicalId(id);
    const defaultNames = new TerraformLocal(
      scope,
      "default_names",
      Object.fromEntries(perPool.map(({ variable, rule }) => [variable, `\${${defaultNameExpression(config.workPoolName, rule)}}`])),
    );
    defaultNames.overrideLogicalId("default_names");
    const effectiveNames = new TerraformLocal(
      scope,
      "names",
      // Without try(): a name that has no value stops the plan here too, rather than reach AWS as null (a random name).
      Object.fromEntries(perPool.map(({ variable }) => [variable, `\${coalesce(var.${variable}, local.default_names.${variable})}`])),
    );
    effectiveNames.overrideLogicalId("names");
  }
  return names;
}

/** The module's `tags` (it cannot set its provider's default_tags). */
function addTagsVariable(add: AddVariable, config: ResolvedConfig): TerraformVariable {
  return add("tags", {
    type: "map(string)",
    description: `Tags of every resource that takes tags, besides PrefectWorkPool and ManagedBy, which the module sets. At most ${MAX_USER_TAGS}.`,
    default: { ...config.tags },
    nullable: false,
    validation: [
      matchesFormat("tags", "tagKey", { map: "keys", allowEmpty: true }),
      matchesFormat("tags", "tagValue", { map: "values", allowEmpty: true }),
      {
        condition: `\${alltrue([for key in keys(var.tags) : !startswith(lower(key), "aws:")]) && length(var.tags) <= ${MAX_USER_TAGS}}`,
        errorMessage: `tags must have at most ${MAX_USER_TAGS} keys, none starting with aws: (in any case).`,
      },
    ],
  });
}

/** The ephemeral variable that writes the credential into a secret the stack creates, and its version. */
function addSecretValueVariables(add: AddVariable, secret: ResolvedConfig["secret"]): { secretValue?: string; secretValueVersion?: number } {
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
    return { secretValue: value.stringValue, secretValueVersion: version.numberValue };
  }
  return {};
}

type AddVariable = (name: string, options: ConstructorParameters<typeof TerraformVariable>[2]) => TerraformVariable;

interface ModuleValues {
  readonly worker?: Pick<WorkerSettings, "existingSecret" | "secretKmsKeyArn" | "flowRunS3Buckets">;
  readonly workPool?: WorkPoolSettings;
}

/**
 * Form "module": variables for the values the stacks fix at synthesis besides the names: the existing
 * secret, its KMS key, the flow runs' buckets and the pool's own settings. Each exists where the
 * configuration's shape uses it; the shape (a key or none, buckets or none) stays the configuration's,
 * because it decides which IAM statements exist.
 */
function addModuleValueVariables(add: AddVariable, config: ResolvedConfig): ModuleValues {
  const { secret, flowRunTaskRole, workPool } = config;
  let existingSecret: string | undefined;
  if (secret?.mode === "existing") {
    const [variable, format, description]: [string, AwsFormatName, string] =
      secret.existingParameterName !== undefined
        ? ["existing_secret_parameter_name", "ssmParameterName", "Name of the existing SecureString parameter (SSM) holding the Prefect credential."]
        : secret.store === "ssm"
          ? ["existing_secret_parameter_arn", "ssmParameterArn", "ARN of the existing SecureString parameter (SSM) holding the Prefect credential."]
          : ["existing_secret_arn", "secretsManagerSecretArn", "Full ARN of the existing Secrets Manager secret holding the Prefect credential."];
    existingSecret = add(variable, {
      type: "string",
      description,
      default: secret.existingArn ?? secret.existingParameterName,
      nullable: false,
      validation: [matchesFormat(variable, format)],
    }).stringValue;
  }
  const secretKmsKeyArn = secret?.kmsKeyArn
    ? add("secret_kms_key_arn", {
        type: "string",
        description:
          "Customer-managed KMS key of the secret; the execution roles may kms:Decrypt with it, only for the secret. " +
          "Synthesize without secret.kmsKeyArn for the AWS-managed key.",
        default: secret.kmsKeyArn,
        nullable: false,
        validation: [matchesFormat("secret_kms_key_arn", "kmsKeyArn")],
      }).stringValue
    : undefined;
  const flowRunS3Buckets =
    flowRunTaskRole.enabled && flowRunTaskRole.s3Buckets.length > 0
      ? add("flow_run_s3_bucket_names", {
          type: "list(string)",
          description: "S3 buckets flow runs may read and write (the flow-run task role's policy). Synthesize without flowRunTaskRole.s3Buckets for none.",
          default: [...flowRunTaskRole.s3Buckets],
          nullable: false,
          validation: [matchesFormat("flow_run_s3_bucket_names", "s3BucketName", { list: true })],
        }).listValue
      : undefined;
  let pool: WorkPoolSettings | undefined;
  if (workPool.manage) {
    const description = add("work_pool_description", {
      type: "string",
      description: "Description of the work pool, shown in the Prefect UI. null: none.",
      default: workPool.description,
      validation: [
        {
          condition: `\${var.work_pool_description == null ? true : length(var.work_pool_description) <= ${MAX_WORK_POOL_DESCRIPTION}}`,
          errorMessage: `work_pool_description must be at most ${MAX_WORK_POOL_DESCRIPTION} characters (or null).`,
        },
      ],
    });
    const concurrencyLimit = add("work_pool_concurrency_limit", {
      type: "number",
      description: "Maximum number of concurrent flow runs in the work pool. null: no limit.",
      default: workPool.concurrencyLimit,
      validation: [wholeNumber("work_pool_concurrency_limit", { nullable: true })],
    });
    const paused = add("work_pool_paused", {
      type: "bool",
      description: "Create or keep the work pool paused.",
      default: workPool.paused,
      nullable: false,
    });
    // cdktf cannot write `default = null`; an override can.
    if (workPool.description === undefined) description.addOverride("default", null);
    if (workPool.concurrencyLimit === undefined) concurrencyLimit.addOverride("default", null);
    pool = { description: description.stringValue, concurrencyLimit: concurrencyLimit.numberValue, paused: paused.booleanValue };
  }
  return { worker: { existingSecret, secretKmsKeyArn, flowRunS3Buckets }, workPool: pool };
}

const DEFAULT_VPC_OVERRIDES: DefaultVpcOverrides = {
  vpcIdVariable: "vpc_id",
  subnetIdsVariable: "subnet_ids",
};

export function secretVariableName(environmentName: string): string {
  return environmentName.toLowerCase();
}

/** A Terraform test (without the ${ }) that `value`, an expression, fits an AWS format. */
function formatTest(formatName: AwsFormatName, value: string): string {
  const { pattern, minLength, maxLength } = AWS_FORMATS[formatName] as IdFormat;
  // RE2 has no lookahead: the length bounds a pattern cannot say are checked apart, as synthesis does.
  const lengths = [minLength !== undefined ? `length(${value}) >= ${minLength}` : "", maxLength !== undefined ? `length(${value}) <= ${maxLength}` : ""];
  return [...lengths.filter(Boolean), `can(regex(${JSON.stringify(pattern)}, ${value}))`].join(" && ");
}

/** A whole number, 0 or more (or null, where the variable is nullable). */
function wholeNumber(variable: string, options: { nullable?: boolean } = {}): { condition: string; errorMessage: string } {
  const test = `var.${variable} >= 0 && floor(var.${variable}) == var.${variable}`;
  return {
    condition: `\${${options.nullable ? `var.${variable} == null ? true : ${test}` : test}}`,
    errorMessage: `${variable} must be a whole number, 0 or more${options.nullable ? " (or null)" : ""}.`,
  };
}

function matchesFormat(
  variable: string,
  formatName: AwsFormatName,
  options: { nullable?: boolean; list?: boolean; map?: "keys" | "values"; allowEmpty?: boolean } = {},
): { condition: string; errorMessage: string } {
  const allowed = describeFormat(formatName);
  const each = options.map ? `${options.map}(var.${variable})` : options.list ? `var.${variable}` : undefined;
  const test = each
    ? `${options.allowEmpty ? "" : `length(var.${variable}) > 0 && `}alltrue([for value in ${each} : ${formatTest(formatName, "value")}])`
    : formatTest(formatName, `var.${variable}`);
  // Conditionals are lazy in Terraform, so a null never reaches regex().
  const condition = options.nullable ? `var.${variable} == null ? true : ${test}` : test;
  return {
    condition: `\${${condition}}`,
    errorMessage: `${variable} must be ${
      options.map ? `a map whose ${options.map} are each ` : options.list ? `a${options.allowEmpty ? "" : " non-empty"} list of ` : ""
    }${allowed}${options.nullable ? " (or null)" : ""}.`,
  };
}
