/**
 * worker.secrets: the safe way to give the worker container a secret. Each is a reference (a Secrets
 * Manager secret ARN, an SSM parameter ARN or name) that ECS resolves with `valueFrom`; the
 * execution role may read exactly those, which the IAM policy simulator checks.
 */
import { resolveConfig } from "../src/config/resolve";
import { configErrorFrom, fieldsOf } from "./support/config-errors";
import { simulate } from "./support/iam-simulator";
import { exampleRefs, policyOf, renderPolicyDocument } from "./support/policy-render";
import { resourceOf, synthesize } from "./support/synth";

const DB_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf";
const OTHER_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/other-XyZaBc";
const PARAMETER_ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/ci/token";
const SECRETS = { DB_PASSWORD: DB_SECRET, GITHUB_TOKEN: "/ci/github-token", TOKEN: PARAMETER_ARN };

describe("GIVEN worker.secrets with a Secrets Manager ARN, an SSM parameter name and an SSM parameter ARN", () => {
  const { json } = synthesize({ worker: { secrets: SECRETS } });
  const refs = exampleRefs(json);
  const container = json.locals?.worker_container as { secrets: { name: string; valueFrom: string }[]; environment: { name: string }[] };
  const policy = renderPolicyDocument(json, policyOf(json, "aws_iam_role_policy", "execution_role_container_secrets"), refs);
  const parameterByName = "arn:aws:ssm:us-east-1:123456789012:parameter/ci/github-token";

  it("THEN the container gets each with valueFrom (a name as its ARN), after the Prefect credential, and none as a plain variable", () => {
    expect(container.secrets.map((s) => s.name)).toEqual(["PREFECT_API_KEY", "DB_PASSWORD", "GITHUB_TOKEN", "TOKEN"]);
    expect(container.secrets.slice(1)).toEqual([
      { name: "DB_PASSWORD", valueFrom: DB_SECRET },
      { name: "GITHUB_TOKEN", valueFrom: "arn:${data.aws_partition.current.partition}:ssm:${var.aws_region}:${data.aws_caller_identity.current.account_id}:parameter/ci/github-token" },
      { name: "TOKEN", valueFrom: PARAMETER_ARN },
    ]);
    expect(container.environment.map((e) => e.name)).not.toEqual(expect.arrayContaining(["DB_PASSWORD", "GITHUB_TOKEN", "TOKEN"]));
  });

  it("THEN a policy of its own on the execution role reads exactly those", () => {
    expect(resourceOf(json, "aws_iam_role_policy", "execution_role_container_secrets")).toMatchObject({ role: "${aws_iam_role.execution_role.name}" });
    expect(policy.Statement).toEqual([
      { Sid: "ReadWorkerSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [DB_SECRET] },
      { Sid: "ReadWorkerParameters", Effect: "Allow", Action: ["ssm:GetParameters"], Resource: [parameterByName, PARAMETER_ARN] },
    ]);
  });

  it.each([
    ["secretsmanager:GetSecretValue", DB_SECRET, "Allowed"],
    ["secretsmanager:GetSecretValue", OTHER_SECRET, "ImplicitlyDenied"],
    ["ssm:GetParameters", parameterByName, "Allowed"],
    ["ssm:GetParameters", PARAMETER_ARN, "Allowed"],
    ["ssm:GetParameters", "arn:aws:ssm:us-east-1:123456789012:parameter/ci/other", "ImplicitlyDenied"],
  ])("THEN the IAM simulator says %s on %s is %s", async (action, resource, expected) => {
    expect(await simulate({ identityPolicies: [policy], action, resource })).toBe(expected);
  });
});

describe("GIVEN no worker.secrets", () => {
  it("THEN there is no extra policy and the container has only the Prefect credential", () => {
    const { json } = synthesize({});
    expect(json.resource.aws_iam_role_policy?.execution_role_container_secrets).toBeUndefined();
    expect((json.locals?.worker_container as { secrets: { name: string }[] }).secrets.map((s) => s.name)).toEqual(["PREFECT_API_KEY"]);
  });
});

describe("GIVEN a wrong worker.secrets entry", () => {
  const problemsOf = (raw: unknown) => configErrorFrom(() => resolveConfig(raw)).problems;

  it.each([
    ["a plain value", { DB_PASSWORD: "hunter2" }, "worker.secrets.DB_PASSWORD", "must be a reference, not a value"],
    ["a secret ARN without its suffix", { DB: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db" }, "worker.secrets.DB", "6-character suffix"],
    ["the stack's own credential", { PREFECT_API_KEY: DB_SECRET }, "worker.secrets.PREFECT_API_KEY", "set by the stack itself"],
    ["a name also in worker.environment", { REGION_NAME: DB_SECRET }, "worker.secrets.REGION_NAME", "either plain or secret"],
  ])("WHEN it is %s THEN that entry is reported", (_label, secrets, field, says) => {
    const problems = problemsOf({ worker: { secrets, environment: { REGION_NAME: "eu" } } });
    expect(fieldsOf(problems)).toEqual([field]);
    expect(problems[0].message).toContain(says);
    expect(JSON.stringify(problems)).not.toContain("hunter2");
  });
});
