/**
 * Specification of the configuration validation: `resolveConfig(raw)` either
 * returns the resolved configuration (the guide's names by default, AWS names
 * derived from the work pool name) or throws a ConfigError that lists every
 * problem as { field, value, message }, where the message says what is allowed.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError, ConfigProblem } from "../src/config/errors";
import { loadConfig, parseConfigText } from "../src/config/load";
import { resolveConfig } from "../src/config/resolve";

// ---------------------------------------------------------------- helpers

/** The ConfigError that `action` throws; fails the test if it returns or throws anything else. */
function configErrorFrom(action: () => unknown): ConfigError {
  let result: unknown;
  try {
    result = action();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw new Error(`expected a ConfigError, got ${String(error)}`);
  }
  throw new Error(`expected a ConfigError, but got a result: ${JSON.stringify(result)}`);
}

/** The ConfigError that resolving `raw` throws; fails the test if it resolves. */
function errorOf(raw: unknown, source?: string): ConfigError {
  return configErrorFrom(() => resolveConfig(raw, source));
}

/** The problems listed when resolving `raw`; fails the test if nothing was thrown. */
function problemsOf(raw: unknown): readonly ConfigProblem[] {
  return errorOf(raw).problems;
}

function fieldsOf(problems: readonly ConfigProblem[]): string[] {
  return problems.map((p) => p.field);
}

/** The one problem reported on `field` (fails if there is none). */
function problemAt(problems: readonly ConfigProblem[], field: string): ConfigProblem {
  const found = problems.filter((p) => p.field === field);
  if (found.length === 0) {
    throw new Error(`expected a problem on ${field}; got problems on: ${fieldsOf(problems).join(", ") || "(none)"}`);
  }
  return found[0];
}

/** Asserts a problem on `field`, with `value` if given, whose message contains every phrase. */
function expectProblem(
  problems: readonly ConfigProblem[],
  field: string,
  expected: { value?: unknown; says: readonly string[] },
): void {
  const problem = problemAt(problems, field);
  if ("value" in expected) expect(problem.value).toEqual(expected.value);
  for (const phrase of expected.says) expect(problem.message).toContain(phrase);
}

/** A string shaped like a Prefect API key (pnu_ + 30 alphanumerics), built at runtime so no key-like literal sits in the source. */
const FAKE_PREFECT_KEY = "pnu_" + "Xy7Qw3Rt9Z".repeat(3);
const UUID_A = "0b9e0d6a-5a6b-4c8d-9e0f-1a2b3c4d5e6f";
const UUID_B = "f6e5d4c3-b2a1-4f0e-9d8c-7b6a5f4e3d2c";
const CLOUD_URL = `https://api.prefect.cloud/api/accounts/${UUID_A}/workspaces/${UUID_B}`;
const SELF_HOSTED_URL = "http://prefect.internal:4200/api";
const SELF_HOSTED = { server: "self-hosted", apiUrl: SELF_HOSTED_URL } as const;
const VPC = "vpc-0123456789abcdef0";
const SUBNET = "subnet-0123abcd";
const SG = "sg-0a1b2c3d4e5f60718";
const TOP_LEVEL_KEYS = [
  "$schema",
  "workPool",
  "aws",
  "prefect",
  "secret",
  "cluster",
  "network",
  "worker",
  "eventsQueue",
  "roles",
  "flowRunTaskRole",
  "ecr",
  "logs",
  "tags",
];

// ---------------------------------------------------------------- defaults

describe("defaults: the guide's own names", () => {
  test("GIVEN an empty configuration WHEN resolved THEN every name is the one the guide uses", () => {
    const config = resolveConfig({});

    expect(config.workPoolName).toBe("my-ecs-pool");
    expect(config.region).toBe("us-east-1");
    expect(config.prefect).toEqual({ server: "cloud", apiUrl: undefined, auth: "api-key" });
    expect(config.cluster).toEqual({ mode: "create", name: "my-ecs-cluster", containerInsights: "enabled" });
    expect(config.secret).toEqual({
      store: "secretsmanager",
      environmentName: "PREFECT_API_KEY",
      mode: "create",
      name: "PrefectECSWorkerAPIKey",
      valueSource: "ephemeral-variable",
      kmsKeyArn: undefined,
      recoveryWindowInDays: 30,
    });
    expect(config.roles).toEqual({ executionRoleName: "ecsTaskExecutionRole", workerTaskRoleName: "ecsTaskRole" });
    expect(config.flowRunTaskRole).toEqual({ enabled: true, name: "PrefectECSRunnerTaskRole", s3Buckets: [], statements: [] });
    expect(config.eventsQueue).toEqual({
      name: "my-ecs-pool-events",
      deadLetterQueueName: "my-ecs-pool-events-dlq",
      ruleName: "my-ecs-pool-task-state-changes",
    });
    expect(config.worker).toMatchObject({
      image: "prefecthq/prefect-aws",
      imageTag: "latest",
      cpu: 512,
      memory: 1024,
      desiredCount: 1,
      family: "prefect-worker-task",
      containerName: "prefect-worker",
      serviceName: "prefect-worker-service",
      workQueues: [],
      environment: {},
    });
    expect(config.network).toEqual({ mode: "default-vpc", assignPublicIp: true });
    expect(config.ecr).toEqual({ enabled: true, repositoryName: "my-ecs-pool-flows" });
    expect(config.logs).toEqual({ groupName: "/ecs/prefect-worker/my-ecs-pool", retentionInDays: 30 });
    expect(config.tags).toEqual({});
  });

  test("GIVEN no configuration at all (undefined) WHEN resolved THEN it equals the empty configuration", () => {
    expect(resolveConfig(undefined)).toEqual(resolveConfig({}));
  });

  test("GIVEN the $schema key editors use WHEN resolved THEN it is accepted", () => {
    expect(() => resolveConfig({ $schema: "./schema/prefect-ecs-worker.schema.json" })).not.toThrow();
  });
});

describe("names derived from the work pool name", () => {
  test('GIVEN pool "team-a" WHEN resolved THEN queues, rule, ECR repository and log group derive from it', () => {
    const config = resolveConfig({ workPool: { name: "team-a" } });

    expect(config.workPoolName).toBe("team-a");
    expect(config.eventsQueue).toEqual({
      name: "team-a-events",
      deadLetterQueueName: "team-a-events-dlq",
      ruleName: "team-a-task-state-changes",
    });
    expect(config.ecr).toEqual({ enabled: true, repositoryName: "team-a-flows" });
    expect(config.logs.groupName).toBe("/ecs/prefect-worker/team-a");
  });

  test('GIVEN pool "team-a" and the SSM store WHEN resolved THEN the parameter is /prefect/team-a/api/key', () => {
    const config = resolveConfig({ workPool: { name: "team-a" }, secret: { store: "ssm" } });

    expect(config.secret).toMatchObject({ store: "ssm", mode: "create", name: "/prefect/team-a/api/key" });
  });

  test("GIVEN explicit names WHEN resolved THEN they win over the derived ones", () => {
    const config = resolveConfig({
      workPool: { name: "team-a" },
      eventsQueue: { name: "q", deadLetterQueueName: "q-dlq", ruleName: "r" },
      ecr: { repositoryName: "flows/team-a" },
      logs: { groupName: "/custom/worker" },
    });

    expect(config.eventsQueue).toEqual({ name: "q", deadLetterQueueName: "q-dlq", ruleName: "r" });
    expect(config.ecr).toEqual({ enabled: true, repositoryName: "flows/team-a" });
    expect(config.logs.groupName).toBe("/custom/worker");
  });
});

// ---------------------------------------------------------------- unknown keys

describe("unknown keys", () => {
  test("GIVEN a misspelt top-level key WHEN resolved THEN the problem names it and lists the allowed top-level keys", () => {
    const problems = problemsOf({ workpool: { name: "team-a" } });

    expect(fieldsOf(problems)).toEqual(["workpool"]);
    expectProblem(problems, "workpool", { value: { name: "team-a" }, says: ["unknown key", "allowed keys here:", ...TOP_LEVEL_KEYS] });
  });

  test("GIVEN a misspelt nested key WHEN resolved THEN the problem names its dotted path and the keys allowed in that section", () => {
    const problems = problemsOf({ network: { vpcId: VPC, subnets: [SUBNET], securityGroupIds: [SG] } });

    expectProblem(problems, "network.subnets", {
      value: [SUBNET],
      says: ["unknown key", "vpcId", "subnetIds", "securityGroupIds", "assignPublicIp"],
    });
    expect(problemAt(problems, "network.subnets").message).not.toContain("workPool");
  });

  test("GIVEN an unknown key inside a list item WHEN resolved THEN the path includes the index and the item's allowed keys", () => {
    const problems = problemsOf({
      flowRunTaskRole: { statements: [{ actions: ["s3:GetObject"], resources: ["*"], principal: "x" }] },
    });

    expectProblem(problems, "flowRunTaskRole.statements[0].principal", {
      value: "x",
      says: ["unknown key", "sid, effect, actions, resources, conditions"],
    });
  });
});

// ---------------------------------------------------------------- work pool names

describe("work pool names", () => {
  test.each(["/", "%", "&", ">", "<"])(
    'GIVEN a pool name containing "%s" WHEN resolved THEN workPool.name is rejected with the characters Prefect bans',
    (character) => {
      const name = `team${character}a`;
      expectProblem(problemsOf({ workPool: { name } }), "workPool.name", { value: name, says: ["/ % & > or <"] });
    },
  );

  test('GIVEN a pool name containing ";" (allowed by Prefect) WHEN resolved THEN it is rejected because the derived AWS names would be invalid', () => {
    const problems = problemsOf({ workPool: { name: "team;a" } });

    expect(fieldsOf(problems)).not.toContain("workPool.name");
    expectProblem(problems, "eventsQueue.name", { value: "team;a-events", says: ["derived from workPool.name"] });
  });

  test.each(["Prefect-pool", "prefect", "PREFECTPOOL", "prefect-ecs"])(
    'GIVEN pool name "%s" WHEN resolved THEN it is rejected: names starting with "prefect" are reserved (any case)',
    (name) => {
      expectProblem(problemsOf({ workPool: { name } }), "workPool.name", { value: name, says: ['must not start with "prefect"'] });
    },
  );

  test('GIVEN "prefect" in the middle of the pool name WHEN resolved THEN it is accepted', () => {
    expect(resolveConfig({ workPool: { name: "my-prefect-pool" } }).workPoolName).toBe("my-prefect-pool");
  });

  test("GIVEN an empty pool name WHEN resolved THEN workPool.name must not be empty", () => {
    expectProblem(problemsOf({ workPool: { name: "" } }), "workPool.name", { value: "", says: ["must not be empty"] });
  });

  test('GIVEN pool "My Pool" (valid for Prefect) WHEN resolved THEN each derived AWS name is reported as derived from workPool.name', () => {
    const problems = problemsOf({ workPool: { name: "My Pool" } });

    expect(fieldsOf(problems)).not.toContain("workPool.name");
    expectProblem(problems, "eventsQueue.name", {
      value: "My Pool-events",
      says: ["derived from workPool.name", "letters, digits, hyphens and underscores", "set eventsQueue.name explicitly"],
    });
    expectProblem(problems, "eventsQueue.deadLetterQueueName", { value: "My Pool-events-dlq", says: ["derived from workPool.name"] });
    expectProblem(problems, "eventsQueue.ruleName", { value: "My Pool-task-state-changes", says: ["derived from workPool.name"] });
    expectProblem(problems, "ecr.repositoryName", { value: "My Pool-flows", says: ["derived from workPool.name", "lowercase"] });
    expectProblem(problems, "logs.groupName", { value: "/ecs/prefect-worker/My Pool", says: ["derived from workPool.name"] });
  });

  test('GIVEN pool "My Pool" and every derived name set explicitly WHEN resolved THEN it resolves with the pool name unchanged', () => {
    const config = resolveConfig({
      workPool: { name: "My Pool" },
      eventsQueue: { name: "my-pool-events", deadLetterQueueName: "my-pool-events-dlq", ruleName: "my-pool-task-state-changes" },
      ecr: { repositoryName: "my-pool-flows" },
      logs: { groupName: "/ecs/prefect-worker/my-pool" },
    });

    expect(config.workPoolName).toBe("My Pool");
    expect(config.eventsQueue.name).toBe("my-pool-events");
  });
});

// ---------------------------------------------------------------- ARNs

describe("ARNs and existing resources", () => {
  test("GIVEN secret.existing without the 6-character suffix (the guide's ARN) WHEN resolved THEN it is rejected and the suffix is explained", () => {
    const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:PrefectECSWorkerAPIKey";

    expectProblem(problemsOf({ secret: { existing: arn } }), "secret.existing", {
      value: arn,
      says: ["6-character suffix", "arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf"],
    });
  });

  test("GIVEN the full Secrets Manager ARN WHEN resolved THEN the existing secret is referenced and its value is external", () => {
    const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:PrefectECSWorkerAPIKey-AbC123";

    expect(resolveConfig({ secret: { existing: arn } }).secret).toMatchObject({
      store: "secretsmanager",
      mode: "existing",
      existingArn: arn,
      valueSource: "external",
    });
  });

  test("GIVEN a KMS alias ARN as secret.kmsKeyArn WHEN resolved THEN it is rejected: only key ARNs", () => {
    const alias = "arn:aws:kms:us-east-1:123456789012:alias/prefect";

    expectProblem(problemsOf({ secret: { kmsKeyArn: alias } }), "secret.kmsKeyArn", {
      value: alias,
      says: ["KMS key ARN", "aliases are not allowed"],
    });
  });

  test("GIVEN a KMS key ARN WHEN resolved THEN it is kept on the secret", () => {
    const key = "arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    expect(resolveConfig({ secret: { kmsKeyArn: key } }).secret?.kmsKeyArn).toBe(key);
  });

  test("GIVEN a malformed ECS cluster ARN WHEN resolved THEN cluster.existing is rejected with the ARN shape", () => {
    const arn = "arn:aws:ecs:us-east-1:12345:cluster/prod";

    expectProblem(problemsOf({ cluster: { existing: arn } }), "cluster.existing", {
      value: arn,
      says: ["arn:aws:ecs:<region>:<account>:cluster/<name>"],
    });
  });

  test("GIVEN an existing cluster by name WHEN resolved THEN it is referenced by name", () => {
    expect(resolveConfig({ cluster: { existing: "prod-cluster" } }).cluster).toEqual({ mode: "existing", name: "prod-cluster" });
  });

  test("GIVEN an existing cluster by ARN WHEN resolved THEN it is referenced by ARN", () => {
    const arn = "arn:aws:ecs:us-east-1:123456789012:cluster/prod-cluster";

    expect(resolveConfig({ cluster: { existing: arn } }).cluster).toEqual({ mode: "existing", arn });
  });

  test("GIVEN an existing SSM parameter by name WHEN resolved THEN it is referenced by parameter name", () => {
    const secret = resolveConfig({ secret: { store: "ssm", existing: "/prefect/prod/api/key" } }).secret;

    expect(secret).toMatchObject({ store: "ssm", mode: "existing", existingParameterName: "/prefect/prod/api/key" });
    expect(secret?.existingArn).toBeUndefined();
  });

  test("GIVEN an existing SSM parameter by ARN WHEN resolved THEN it is referenced by ARN", () => {
    const arn = "arn:aws:ssm:us-east-1:123456789012:parameter/prefect/prod/api/key";

    const secret = resolveConfig({ secret: { store: "ssm", existing: arn } }).secret;

    expect(secret).toMatchObject({ store: "ssm", mode: "existing", existingArn: arn });
    expect(secret?.existingParameterName).toBeUndefined();
  });
});

// ---------------------------------------------------------------- region and network IDs

describe("region and network identifiers", () => {
  test.each(["us-east", "US-EAST-1", "useast1"])("GIVEN region %p WHEN resolved THEN aws.region is rejected", (region) => {
    expectProblem(problemsOf({ aws: { region } }), "aws.region", { value: region, says: ["AWS region such as us-east-1"] });
  });

  test("GIVEN a valid region WHEN resolved THEN it is used", () => {
    expect(resolveConfig({ aws: { region: "eu-west-2" } }).region).toBe("eu-west-2");
  });

  test("GIVEN malformed subnet IDs WHEN resolved THEN each is reported at its index with the ID format", () => {
    const problems = problemsOf({ network: { vpcId: VPC, subnetIds: ["subnt-123", "subnet-xyz"], securityGroupIds: [SG] } });

    expectProblem(problems, "network.subnetIds[0]", { value: "subnt-123", says: ["subnet- followed by 8 or 17 hex digits"] });
    expectProblem(problems, "network.subnetIds[1]", { value: "subnet-xyz", says: ["subnet- followed by 8 or 17 hex digits"] });
  });

  test("GIVEN a malformed security group ID WHEN resolved THEN network.securityGroupIds[0] is rejected", () => {
    expectProblem(problemsOf({ network: { vpcId: VPC, subnetIds: [SUBNET], securityGroupIds: ["sg-1"] } }), "network.securityGroupIds[0]", {
      value: "sg-1",
      says: ["sg- followed by 8 or 17 hex digits"],
    });
  });

  test("GIVEN a malformed VPC ID WHEN resolved THEN network.vpcId is rejected", () => {
    expectProblem(problemsOf({ network: { vpcId: "vpc-ZZ", subnetIds: [SUBNET], securityGroupIds: [SG] } }), "network.vpcId", {
      value: "vpc-ZZ",
      says: ["vpc- followed by 8 or 17 hex digits"],
    });
  });

  test("GIVEN a VPC with its subnets and security groups WHEN resolved THEN the network is explicit", () => {
    expect(resolveConfig({ network: { vpcId: VPC, subnetIds: [SUBNET], securityGroupIds: [SG], assignPublicIp: false } }).network).toEqual({
      mode: "explicit",
      vpcId: VPC,
      subnetIds: [SUBNET],
      securityGroupIds: [SG],
      assignPublicIp: false,
    });
  });
});

// ---------------------------------------------------------------- Fargate sizes

describe("Fargate task size", () => {
  test("GIVEN cpu 512 with memory 512 WHEN resolved THEN worker.memory is rejected with the memory allowed for 512 CPU", () => {
    expectProblem(problemsOf({ worker: { cpu: 512, memory: 512 } }), "worker.memory", {
      value: 512,
      says: ["1024, 2048, 3072, 4096"],
    });
  });

  test("GIVEN cpu 300 WHEN resolved THEN worker.cpu is rejected with the Fargate CPU sizes", () => {
    expectProblem(problemsOf({ worker: { cpu: 300 } }), "worker.cpu", {
      value: 300,
      says: ["256, 512, 1024, 2048, 4096, 8192, 16384"],
    });
  });

  test("GIVEN cpu 1024 with memory 4096 WHEN resolved THEN the size is accepted", () => {
    expect(resolveConfig({ worker: { cpu: 1024, memory: 4096 } }).worker).toMatchObject({ cpu: 1024, memory: 4096 });
  });
});

// ---------------------------------------------------------------- Prefect server, URL and auth

describe("Prefect server, API URL and auth", () => {
  test("GIVEN Prefect Cloud with a self-hosted URL WHEN resolved THEN prefect.apiUrl must be a Cloud workspace URL", () => {
    expectProblem(problemsOf({ prefect: { server: "cloud", apiUrl: SELF_HOSTED_URL } }), "prefect.apiUrl", {
      value: SELF_HOSTED_URL,
      says: ["https://api.prefect.cloud/api/accounts/<account-id>/workspaces/<workspace-id>"],
    });
  });

  test("GIVEN Prefect Cloud with a workspace URL WHEN resolved THEN it is accepted with api-key auth", () => {
    expect(resolveConfig({ prefect: { apiUrl: CLOUD_URL } }).prefect).toEqual({ server: "cloud", apiUrl: CLOUD_URL, auth: "api-key" });
  });

  test("GIVEN a self-hosted server with a Cloud URL WHEN resolved THEN prefect.apiUrl is rejected as a Cloud URL", () => {
    expectProblem(problemsOf({ prefect: { server: "self-hosted", apiUrl: CLOUD_URL } }), "prefect.apiUrl", {
      value: CLOUD_URL,
      says: ["Prefect Cloud URL", '"self-hosted"'],
    });
  });

  test("GIVEN a self-hosted URL not ending in /api WHEN resolved THEN prefect.apiUrl must end in /api", () => {
    const url = "http://prefect.internal:4200";

    expectProblem(problemsOf({ prefect: { server: "self-hosted", apiUrl: url } }), "prefect.apiUrl", { value: url, says: ["ending in /api"] });
  });

  test("GIVEN Prefect Cloud with basic-auth WHEN resolved THEN prefect.auth must be api-key", () => {
    expectProblem(problemsOf({ prefect: { server: "cloud", auth: "basic-auth" } }), "prefect.auth", {
      value: "basic-auth",
      says: ['"api-key"', "self-hosted"],
    });
  });

  test("GIVEN a self-hosted server WHEN resolved THEN basic auth is the default, read from PREFECT_API_AUTH_STRING", () => {
    const config = resolveConfig({ prefect: SELF_HOSTED });

    expect(config.prefect).toEqual({ server: "self-hosted", apiUrl: SELF_HOSTED_URL, auth: "basic-auth" });
    expect(config.secret).toMatchObject({ environmentName: "PREFECT_API_AUTH_STRING", mode: "create", name: "PrefectECSWorkerAuthString" });
  });

  test("GIVEN self-hosted basic auth in SSM WHEN resolved THEN the parameter is /prefect/<pool>/api/auth-string", () => {
    const config = resolveConfig({ workPool: { name: "team-a" }, prefect: SELF_HOSTED, secret: { store: "ssm" } });

    expect(config.secret).toMatchObject({
      store: "ssm",
      environmentName: "PREFECT_API_AUTH_STRING",
      name: "/prefect/team-a/api/auth-string",
    });
  });

  test("GIVEN a self-hosted server without auth WHEN resolved THEN there is no secret at all", () => {
    const config = resolveConfig({ prefect: { ...SELF_HOSTED, auth: "none" } });

    expect(config.prefect.auth).toBe("none");
    expect(config.secret).toBeUndefined();
  });
});

// ---------------------------------------------------------------- secrets in the file

describe("plaintext secrets never go in the configuration, and are never echoed", () => {
  test.each([
    ["a secret.value key", { secret: { value: "hunter2-literal" } }, "secret.value", "hunter2-literal"],
    ["a prefect.apiKey key", { prefect: { apiKey: "hunter2-literal" } }, "prefect.apiKey", "hunter2-literal"],
    [
      "worker.environment.PREFECT_API_KEY",
      { worker: { environment: { PREFECT_API_KEY: FAKE_PREFECT_KEY } } },
      "worker.environment.PREFECT_API_KEY",
      FAKE_PREFECT_KEY,
    ],
    ["a Prefect key as any value", { worker: { environment: { FOO: FAKE_PREFECT_KEY } } }, "worker.environment.FOO", FAKE_PREFECT_KEY],
    ["a Prefect key in a list", { worker: { workQueues: [FAKE_PREFECT_KEY] } }, "worker.workQueues[0]", FAKE_PREFECT_KEY],
  ])("GIVEN %s WHEN resolved THEN it is reported as a plaintext secret without its value", (_label, raw, field, secretValue) => {
    const error = errorOf(raw);

    expectProblem(error.problems, field, { says: ["plaintext secret", "TF_VAR_prefect_api_key", "secret.existing"] });
    expect(problemAt(error.problems, field).value).not.toEqual(secretValue);
    expect(error.message).not.toContain(secretValue);
    expect(JSON.stringify(error.problems)).not.toContain(secretValue);
  });

  test("GIVEN a Prefect key inside a misspelt section WHEN resolved THEN the unknown-key problem shows the section masked", () => {
    const error = errorOf({ worker: { environmentt: { FOO: FAKE_PREFECT_KEY } } });

    expect(fieldsOf(error.problems)).toEqual(expect.arrayContaining(["worker.environmentt.FOO", "worker.environmentt"]));
    expect(error.message).not.toContain(FAKE_PREFECT_KEY);
    expect(JSON.stringify(error.problems)).not.toContain(FAKE_PREFECT_KEY);
  });

  test("GIVEN a Prefect key in a section of the wrong type WHEN resolved THEN the type problem shows it masked", () => {
    const error = errorOf({ worker: { environment: [FAKE_PREFECT_KEY] } });

    expectProblem(error.problems, "worker.environment", { says: ["expected record"] });
    expect(error.message).not.toContain(FAKE_PREFECT_KEY);
    expect(JSON.stringify(error.problems)).not.toContain(FAKE_PREFECT_KEY);
  });

  test("GIVEN a secret-named key whose value contains ${ WHEN resolved THEN the template check does not echo the secret either", () => {
    const secretValue = "s3cr3t${oops}";
    const error = errorOf({ prefect: { apiKey: secretValue } });

    expectProblem(error.problems, "prefect.apiKey", { says: ["plaintext secret"] });
    expect(error.message).not.toContain(secretValue);
    expect(JSON.stringify(error.problems)).not.toContain(secretValue);
  });
});

describe("Terraform template sequences", () => {
  test.each([
    ["${", { worker: { environment: { FOO: "x-${var.y}" } } }, "worker.environment.FOO", "x-${var.y}"],
    ["%{", { tags: { team: "%{ if true }a%{ endif }" } }, "tags.team", "%{ if true }a%{ endif }"],
    ["${ in a list", { worker: { workQueues: ["${q}"] } }, "worker.workQueues[0]", "${q}"],
  ])("GIVEN a string containing %s WHEN resolved THEN it is rejected at its path", (_label, raw, field, value) => {
    expectProblem(problemsOf(raw), field, { value, says: ["must not contain ${ or %{"] });
  });

  test("GIVEN a lone $ or % WHEN resolved THEN it is accepted", () => {
    expect(() => resolveConfig({ tags: { cost: "$100", share: "50%" } })).not.toThrow();
  });
});

// ---------------------------------------------------------------- contradictions

describe("contradictory options", () => {
  test('GIVEN prefect.auth "none" with a secret section WHEN resolved THEN the secret section is reported', () => {
    const problems = problemsOf({ prefect: { ...SELF_HOSTED, auth: "none" }, secret: { store: "ssm" } });

    expect(fieldsOf(problems)).toEqual(["secret"]);
    expectProblem(problems, "secret", { value: { store: "ssm" }, says: ['prefect.auth "none"', "remove the secret section"] });
  });

  test("GIVEN cluster.name and cluster.existing WHEN resolved THEN cluster.name contradicts cluster.existing", () => {
    const problems = problemsOf({ cluster: { name: "new", existing: "old" } });

    expect(fieldsOf(problems)).toEqual(["cluster.name"]);
    expectProblem(problems, "cluster.name", { value: "new", says: ["contradicts cluster.existing"] });
  });

  test("GIVEN secret.existing and secret.name WHEN resolved THEN secret.name contradicts secret.existing", () => {
    const problems = problemsOf({ secret: { store: "ssm", existing: "/prefect/prod/api/key", name: "/prefect/other" } });

    expect(fieldsOf(problems)).toEqual(["secret.name"]);
    expectProblem(problems, "secret.name", { value: "/prefect/other", says: ["contradicts secret.existing"] });
  });

  test("GIVEN secret.existing and secret.valueSource WHEN resolved THEN secret.valueSource contradicts secret.existing", () => {
    const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:PrefectECSWorkerAPIKey-AbC123";
    const problems = problemsOf({ secret: { existing: arn, valueSource: "external" } });

    expect(fieldsOf(problems)).toEqual(["secret.valueSource"]);
    expectProblem(problems, "secret.valueSource", { value: "external", says: ["contradicts secret.existing"] });
  });

  test('GIVEN an SSM parameter to create with valueSource "external" WHEN resolved THEN it is rejected: SSM needs the value', () => {
    const problems = problemsOf({ secret: { store: "ssm", valueSource: "external" } });

    expect(fieldsOf(problems)).toEqual(["secret.valueSource"]);
    expectProblem(problems, "secret.valueSource", { value: "external", says: ['"ephemeral-variable"', "secret.existing"] });
  });

  test("GIVEN subnetIds without vpcId WHEN resolved THEN network.subnetIds needs network.vpcId", () => {
    const problems = problemsOf({ network: { subnetIds: [SUBNET] } });

    expect(fieldsOf(problems)).toEqual(["network.subnetIds"]);
    expectProblem(problems, "network.subnetIds", { value: [SUBNET], says: ["needs network.vpcId"] });
  });

  test("GIVEN vpcId without subnetIds or securityGroupIds WHEN resolved THEN both are required", () => {
    const problems = problemsOf({ network: { vpcId: VPC } });

    expect(fieldsOf(problems).sort()).toEqual(["network.securityGroupIds", "network.subnetIds"]);
    expectProblem(problems, "network.subnetIds", { value: undefined, says: ["required with network.vpcId"] });
    expectProblem(problems, "network.securityGroupIds", { value: undefined, says: ["required with network.vpcId"] });
  });

  test("GIVEN the flow-run task role disabled but S3 buckets granted WHEN resolved THEN the buckets contradict it", () => {
    const problems = problemsOf({ flowRunTaskRole: { enabled: false, s3Buckets: ["my-flow-data"] } });

    expect(fieldsOf(problems)).toEqual(["flowRunTaskRole.s3Buckets"]);
    expectProblem(problems, "flowRunTaskRole.s3Buckets", { value: ["my-flow-data"], says: ["flowRunTaskRole.enabled false"] });
  });

  test("GIVEN the flow-run task role disabled WHEN resolved THEN it resolves to disabled", () => {
    expect(resolveConfig({ flowRunTaskRole: { enabled: false } }).flowRunTaskRole).toEqual({ enabled: false });
  });

  test("GIVEN ECR disabled but a repository name WHEN resolved THEN the name contradicts it", () => {
    const problems = problemsOf({ ecr: { enabled: false, repositoryName: "flows" } });

    expect(fieldsOf(problems)).toEqual(["ecr.repositoryName"]);
    expectProblem(problems, "ecr.repositoryName", { value: "flows", says: ["contradicts ecr.enabled false"] });
  });

  test("GIVEN the worker task role named like the execution role WHEN resolved THEN the duplicate role name is reported", () => {
    const problems = problemsOf({ roles: { workerTaskRoleName: "ecsTaskExecutionRole" } });

    expect(fieldsOf(problems)).toEqual(["roles.workerTaskRoleName"]);
    expectProblem(problems, "roles.workerTaskRoleName", { value: "ecsTaskExecutionRole", says: ["is also roles.executionRoleName"] });
  });

  test("GIVEN the flow-run task role named like the worker task role WHEN resolved THEN the duplicate role name is reported", () => {
    expectProblem(problemsOf({ flowRunTaskRole: { name: "ecsTaskRole" } }), "flowRunTaskRole.name", {
      value: "ecsTaskRole",
      says: ["is also roles.workerTaskRoleName"],
    });
  });

  test("GIVEN worker.environment sets PREFECT_API_URL WHEN resolved THEN it is reserved for the stack", () => {
    const problems = problemsOf({ worker: { environment: { PREFECT_API_URL: SELF_HOSTED_URL } } });

    expect(fieldsOf(problems)).toEqual(["worker.environment.PREFECT_API_URL"]);
    expectProblem(problems, "worker.environment.PREFECT_API_URL", { value: SELF_HOSTED_URL, says: ["set by the stack"] });
  });
});

// ---------------------------------------------------------------- reporting

describe("reporting", () => {
  test("GIVEN three independent mistakes WHEN resolved THEN all three are reported at once", () => {
    const problems = problemsOf({
      aws: { region: "us-east" },
      worker: { cpu: 300 },
      network: { vpcId: VPC, subnetIds: ["subnt-123"], securityGroupIds: [SG] },
    });

    expect(problems.length).toBeGreaterThanOrEqual(3);
    expect(fieldsOf(problems)).toEqual(expect.arrayContaining(["aws.region", "worker.cpu", "network.subnetIds[0]"]));
  });

  test("GIVEN three independent contradictions WHEN resolved THEN all three are reported at once", () => {
    const problems = problemsOf({
      cluster: { name: "new", existing: "old" },
      ecr: { enabled: false, repositoryName: "flows" },
      worker: { environment: { PREFECT_API_URL: SELF_HOSTED_URL } },
    });

    expect(fieldsOf(problems).sort()).toEqual(["cluster.name", "ecr.repositoryName", "worker.environment.PREFECT_API_URL"]);
  });

  test("GIVEN a plaintext secret and a malformed field WHEN resolved THEN both are reported", () => {
    const problems = problemsOf({ aws: { region: "us-east" }, prefect: { apiKey: FAKE_PREFECT_KEY } });

    expect(fieldsOf(problems).sort()).toEqual(["aws.region", "prefect.apiKey"]);
  });

  test("GIVEN a source name WHEN the configuration is invalid THEN the message names the source and lists each problem with its value", () => {
    const error = errorOf({ aws: { region: "us-east" } }, "config/prod.yaml");

    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("ConfigError");
    expect(error.message).toContain("(config/prod.yaml)");
    expect(error.message).toContain('aws.region (got "us-east"): must be an AWS region');
  });
});

// ---------------------------------------------------------------- files

describe("loading configuration files", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "config-validation-"));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("GIVEN a YAML file WHEN loaded THEN it is parsed and resolved", () => {
    const file = path.join(dir, "worker.yaml");
    fs.writeFileSync(file, ["workPool:", "  name: team-a", "aws:", "  region: eu-west-2", "worker:", "  workQueues: [default, high]", ""].join("\n"));

    const config = loadConfig(file);

    expect(config.workPoolName).toBe("team-a");
    expect(config.region).toBe("eu-west-2");
    expect(config.worker.workQueues).toEqual(["default", "high"]);
    expect(config.eventsQueue.name).toBe("team-a-events");
  });

  test("GIVEN a JSON file WHEN loaded THEN it is parsed and resolved", () => {
    const file = path.join(dir, "worker.json");
    fs.writeFileSync(file, JSON.stringify({ workPool: { name: "team-b" } }));

    expect(loadConfig(file).workPoolName).toBe("team-b");
  });

  test("GIVEN no path WHEN loaded THEN the defaults apply", () => {
    expect(loadConfig()).toEqual(resolveConfig({}));
  });

  test("GIVEN a file that is not valid JSON WHEN loaded THEN a ConfigError names the file", () => {
    const file = path.join(dir, "broken.json");
    fs.writeFileSync(file, "{ workPool: ");

    const error = configErrorFrom(() => loadConfig(file));

    expect(error.message).toContain(file);
    expectProblem(error.problems, "(file)", { value: file, says: ["is not valid JSON"] });
  });

  test("GIVEN text that is not valid YAML WHEN parsed THEN a ConfigError says YAML and names the file", () => {
    const error = configErrorFrom(() => parseConfigText("workPool: [unclosed", "conf/worker.yml"));

    expect(error.message).toContain("conf/worker.yml");
    expectProblem(error.problems, "(file)", { value: "conf/worker.yml", says: ["is not valid YAML"] });
  });

  test("GIVEN a missing file WHEN loaded THEN a ConfigError says it cannot be read", () => {
    const file = path.join(dir, "missing.yaml");

    const error = configErrorFrom(() => loadConfig(file));

    expect(error.message).toContain(file);
    expectProblem(error.problems, "(file)", { value: file, says: ["cannot be read"] });
  });

  test("GIVEN a YAML file with an invalid value WHEN loaded THEN the ConfigError names the file and the field", () => {
    const file = path.join(dir, "invalid.yaml");
    fs.writeFileSync(file, "aws:\n  region: US-EAST-1\n");

    const error = configErrorFrom(() => loadConfig(file));

    expect(error.message).toContain(`(${file})`);
    expectProblem(error.problems, "aws.region", { value: "US-EAST-1", says: ["AWS region"] });
  });
});
