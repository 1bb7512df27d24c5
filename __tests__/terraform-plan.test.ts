/**
 * Terraform gate: real Terraform and the real AWS provider accept what we
 * synthesize, and an offline plan creates exactly the expected resources.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PrefectEcsWorkerConfigInput } from "../src/config/schema";
import { CLOUD_API_URL, synthesize, Synthesized } from "./support/synth";
import { DEFAULT_VPC_VARS, describeWithTerraform, FAKE_PREFECT_API_KEY, init, makeOffline, plan, PlanJson, terraform, terraformOk } from "./support/terraform";

const EXPLICIT_NETWORK = {
  vpcId: "vpc-0a1b2c3d4e5f60718",
  subnetIds: ["subnet-0a1b2c3d4e5f60718", "subnet-1a1b2c3d4e5f60718"],
  securityGroupIds: ["sg-0a1b2c3d4e5f60718"],
};

interface MatrixCase {
  readonly name: string;
  readonly config: PrefectEcsWorkerConfigInput;
  readonly vars: Record<string, unknown>;
  readonly expectedCreates: string[];
}

const IAM_CORE = [
  "aws_iam_role.execution_role",
  "aws_iam_role_policy.execution_role_policy",
  "aws_iam_role.flow_run_execution_role",
  "aws_iam_role_policy.flow_run_execution_role_policy",
  "aws_iam_role.worker_task_role",
  "aws_iam_policy.worker_task_policy",
  "aws_iam_role_policy_attachment.worker_task_policy_attachment",
  "aws_iam_role_policy.worker_task_sqs_policy",
];
const EVENTS = [
  "aws_sqs_queue.events_dead_letter_queue",
  "aws_sqs_queue.events_queue",
  "aws_sqs_queue_policy.events_queue_policy",
  "aws_cloudwatch_event_rule.ecs_task_state_changes",
  "aws_cloudwatch_event_target.ecs_task_state_changes_to_queue",
];
const SERVICE = [
  "aws_cloudwatch_log_group.worker",
  "aws_ecs_task_definition.worker",
  "aws_ecs_service.worker",
  "aws_cloudwatch_log_group.flow_runs",
  "aws_security_group.worker",
  "aws_vpc_security_group_egress_rule.worker_egress_443",
];
/** Created in every configuration. */
const ALWAYS_CREATED = [...IAM_CORE, ...EVENTS, ...SERVICE];

const MATRIX: MatrixCase[] = [
  {
    name: "Prefect Cloud + Secrets Manager + new cluster + default VPC",
    config: { prefect: { server: "cloud", apiUrl: CLOUD_API_URL } },
    vars: { ...DEFAULT_VPC_VARS, prefect_api_key: FAKE_PREFECT_API_KEY },
    expectedCreates: [
      ...ALWAYS_CREATED,
      "aws_ecs_cluster.cluster",
      "aws_secretsmanager_secret.prefect_api_secret",
      "aws_secretsmanager_secret_version.prefect_api_secret_value",
      "aws_iam_role_policy.execution_role_secret_policy",
      "aws_iam_role_policy.flow_run_execution_role_secret_policy",
      "aws_iam_role.flow_run_task_role",
      "aws_ecr_repository.flow_images",
      "aws_ecr_lifecycle_policy.flow_images",
    ],
  },
  {
    name: "self-hosted basic auth + SSM + customer KMS key + existing cluster + explicit network",
    config: {
      workPool: { name: "data-team" },
      prefect: { server: "self-hosted", apiUrl: "https://prefect.internal.example.com/api", auth: "basic-auth" },
      secret: {
        store: "ssm",
        kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      },
      aws: { region: "eu-west-1" },
      cluster: { existing: "arn:aws:ecs:eu-west-1:123456789012:cluster/shared" },
      network: { ...EXPLICIT_NETWORK, assignPublicIp: false },
      worker: { cpu: 1024, memory: 4096, desiredCount: 2, imageTag: "0.7.11-python3.12", workQueues: ["default", "gpu"] },
      flowRunTaskRole: {
        s3Buckets: ["prefect-demo-bucket"],
        statements: [{ actions: ["dynamodb:GetItem"], resources: ["arn:aws:dynamodb:eu-west-1:123456789012:table/runs"] }],
      },
    },
    vars: { prefect_api_auth_string: "admin:not-a-real-password" },
    expectedCreates: [
      ...ALWAYS_CREATED,
      "aws_ssm_parameter.prefect_api_secret",
      "aws_iam_role_policy.execution_role_secret_policy",
      "aws_iam_role_policy.flow_run_execution_role_secret_policy",
      "aws_iam_role.flow_run_task_role",
      "aws_iam_policy.flow_run_task_policy",
      "aws_iam_role_policy_attachment.flow_run_task_policy_attachment",
      "aws_ecr_repository.flow_images",
      "aws_ecr_lifecycle_policy.flow_images",
    ],
  },
  {
    name: "self-hosted without auth, no flow-run role, no ECR, quotes and backslashes in user strings",
    config: {
      prefect: { server: "self-hosted", apiUrl: "http://10.0.0.10:4200/api", auth: "none" },
      cluster: { name: "prefect" },
      network: EXPLICIT_NETWORK,
      worker: { environment: { GREETING: 'say "hi" from C:\\dir' }, workQueues: ["urgent\\eu"] },
      flowRunTaskRole: { enabled: false },
      ecr: { enabled: false },
    },
    vars: {},
    expectedCreates: [...ALWAYS_CREATED, "aws_ecs_cluster.cluster"],
  },
  {
    name: "Prefect Cloud + existing Secrets Manager secret",
    config: {
      prefect: { apiUrl: CLOUD_API_URL },
      secret: { existing: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prefect/api-key-AbCdEf" },
      network: EXPLICIT_NETWORK,
    },
    vars: {},
    expectedCreates: [
      ...ALWAYS_CREATED,
      "aws_ecs_cluster.cluster",
      "aws_iam_role_policy.execution_role_secret_policy",
      "aws_iam_role_policy.flow_run_execution_role_secret_policy",
      "aws_iam_role.flow_run_task_role",
      "aws_ecr_repository.flow_images",
      "aws_ecr_lifecycle_policy.flow_images",
    ],
  },
  {
    name: "Prefect Cloud + Secrets Manager secret whose value is set outside Terraform",
    config: { prefect: { apiUrl: CLOUD_API_URL }, secret: { valueSource: "external" }, network: EXPLICIT_NETWORK },
    vars: {},
    expectedCreates: [
      ...ALWAYS_CREATED,
      "aws_ecs_cluster.cluster",
      "aws_secretsmanager_secret.prefect_api_secret",
      "aws_iam_role_policy.execution_role_secret_policy",
      "aws_iam_role_policy.flow_run_execution_role_secret_policy",
      "aws_iam_role.flow_run_task_role",
      "aws_ecr_repository.flow_images",
      "aws_ecr_lifecycle_policy.flow_images",
    ],
  },
];

function createdAddresses(json: PlanJson): string[] {
  return (json.resource_changes ?? [])
    .filter((change) => change.mode === "managed" && change.change.actions.includes("create"))
    .map((change) => change.address)
    .sort();
}

function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describeWithTerraform("Terraform gate: validate and offline plan", () => {
  describe.each(MATRIX)("GIVEN $name", ({ config, vars, expectedCreates }) => {
    let synthesized: Synthesized;

    beforeAll(() => {
      synthesized = synthesize(config);
      init(synthesized.stackDir);
    });

    it("WHEN validated THEN real Terraform and the AWS provider accept it", () => {
      const result = terraformOk(synthesized.stackDir, ["validate", "-no-color", "-json"]);
      const report = JSON.parse(result.stdout) as { valid: boolean; warning_count: number; diagnostics: unknown[] };
      expect(report).toMatchObject({ valid: true, warning_count: 0 });
    });

    it("WHEN planned offline THEN it creates exactly the expected resources and leaks no secret", () => {
      makeOffline(synthesized.stackDir);
      const { json, output } = plan(synthesized.stackDir, vars);
      expect(createdAddresses(json)).toEqual([...expectedCreates].sort());
      // Only creations: nothing to change or destroy on a first apply. Data sources are read locally or deferred.
      const managed = (json.resource_changes ?? []).filter((c) => c.mode === "managed");
      expect(managed.map((c) => c.change.actions.join())).toEqual(managed.map(() => "create"));

      const secrets = Object.entries(vars)
        .filter(([name]) => name === "prefect_api_key" || name === "prefect_api_auth_string")
        .map(([, value]) => String(value));
      const showJson = JSON.stringify(json);
      for (const secret of secrets) {
        expect(output).not.toContain(secret);
        expect(showJson).not.toContain(secret);
      }
      for (const file of filesBelow(synthesized.outdir).filter((f) => !f.includes(".terraform"))) {
        for (const secret of secrets) expect(readFileSync(file, "latin1")).not.toContain(secret);
      }
    });
  });
});

describeWithTerraform("Terraform gate: variable validation", () => {
  let synthesized: Synthesized;
  beforeAll(() => {
    synthesized = synthesize({ prefect: { apiUrl: CLOUD_API_URL } });
    init(synthesized.stackDir);
    makeOffline(synthesized.stackDir);
  });

  const validVars = { ...DEFAULT_VPC_VARS, prefect_api_key: FAKE_PREFECT_API_KEY };
  it.each([
    ["worker_memory", 512, "worker_memory is not a valid Fargate memory size"],
    ["worker_cpu", 300, "worker_cpu must be one of"],
    ["subnet_ids", ["subnt-1"], "subnet_ids must be a non-empty list of a subnet ID"],
    ["security_group_ids", ["sg-1"], "security_group_ids must be a list of a security group ID"],
    ["vpc_id", "vpc-x", "vpc_id must be a VPC ID"],
    ["prefect_api_url", "http://prefect.internal:4200/api", "prefect_api_url must be a Prefect Cloud workspace API URL"],
    ["worker_image_tag", "bad tag", "worker_image_tag must be an image tag"],
    ["aws_region", "moon-1", "aws_region must be an AWS region"],
    ["worker_desired_count", -1, "worker_desired_count must be a whole number"],
    ["prefect_api_key", "  ", "prefect_api_key must not be empty"],
  ])("GIVEN %s = %j WHEN planned THEN Terraform rejects it with our message", (name, value, message) => {
    const result = terraform(synthesized.stackDir, [
      "plan",
      "-input=false",
      "-no-color",
      ...Object.entries({ ...validVars, [name]: value }).map(
        ([k, v]) => `-var=${k}=${typeof v === "string" ? v : JSON.stringify(v)}`,
      ),
    ]);
    expect(result.status).not.toBe(0);
    expect(result.stderr.replace(/[\s│]+/g, " ")).toContain(message);
  });
});
