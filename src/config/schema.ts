/**
 * The configuration schema: the single source of truth for the TypeScript
 * types, the synth-time validation and the JSON Schema users get for editor
 * completion (`schema/prefect-ecs-worker.schema.json`, generated from here).
 */
import { z } from "zod";
import {
  AWS_FORMATS,
  AWS_MAX_TAGS_PER_RESOURCE,
  AwsFormatName,
  describeFormat,
  FARGATE_MEMORY_BY_CPU,
  formatRegExp,
  IdFormat,
  isReservedTagKey,
  LOG_RETENTION_DAYS,
  MAX_POOL_NAME_LENGTH,
} from "./aws-formats";

function id(formatName: AwsFormatName) {
  const { minLength, maxLength } = AWS_FORMATS[formatName] as IdFormat;
  const message = `must be ${describeFormat(formatName)}`;
  let schema = z.string();
  // Length first, aborting, so a value gets one message, not one per rule.
  if (minLength !== undefined) schema = schema.min(minLength, { message, abort: true });
  if (maxLength !== undefined) schema = schema.max(maxLength, { message, abort: true });
  return schema.regex(formatRegExp(formatName), { message });
}

/** Tags the stack adds to every resource itself (provider default_tags, see worker-aws-stack.ts). */
export const STACK_TAG_KEYS = ["PrefectWorkPool", "ManagedBy"] as const;
/** User tags allowed: AWS's limit per resource, less the tags the stack adds. */
export const MAX_USER_TAGS = AWS_MAX_TAGS_PER_RESOURCE - STACK_TAG_KEYS.length;
/** The longest work pool description Prefect accepts. */
export const MAX_WORK_POOL_DESCRIPTION = 5000;

/** Prefect work pool names match this. */
const PREFECT_POOL_NAME = /^[^/%&><]+$/;
/**
 * prefect-aws names each flow run's task-definition family `prefect_<pool>_<deployment id>` without
 * cleaning it, and ECS allows only these characters (at most 255) in a family.
 */
const FAMILY_SAFE_POOL_NAME = /^[A-Za-z0-9_-]+$/;
export { MAX_POOL_NAME_LENGTH };

/** A CloudWatch Logs retention period (only AWS's fixed values), 30 days by default. */
function retentionDays() {
  return z
    .number()
    .int()
    .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
      message: `must be one of ${LOG_RETENTION_DAYS.join(", ")}`,
    })
    .default(30);
}

const poolName = z
  .string()
  // Aborting: an empty or blank name gets exactly one message.
  .min(1, { message: "must not be empty", abort: true })
  .refine((name) => name.trim() !== "", { message: "must not be blank (only whitespace)", abort: true })
  .regex(PREFECT_POOL_NAME, { message: "must not contain / % & > or < (Prefect work pool names match ^[^/%&><]+$)", abort: true })
  .regex(FAMILY_SAFE_POOL_NAME, {
    message:
      "must contain only letters A-Z a-z, digits, - and _: prefect-aws names the task-definition family of every " +
      "flow run prefect_<pool>_<deployment id> without cleaning it, and ECS allows nothing else there, so each flow " +
      "run of such a pool would fail at RegisterTaskDefinition (use e.g. data-team for \"Data Team\")",
    abort: true,
  })
  .max(MAX_POOL_NAME_LENGTH, {
    message: `must be at most ${MAX_POOL_NAME_LENGTH} characters: the task-definition family prefect_<pool>_<deployment id> holds at most 255`,
  })
  .refine((name) => !name.toLowerCase().startsWith("prefect"), {
    message: 'must not start with "prefect": Prefect reserves those names and answers 403',
  })
  .describe(
    "Name of the Prefect work pool the worker polls: letters, digits, - and _ (at most " +
      `${MAX_POOL_NAME_LENGTH}), as prefect-aws puts it uncleaned into each flow run's task-definition family. ` +
      "AWS names derive from it (`{pool}-events`, ...; lowercased or shortened where AWS requires), and it is the " +
      "value of the PrefectWorkPool tag.",
  );

const tagKey = id("tagKey").refine((key) => !isReservedTagKey(key), {
  message: 'must not start with "aws:" (in any case): AWS reserves that prefix',
});

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const policyStatement = z
  .strictObject({
    sid: z
      .string()
      .regex(/^[A-Za-z0-9]*$/, { message: "must contain only letters and digits" })
      .optional()
      .describe("Statement ID."),
    effect: z.enum(["Allow", "Deny"]).default("Allow").describe("Whether the statement allows or denies the actions."),
    actions: z
      .array(id("iamAction"))
      .min(1, { message: "must list at least one action" })
      .describe("IAM actions, such as s3:GetObject."),
    resources: z
      .array(id("iamResource"))
      .min(1, { message: 'must list at least one resource ("*" or an ARN)' })
      .describe('ARNs of the resources the actions apply to, or "*".'),
    conditions: z
      .array(
        z.strictObject({
          test: z.string().min(1).describe("Condition operator, e.g. StringEquals."),
          variable: z.string().min(1).describe("Condition key, e.g. aws:ResourceTag/team."),
          values: z.array(z.string()).min(1).describe("Values the condition key is compared with."),
        }),
      )
      .default([])
      .describe("Conditions under which the statement applies; all must match."),
  })
  .describe("An IAM policy statement.");

export const CONFIG_SCHEMA = z
  .strictObject({
    $schema: z.string().optional().describe("Path or URL of this JSON Schema, for editors."),
    workPool: z
      .strictObject({
        name: poolName.default("my-ecs-pool"),
        manage: z
          .boolean()
          .default(true)
          .describe(
            "Synthesize the work-pool stack, which creates or updates the pool through the Prefect API at apply time " +
              "and sets its defaults (cluster, VPC, subnets, roles, secret) from the AWS stack.",
          ),
        description: z.string().max(MAX_WORK_POOL_DESCRIPTION).optional().describe("Description of the work pool, shown in the Prefect UI."),
        concurrencyLimit: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe("Maximum number of concurrent flow runs in the pool. Default: unlimited."),
        paused: z.boolean().default(false).describe("Create or keep the pool paused."),
        baseJobTemplateFile: z
          .string()
          .min(1)
          .optional()
          .describe(
            "Path (relative to the configuration file) of a base job template to use instead of the built-in one, " +
              "e.g. exported with `prefect work-pool get-default-base-job-template --type ecs`. Its variables get the " +
              "pool defaults from the AWS stack.",
          ),
        baseJobTemplate: z
          .record(z.string(), z.unknown())
          .optional()
          .describe("A base job template given inline (instead of baseJobTemplateFile)."),
        extraVariables: z
          .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "must be a variable name (letters, digits, _)" }), z.record(z.string(), z.unknown()))
          .default({})
          .describe(
            "Job variables to add to the base job template (name → JSON Schema), as the guide's \"Customize the base job " +
              "template\" shows, e.g. task_definition: {type: object, default: {}}. Reference them in jobConfiguration.",
          ),
        jobConfiguration: z
          .record(z.string(), z.unknown())
          .default({})
          .describe(
            "Keys to set in the template's job_configuration, e.g. task_definition: \"{{ task_definition }}\". Every " +
              "{{ placeholder }} must be a declared variable.",
          ),
        csrf: z
          .boolean()
          .default(false)
          .describe("The self-hosted server enforces CSRF tokens (PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED)."),
        autoDeregisterTaskDefinitions: z
          .boolean()
          .default(false)
          .describe(
            "Default of the pool's auto_deregister_task_definition: the worker's observer deregisters each flow run's " +
              "task definition when the run stops. Only then does the worker role get ecs:DeregisterTaskDefinition " +
              "(which AWS defines on \"*\" only); deployments that set the variable themselves need it on.",
          ),
        deleteOnDestroy: z
          .boolean()
          .default(false)
          .describe(
            "Delete the work pool from Prefect when the work-pool stack is destroyed (or the pool is renamed); no other " +
              "change deletes it.",
          ),
        enforceOnEveryApply: z
          .boolean()
          .default(false)
          .describe(
            "Send the pool on every apply, putting back what was changed in the Prefect UI (every plan then shows " +
              "terraform_data.work_pool replaced). Default: only when the configuration or the AWS stack's outputs change.",
          ),
      })
      .prefault({})
      .describe("The Prefect work pool."),
    aws: z
      .strictObject({
        region: id("region")
          .default("us-east-1")
          .describe("AWS region; default of the Terraform variable `aws_region`."),
      })
      .prefault({})
      .describe("Where the AWS resources go."),
    prefect: z
      .strictObject({
        server: z
          .enum(["cloud", "self-hosted"])
          .default("cloud")
          .describe("Prefect Cloud, or a self-hosted Prefect server."),
        apiUrl: z
          .string()
          .optional()
          .describe(
            "PREFECT_API_URL of the worker; default of the Terraform variable `prefect_api_url`. " +
              "Cloud: https://api.prefect.cloud/api/accounts/<account-id>/workspaces/<workspace-id>; " +
              "self-hosted: the server's http(s) URL ending in /api. " +
              "Without it the variable has no default and must be set at plan time.",
          ),
        auth: z
          .enum(["api-key", "basic-auth", "none"])
          .optional()
          .describe(
            "How the worker authenticates: api-key (PREFECT_API_KEY, the only choice for Cloud), basic-auth " +
              "(PREFECT_API_AUTH_STRING, self-hosted) or none (self-hosted without auth: no secret at all). " +
              "Default: api-key for cloud, basic-auth for self-hosted.",
          ),
      })
      .prefault({})
      .describe("The Prefect server the worker connects to."),
    secret: z
      .strictObject({
        store: z
          .enum(["secretsmanager", "ssm"])
          .default("secretsmanager")
          .describe("Secrets Manager secret, or SSM Parameter Store SecureString parameter."),
        name: z
          .string()
          .min(1)
          .optional()
          .describe(
            "Name of the secret the stack creates. Default: PrefectECSWorkerAPIKey (Secrets Manager) or " +
              "/prefect/{pool}/api/key (SSM); ...AuthString / .../api/auth-string for basic auth.",
          ),
        existing: z
          .string()
          .min(1)
          .optional()
          .describe(
            "Use a secret that already exists instead of creating one: the full secret ARN (Secrets Manager), " +
              "or the parameter ARN or name (SSM).",
          ),
        valueSource: z
          .enum(["ephemeral-variable", "external"])
          .optional()
          .describe(
            "Where the created secret's value comes from: an ephemeral Terraform variable written through a " +
              "write-only attribute (never stored in state), or set outside Terraform after apply (Secrets Manager " +
              "only). Default: ephemeral-variable.",
          ),
        kmsKeyArn: id("kmsKeyArn")
          .optional()
          .describe("Customer-managed KMS key that encrypts the secret; adds kms:Decrypt on exactly this key."),
        recoveryWindowInDays: z
          .number()
          .int()
          .refine((d) => d === 0 || (d >= 7 && d <= 30), { message: "must be 0 (delete at once) or 7 to 30" })
          .default(30)
          .describe("Days Secrets Manager keeps a deleted secret recoverable."),
      })
      .prefault({})
      .describe("The secret that holds the worker's Prefect credential (guide step 1); never the credential itself."),
    cluster: z
      .strictObject({
        name: id("ecsClusterName").optional().describe("Name of the ECS cluster to create. Default: my-ecs-cluster."),
        existing: z
          .string()
          .min(1)
          .optional()
          .describe("Use an existing ECS cluster, by name or ARN, instead of creating one."),
        containerInsights: z
          .enum(["enabled", "enhanced", "disabled"])
          .default("enabled")
          .describe("CloudWatch Container Insights on the created cluster."),
      })
      .prefault({})
      .describe("The ECS cluster of the worker and its flow runs (the guide's prerequisite)."),
    network: z
      .strictObject({
        vpcId: id("vpcId")
          .optional()
          .describe("VPC of the worker and flow runs. Without it the account's default VPC is looked up."),
        subnetIds: z
          .array(id("subnetId"))
          .min(1, { message: "must list at least one subnet" })
          .optional()
          .describe("Subnets of the worker service (required with vpcId). Default: all subnets of the default VPC."),
        securityGroupIds: z
          .array(id("securityGroupId"))
          .default([])
          .describe(
            "Additional security groups of the worker and flow runs, besides the worker's own group (no ingress, egress " +
              "only on network.egressPorts) that the stack always creates instead of using the VPC's default group.",
          ),
        egressPorts: z
          .array(z.number().int().min(1).max(65535))
          .min(1, { message: "must list at least one port (443 reaches Prefect Cloud, registries and AWS APIs)" })
          .default([443])
          .describe("TCP ports the worker's security group may reach anywhere; add your self-hosted server's port (e.g. 4200)."),
        assignPublicIp: z
          .boolean()
          .default(true)
          .describe("Give the worker task a public IP; needed in subnets without a NAT gateway, such as the default VPC's."),
      })
      .prefault({})
      .describe("Where the worker service runs (the guide uses the default VPC)."),
    worker: z
      .strictObject({
        image: id("imageRepository").default("prefecthq/prefect-aws").describe("Worker image repository, without tag."),
        imageTag: id("imageTag").default("latest").describe("Worker image tag; default of the Terraform variable `worker_image_tag`. Pin it in production."),
        cpu: z
          .number()
          .int()
          .refine((cpu) => cpu in FARGATE_MEMORY_BY_CPU, {
            message: `must be a Fargate CPU size: one of ${Object.keys(FARGATE_MEMORY_BY_CPU).join(", ")}`,
          })
          .default(512)
          .describe("Fargate CPU units of the worker task."),
        memory: z.number().int().default(1024).describe("Fargate memory (MiB) of the worker task; must fit the CPU size."),
        desiredCount: z.number().int().min(0).max(100).default(1).describe("Number of worker tasks."),
        family: id("ecsName").default("prefect-worker-task").describe("Task definition family."),
        containerName: id("ecsName").default("prefect-worker").describe("Worker container name."),
        serviceName: id("ecsName").default("prefect-worker-service").describe("ECS service name."),
        workQueues: z
          .array(z.string().min(1).regex(/^[^/%&><'"\s]+$/, { message: "must not contain / % & > < quotes or spaces" }))
          .default([])
          .describe("Work queues to poll (--work-queue); empty: all queues of the pool."),
        environment: z
          .record(
            z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "must be an environment variable name" }),
            z.string(),
          )
          .default({})
          .describe(
            "Extra plain environment variables of the worker container (never secrets: names that say secret, " +
              "password, token or key are refused; use worker.secrets).",
          ),
        secrets: z
          .record(
            z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "must be an environment variable name" }),
            z.string().min(1),
          )
          .default({})
          .describe(
            "Extra secret environment variables of the worker container, by reference: name → the full ARN of a " +
              "Secrets Manager secret, or an SSM parameter ARN or name. ECS reads them with valueFrom when the task " +
              "starts; the execution role may read exactly these.",
          ),
      })
      .prefault({})
      .describe("The worker's task definition and ECS service (guide steps 18-19)."),
    eventsQueue: z
      .strictObject({
        name: id("sqsQueueName").optional().describe("Events queue name. Default: {pool}-events."),
        deadLetterQueueName: id("sqsQueueName").optional().describe("Dead-letter queue name. Default: {pool}-events-dlq."),
        ruleName: id("eventRuleName").optional().describe("EventBridge rule name. Default: {pool}-task-state-changes."),
      })
      .prefault({})
      .describe("SQS queue, dead-letter queue and EventBridge rule that bring ECS task state changes to the worker (guide steps 12-16)."),
    roles: z
      .strictObject({
        executionRoleName: id("iamRoleName")
          .default("ecsTaskExecutionRole")
          .describe('Task execution role of the worker (with iam.policies "guide": of the worker and flow runs).'),
        flowRunExecutionRoleName: id("iamRoleName")
          .optional()
          .describe(
            "Task execution role of flow runs (the work pool's execution_role_arn): pulls only the flow images, writes " +
              'only the flow-run log group, reads only the secret. Default: PrefectECSRunnerExecutionRole. Not with iam.policies "guide", ' +
              "where flow runs share the worker's execution role as in the guide.",
          ),
        workerTaskRoleName: id("iamRoleName").default("ecsTaskRole").describe("Worker task role (calls ECS, EC2, SQS)."),
        workerPolicyName: id("iamPolicyName").default("ecsTaskPolicy").describe("Managed policy of the worker task role."),
      })
      .prefault({})
      .describe("Names of the worker's IAM roles (guide steps 2-8 and 17)."),
    flowRunTaskRole: z
      .strictObject({
        enabled: z.boolean().default(true).describe("Create the flow-run task role (PrefectECSRunnerTaskRole); its ARN is the output flow_run_task_role_arn, meant for the work pool's task_role_arn."),
        name: id("iamRoleName").default("PrefectECSRunnerTaskRole").describe("Name of the flow-run task role."),
        policyName: id("iamPolicyName")
          .default("PrefectECSRunnerTaskPolicy")
          .describe("Managed policy of the flow-run task role (created when it has permissions)."),
        s3Buckets: z
          .array(id("s3BucketName"))
          .default([])
          .describe("Buckets flow runs may read and write (the guide's S3 example, per bucket)."),
        statements: z.array(policyStatement).default([]).describe("Further IAM statements for flow runs."),
      })
      .prefault({})
      .describe("The optional IAM role flow-run tasks assume (guide steps 9-11)."),
    ecr: z
      .strictObject({
        enabled: z.boolean().default(true).describe("Create an ECR repository for flow images."),
        repositoryName: id("ecrRepositoryName")
          .optional()
          .describe("Name of the repository (the guide's <my-ecr-repo>). Default: {pool}-flows."),
        imageTagMutability: z
          .enum(["MUTABLE", "IMMUTABLE"])
          .default("MUTABLE")
          .describe(
            "MUTABLE because the guide's prefect.yaml pushes the tag `latest` on every deploy; IMMUTABLE satisfies " +
              "Checkov CKV_AWS_51 but then each deploy must push a new tag.",
          ),
        keepImages: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .default(30)
          .describe("Lifecycle policy: keep this many most recent images; untagged images expire after 7 days."),
      })
      .prefault({})
      .describe("ECR repository for flow images (the guide's \"deploy a flow\" section)."),
    iam: z
      .strictObject({
        policies: z
          .enum(["least-privilege", "guide"])
          .default("least-privilege")
          .describe(
            "least-privilege: the worker role allows exactly the calls the Prefect ECS worker makes, on our resources. " +
              "guide: the guide's policies as printed (twelve actions on \"*\", one execution role with AWS's managed policy for the " +
                "worker and flow runs, trust without source conditions), with a synth-time warning.",
          ),
      })
      .prefault({})
      .describe("IAM policy style."),
    flowRunLogs: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            "Flow-run containers log to CloudWatch: the AWS stack pre-creates their log group (no logs:CreateLogGroup " +
              "on \"*\") and the work-pool stack points configure_cloudwatch_logs / cloudwatch_logs_options at it.",
          ),
        groupName: id("logGroupName").optional().describe("Flow-run log group. Default: /ecs/prefect-flow-runs/{pool}."),
        retentionInDays: retentionDays().describe("Days CloudWatch keeps flow-run logs."),
      })
      .prefault({})
      .describe("CloudWatch logs of flow runs."),
    logs: z
      .strictObject({
        groupName: id("logGroupName").optional().describe("Worker log group. Default: /ecs/prefect-worker/{pool}."),
        retentionInDays: retentionDays().describe("Days CloudWatch Logs keeps the worker's log events."),
      })
      .prefault({})
      .describe("CloudWatch log group of the worker container (the guide has none)."),
    backend: z
      .discriminatedUnion("type", [
        z.strictObject({ type: z.literal("local").describe("State in each stack's folder (terraform.tfstate).") }),
        z.strictObject({
          type: z.literal("s3"),
          bucket: id("s3BucketName").describe("Bucket holding every stack's state."),
          keyPrefix: z
            .string()
            .regex(/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/, { message: "must be an S3 key prefix without leading or trailing /" })
            .default("prefect-ecs-worker")
            .describe("State key of a stack: {keyPrefix}/{stack}/terraform.tfstate."),
          region: id("region").optional().describe("Region of the bucket. Default: aws.region."),
          encrypt: z.boolean().default(true).describe("Server-side encryption of the state object."),
          kmsKeyId: id("kmsKeyArn").optional().describe("KMS key for the state object."),
          useLockfile: z.boolean().default(true).describe("S3-native state locking (Terraform 1.10+), no DynamoDB table."),
        }),
        z.strictObject({
          type: z.literal("cloud"),
          organization: z
            .string()
            .regex(/^[A-Za-z0-9_-]{1,40}$/, { message: "must be a Terraform Cloud organization name (letters, digits, - and _)" })
            .describe("HCP Terraform / Terraform Cloud organization."),
          hostname: z
            .string()
            .regex(/^[A-Za-z0-9.-]+(:[0-9]+)?$/, { message: "must be a host name such as app.terraform.io" })
            .default("app.terraform.io")
            .describe("app.terraform.io, or the host of a Terraform Enterprise installation."),
          project: z.string().min(1).optional().describe("Project of the workspaces. Default: the organization's default project."),
          workspacePrefix: z
            .string()
            .regex(/^[A-Za-z0-9_-]*$/, { message: "must contain only letters, digits, - and _" })
            .default("")
            .describe("Workspace of a stack: {workspacePrefix}{stack}, one workspace per stack."),
        }),
      ], { error: 'must be an object whose type is "local", "s3" or "cloud"' })
      .prefault({ type: "local" })
      .describe("Where Terraform keeps the state of each stack."),
    tags: z
      .record(tagKey, id("tagValue"))
      .refine((tags) => Object.keys(tags).length <= MAX_USER_TAGS, {
        error: (issue) =>
          `has ${Object.keys(issue.input as object).length} tags, but at most ${MAX_USER_TAGS} are allowed: AWS allows ` +
          `${AWS_MAX_TAGS_PER_RESOURCE} tags per resource and the stack adds ${STACK_TAG_KEYS.join(" and ")}`,
        // Counted even when a key or value is invalid, so every problem is reported at once.
        when: (payload) => isPlainObject(payload.value),
      })
      .default({})
      .describe(
        `Tags on every resource (provider default_tags). At most ${MAX_USER_TAGS}: AWS allows ` +
          `${AWS_MAX_TAGS_PER_RESOURCE} per resource and the stack adds ${STACK_TAG_KEYS.join(" and ")} itself. ` +
          'Keys must not start with "aws:" (any case).',
      ),
  })
  .describe("Configuration of the Prefect ECS worker stacks.");

/** What a user writes (every field optional). */
export type PrefectEcsWorkerConfigInput = z.input<typeof CONFIG_SCHEMA>;
/** The parsed configuration, static defaults applied. */
export type ParsedConfig = z.output<typeof CONFIG_SCHEMA>;
export type PolicyStatementConfig = z.output<typeof policyStatement>;
