/**
 * Specification of the configuration validation: `resolveConfig(raw)` either
 * returns the resolved configuration (the guide's names by default, AWS names
 * derived from the work pool name) or throws a ConfigError that lists every
 * problem as { field, value, message }, where the message says what is allowed.
 */
import { configErrorFrom, fieldsOf } from "./support/config-errors";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError, ConfigProblem } from "../src/config/errors";
import { loadConfig, parseConfigText } from "../src/config/load";
import { resolveConfig } from "../src/config/resolve";

// ---------------------------------------------------------------- helpers

/** The ConfigError that resolving `raw` throws; fails the test if it resolves. */
function errorOf(raw: unknown, source?: string): ConfigError {
  return configErrorFrom(() => resolveConfig(raw, source));
}

/** The problems listed when resolving `raw`; fails the test if nothing was thrown. */
function problemsOf(raw: unknown): readonly ConfigProblem[] {
  return errorOf(raw).problems;
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
const TAG_CHARACTERS = "letters, digits, spaces and _ . : / = + - @";
/** `count` distinct, valid tags. */
const manyTags = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`tag${i}`, `value${i}`]));
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
    expect(config.roles).toEqual({
      executionRoleName: "ecsTaskExecutionRole",
      flowRunExecutionRoleName: "PrefectECSRunnerExecutionRole",
      workerTaskRoleName: "ecsTaskRole",
      workerPolicyName: "ecsTaskPolicy",
    });
    expect(config.flowRunTaskRole).toEqual({
      enabled: true,
      name: "PrefectECSRunnerTaskRole",
      policyName: "PrefectECSRunnerTaskPolicy",
      s3Buckets: [],
      statements: [],
    });
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
    expect(config.network).toEqual({ mode: "default-vpc", assignPublicIp: true, extraSecurityGroupIds: [], egressPorts: [443] });
    expect(config.ecr).toEqual({ enabled: true, repositoryName: "my-ecs-pool-flows", imageTagMutability: "MUTABLE", keepImages: 30 });
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
    expect(config.ecr).toEqual({ enabled: true, repositoryName: "team-a-flows", imageTagMutability: "MUTABLE", keepImages: 30 });
    expect(config.logs.groupName).toBe("/ecs/prefect-worker/team-a");
  });

  test('GIVEN pool "team-a" and the SSM store WHEN resolved THEN the parameter is /prefect/team-a/api/key', () => {
    const config = resolveConfig({ workPool: { name: "team-a" }, secret: { store: "ssm" } });

    expect(config.secret).toMatchObject({ store: "ssm", mode: "create", name: "/prefect/team-a/api/key" });
  });

  test("GIVEN an explicit SSM secret.name that is not a parameter name WHEN resolved THEN secret.name is rejected without mentioning the pool", () => {
    const problems = problemsOf({ secret: { store: "ssm", name: "/prefect/my pool" } });

    expectProblem(problems, "secret.name", { value: "/prefect/my pool", says: ["an SSM parameter name"] });
    expect(problemAt(problems, "secret.name").message).not.toContain("derived from workPool.name");
  });

  test("GIVEN explicit names WHEN resolved THEN they win over the derived ones", () => {
    const config = resolveConfig({
      workPool: { name: "team-a" },
      eventsQueue: { name: "q", deadLetterQueueName: "q-dlq", ruleName: "r" },
      ecr: { repositoryName: "flows/team-a" },
      logs: { groupName: "/custom/worker" },
    });

    expect(config.eventsQueue).toEqual({ name: "q", deadLetterQueueName: "q-dlq", ruleName: "r" });
    expect(config.ecr).toEqual({ enabled: true, repositoryName: "flows/team-a", imageTagMutability: "MUTABLE", keepImages: 30 });
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

  test.each(["team;a", "team:a", "Data Team", "Équipe", "a.b", "a=b", "a+b", "a@b", ".", ".."])(
    "GIVEN the pool name %j (valid for Prefect) WHEN resolved THEN workPool.name alone is rejected: prefect-aws would put it uncleaned into each task-definition family",
    (name) => {
      const problems = problemsOf({ workPool: { name } });

      // The names derived from an invalid pool name are not checked: one problem, at its cause.
      expect(fieldsOf(problems)).toEqual(["workPool.name"]);
      expectProblem(problems, "workPool.name", { value: name, says: ["letters A-Z a-z, digits, - and _", "prefect_<pool>_<deployment id>", "RegisterTaskDefinition"] });
    },
  );

  test("GIVEN a pool name of 211 characters WHEN resolved THEN workPool.name is rejected: the family prefect_<pool>_<deployment id> holds at most 255", () => {
    const name = "a".repeat(211);

    expectProblem(problemsOf({ workPool: { name } }), "workPool.name", { value: name, says: ["at most 210 characters", "at most 255"] });
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

  test("GIVEN an empty pool name WHEN resolved THEN exactly one problem says workPool.name must not be empty", () => {
    expect(problemsOf({ workPool: { name: "" } })).toEqual([{ field: "workPool.name", value: "", message: "must not be empty" }]);
  });

  test.each([" ", "   ", "\t", " \n "])("GIVEN the whitespace-only pool name %j WHEN resolved THEN exactly one problem says it must not be blank", (name) => {
    const problems = problemsOf({ workPool: { name } });

    expect(fieldsOf(problems)).toEqual(["workPool.name"]);
    expectProblem(problems, "workPool.name", { value: name, says: ["must not be blank"] });
  });

  test('GIVEN pool "Data_Team-2" WHEN resolved THEN each derived name fits AWS: kept where allowed, lower case for ECR', () => {
    const config = resolveConfig({ workPool: { name: "Data_Team-2" } });

    expect(config.eventsQueue).toEqual({ name: "Data_Team-2-events", deadLetterQueueName: "Data_Team-2-events-dlq", ruleName: "Data_Team-2-task-state-changes" });
    expect(config.ecr).toMatchObject({ repositoryName: "data-team-2-flows" });
    expect(config.logs.groupName).toBe("/ecs/prefect-worker/Data_Team-2");
    expect(config.flowRunLogs).toMatchObject({ groupName: "/ecs/prefect-flow-runs/Data_Team-2" });
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

// ---------------------------------------------------------------- ECR repository names

describe("ECR repository names", () => {
  test.each([
    ["1 character", "a"],
    ["257 characters", "a".repeat(257)],
  ])("GIVEN a repository name of %s WHEN resolved THEN ecr.repositoryName must be 2 to 256 characters", (_label, repositoryName) => {
    expectProblem(problemsOf({ ecr: { repositoryName } }), "ecr.repositoryName", {
      value: repositoryName,
      says: ["2 to 256 characters", "lowercase letters and digits"],
    });
  });

  test.each([
    ["2 characters", "ab"],
    ["256 characters", "a".repeat(256)],
  ])("GIVEN a repository name of %s WHEN resolved THEN it is accepted", (_label, repositoryName) => {
    expect(resolveConfig({ ecr: { repositoryName } }).ecr).toEqual({ enabled: true, repositoryName, imageTagMutability: "MUTABLE", keepImages: 30 });
  });

  test("GIVEN two 210-character pool names that differ only at the end WHEN resolved THEN every derived name fits AWS and the shortened ones differ", () => {
    const [a, b] = ["x", "y"].map((last) => resolveConfig({ workPool: { name: `${"a".repeat(209)}${last}` }, secret: { store: "ssm" } }));

    for (const config of [a, b]) {
      expect(config.eventsQueue.name).toMatch(/^a+-[0-9a-f]{6}-events$/);
      expect(config.eventsQueue.name.length).toBeLessThanOrEqual(80);
      expect(config.eventsQueue.ruleName.length).toBeLessThanOrEqual(64);
      expect(config.ecr.enabled && config.ecr.repositoryName.length).toBeLessThanOrEqual(256);
    }
    expect(a.eventsQueue.ruleName).not.toBe(b.eventsQueue.ruleName);
    expect(a.eventsQueue.deadLetterQueueName).not.toBe(b.eventsQueue.deadLetterQueueName);
    // Where the whole name fits, it is kept.
    expect(a.logs.groupName).toBe(`/ecs/prefect-worker/${"a".repeat(209)}x`);
    expect(a.secret).toMatchObject({ name: `/prefect/${"a".repeat(209)}x/api/key` });
  });
});

// ---------------------------------------------------------------- IAM statements

describe("flow-run policy statements", () => {
  const statement = (resources: readonly string[]) => ({ flowRunTaskRole: { statements: [{ actions: ["s3:GetObject"], resources }] } });

  test.each(["my-bucket", "s3:::my-bucket", "arn:aws:s3", "arn:aws:s3:::", "arn::s3:::my-bucket", "ARN:aws:s3:::my-bucket"])(
    "GIVEN the resource %p WHEN resolved THEN it is rejected: each resource is \"*\" or an ARN with at least 6 parts",
    (resource) => {
      expectProblem(problemsOf(statement(["*", resource])), "flowRunTaskRole.statements[0].resources[1]", {
        value: resource,
        says: ['"*" or an ARN', "starting with arn:", "at least 6 colon-separated parts"],
      });
    },
  );

  test("GIVEN \"*\" and ARNs, with wildcards and empty region and account WHEN resolved THEN they are accepted", () => {
    const resources = ["*", "arn:aws:s3:::my-bucket/*", "arn:aws:logs:*:*:*", "arn:aws:iam::123456789012:role/x", "arn:aws:sqs:us-east-1:123456789012:q:extra"];

    const config = resolveConfig(statement(resources));

    expect(config.flowRunTaskRole).toMatchObject({ enabled: true, statements: [{ effect: "Allow", actions: ["s3:GetObject"], resources }] });
  });

  test.each(["iam:*", "iam:Pass*", "iam:*Role"])(
    "GIVEN an allowed %p WHEN resolved THEN it is refused: a wildcard over IAM actions hands every flow run the account",
    (action) => {
      const raw = { flowRunTaskRole: { statements: [{ actions: ["s3:GetObject", action], resources: ["arn:aws:s3:::b/*"] }] } };
      expectProblem(problemsOf(raw), "flowRunTaskRole.statements[0].actions[1]", { value: action, says: ["wildcard over IAM actions", "take over"] });
    },
  );

  test.each([["*"], ["arn:aws:iam::123456789012:role/*"]])(
    "GIVEN iam:PassRole allowed on %p WHEN resolved THEN it is refused, naming what to list instead",
    (resource) => {
      const raw = { flowRunTaskRole: { statements: [{ actions: ["iam:PassRole"], resources: [resource] }] } };
      expectProblem(problemsOf(raw), "flowRunTaskRole.statements[0].actions[0]", { value: "iam:PassRole", says: ["every role", "iam:PassedToService"] });
    },
  );

  test("GIVEN iam:* in a Deny statement, and iam:PassRole on one role WHEN resolved THEN both are accepted", () => {
    const statements = [
      { effect: "Deny" as const, actions: ["iam:*"], resources: ["*"] },
      { actions: ["iam:PassRole"], resources: ["arn:aws:iam::123456789012:role/batch-job"] },
    ];
    expect(resolveConfig({ flowRunTaskRole: { statements } }).flowRunTaskRole).toMatchObject({ enabled: true, statements: [{ effect: "Deny" }, { effect: "Allow" }] });
  });

  test("GIVEN a statement without resources WHEN resolved THEN it must list at least one, \"*\" or an ARN", () => {
    expectProblem(problemsOf(statement([])), "flowRunTaskRole.statements[0].resources", { value: [], says: ["at least one resource", '"*" or an ARN'] });
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
      extraSecurityGroupIds: [SG],
      egressPorts: [443],
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

  test.each([
    ["a Prefect key inside a description", { workPool: { description: `deploy with ${FAKE_PREFECT_KEY} please` } }, "workPool.description", FAKE_PREFECT_KEY, ["Prefect API key (pnu_/pnb_)"]],
    ["a service-account key inside a tag", { tags: { note: `pnb_${"A1b2C3d4E5".repeat(3)}` } }, "tags.note", `pnb_${"A1b2C3d4E5".repeat(3)}`, ["Prefect API key (pnu_/pnb_)"]],
    [
      "credentials in the API URL",
      { prefect: { server: "self-hosted", apiUrl: "https://admin:hunter2@prefect.internal/api" } },
      "prefect.apiUrl",
      "hunter2",
      ["credentials in a URL (user:password@host)"],
    ],
    ["a token in a URL of an environment value", { worker: { environment: { SOURCE: "https://ghp_tok3n@github.com/acme/flows" } } }, "worker.environment.SOURCE", "ghp_tok3n", ["credentials in a URL"]],
    ["worker.environment.AWS_SECRET_ACCESS_KEY", { worker: { environment: { AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI" } } }, "worker.environment.AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI", ["says secret, password, token or key", "worker.secrets"]],
    ["worker.environment.DB_PASSWORD", { worker: { environment: { DB_PASSWORD: "hunter2" } } }, "worker.environment.DB_PASSWORD", "hunter2", ["says secret, password, token or key", "worker.secrets"]],
    ["worker.environment.GITHUB_TOKEN", { worker: { environment: { GITHUB_TOKEN: "gho_abc" } } }, "worker.environment.GITHUB_TOKEN", "gho_abc", ["worker.secrets"]],
    ["worker.environment.STRIPE_APIKEY", { worker: { environment: { STRIPE_APIKEY: "sk_live" } } }, "worker.environment.STRIPE_APIKEY", "sk_live", ["worker.secrets"]],
  ])("GIVEN %s WHEN resolved THEN that field is reported without its value", (_label, raw, field, secretValue, says) => {
    const error = errorOf(raw);

    expectProblem(error.problems, field, { value: expect.not.stringContaining(secretValue), says });
    expect(error.message).not.toContain(secretValue);
    expect(JSON.stringify(error.problems)).not.toContain(secretValue);
  });

  test.each(["PREFECT_LOGGING_LEVEL", "KEYCLOAK_REALM", "TOKENIZERS_PARALLELISM", "MONKEYPATCH_DIR"])(
    "GIVEN the ordinary environment name %s WHEN resolved THEN it is accepted",
    (name) => {
      expect(resolveConfig({ worker: { environment: { [name]: "x" } } }).worker.environment).toEqual({ [name]: "x" });
    },
  );

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
    expect(() => resolveConfig({ worker: { environment: { COST: "$100", SHARE: "50%" } } })).not.toThrow();
  });
});

// ---------------------------------------------------------------- AWS tags

describe("AWS tags (provider default_tags)", () => {
  test.each(["aws:team", "AWS:team", "Aws:Team"])('GIVEN the tag key %p WHEN resolved THEN it is rejected: the "aws:" prefix is reserved in any case', (key) => {
    const problems = problemsOf({ tags: { [key]: "data" } });

    expect(fieldsOf(problems)).toEqual([`tags.${key}`]);
    expectProblem(problems, `tags.${key}`, { value: key, says: ["key", 'must not start with "aws:"', "any case"] });
  });

  test('GIVEN a tag key containing "aws:" after its start WHEN resolved THEN it is accepted', () => {
    expect(resolveConfig({ tags: { "team:aws:x": "data" } }).tags).toEqual({ "team:aws:x": "data" });
  });

  test.each([
    ["#", "cost#center"],
    ["$", "cost$"],
    ["a quote", 'team"a'],
    ["129 characters", "k".repeat(129)],
  ])("GIVEN a tag key with %s WHEN resolved THEN the key is rejected with the characters and length AWS allows", (_label, key) => {
    expectProblem(problemsOf({ tags: { [key]: "x" } }), `tags.${key}`, { value: key, says: ["key must be an AWS tag key", "1 to 128", TAG_CHARACTERS] });
  });

  test.each([
    ["$", "$100"],
    ["%", "50%"],
    ["a comma", "a,b"],
    ["257 characters", "v".repeat(257)],
  ])("GIVEN a tag value with %s WHEN resolved THEN the value is rejected with the characters and length AWS allows", (_label, value) => {
    expectProblem(problemsOf({ tags: { team: value } }), "tags.team", { value, says: ["AWS tag value", "at most 256", TAG_CHARACTERS] });
  });

  test("GIVEN tags with non-ASCII letters, spaces, every allowed punctuation, an empty value and 128/256-character limits WHEN resolved THEN they are kept", () => {
    const tags = {
      Équipe: "Müller 東京",
      "a_b.c:d/e=f+g-h@i": "x y_z.1:2/3=4+5-6@7",
      empty: "",
      ["k".repeat(128)]: "v".repeat(256),
    };

    expect(resolveConfig({ tags }).tags).toEqual(tags);
  });

  test("GIVEN 48 tags WHEN resolved THEN they are accepted (with the stack's 2 tags, AWS's limit of 50)", () => {
    expect(Object.keys(resolveConfig({ tags: manyTags(48) }).tags)).toHaveLength(48);
  });

  test("GIVEN 49 tags WHEN resolved THEN tags is rejected: at most 48, as AWS allows 50 and the stack adds 2", () => {
    const tags = manyTags(49);

    expectProblem(problemsOf({ tags }), "tags", {
      value: tags,
      says: ["has 49 tags", "at most 48", "50 tags per resource", "PrefectWorkPool and ManagedBy"],
    });
  });

  test('GIVEN 49 tags, one of them with an "aws:" key WHEN resolved THEN both the count and the key are reported', () => {
    const problems = problemsOf({ tags: { ...manyTags(48), "aws:x": "y" } });

    expect(fieldsOf(problems).sort()).toEqual(["tags", "tags.aws:x"]);
  });

  test.each(["PrefectWorkPool", "ManagedBy"])("GIVEN the tag %s WHEN resolved THEN it is rejected: the stack sets it itself", (key) => {
    const problems = problemsOf({ tags: { [key]: "mine" } });

    expect(fieldsOf(problems)).toEqual([`tags.${key}`]);
    expectProblem(problems, `tags.${key}`, { value: "mine", says: ["set by the stack", "remove it"] });
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

  test("GIVEN vpcId without subnetIds WHEN resolved THEN subnetIds are required (security groups are optional extras)", () => {
    const problems = problemsOf({ network: { vpcId: VPC } });

    expect(fieldsOf(problems)).toEqual(["network.subnetIds"]);
    expectProblem(problems, "network.subnetIds", { value: undefined, says: ["required with network.vpcId"] });
  });

  test("GIVEN egressPorts empty or out of range WHEN resolved THEN each is reported", () => {
    expectProblem(problemsOf({ network: { egressPorts: [] } }), "network.egressPorts", { value: [], says: ["at least one port"] });
    expectProblem(problemsOf({ network: { egressPorts: [70000] } }), "network.egressPorts[0]", { value: 70000, says: ["65535"] });
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

  test("GIVEN a malformed field and two cross-field problems WHEN resolved THEN all three are reported in one error", () => {
    const problems = problemsOf({ aws: { region: "us-east" }, cluster: { name: "a", existing: "b" }, worker: { cpu: 512, memory: 512 } });

    expect(fieldsOf(problems)).toEqual(["aws.region", "cluster.name", "worker.memory"]);
    expectProblem(problems, "aws.region", { value: "us-east", says: ["AWS region such as us-east-1"] });
    expectProblem(problems, "cluster.name", { value: "a", says: ["contradicts cluster.existing"] });
    expectProblem(problems, "worker.memory", { value: 512, says: ["1024, 2048, 3072, 4096"] });
  });

  test("GIVEN a section of the wrong type and a contradiction elsewhere WHEN resolved THEN both are reported", () => {
    const problems = problemsOf({ network: "default", ecr: { enabled: false, repositoryName: "flows" } });

    expect(fieldsOf(problems)).toEqual(["network", "ecr.repositoryName"]);
    expectProblem(problems, "ecr.repositoryName", { value: "flows", says: ["contradicts ecr.enabled false"] });
  });

  test("GIVEN a plaintext secret and a Fargate size mismatch WHEN resolved THEN both are reported, without the secret", () => {
    const error = errorOf({ prefect: { apiKey: FAKE_PREFECT_KEY }, worker: { cpu: 512, memory: 512 } });

    expect(fieldsOf(error.problems)).toEqual(["prefect.apiKey", "worker.memory"]);
    expect(error.message).not.toContain(FAKE_PREFECT_KEY);
  });

  test("GIVEN a plaintext secret in the secret section and prefect.auth none WHEN resolved THEN the contradiction shows the section masked", () => {
    const secretValue = "hunter2-literal";
    const error = errorOf({ prefect: { ...SELF_HOSTED, auth: "none" }, secret: { value: secretValue } });

    expect(fieldsOf(error.problems)).toEqual(["secret.value", "secret"]);
    expectProblem(error.problems, "secret", { value: { value: "***" }, says: ['prefect.auth "none"'] });
    expect(error.message).not.toContain(secretValue);
    expect(JSON.stringify(error.problems)).not.toContain(secretValue);
  });

  test("GIVEN a Prefect key as a reserved environment variable and another mistake WHEN resolved THEN it is reported once, as a secret, masked", () => {
    const error = errorOf({ aws: { region: "us-east" }, worker: { environment: { PREFECT_API_URL: FAKE_PREFECT_KEY } } });

    expect(fieldsOf(error.problems).sort()).toEqual(["aws.region", "worker.environment.PREFECT_API_URL"]);
    expectProblem(error.problems, "worker.environment.PREFECT_API_URL", { says: ["plaintext secret"] });
    expect(JSON.stringify(error.problems)).not.toContain(FAKE_PREFECT_KEY);
  });

  test.each([
    ["a malformed vpcId (subnets would 'need vpcId')", { network: { vpcId: "vpc-ZZ", subnetIds: [SUBNET], securityGroupIds: [SG] } }, ["network.vpcId"]],
    ["a malformed subnet (subnets would be 'required')", { network: { vpcId: VPC, subnetIds: ["subnt-1"], securityGroupIds: [SG] } }, ["network.subnetIds[0]"]],
    ['an unknown prefect.server (auth would contradict "cloud")', { prefect: { server: "Cloud", auth: "basic-auth" } }, ["prefect.server"]],
    ["an invalid worker.cpu (memory would not fit 512)", { worker: { cpu: 300, memory: 512 } }, ["worker.cpu"]],
    ["an invalid worker.memory (the default would not fit)", { worker: { cpu: 4096, memory: "8GB" } }, ["worker.memory"]],
    [
      "an invalid executionRoleName (its default would clash)",
      { roles: { executionRoleName: "bad role!", workerTaskRoleName: "ecsTaskExecutionRole" } },
      ["roles.executionRoleName"],
    ],
    ['an unknown secret.store (the SSM name would not be a "secretsmanager" ARN)', { secret: { store: "param", existing: "/prefect/prod/api/key" } }, ["secret.store"]],
    [
      "an invalid deadLetterQueueName (its derived default would equal the queue name)",
      { workPool: { name: "team-a" }, eventsQueue: { name: "team-a-events-dlq", deadLetterQueueName: "bad name!" } },
      ["eventsQueue.deadLetterQueueName"],
    ],
    ["an invalid pool name (the derived names would be checked)", { workPool: { name: "My/Pool" } }, ["workPool.name"]],
  ])("GIVEN %s WHEN resolved THEN only that field is reported, not a check on its fallback", (_label, raw, fields) => {
    expect(fieldsOf(problemsOf(raw))).toEqual(fields);
  });

  test("GIVEN an environment variable name that is not one WHEN resolved THEN the key is reported with what names may be", () => {
    expectProblem(problemsOf({ worker: { environment: { "1BAD": "x" } } }), "worker.environment.1BAD", {
      value: "1BAD",
      says: ["key must be an environment variable name"],
    });
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
