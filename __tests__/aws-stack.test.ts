/**
 * Specification of the synthesized AWS stack: every resource and setting of
 * Prefect's guide "How to manually deploy an ECS worker to an ECS cluster"
 * (shared/spec/guide-inventory.md), with the guide's defects fixed, for each
 * configuration choice. Assertions are structural: they read the parsed
 * cdk.tf.json, the policy-document data sources the policies point at, and
 * the `jsonencode(...)` expressions (container definitions, event pattern,
 * redrive policy) through parseJsonencode.
 */
import { GUIDE_WORKER_ACTIONS, GUIDE_WORKER_SQS_ACTIONS } from "./support/guide-policies";
import { isAbsolute } from "node:path";
import { parseDocument } from "yaml";
import { PrefectEcsWorkerConfigInput } from "../src/config/schema";
import { parseJsonencode } from "./support/hcl-expression";
import {
  CLOUD_API_URL,
  dataAddresses,
  dataOf,
  resourceAddresses,
  resourceOf,
  synthesize,
  TerraformJson,
} from "./support/synth";

// ---------------------------------------------------------------- fixtures

const KMS_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const EXISTING_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:PrefectECSWorkerAPIKey-AbCdEf";
const EXISTING_CLUSTER_ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/shared-cluster";
const SELF_HOSTED_URL = "http://prefect.internal:4200/api";
const EXPLICIT_NETWORK = {
  vpcId: "vpc-0a1b2c3d4e5f60718",
  subnetIds: ["subnet-0a1b2c3d4e5f60718", "subnet-1a1b2c3d4e5f60718"],
  securityGroupIds: ["sg-0a1b2c3d4e5f60718"],
};
/** Stands in for `aws_ecr_repository.flow_images.repository_url` once Terraform has applied. */
const EXAMPLE_ECR_URL = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-ecs-pool-flows";
/** The guide's runner-task-policy.json (inventory §2.6), per bucket. */
const GUIDE_S3_BUCKET_ACTIONS = ["s3:ListBucket", "s3:GetBucketLocation"];
const GUIDE_S3_OBJECT_ACTIONS = ["s3:PutObject", "s3:PutObjectAcl", "s3:GetObject", "s3:GetObjectAcl", "s3:DeleteObject"];
/** The same without s3:PutObjectAcl: flow runs never set object ACLs (buckets own their objects by default). */
const S3_OBJECT_ACTIONS = GUIDE_S3_OBJECT_ACTIONS.filter((action) => action !== "s3:PutObjectAcl");
const MANAGED_EXECUTION_POLICY = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
const STACK_OUTPUTS = [
  "cluster_arn",
  "vpc_id",
  "subnet_ids",
  "security_group_ids",
  "execution_role_arn",
  "flow_run_execution_role_arn",
  "worker_task_role_arn",
  "flow_run_task_role_arn",
  "events_queue_name",
  "events_queue_url",
  "events_queue_arn",
  "secret_arn",
  "ecr_repository_url",
  "log_group_name",
  "prefect_yaml",
];

// ---------------------------------------------------------------- helpers

/** Synthesizes `config` once for the enclosing describe; the getter returns the parsed cdk.tf.json. */
function synthesizedOnce(config: PrefectEcsWorkerConfigInput): () => TerraformJson {
  let json: TerraformJson | undefined;
  beforeAll(() => {
    json = synthesize(config).json;
  });
  return () => {
    if (!json) throw new Error("the stack was not synthesized (beforeAll failed)");
    return json;
  };
}

/** A Terraform reference as it appears in the JSON, e.g. `${aws_sqs_queue.events_queue.arn}`. */
function ref(address: string, attribute: string): string {
  return `\${${address}.${attribute}}`;
}

/** A resource body without cdktf's "//" metadata. */
function bodyOf(json: TerraformJson, type: string, name: string): Record<string, unknown> {
  const { "//": _metadata, ...body } = resourceOf(json, type, name);
  return body;
}

function dataBodyOf(json: TerraformJson, type: string, name: string): Record<string, unknown> {
  const { "//": _metadata, ...body } = dataOf(json, type, name);
  return body;
}

function resourcesOfType(json: TerraformJson, type: string): Record<string, Record<string, unknown>> {
  return json.resource[type] ?? {};
}

function dataOfType(json: TerraformJson, type: string): Record<string, Record<string, unknown>> {
  return json.data?.[type] ?? {};
}

interface PolicyStatement {
  sid?: string;
  effect?: string;
  actions?: string[];
  resources?: string[];
  principals?: { type: string; identifiers: string[] }[];
  condition?: { test: string; variable: string; values: string[] }[];
}

/** The statements of the `aws_iam_policy_document` a `policy`/`assume_role_policy` attribute points at. */
function statementsOf(json: TerraformJson, policyAttribute: unknown): PolicyStatement[] {
  const match = /^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}$/.exec(String(policyAttribute));
  if (!match) throw new Error(`not a reference to an aws_iam_policy_document: ${String(policyAttribute)}`);
  return dataOf(json, "aws_iam_policy_document", match[1]).statement as PolicyStatement[];
}

/** Statements without their Sid (an identifier, not a permission), for exact comparison. */
function permissionsOf(statements: PolicyStatement[]): Omit<PolicyStatement, "sid">[] {
  return statements.map(({ sid: _sid, ...rest }) => rest);
}

function allActions(statements: PolicyStatement[]): string[] {
  return statements.flatMap((s) => s.actions ?? []);
}

interface ContainerDefinition {
  name: string;
  image: string;
  cpu: unknown;
  memory: unknown;
  essential: boolean;
  command: string[];
  environment: { name: string; value: string }[];
  secrets: Record<string, string>[];
  logConfiguration: { logDriver: string; options: Record<string, string> };
}

/**
 * The worker task definition's container definitions: `jsonencode([...])` of
 * references to locals, each local holding a container as plain JSON.
 */
function containersOf(json: TerraformJson): ContainerDefinition[] {
  const references = parseJsonencode(resourceOf(json, "aws_ecs_task_definition", "worker").container_definitions) as string[];
  return references.map((reference) => {
    const name = /^\$\{local\.([A-Za-z0-9_-]+)\}$/.exec(reference)?.[1];
    if (!name || !json.locals?.[name]) throw new Error(`container definition is not a local: ${reference}`);
    return json.locals[name] as ContainerDefinition;
  });
}

function workerContainer(json: TerraformJson): ContainerDefinition {
  const containers = containersOf(json);
  expect(containers).toHaveLength(1);
  return containers[0];
}

function environmentOf(container: ContainerDefinition): Record<string, string> {
  return Object.fromEntries(container.environment.map((e) => [e.name, e.value]));
}

/** Every place in `value` where an object has key `key`, as dotted paths. */
function pathsWithKey(value: unknown, key: string, path = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => pathsWithKey(item, key, `${path}[${i}]`));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, child]) => [
      ...(k === key ? [`${path}.${k}`] : []),
      ...pathsWithKey(child, key, `${path}.${k}`),
    ]);
  }
  return [];
}

/** Every string value in `value`, recursively. */
function stringsIn(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === "object") return Object.values(value).flatMap(stringsIn);
  return [];
}

/** The regex pattern inside a variable validation condition `can(regex("<pattern>", ...))`. */
function validationPattern(json: TerraformJson, variable: string): RegExp {
  const validation = json.variable[variable].validation as { condition: string }[];
  const match = /regex\(("(?:[^"\\]|\\.)*")/.exec(validation[0].condition);
  if (!match) throw new Error(`no regex in the validation of ${variable}: ${validation[0].condition}`);
  return new RegExp(JSON.parse(match[1]) as string);
}

function outputValue(json: TerraformJson, name: string): unknown {
  const output = json.output[name];
  if (!output) throw new Error(`no output ${name}; have: ${Object.keys(json.output).join(", ")}`);
  return output.value;
}

/** The prefect_yaml output with the ECR URL reference replaced, as Terraform would render it. */
function renderedPrefectYaml(json: TerraformJson): string {
  const template = outputValue(json, "prefect_yaml") as string;
  const reference = ref("aws_ecr_repository.flow_images", "repository_url");
  expect(template.split(reference)).toHaveLength(2); // exactly one reference
  const rendered = template.replace(reference, EXAMPLE_ECR_URL);
  expect(rendered).not.toMatch(/[$%]\{/); // nothing else for Terraform to interpolate
  return rendered;
}

function parseYamlStrictly(text: string): Record<string, unknown> {
  const document = parseDocument(text, { uniqueKeys: true });
  expect(document.errors.map((e) => e.message)).toEqual([]);
  expect(document.warnings.map((w) => w.message)).toEqual([]);
  return document.toJS() as Record<string, unknown>;
}

interface PrefectYaml {
  name: string;
  build: Record<string, Record<string, unknown>>[];
  push: Record<string, Record<string, unknown>>[];
  pull: Record<string, Record<string, unknown>>[];
  deployments: {
    name: string;
    entrypoint: string;
    work_pool: { name: string; work_queue_name: unknown; job_variables: Record<string, unknown> };
  }[];
}

/** Every aws_iam_policy is attached to a role (the guide's unattached ecsTaskExecutionPolicy is a defect). */
function expectEveryManagedPolicyAttached(json: TerraformJson): void {
  const attachedArns = Object.values(resourcesOfType(json, "aws_iam_role_policy_attachment")).map((a) => a.policy_arn);
  for (const name of Object.keys(resourcesOfType(json, "aws_iam_policy"))) {
    expect(attachedArns).toContain(ref(`aws_iam_policy.${name}`, "arn"));
  }
}

/** The execution role's inline secret policy statements. */
function secretPolicyStatements(json: TerraformJson, role = "execution_role"): PolicyStatement[] {
  const policy = resourceOf(json, "aws_iam_role_policy", `${role}_secret_policy`);
  expect(policy.role).toBe(ref(`aws_iam_role.${role}`, "name"));
  expect(policy.name).toBe("PrefectECSWorkerSecretPolicy");
  return statementsOf(json, policy.policy);
}

/** The scoped image-and-log policy of an execution role (what replaces AWS's managed policy). */
function executionPolicyStatements(json: TerraformJson, role: string): PolicyStatement[] {
  const policy = resourceOf(json, "aws_iam_role_policy", `${role}_policy`);
  expect(policy.role).toBe(ref(`aws_iam_role.${role}`, "name"));
  expect(policy.name).toBe("PrefectECSTaskExecutionPolicy");
  return statementsOf(json, policy.policy);
}

/** The kms:Decrypt statement a customer key adds: the key, only through the store's service, only for our secret. */
function decryptThrough(service: "secretsmanager" | "ssm", secretArn: string): Omit<PolicyStatement, "sid"> {
  return {
    effect: "Allow",
    actions: ["kms:Decrypt"],
    resources: [KMS_KEY_ARN],
    condition: [
      { test: "StringEquals", variable: "kms:ViaService", values: [`${service}.\${var.aws_region}.amazonaws.com`] },
      {
        test: "StringEquals",
        variable: `kms:EncryptionContext:${service === "ssm" ? "PARAMETER_ARN" : "SecretARN"}`,
        values: [secretArn],
      },
    ],
  };
}

/** The guide's trust-policy.json. */
const GUIDE_ECS_TASKS_TRUST = [
  {
    effect: "Allow",
    actions: ["sts:AssumeRole"],
    principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }],
  },
];
/** The same, for tasks of our cluster's account and region only (confused deputy); the parts come from the cluster ARN (local.cluster). */
const clusterPart = (part: "partition" | "region" | "account_id" | "name") => `\${local.cluster.${part}}`;
/** ECS ARNs start so in the cluster's partition, region and account. */
const ECS_ARN = `arn:${clusterPart("partition")}:ecs:${clusterPart("region")}:${clusterPart("account_id")}`;
const ECS_TASKS_TRUST = [
  {
    ...GUIDE_ECS_TASKS_TRUST[0],
    condition: [
      { test: "StringEquals", variable: "aws:SourceAccount", values: [clusterPart("account_id")] },
      { test: "ArnLike", variable: "aws:SourceArn", values: [`${ECS_ARN}:*`] },
    ],
  },
];

// ================================================================= defaults

describe("GIVEN no configuration (the guide's own names) WHEN the AWS stack is synthesized", () => {
  const json = synthesizedOnce({});

  describe("cluster (guide prerequisite)", () => {
    it("THEN it creates ECS cluster my-ecs-cluster with Container Insights enabled", () => {
      expect(bodyOf(json(), "aws_ecs_cluster", "cluster")).toMatchObject({
        name: "my-ecs-cluster",
        setting: [{ name: "containerInsights", value: "enabled" }],
      });
      expect(dataOfType(json(), "aws_ecs_cluster")).toEqual({});
    });
  });

  describe("secret (guide step 1)", () => {
    it("THEN it creates Secrets Manager secret PrefectECSWorkerAPIKey", () => {
      expect(Object.keys(resourcesOfType(json(), "aws_secretsmanager_secret"))).toEqual(["prefect_api_secret"]);
      expect(bodyOf(json(), "aws_secretsmanager_secret", "prefect_api_secret")).toMatchObject({ name: "PrefectECSWorkerAPIKey" });
      expect(resourcesOfType(json(), "aws_ssm_parameter")).toEqual({});
    });

    it("THEN its value is written once through secret_string_wo from the ephemeral var.prefect_api_key, versioned by var.prefect_api_key_version", () => {
      expect(bodyOf(json(), "aws_secretsmanager_secret_version", "prefect_api_secret_value")).toEqual({
        secret_id: ref("aws_secretsmanager_secret.prefect_api_secret", "id"),
        secret_string_wo: "${var.prefect_api_key}",
        secret_string_wo_version: "${var.prefect_api_key_version}",
      });
    });

    it("THEN no plain secret_string (which Terraform would store in state) appears anywhere", () => {
      expect(pathsWithKey(json(), "secret_string")).toEqual([]);
      expect(pathsWithKey(json(), "secret_binary")).toEqual([]);
      expect(dataOfType(json(), "aws_secretsmanager_secret_version")).toEqual({});
    });

    it("THEN no customer KMS key is set on the secret", () => {
      expect(bodyOf(json(), "aws_secretsmanager_secret", "prefect_api_secret")).not.toHaveProperty("kms_key_id");
    });
  });

  describe("IAM roles (guide steps 2-11)", () => {
    it.each([
      ["execution_role", "ecsTaskExecutionRole"],
      ["flow_run_execution_role", "PrefectECSRunnerExecutionRole"],
      ["worker_task_role", "ecsTaskRole"],
      ["flow_run_task_role", "PrefectECSRunnerTaskRole"],
    ])("THEN role %s is named %s and trusts only ecs-tasks.amazonaws.com with sts:AssumeRole, for tasks of our account and region", (address, name) => {
      const role = resourceOf(json(), "aws_iam_role", address);
      expect(role.name).toBe(name);
      expect(permissionsOf(statementsOf(json(), role.assume_role_policy))).toEqual(ECS_TASKS_TRUST);
    });

    it("THEN the guide's three roles exist, plus a separate execution role for flow runs", () => {
      expect(Object.keys(resourcesOfType(json(), "aws_iam_role")).sort()).toEqual(
        ["execution_role", "flow_run_execution_role", "flow_run_task_role", "worker_task_role"].sort(),
      );
      expect(resourceOf(json(), "aws_iam_role", "flow_run_execution_role").name).toBe("PrefectECSRunnerExecutionRole");
    });

    it("THEN no AWS managed policy is attached: AmazonECSTaskExecutionRolePolicy would allow pulls from every repository and writes to every log group", () => {
      const attached = Object.values(resourcesOfType(json(), "aws_iam_role_policy_attachment")).map((a) => a.policy_arn);
      expect(attached).not.toContain(MANAGED_EXECUTION_POLICY);
    });

    it("THEN the worker's execution role may write only the worker's log streams and pulls nothing from ECR (its image is on Docker Hub)", () => {
      expect(permissionsOf(executionPolicyStatements(json(), "execution_role"))).toEqual([
        {
          effect: "Allow",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [`${ref("aws_cloudwatch_log_group.worker", "arn")}:log-stream:*`],
        },
      ]);
    });

    it("THEN the flow runs' execution role may pull only from the flow-image repository and write only the flow-run log streams", () => {
      expect(permissionsOf(executionPolicyStatements(json(), "flow_run_execution_role"))).toEqual([
        { effect: "Allow", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
        {
          effect: "Allow",
          actions: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
          resources: [ref("aws_ecr_repository.flow_images", "arn")],
        },
        {
          effect: "Allow",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [`${ref("aws_cloudwatch_log_group.flow_runs", "arn")}:log-stream:*`],
        },
      ]);
    });

    it("THEN the flow runs' execution role reads the same secret, and nothing else", () => {
      expect(permissionsOf(secretPolicyStatements(json(), "flow_run_execution_role"))).toEqual(
        permissionsOf(secretPolicyStatements(json())),
      );
    });

    it("THEN the execution role's inline PrefectECSWorkerSecretPolicy allows only secretsmanager:GetSecretValue on exactly the secret's full ARN", () => {
      expect(permissionsOf(secretPolicyStatements(json()))).toEqual([
        {
          effect: "Allow",
          actions: ["secretsmanager:GetSecretValue"],
          resources: [ref("aws_secretsmanager_secret.prefect_api_secret", "arn")],
        },
      ]);
    });

    it("THEN no kms:Decrypt is granted without a customer key", () => {
      expect(allActions(secretPolicyStatements(json()))).not.toContain("kms:Decrypt");
    });

    it("THEN there is no unattached managed policy: the guide's ecsTaskExecutionPolicy is not created, and every aws_iam_policy has an attachment", () => {
      const names = Object.values(resourcesOfType(json(), "aws_iam_policy")).map((p) => p.name);
      expect(names).not.toContain("ecsTaskExecutionPolicy");
      expectEveryManagedPolicyAttached(json());
    });

    it("THEN the worker task role's managed policy ecsTaskPolicy scopes every restrictable action to our resources", () => {
      const policy = resourceOf(json(), "aws_iam_policy", "worker_task_policy");
      expect(policy.name).toBe("ecsTaskPolicy");
      const cluster = ref("aws_ecs_cluster.cluster", "arn");
      const tasks = `${ECS_ARN}:task/${clusterPart("name")}/*`;
      const ourFamilies = `${ECS_ARN}:task-definition/prefect_my-ecs-pool_????????-????-????-????-????????????:*`;
      const inCluster = { test: "ArnEquals", variable: "ecs:cluster", values: [cluster] };
      expect(permissionsOf(statementsOf(json(), policy.policy))).toEqual([
        {
          effect: "Allow",
          actions: [
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
            "ecs:DescribeTaskDefinition",
          ],
          resources: ["*"],
        },
        { effect: "Allow", actions: ["ecs:RegisterTaskDefinition"], resources: [ourFamilies] },
        {
          effect: "Allow",
          actions: ["ecs:RunTask"],
          resources: [ourFamilies],
          condition: [inCluster, { test: "StringEquals", variable: "aws:RequestTag/prefect.io/work-pool-name", values: ["my-ecs-pool"] }],
        },
        {
          effect: "Allow",
          actions: ["ecs:DescribeTasks", "ecs:StopTask"],
          resources: [tasks],
          condition: [inCluster, { test: "StringEquals", variable: "aws:ResourceTag/prefect.io/work-pool-name", values: ["my-ecs-pool"] }],
        },
        {
          effect: "Allow",
          actions: ["ecs:TagResource"],
          resources: [tasks],
          condition: [
            { test: "StringEquals", variable: "ecs:CreateAction", values: ["RunTask"] },
            { test: "StringEquals", variable: "aws:RequestTag/prefect.io/work-pool-name", values: ["my-ecs-pool"] },
          ],
        },
        {
          effect: "Allow",
          actions: ["iam:PassRole"],
          resources: [ref("aws_iam_role.flow_run_execution_role", "arn"), ref("aws_iam_role.flow_run_task_role", "arn")],
          condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }],
        },
        {
          effect: "Allow",
          actions: ["logs:GetLogEvents"],
          resources: [`${ref("aws_cloudwatch_log_group.flow_runs", "arn")}:log-stream:*`],
        },
      ]);
      expect(bodyOf(json(), "aws_iam_role_policy_attachment", "worker_task_policy_attachment")).toEqual({
        role: ref("aws_iam_role.worker_task_role", "name"),
        policy_arn: ref("aws_iam_policy.worker_task_policy", "arn"),
      });
    });

    it("THEN the worker task role has inline EcsWorkerSqsPolicy with the observer's SQS calls on exactly the events queue ARN", () => {
      const policy = resourceOf(json(), "aws_iam_role_policy", "worker_task_sqs_policy");
      expect(policy.name).toBe("EcsWorkerSqsPolicy");
      expect(policy.role).toBe(ref("aws_iam_role.worker_task_role", "name"));
      expect(permissionsOf(statementsOf(json(), policy.policy))).toEqual([
        {
          effect: "Allow",
          actions: ["sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
          resources: [ref("aws_sqs_queue.events_queue", "arn")],
        },
      ]);
    });

    it("THEN the flow-run log group is created with a retention, so nobody needs logs:CreateLogGroup", () => {
      expect(bodyOf(json(), "aws_cloudwatch_log_group", "flow_runs")).toEqual({
        name: "/ecs/prefect-flow-runs/my-ecs-pool",
        retention_in_days: 30,
      });
    });

    it("THEN the flow-run task role exists without a permissions policy (no buckets or statements configured)", () => {
      expect(resourcesOfType(json(), "aws_iam_policy")).not.toHaveProperty("flow_run_task_policy");
      const attachedRoles = Object.values(resourcesOfType(json(), "aws_iam_role_policy_attachment")).map((a) => a.role);
      expect(attachedRoles).not.toContain(ref("aws_iam_role.flow_run_task_role", "name"));
    });
  });

  describe("events queue and rule (guide steps 12-16)", () => {
    it("THEN the dead-letter queue my-ecs-pool-events-dlq keeps messages 1209600 s with visibility 60 s, encrypted", () => {
      expect(bodyOf(json(), "aws_sqs_queue", "events_dead_letter_queue")).toMatchObject({
        name: "my-ecs-pool-events-dlq",
        message_retention_seconds: 1209600,
        visibility_timeout_seconds: 60,
        sqs_managed_sse_enabled: true,
      });
      expect(resourceOf(json(), "aws_sqs_queue", "events_dead_letter_queue")).not.toHaveProperty("redrive_policy");
    });

    it("THEN the events queue my-ecs-pool-events keeps messages 604800 s with visibility 300 s, encrypted", () => {
      expect(bodyOf(json(), "aws_sqs_queue", "events_queue")).toMatchObject({
        name: "my-ecs-pool-events",
        message_retention_seconds: 604800,
        visibility_timeout_seconds: 300,
        sqs_managed_sse_enabled: true,
      });
    });

    it("THEN the events queue redrives to the dead-letter queue after 3 receives", () => {
      expect(parseJsonencode(resourceOf(json(), "aws_sqs_queue", "events_queue").redrive_policy)).toEqual({
        deadLetterTargetArn: ref("aws_sqs_queue.events_dead_letter_queue", "arn"),
        maxReceiveCount: 3,
      });
    });

    it("THEN rule my-ecs-pool-task-state-changes is ENABLED with the guide's description on the default bus", () => {
      const rule = bodyOf(json(), "aws_cloudwatch_event_rule", "ecs_task_state_changes");
      expect(rule).toMatchObject({
        name: "my-ecs-pool-task-state-changes",
        description: "Capture ECS task state changes for Prefect worker",
        state: "ENABLED",
      });
      expect(rule).not.toHaveProperty("event_bus_name");
    });

    it("THEN the rule's event pattern matches ECS Task State Change events of exactly the cluster, and only of this pool's flow-run task definitions", () => {
      const rule = resourceOf(json(), "aws_cloudwatch_event_rule", "ecs_task_state_changes");
      expect(parseJsonencode(rule.event_pattern)).toEqual({
        source: ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        detail: {
          clusterArn: [ref("aws_ecs_cluster.cluster", "arn")],
          // prefect-aws names the families prefect_<pool>_<id>; ECS events carry no tags.
          taskDefinitionArn: [{ prefix: `${ECS_ARN}:task-definition/prefect_my-ecs-pool_` }],
        },
      });
    });

    it('THEN the rule targets the events queue ARN with target id "1", no role and no input transformer', () => {
      expect(bodyOf(json(), "aws_cloudwatch_event_target", "ecs_task_state_changes_to_queue")).toEqual({
        rule: ref("aws_cloudwatch_event_rule.ecs_task_state_changes", "name"),
        target_id: "1",
        arn: ref("aws_sqs_queue.events_queue", "arn"),
      });
    });

    it("THEN the queue policy lets only events.amazonaws.com send, and only from the rule (aws:SourceArn = rule ARN)", () => {
      const queuePolicy = resourceOf(json(), "aws_sqs_queue_policy", "events_queue_policy");
      expect(queuePolicy.queue_url).toBe(ref("aws_sqs_queue.events_queue", "url"));
      expect(permissionsOf(statementsOf(json(), queuePolicy.policy))).toEqual([
        {
          effect: "Allow",
          principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
          actions: ["sqs:SendMessage"],
          resources: [ref("aws_sqs_queue.events_queue", "arn")],
          condition: [
            { test: "ArnEquals", variable: "aws:SourceArn", values: [ref("aws_cloudwatch_event_rule.ecs_task_state_changes", "arn")] },
          ],
        },
      ]);
    });
  });

  describe("worker task definition (guide step 18)", () => {
    it("THEN family prefect-worker-task is an awsvpc FARGATE task sized by var.worker_cpu / var.worker_memory", () => {
      expect(bodyOf(json(), "aws_ecs_task_definition", "worker")).toMatchObject({
        family: "prefect-worker-task",
        network_mode: "awsvpc",
        requires_compatibilities: ["FARGATE"],
        cpu: "${var.worker_cpu}",
        memory: "${var.worker_memory}",
      });
    });

    it("THEN it runs with the execution role and the worker task role", () => {
      expect(bodyOf(json(), "aws_ecs_task_definition", "worker")).toMatchObject({
        execution_role_arn: ref("aws_iam_role.execution_role", "arn"),
        task_role_arn: ref("aws_iam_role.worker_task_role", "arn"),
      });
    });

    it("THEN its one container prefect-worker runs image prefecthq/prefect-aws:${var.worker_image_tag}, essential, sized like the task", () => {
      expect(workerContainer(json())).toMatchObject({
        name: "prefect-worker",
        image: "prefecthq/prefect-aws:${var.worker_image_tag}",
        essential: true,
        cpu: "${var.worker_cpu}",
        memory: "${var.worker_memory}",
      });
    });

    it("THEN the command starts the worker without a shell: exactly prefect worker start --pool my-ecs-pool --type ecs --with-healthcheck", () => {
      expect(workerContainer(json()).command).toEqual(["prefect", "worker", "start", "--pool", "my-ecs-pool", "--type", "ecs", "--with-healthcheck"]);
    });

    it("THEN the environment sets HOME to the scratch volume, PREFECT_API_URL from var.prefect_api_url and the observer queue name from the events queue", () => {
      expect(workerContainer(json()).environment).toEqual([
        { name: "HOME", value: "/tmp" },
        { name: "PREFECT_API_URL", value: "${var.prefect_api_url}" },
        { name: "PREFECT_INTEGRATIONS_AWS_ECS_OBSERVER_SQS_QUEUE_NAME", value: ref("aws_sqs_queue.events_queue", "name") },
      ]);
    });

    it("THEN the container runs as uid and gid 1000 on a read-only root filesystem, writing only to the task's ephemeral scratch volume at /tmp", () => {
      expect(workerContainer(json())).toMatchObject({
        user: "1000:1000",
        readonlyRootFilesystem: true,
        mountPoints: [{ sourceVolume: "scratch", containerPath: "/tmp", readOnly: false }],
      });
      // No host path and no EFS: Fargate's task storage, gone with the task.
      expect(resourceOf(json(), "aws_ecs_task_definition", "worker").volume).toEqual([{ name: "scratch" }]);
    });

    it("THEN ECS Exec is off on the service: nobody can open a shell next to the credential", () => {
      expect(resourceOf(json(), "aws_ecs_service", "worker").enable_execute_command).toBe(false);
    });

    it("THEN the API key is injected as secret PREFECT_API_KEY with valueFrom the secret ARN, never as a plain value", () => {
      const container = workerContainer(json());
      expect(container.secrets).toEqual([{ name: "PREFECT_API_KEY", valueFrom: ref("aws_secretsmanager_secret.prefect_api_secret", "arn") }]);
      for (const entry of container.secrets) {
        expect(Object.keys(entry).sort()).toEqual(["name", "valueFrom"]);
      }
      expect(container.environment.map((e) => e.name)).not.toContain("PREFECT_API_KEY");
    });

    it("THEN the container logs with awslogs to the worker log group in var.aws_region", () => {
      const { logConfiguration } = workerContainer(json());
      expect(logConfiguration.logDriver).toBe("awslogs");
      expect(logConfiguration.options).toMatchObject({
        "awslogs-group": ref("aws_cloudwatch_log_group.worker", "name"),
        "awslogs-region": "${var.aws_region}",
      });
      expect(logConfiguration.options["awslogs-stream-prefix"]).toEqual(expect.any(String));
    });

    it("THEN log group /ecs/prefect-worker/my-ecs-pool keeps events 30 days", () => {
      expect(bodyOf(json(), "aws_cloudwatch_log_group", "worker")).toMatchObject({
        name: "/ecs/prefect-worker/my-ecs-pool",
        retention_in_days: 30,
      });
    });
  });

  describe("worker service (guide step 19)", () => {
    it("THEN service prefect-worker-service runs the task definition on FARGATE in the cluster, var.worker_desired_count times", () => {
      expect(bodyOf(json(), "aws_ecs_service", "worker")).toMatchObject({
        name: "prefect-worker-service",
        cluster: ref("aws_ecs_cluster.cluster", "arn"),
        task_definition: ref("aws_ecs_task_definition.worker", "arn"),
        launch_type: "FARGATE",
        desired_count: "${var.worker_desired_count}",
      });
    });

    it("THEN it assigns a public IP from var.assign_public_ip and rolls back failed deployments", () => {
      const service = bodyOf(json(), "aws_ecs_service", "worker");
      expect(service.network_configuration).toMatchObject({ assign_public_ip: "${var.assign_public_ip}" });
      expect(service.deployment_circuit_breaker).toEqual({ enable: true, rollback: true });
    });

    it("THEN it runs in the default VPC's subnets unless subnet_ids is set, in its own security group plus security_group_ids", () => {
      const network = bodyOf(json(), "aws_ecs_service", "worker").network_configuration as Record<string, string>;
      expect(network.subnets).toBe(outputValue(json(), "subnet_ids"));
      expect(network.subnets).toMatch(/var\.subnet_ids/);
      expect(network.subnets).toMatch(/data\.aws_subnets\.default_vpc/);
      expect(network.security_groups).toBe(outputValue(json(), "security_group_ids"));
      expect(network.security_groups).toBe("${concat([aws_security_group.worker.id], var.security_group_ids)}");
    });

    it("THEN the worker's own security group (not the VPC's default group) has a description, no ingress and only HTTPS egress (CKV_AWS_23)", () => {
      expect(bodyOf(json(), "aws_security_group", "worker")).toEqual({
        name_prefix: "prefect-worker-my-ecs-pool-",
        description: expect.stringContaining("no ingress"),
        vpc_id: outputValue(json(), "vpc_id"),
        lifecycle: { create_before_destroy: true },
      });
      expect(resourcesOfType(json(), "aws_vpc_security_group_ingress_rule")).toEqual({});
      expect(bodyOf(json(), "aws_vpc_security_group_egress_rule", "worker_egress_443")).toEqual({
        security_group_id: ref("aws_security_group.worker", "id"),
        description: expect.any(String),
        ip_protocol: "tcp",
        from_port: 443,
        to_port: 443,
        cidr_ipv4: "0.0.0.0/0",
      });
      expect(Object.keys(resourcesOfType(json(), "aws_vpc_security_group_egress_rule"))).toEqual(["worker_egress_443"]);
    });

    it("THEN it waits for the execution role's policies, so the first task can pull the image and read the secret", () => {
      expect(resourceOf(json(), "aws_ecs_service", "worker").depends_on).toEqual(
        expect.arrayContaining(["aws_iam_role_policy.execution_role_policy", "aws_iam_role_policy.execution_role_secret_policy"]),
      );
    });
  });

  describe("default VPC lookups (guide prerequisite)", () => {
    it("THEN data aws_vpc.default looks up the default VPC, skipped when var.vpc_id is set", () => {
      expect(dataBodyOf(json(), "aws_vpc", "default")).toEqual({ default: true, count: "${var.vpc_id == null ? 1 : 0}" });
    });

    it("THEN data aws_subnets.default_vpc filters by vpc-id of the VPC in use, skipped when var.subnet_ids is set", () => {
      const vpcId = outputValue(json(), "vpc_id");
      expect(vpcId).toMatch(/var\.vpc_id/);
      expect(vpcId).toMatch(/data\.aws_vpc\.default/);
      expect(dataBodyOf(json(), "aws_subnets", "default_vpc")).toEqual({
        count: "${var.subnet_ids == null ? 1 : 0}",
        filter: [{ name: "vpc-id", values: [vpcId] }],
      });
    });

    it("THEN the VPC's default security group is not looked up: the worker has its own", () => {
      expect(dataOfType(json(), "aws_security_group")).toEqual({});
    });
  });

  describe("ECR repository (guide's deploy-a-flow section)", () => {
    it("THEN repository my-ecs-pool-flows scans images on push", () => {
      expect(bodyOf(json(), "aws_ecr_repository", "flow_images")).toMatchObject({
        name: "my-ecs-pool-flows",
        image_scanning_configuration: { scan_on_push: true },
      });
    });
  });

  describe("variables", () => {
    it.each([
      ["aws_region", "string", "us-east-1"],
      ["worker_cpu", "number", 512],
      ["worker_memory", "number", 1024],
      ["worker_desired_count", "number", 1],
      ["worker_image_tag", "string", "latest"],
      ["assign_public_ip", "bool", true],
    ])("THEN variable %s has type %s, a description and default %p", (name, type, defaultValue) => {
      const variable = json().variable[name];
      expect(variable).toBeDefined();
      expect(variable.type).toBe(type);
      expect(variable.description).toEqual(expect.stringMatching(/\S/));
      expect(variable.default).toEqual(defaultValue);
    });

    it.each(["aws_region", "worker_cpu", "worker_memory", "worker_desired_count", "worker_image_tag", "vpc_id", "subnet_ids", "security_group_ids", "prefect_api_url", "prefect_api_key", "prefect_api_key_version"])(
      "THEN variable %s has a validation block on itself with an error message",
      (name) => {
        const validation = json().variable[name].validation as { condition: string; error_message: string }[];
        expect(validation.length).toBeGreaterThan(0);
        for (const rule of validation) {
          expect(rule.condition).toMatch(new RegExp(`^\\$\\{[\\s\\S]*var\\.${name}\\b[\\s\\S]*\\}$`));
          expect(rule.error_message).toEqual(expect.stringMatching(/\S/));
        }
      },
    );

    it("THEN the validation patterns accept the defaults and reject malformed values", () => {
      const region = validationPattern(json(), "aws_region");
      expect(region.test("us-east-1")).toBe(true);
      expect(region.test("US_EAST")).toBe(false);
      const tag = validationPattern(json(), "worker_image_tag");
      expect(tag.test("latest")).toBe(true);
      expect(tag.test("-bad")).toBe(false);
      const url = validationPattern(json(), "prefect_api_url");
      expect(url.test(CLOUD_API_URL)).toBe(true);
      expect(url.test("http://localhost:4200/api")).toBe(false);
    });

    it("THEN worker_cpu's validation lists the default and worker_memory's validation depends on worker_cpu", () => {
      const cpu = json().variable.worker_cpu.validation as { condition: string }[];
      expect(cpu[0].condition).toMatch(/\b512\b/);
      const memory = json().variable.worker_memory.validation as { condition: string }[];
      expect(memory[0].condition).toMatch(/var\.worker_cpu/);
    });

    it.each([
      ["vpc_id", "string"],
      ["subnet_ids", "list(string)"],
    ])("THEN variable %s (%s) is nullable with a null default, meaning: look it up", (name, type) => {
      const variable = json().variable[name];
      expect(variable.type).toBe(type);
      expect(variable.nullable).toBe(true);
      expect(variable).toHaveProperty("default", null);
      expect(variable.description).toEqual(expect.stringMatching(/\S/));
    });

    it("THEN variable security_group_ids lists extra groups, none by default", () => {
      expect(json().variable.security_group_ids).toMatchObject({ type: "list(string)", nullable: false, default: [] });
    });

    it("THEN prefect_api_url is a string without default (no prefect.apiUrl configured): it must be set at plan time", () => {
      const variable = json().variable.prefect_api_url;
      expect(variable.type).toBe("string");
      expect(variable).not.toHaveProperty("default");
    });

    it("THEN prefect_api_key is an ephemeral, sensitive, non-nullable string without default", () => {
      const variable = json().variable.prefect_api_key;
      expect(variable).toMatchObject({ type: "string", ephemeral: true, sensitive: true, nullable: false });
      expect(variable).not.toHaveProperty("default");
    });

    it("THEN prefect_api_key_version is a number defaulting to 1", () => {
      expect(json().variable.prefect_api_key_version).toMatchObject({ type: "number", default: 1 });
    });
  });

  describe("outputs", () => {
    it.each(STACK_OUTPUTS)("THEN output %s exists with a description", (name) => {
      expect(json().output[name]).toBeDefined();
      expect(json().output[name].description).toEqual(expect.stringMatching(/\S/));
    });

    it("THEN the outputs point at the resources they name", () => {
      expect(outputValue(json(), "cluster_arn")).toBe(ref("aws_ecs_cluster.cluster", "arn"));
      expect(outputValue(json(), "execution_role_arn")).toBe(ref("aws_iam_role.execution_role", "arn"));
      expect(outputValue(json(), "worker_task_role_arn")).toBe(ref("aws_iam_role.worker_task_role", "arn"));
      expect(outputValue(json(), "flow_run_task_role_arn")).toBe(ref("aws_iam_role.flow_run_task_role", "arn"));
      expect(outputValue(json(), "events_queue_name")).toBe(ref("aws_sqs_queue.events_queue", "name"));
      expect(outputValue(json(), "events_queue_url")).toBe(ref("aws_sqs_queue.events_queue", "url"));
      expect(outputValue(json(), "events_queue_arn")).toBe(ref("aws_sqs_queue.events_queue", "arn"));
      expect(outputValue(json(), "secret_arn")).toBe(ref("aws_secretsmanager_secret.prefect_api_secret", "arn"));
      expect(outputValue(json(), "ecr_repository_url")).toBe(ref("aws_ecr_repository.flow_images", "repository_url"));
      expect(outputValue(json(), "log_group_name")).toBe(ref("aws_cloudwatch_log_group.worker", "name"));
    });
  });

  describe("prefect.yaml output (guide §7, corrected)", () => {
    it("THEN, with the ECR URL filled in, it is valid YAML (the guide's is mis-indented)", () => {
      const parsed = parseYamlStrictly(renderedPrefectYaml(json()));
      expect(parsed.name).toEqual(expect.any(String));
    });

    it("THEN its deployment uses work pool my-ecs-pool and entrypoint my_flow.py:my_flow", () => {
      const parsed = parseYamlStrictly(renderedPrefectYaml(json())) as unknown as PrefectYaml;
      expect(parsed.deployments).toHaveLength(1);
      expect(parsed.deployments[0].work_pool.name).toBe("my-ecs-pool");
      expect(parsed.deployments[0].entrypoint).toBe("my_flow.py:my_flow");
    });

    it("THEN the build step's image_name is the full ECR repository URL and the job variable image is '{{ build_image.image }}'", () => {
      const parsed = parseYamlStrictly(renderedPrefectYaml(json())) as unknown as PrefectYaml;
      const build = parsed.build[0]["prefect_docker.deployments.steps.build_docker_image"];
      expect(build).toMatchObject({ id: "build_image", image_name: EXAMPLE_ECR_URL });
      expect(parsed.deployments[0].work_pool.job_variables.image).toBe("{{ build_image.image }}");
    });
  });

  describe("provider and backend", () => {
    it("THEN the provider region is var.aws_region and default_tags carry PrefectWorkPool", () => {
      const [provider] = json().provider.aws;
      expect(provider.region).toBe("${var.aws_region}");
      const tags = (provider.default_tags as { tags: Record<string, string> }[])[0].tags;
      expect(tags.PrefectWorkPool).toBe("my-ecs-pool");
    });

    it("THEN the local backend's state path is relative", () => {
      const backend = json().terraform.backend as { local: { path: string } };
      expect(backend.local.path).toEqual(expect.any(String));
      expect(isAbsolute(backend.local.path)).toBe(false);
    });

    it("THEN required_version asks for Terraform >= 1.11 (ephemeral variables and write-only attributes)", () => {
      const version = json().terraform.required_version as string;
      const match = /^>=\s*(\d+)\.(\d+)/.exec(version);
      expect(match).not.toBeNull();
      const [major, minor] = [Number(match?.[1]), Number(match?.[2])];
      expect(major > 1 || (major === 1 && minor >= 11)).toBe(true);
    });
  });

  it("THEN it reads nothing that would copy a secret into state (no SSM parameter or secret version data sources)", () => {
    expect(dataAddresses(json()).filter((a) => /aws_ssm_parameter|aws_secretsmanager_secret/.test(a))).toEqual([]);
  });
});

// ================================================================= prefect.apiUrl configured

describe('GIVEN iam.policies "guide" WHEN synthesized', () => {
  const json = synthesizedOnce({ iam: { policies: "guide" }, flowRunTaskRole: { s3Buckets: ["prefect-demo-bucket"] } });

  it("THEN there is the guide's one execution role, for the worker and flow runs, with AWS's managed AmazonECSTaskExecutionRolePolicy", () => {
    expect(Object.keys(resourcesOfType(json(), "aws_iam_role")).sort()).toEqual(["execution_role", "flow_run_task_role", "worker_task_role"]);
    expect(bodyOf(json(), "aws_iam_role_policy_attachment", "execution_role_managed_policy")).toEqual({
      role: ref("aws_iam_role.execution_role", "name"),
      policy_arn: MANAGED_EXECUTION_POLICY,
    });
    expect(resourcesOfType(json(), "aws_iam_role_policy")).not.toHaveProperty("execution_role_policy");
    expect(json().output.flow_run_execution_role_arn.value).toBe(ref("aws_iam_role.execution_role", "arn"));
  });

  it("THEN every role trusts ECS tasks as the guide's trust-policy.json does, without conditions", () => {
    for (const role of Object.values(resourcesOfType(json(), "aws_iam_role"))) {
      expect(permissionsOf(statementsOf(json(), role.assume_role_policy))).toEqual(GUIDE_ECS_TASKS_TRUST);
    }
  });

  it("THEN the flow-run task role keeps the guide's s3:PutObjectAcl", () => {
    const policy = resourceOf(json(), "aws_iam_policy", "flow_run_task_policy");
    expect(allActions(statementsOf(json(), policy.policy))).toEqual([...GUIDE_S3_BUCKET_ACTIONS, ...GUIDE_S3_OBJECT_ACTIONS]);
  });

  it("THEN the worker task role has managed policy ecsTaskPolicy with exactly the guide's 12 actions on *", () => {
    const policy = resourceOf(json(), "aws_iam_policy", "worker_task_policy");
    expect(policy.name).toBe("ecsTaskPolicy");
    expect(permissionsOf(statementsOf(json(), policy.policy))).toEqual([
      { effect: "Allow", actions: GUIDE_WORKER_ACTIONS, resources: ["*"] },
    ]);
  });

  it("THEN the worker task role has inline EcsWorkerSqsPolicy with the guide's SQS actions on exactly the events queue ARN", () => {
    const policy = resourceOf(json(), "aws_iam_role_policy", "worker_task_sqs_policy");
    expect(permissionsOf(statementsOf(json(), policy.policy))).toEqual([
      { effect: "Allow", actions: GUIDE_WORKER_SQS_ACTIONS, resources: [ref("aws_sqs_queue.events_queue", "arn")] },
    ]);
  });
});

describe("GIVEN workPool.autoDeregisterTaskDefinitions WHEN synthesized", () => {
  const json = synthesizedOnce({ workPool: { autoDeregisterTaskDefinitions: true } });

  it("THEN the worker may ecs:DeregisterTaskDefinition, on \"*\" with the other wildcard-only actions (without the switch it may not)", () => {
    const onStar = (config: TerraformJson) =>
      statementsOf(config, resourceOf(config, "aws_iam_policy", "worker_task_policy").policy).find((s) => s.sid === "NoResourceLevelPermissionsExist");
    expect(onStar(json())).toMatchObject({
      actions: ["ec2:DescribeSubnets", "ec2:DescribeVpcs", "ecs:DeregisterTaskDefinition", "ecs:DescribeTaskDefinition"],
      resources: ["*"],
    });
  });
});

describe("GIVEN a worker image in a private ECR repository WHEN synthesized", () => {
  const json = synthesizedOnce({ worker: { image: "210987654321.dkr.ecr.eu-west-1.amazonaws.com/platform/prefect-worker" } });

  it("THEN the worker's execution role may pull from exactly that repository (plus the registry login) and still write only its logs", () => {
    expect(permissionsOf(executionPolicyStatements(json(), "execution_role"))).toEqual([
      { effect: "Allow", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
      {
        effect: "Allow",
        actions: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
        resources: ["arn:${data.aws_partition.current.partition}:ecr:eu-west-1:210987654321:repository/platform/prefect-worker"],
      },
      {
        effect: "Allow",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [`${ref("aws_cloudwatch_log_group.worker", "arn")}:log-stream:*`],
      },
    ]);
  });
});

describe("GIVEN prefect.apiUrl is a Prefect Cloud workspace URL WHEN synthesized", () => {
  const json = synthesizedOnce({ prefect: { apiUrl: CLOUD_API_URL } });

  it("THEN variable prefect_api_url defaults to that URL", () => {
    expect(json().variable.prefect_api_url.default).toBe(CLOUD_API_URL);
  });

  it("THEN the worker still reads PREFECT_API_URL from the variable", () => {
    expect(environmentOf(workerContainer(json())).PREFECT_API_URL).toBe("${var.prefect_api_url}");
  });
});

// ================================================================= strings with special characters

/**
 * A pool name that YAML would misread unquoted (0x1F is the number 31 in YAML
 * 1.2), yet valid for Prefect, prefect-aws's task-definition family and the
 * PrefectWorkPool tag.
 */
describe("GIVEN a work pool named `0x1F` (explicit AWS names) WHEN synthesized", () => {
  const POOL = "0x1F";
  const json = synthesizedOnce({
    workPool: { name: POOL },
    eventsQueue: { name: "team-a-events", deadLetterQueueName: "team-a-events-dlq", ruleName: "team-a-task-state-changes" },
    ecr: { repositoryName: "team-a-flows" },
    logs: { groupName: "/ecs/prefect-worker/team-a" },
    flowRunLogs: { groupName: "/ecs/prefect-flow-runs/team-a" },
  });

  it("THEN prefect.yaml still parses as YAML, to exactly that pool name", () => {
    const parsed = parseYamlStrictly(renderedPrefectYaml(json())) as unknown as PrefectYaml;
    expect(parsed.deployments[0].work_pool.name).toBe(POOL);
  });

  it("THEN the worker command carries the name verbatim as one argument (exec form, no shell)", () => {
    expect(workerContainer(json()).command).toEqual(["prefect", "worker", "start", "--pool", POOL, "--type", "ecs", "--with-healthcheck"]);
  });

  it("THEN the explicit AWS names are used", () => {
    expect(resourceOf(json(), "aws_sqs_queue", "events_queue").name).toBe("team-a-events");
    expect(resourceOf(json(), "aws_sqs_queue", "events_dead_letter_queue").name).toBe("team-a-events-dlq");
    expect(resourceOf(json(), "aws_cloudwatch_event_rule", "ecs_task_state_changes").name).toBe("team-a-task-state-changes");
    expect(resourceOf(json(), "aws_ecr_repository", "flow_images").name).toBe("team-a-flows");
    expect(resourceOf(json(), "aws_cloudwatch_log_group", "worker").name).toBe("/ecs/prefect-worker/team-a");
  });

  it("THEN the PrefectWorkPool default tag is the name, and every tag value uses only characters AWS tags allow", () => {
    const tags = (json().provider.aws[0].default_tags as { tags: Record<string, string> }[])[0].tags;
    expect(tags.PrefectWorkPool).toBe(POOL);
    for (const value of Object.values(tags)) expect(value).toMatch(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u);
  });
});

describe.each([
  ["an inner double quote", 'say "hi"'],
  ["a value wrapped in double quotes", '"quoted"'],
  ["a backslash", "C:\\dir"],
  ["a newline", "line 1\nline 2"],
])("GIVEN a worker environment value with %s WHEN synthesized", (_what, value) => {
  const json = synthesizedOnce({ worker: { environment: { EXTRA_VALUE: value } } });

  it("THEN the container definitions are a valid HCL expression holding the value verbatim", () => {
    expect(environmentOf(workerContainer(json())).EXTRA_VALUE).toBe(value);
  });
});

describe("GIVEN a work queue name with a backslash WHEN synthesized", () => {
  const QUEUE = "urgent\\eu";
  const json = synthesizedOnce({ worker: { workQueues: [QUEUE] } });

  it("THEN the container definitions are a valid HCL expression and the command carries the queue verbatim", () => {
    expect(workerContainer(json()).command.slice(-2)).toEqual(["--work-queue", QUEUE]);
  });
});

// ================================================================= self-hosted, basic auth

describe("GIVEN a self-hosted server with basic auth WHEN synthesized", () => {
  const json = synthesizedOnce({ prefect: { server: "self-hosted", apiUrl: SELF_HOSTED_URL } });

  it("THEN the credential is secret PREFECT_API_AUTH_STRING with valueFrom (not the guide's wrong `value`)", () => {
    const container = workerContainer(json());
    expect(container.secrets).toEqual([
      { name: "PREFECT_API_AUTH_STRING", valueFrom: ref("aws_secretsmanager_secret.prefect_api_secret", "arn") },
    ]);
    for (const entry of container.secrets) expect(entry).not.toHaveProperty("value");
  });

  it("THEN PREFECT_API_KEY appears nowhere in the container, and no prefect_api_key variable exists", () => {
    const container = workerContainer(json());
    expect([...container.environment, ...container.secrets].map((e) => e.name)).not.toContain("PREFECT_API_KEY");
    expect(stringsIn(json())).not.toContain("PREFECT_API_KEY");
    expect(outputValue(json(), "secret_environment_name")).toBe("PREFECT_API_AUTH_STRING");
    expect(json().variable).not.toHaveProperty("prefect_api_key");
  });

  it("THEN the secret is named PrefectECSWorkerAuthString and fed by the ephemeral variable prefect_api_auth_string", () => {
    expect(resourceOf(json(), "aws_secretsmanager_secret", "prefect_api_secret").name).toBe("PrefectECSWorkerAuthString");
    expect(resourceOf(json(), "aws_secretsmanager_secret_version", "prefect_api_secret_value")).toMatchObject({
      secret_string_wo: "${var.prefect_api_auth_string}",
      secret_string_wo_version: "${var.prefect_api_auth_string_version}",
    });
    expect(json().variable.prefect_api_auth_string).toMatchObject({ type: "string", ephemeral: true, sensitive: true });
    expect(json().variable.prefect_api_auth_string).not.toHaveProperty("default");
  });

  it("THEN prefect_api_url defaults to the self-hosted URL and its validation accepts it", () => {
    expect(json().variable.prefect_api_url.default).toBe(SELF_HOSTED_URL);
    expect(validationPattern(json(), "prefect_api_url").test(SELF_HOSTED_URL)).toBe(true);
  });
});

// ================================================================= SSM + customer KMS key

describe("GIVEN an SSM SecureString parameter encrypted with a customer KMS key WHEN synthesized", () => {
  const json = synthesizedOnce({ secret: { store: "ssm", kmsKeyArn: KMS_KEY_ARN } });

  it("THEN SecureString parameter /prefect/my-ecs-pool/api/key uses the key and the write-only value from var.prefect_api_key", () => {
    expect(bodyOf(json(), "aws_ssm_parameter", "prefect_api_secret")).toMatchObject({
      name: "/prefect/my-ecs-pool/api/key",
      type: "SecureString",
      key_id: KMS_KEY_ARN,
      value_wo: "${var.prefect_api_key}",
      value_wo_version: "${var.prefect_api_key_version}",
    });
    expect(resourceOf(json(), "aws_ssm_parameter", "prefect_api_secret")).not.toHaveProperty("value");
    expect(resourcesOfType(json(), "aws_secretsmanager_secret")).toEqual({});
  });

  it("THEN the execution role may ssm:GetParameters on exactly the parameter and kms:Decrypt on exactly the key", () => {
    expect(permissionsOf(secretPolicyStatements(json()))).toEqual([
      { effect: "Allow", actions: ["ssm:GetParameters"], resources: [ref("aws_ssm_parameter.prefect_api_secret", "arn")] },
      decryptThrough("ssm", ref("aws_ssm_parameter.prefect_api_secret", "arn")),
    ]);
  });

  it("THEN the worker reads PREFECT_API_KEY with valueFrom the parameter ARN", () => {
    expect(workerContainer(json()).secrets).toEqual([
      { name: "PREFECT_API_KEY", valueFrom: ref("aws_ssm_parameter.prefect_api_secret", "arn") },
    ]);
  });
});

describe("GIVEN a Secrets Manager secret with a customer KMS key (the guide's CMK accordion) WHEN synthesized", () => {
  const json = synthesizedOnce({ secret: { kmsKeyArn: KMS_KEY_ARN } });

  it("THEN the secret is encrypted with the key", () => {
    expect(resourceOf(json(), "aws_secretsmanager_secret", "prefect_api_secret").kms_key_id).toBe(KMS_KEY_ARN);
  });

  it("THEN the execution role may GetSecretValue on exactly the secret and kms:Decrypt on exactly the key", () => {
    expect(permissionsOf(secretPolicyStatements(json()))).toEqual([
      { effect: "Allow", actions: ["secretsmanager:GetSecretValue"], resources: [ref("aws_secretsmanager_secret.prefect_api_secret", "arn")] },
      decryptThrough("secretsmanager", ref("aws_secretsmanager_secret.prefect_api_secret", "arn")),
    ]);
  });
});

// ================================================================= existing secrets

describe("GIVEN an existing Secrets Manager secret by full ARN WHEN synthesized", () => {
  const json = synthesizedOnce({ secret: { existing: EXISTING_SECRET_ARN } });

  it("THEN no secret, secret version or parameter is created, and no secret variable exists", () => {
    expect(resourcesOfType(json(), "aws_secretsmanager_secret")).toEqual({});
    expect(resourcesOfType(json(), "aws_secretsmanager_secret_version")).toEqual({});
    expect(resourcesOfType(json(), "aws_ssm_parameter")).toEqual({});
    expect(json().variable).not.toHaveProperty("prefect_api_key");
  });

  it("THEN the execution role policy and the container's valueFrom use exactly that ARN", () => {
    expect(permissionsOf(secretPolicyStatements(json()))).toEqual([
      { effect: "Allow", actions: ["secretsmanager:GetSecretValue"], resources: [EXISTING_SECRET_ARN] },
    ]);
    expect(workerContainer(json()).secrets).toEqual([{ name: "PREFECT_API_KEY", valueFrom: EXISTING_SECRET_ARN }]);
    expect(outputValue(json(), "secret_arn")).toBe(EXISTING_SECRET_ARN);
  });
});

describe("GIVEN an existing SSM parameter by name WHEN synthesized", () => {
  const PARAMETER_ARN =
    "arn:${data.aws_partition.current.partition}:ssm:${var.aws_region}:${data.aws_caller_identity.current.account_id}:parameter/prefect/shared/api/key";
  const json = synthesizedOnce({ secret: { store: "ssm", existing: "/prefect/shared/api/key" } });

  it("THEN its ARN is built from the partition, the region and data.aws_caller_identity (no leading-slash doubling)", () => {
    expect(dataAddresses(json())).toContain("data.aws_caller_identity.current");
    expect(permissionsOf(secretPolicyStatements(json()))).toEqual([
      { effect: "Allow", actions: ["ssm:GetParameters"], resources: [PARAMETER_ARN] },
    ]);
    expect(workerContainer(json()).secrets).toEqual([{ name: "PREFECT_API_KEY", valueFrom: PARAMETER_ARN }]);
  });

  it("THEN no aws_ssm_parameter data source reads it (that would copy the value into state) and nothing is created", () => {
    expect(dataOfType(json(), "aws_ssm_parameter")).toEqual({});
    expect(resourcesOfType(json(), "aws_ssm_parameter")).toEqual({});
    expect(json().variable).not.toHaveProperty("prefect_api_key");
  });
});

describe("GIVEN an existing SSM parameter by ARN WHEN synthesized", () => {
  const ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/prefect/shared/api/key";
  const json = synthesizedOnce({ secret: { store: "ssm", existing: ARN } });

  it("THEN the policy and valueFrom use exactly that ARN, with no caller-identity lookup", () => {
    expect(permissionsOf(secretPolicyStatements(json()))).toEqual([{ effect: "Allow", actions: ["ssm:GetParameters"], resources: [ARN] }]);
    expect(workerContainer(json()).secrets).toEqual([{ name: "PREFECT_API_KEY", valueFrom: ARN }]);
    expect(dataOfType(json(), "aws_ssm_parameter")).toEqual({});
  });
});

describe("GIVEN secret.valueSource external WHEN synthesized", () => {
  const json = synthesizedOnce({ secret: { valueSource: "external" } });

  it("THEN the secret is created without a version resource, so its value is set outside Terraform", () => {
    expect(resourceOf(json(), "aws_secretsmanager_secret", "prefect_api_secret").name).toBe("PrefectECSWorkerAPIKey");
    expect(resourcesOfType(json(), "aws_secretsmanager_secret_version")).toEqual({});
  });

  it("THEN no prefect_api_key variable exists", () => {
    expect(json().variable).not.toHaveProperty("prefect_api_key");
    expect(json().variable).not.toHaveProperty("prefect_api_key_version");
  });

  it("THEN the worker still reads the secret with valueFrom", () => {
    expect(workerContainer(json()).secrets).toEqual([
      { name: "PREFECT_API_KEY", valueFrom: ref("aws_secretsmanager_secret.prefect_api_secret", "arn") },
    ]);
  });
});

describe("GIVEN a self-hosted server without auth WHEN synthesized", () => {
  const json = synthesizedOnce({ prefect: { server: "self-hosted", auth: "none" } });

  it("THEN no secret resources exist", () => {
    expect(resourcesOfType(json(), "aws_secretsmanager_secret")).toEqual({});
    expect(resourcesOfType(json(), "aws_secretsmanager_secret_version")).toEqual({});
    expect(resourcesOfType(json(), "aws_ssm_parameter")).toEqual({});
  });

  it("THEN the container has no secrets and no credential in its environment", () => {
    const container = workerContainer(json());
    expect(container.secrets ?? []).toEqual([]);
    expect(container.environment.map((e) => e.name)).not.toContain("PREFECT_API_KEY");
    expect(container.environment.map((e) => e.name)).not.toContain("PREFECT_API_AUTH_STRING");
  });

  it("THEN neither execution role has a secret policy, only its image-and-log policy", () => {
    const inline = Object.keys(resourcesOfType(json(), "aws_iam_role_policy"));
    expect(inline).not.toContain("execution_role_secret_policy");
    expect(inline).not.toContain("flow_run_execution_role_secret_policy");
    expect(inline).toEqual(expect.arrayContaining(["execution_role_policy", "flow_run_execution_role_policy"]));
  });

  it("THEN no secret variable and no secret_arn output exist", () => {
    expect(json().variable).not.toHaveProperty("prefect_api_key");
    expect(json().variable).not.toHaveProperty("prefect_api_auth_string");
    expect(json().output).not.toHaveProperty("secret_arn");
  });
});

// ================================================================= existing cluster

describe("GIVEN an existing cluster by ARN WHEN synthesized", () => {
  const json = synthesizedOnce({ cluster: { existing: EXISTING_CLUSTER_ARN } });

  it("THEN no cluster is created and none is looked up", () => {
    expect(resourcesOfType(json(), "aws_ecs_cluster")).toEqual({});
    expect(dataOfType(json(), "aws_ecs_cluster")).toEqual({});
  });

  it("THEN the rule's event pattern, the service and the output use that ARN", () => {
    const rule = resourceOf(json(), "aws_cloudwatch_event_rule", "ecs_task_state_changes");
    expect(parseJsonencode(rule.event_pattern)).toMatchObject({ detail: { clusterArn: [EXISTING_CLUSTER_ARN] } });
    expect(resourceOf(json(), "aws_ecs_service", "worker").cluster).toBe(EXISTING_CLUSTER_ARN);
    expect(outputValue(json(), "cluster_arn")).toBe(EXISTING_CLUSTER_ARN);
  });
});

describe("GIVEN an existing cluster by name WHEN synthesized", () => {
  const json = synthesizedOnce({ cluster: { existing: "shared-cluster" } });

  it("THEN no cluster is created and data aws_ecs_cluster looks it up by name", () => {
    expect(resourcesOfType(json(), "aws_ecs_cluster")).toEqual({});
    expect(Object.values(dataOfType(json(), "aws_ecs_cluster")).map((d) => d.cluster_name)).toEqual(["shared-cluster"]);
  });

  it("THEN the rule and the service use the looked-up ARN", () => {
    const [lookup] = Object.keys(dataOfType(json(), "aws_ecs_cluster"));
    const arn = ref(`data.aws_ecs_cluster.${lookup}`, "arn");
    const rule = resourceOf(json(), "aws_cloudwatch_event_rule", "ecs_task_state_changes");
    expect(parseJsonencode(rule.event_pattern)).toMatchObject({ detail: { clusterArn: [arn] } });
    expect(resourceOf(json(), "aws_ecs_service", "worker").cluster).toBe(arn);
  });
});

describe("GIVEN cluster.containerInsights disabled WHEN synthesized", () => {
  const json = synthesizedOnce({ cluster: { containerInsights: "disabled" } });

  it("THEN the cluster has no containerInsights setting", () => {
    const settings = (resourceOf(json(), "aws_ecs_cluster", "cluster").setting ?? []) as { name: string }[];
    expect(settings.map((s) => s.name)).not.toContain("containerInsights");
  });
});

// ================================================================= explicit network

describe("GIVEN an explicit VPC, subnets and security groups without public IP WHEN synthesized", () => {
  const json = synthesizedOnce({ network: { ...EXPLICIT_NETWORK, assignPublicIp: false } });

  it("THEN no default-VPC data sources exist", () => {
    expect(dataOfType(json(), "aws_vpc")).toEqual({});
    expect(dataOfType(json(), "aws_subnets")).toEqual({});
    expect(dataOfType(json(), "aws_security_group")).toEqual({});
  });

  it.each([
    ["vpc_id", EXPLICIT_NETWORK.vpcId],
    ["subnet_ids", EXPLICIT_NETWORK.subnetIds],
    ["security_group_ids", EXPLICIT_NETWORK.securityGroupIds],
  ])("THEN variable %s is non-nullable and defaults to the configured value", (name, value) => {
    const variable = json().variable[name];
    expect(variable.nullable).toBe(false);
    expect(variable.default).toEqual(value);
  });

  it("THEN the variables' validation accepts the configured IDs", () => {
    expect(validationPattern(json(), "vpc_id").test(EXPLICIT_NETWORK.vpcId)).toBe(true);
    for (const id of EXPLICIT_NETWORK.subnetIds) expect(validationPattern(json(), "subnet_ids").test(id)).toBe(true);
    for (const id of EXPLICIT_NETWORK.securityGroupIds) expect(validationPattern(json(), "security_group_ids").test(id)).toBe(true);
  });

  it("THEN the service uses the variables and assign_public_ip defaults to false", () => {
    expect(resourceOf(json(), "aws_ecs_service", "worker").network_configuration).toEqual({
      subnets: "${var.subnet_ids}",
      security_groups: "${concat([aws_security_group.worker.id], var.security_group_ids)}",
      assign_public_ip: "${var.assign_public_ip}",
    });
    expect(json().variable.assign_public_ip.default).toBe(false);
    expect(outputValue(json(), "vpc_id")).toBe("${var.vpc_id}");
  });
});

// ================================================================= flow-run task role

describe("GIVEN flowRunTaskRole.s3Buckets WHEN synthesized", () => {
  const json = synthesizedOnce({ flowRunTaskRole: { s3Buckets: ["prefect-demo-bucket", "second-bucket"] } });
  const bucketArn = (bucket: string) => `arn:\${data.aws_partition.current.partition}:s3:::${bucket}`;

  it("THEN managed policy PrefectECSRunnerTaskPolicy has the guide's two S3 statements over every bucket and its objects, without s3:PutObjectAcl", () => {
    const policy = resourceOf(json(), "aws_iam_policy", "flow_run_task_policy");
    expect(policy.name).toBe("PrefectECSRunnerTaskPolicy");
    expect(permissionsOf(statementsOf(json(), policy.policy))).toEqual([
      { effect: "Allow", actions: GUIDE_S3_BUCKET_ACTIONS, resources: [bucketArn("prefect-demo-bucket"), bucketArn("second-bucket")] },
      {
        effect: "Allow",
        actions: S3_OBJECT_ACTIONS,
        resources: [`${bucketArn("prefect-demo-bucket")}/*`, `${bucketArn("second-bucket")}/*`],
      },
    ]);
  });

  it("THEN the policy is attached to the flow-run task role", () => {
    const attachments = Object.values(resourcesOfType(json(), "aws_iam_role_policy_attachment"));
    expect(attachments).toContainEqual(
      expect.objectContaining({
        role: ref("aws_iam_role.flow_run_task_role", "name"),
        policy_arn: ref("aws_iam_policy.flow_run_task_policy", "arn"),
      }),
    );
    expectEveryManagedPolicyAttached(json());
  });
});

describe("GIVEN flowRunTaskRole.statements WHEN synthesized", () => {
  const TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/runs";
  const json = synthesizedOnce({
    flowRunTaskRole: {
      statements: [
        { sid: "ReadRuns", actions: ["dynamodb:GetItem"], resources: [TABLE] },
        {
          effect: "Deny",
          actions: ["dynamodb:DeleteTable"],
          resources: [TABLE],
          conditions: [{ test: "StringEquals", variable: "aws:ResourceTag/team", values: ["data"] }],
        },
      ],
    },
  });

  it("THEN they appear as written in the attached PrefectECSRunnerTaskPolicy", () => {
    const policy = resourceOf(json(), "aws_iam_policy", "flow_run_task_policy");
    const statements = statementsOf(json(), policy.policy);
    expect(statements[0]).toMatchObject({ sid: "ReadRuns", effect: "Allow", actions: ["dynamodb:GetItem"], resources: [TABLE] });
    expect(statements[0].condition ?? []).toEqual([]);
    expect(statements[1]).toMatchObject({
      effect: "Deny",
      actions: ["dynamodb:DeleteTable"],
      resources: [TABLE],
      condition: [{ test: "StringEquals", variable: "aws:ResourceTag/team", values: ["data"] }],
    });
    expect(statements).toHaveLength(2);
    expectEveryManagedPolicyAttached(json());
  });
});

describe("GIVEN flowRunTaskRole.enabled false WHEN synthesized", () => {
  const json = synthesizedOnce({ flowRunTaskRole: { enabled: false } });

  it("THEN no flow-run role or policy exists and no flow_run_task_role_arn output", () => {
    expect(resourcesOfType(json(), "aws_iam_role")).not.toHaveProperty("flow_run_task_role");
    expect(resourcesOfType(json(), "aws_iam_policy")).not.toHaveProperty("flow_run_task_policy");
    expect(json().output).not.toHaveProperty("flow_run_task_role_arn");
  });
});

// ================================================================= ECR disabled

describe("GIVEN ecr.enabled false WHEN synthesized", () => {
  const json = synthesizedOnce({ ecr: { enabled: false } });

  it("THEN no repository and no ecr_repository_url or prefect_yaml output exist", () => {
    expect(resourcesOfType(json(), "aws_ecr_repository")).toEqual({});
    expect(json().output).not.toHaveProperty("ecr_repository_url");
    expect(json().output).not.toHaveProperty("prefect_yaml");
  });
});

// ================================================================= worker options and tags

describe("GIVEN work queues, extra environment, sizes, an image and tags WHEN synthesized", () => {
  const json = synthesizedOnce({
    aws: { region: "eu-west-2" },
    worker: {
      image: "123456789012.dkr.ecr.eu-west-2.amazonaws.com/prefect-worker",
      imageTag: "0.7.5-python3.12",
      cpu: 1024,
      memory: 2048,
      desiredCount: 2,
      workQueues: ["high", "low"],
      environment: { ZETA: "z", ALPHA: "a", PREFECT_LOGGING_LEVEL: "DEBUG" },
    },
    tags: { team: "data", env: "prod" },
  });

  it("THEN each work queue adds --work-queue <name> after the guide's arguments", () => {
    expect(workerContainer(json()).command).toEqual([
      "prefect", "worker", "start", "--pool", "my-ecs-pool", "--type", "ecs", "--with-healthcheck",
      "--work-queue", "high", "--work-queue", "low",
    ]);
  });

  it("THEN the extra environment variables follow the stack's own, sorted by name", () => {
    expect(workerContainer(json()).environment.map((e) => e.name)).toEqual([
      "HOME",
      "PREFECT_API_URL",
      "PREFECT_INTEGRATIONS_AWS_ECS_OBSERVER_SQS_QUEUE_NAME",
      "ALPHA",
      "PREFECT_LOGGING_LEVEL",
      "ZETA",
    ]);
    expect(environmentOf(workerContainer(json()))).toMatchObject({ ALPHA: "a", PREFECT_LOGGING_LEVEL: "DEBUG", ZETA: "z" });
  });

  it("THEN the image repository is configured and the tag still comes from var.worker_image_tag", () => {
    expect(workerContainer(json()).image).toBe("123456789012.dkr.ecr.eu-west-2.amazonaws.com/prefect-worker:${var.worker_image_tag}");
  });

  it("THEN the configured values become the variables' defaults", () => {
    const v = json().variable;
    expect(v.aws_region.default).toBe("eu-west-2");
    expect(v.worker_image_tag.default).toBe("0.7.5-python3.12");
    expect(v.worker_cpu.default).toBe(1024);
    expect(v.worker_memory.default).toBe(2048);
    expect(v.worker_desired_count.default).toBe(2);
  });

  it("THEN the tags reach the provider's default_tags together with PrefectWorkPool", () => {
    const tags = (json().provider.aws[0].default_tags as { tags: Record<string, string> }[])[0].tags;
    expect(tags).toMatchObject({ team: "data", env: "prod", PrefectWorkPool: "my-ecs-pool" });
  });
});

// ================================================================= custom names

describe("GIVEN custom names for every named resource WHEN synthesized", () => {
  const json = synthesizedOnce({
    workPool: { name: "data-pool" },
    cluster: { name: "data-cluster" },
    secret: { name: "data/prefect-key", recoveryWindowInDays: 7 },
    eventsQueue: { name: "data-ecs-events", deadLetterQueueName: "data-ecs-events-dlq", ruleName: "data-ecs-task-events" },
    roles: { executionRoleName: "dataExecRole", workerTaskRoleName: "dataWorkerRole" },
    flowRunTaskRole: { name: "dataFlowRunRole" },
    worker: { family: "data-worker", containerName: "worker", serviceName: "data-worker-service" },
    logs: { groupName: "/data/prefect-worker", retentionInDays: 90 },
    ecr: { repositoryName: "data/flows" },
  });

  it("THEN the cluster, secret, queues and rule carry their names", () => {
    expect(resourceOf(json(), "aws_ecs_cluster", "cluster").name).toBe("data-cluster");
    expect(resourceOf(json(), "aws_secretsmanager_secret", "prefect_api_secret")).toMatchObject({
      name: "data/prefect-key",
      recovery_window_in_days: 7,
    });
    expect(resourceOf(json(), "aws_sqs_queue", "events_queue").name).toBe("data-ecs-events");
    expect(resourceOf(json(), "aws_sqs_queue", "events_dead_letter_queue").name).toBe("data-ecs-events-dlq");
    expect(resourceOf(json(), "aws_cloudwatch_event_rule", "ecs_task_state_changes").name).toBe("data-ecs-task-events");
  });

  it("THEN the roles carry their names", () => {
    expect(resourceOf(json(), "aws_iam_role", "execution_role").name).toBe("dataExecRole");
    expect(resourceOf(json(), "aws_iam_role", "worker_task_role").name).toBe("dataWorkerRole");
    expect(resourceOf(json(), "aws_iam_role", "flow_run_task_role").name).toBe("dataFlowRunRole");
  });

  it("THEN the task family, container name and service name are used", () => {
    expect(resourceOf(json(), "aws_ecs_task_definition", "worker").family).toBe("data-worker");
    expect(workerContainer(json()).name).toBe("worker");
    expect(resourceOf(json(), "aws_ecs_service", "worker").name).toBe("data-worker-service");
  });

  it("THEN the worker polls the pool and the observer reads the renamed queue", () => {
    const container = workerContainer(json());
    expect(container.command).toEqual(["prefect", "worker", "start", "--pool", "data-pool", "--type", "ecs", "--with-healthcheck"]);
    expect(environmentOf(container).PREFECT_INTEGRATIONS_AWS_ECS_OBSERVER_SQS_QUEUE_NAME).toBe(ref("aws_sqs_queue.events_queue", "name"));
  });

  it("THEN the log group has its name and retention, and the container logs to it", () => {
    expect(resourceOf(json(), "aws_cloudwatch_log_group", "worker")).toMatchObject({
      name: "/data/prefect-worker",
      retention_in_days: 90,
    });
    expect(workerContainer(json()).logConfiguration.options["awslogs-group"]).toBe(ref("aws_cloudwatch_log_group.worker", "name"));
  });

  it("THEN the ECR repository has its name and prefect.yaml names the pool", () => {
    expect(resourceOf(json(), "aws_ecr_repository", "flow_images").name).toBe("data/flows");
    const parsed = parseYamlStrictly(renderedPrefectYaml(json())) as unknown as PrefectYaml;
    expect(parsed.deployments[0].work_pool.name).toBe("data-pool");
  });

  it("THEN the resource addresses stay fixed whatever the names", () => {
    expect(resourceAddresses(json())).toEqual(
      expect.arrayContaining([
        "aws_ecs_cluster.cluster",
        "aws_iam_role.execution_role",
        "aws_iam_role.worker_task_role",
        "aws_iam_role.flow_run_task_role",
        "aws_sqs_queue.events_queue",
        "aws_sqs_queue.events_dead_letter_queue",
        "aws_cloudwatch_event_rule.ecs_task_state_changes",
        "aws_ecs_task_definition.worker",
        "aws_ecs_service.worker",
        "aws_cloudwatch_log_group.worker",
        "aws_ecr_repository.flow_images",
      ]),
    );
  });
});

describe('GIVEN cluster.containerInsights "enhanced" and network.egressPorts [443, 4200] WHEN synthesized', () => {
  const json = synthesizedOnce({
    cluster: { containerInsights: "enhanced" },
    network: { ...EXPLICIT_NETWORK, egressPorts: [443, 4200] },
  });

  it('THEN the cluster sets containerInsights = "enhanced" (CKV_AWS_65 passes with it too)', () => {
    expect(bodyOf(json(), "aws_ecs_cluster", "cluster").setting).toEqual([{ name: "containerInsights", value: "enhanced" }]);
  });

  it("THEN the worker's group has one TCP egress rule per port, each with a description, and no all-protocol rule (CKV_AWS_382)", () => {
    const rules = resourcesOfType(json(), "aws_vpc_security_group_egress_rule");
    expect(Object.keys(rules).sort()).toEqual(["worker_egress_4200", "worker_egress_443"]);
    for (const port of [443, 4200]) {
      expect(bodyOf(json(), "aws_vpc_security_group_egress_rule", `worker_egress_${port}`)).toEqual({
        security_group_id: ref("aws_security_group.worker", "id"),
        description: expect.any(String),
        ip_protocol: "tcp",
        from_port: port,
        to_port: port,
        cidr_ipv4: "0.0.0.0/0",
      });
    }
  });
});
