/**
 * Proves the IAM simulation harness (__tests__/support/iam-simulator.ts) on
 * hand-written policies before it is trusted to judge our synthesized ones.
 * The engine is @cloud-copilot/iam-simulate (AGPL, devDependency, tests only).
 */
import {
  actionSupportsResourceLevel,
  conditionKeysOf,
  DEFAULT_PRINCIPAL_ARN,
  IamSimulationError,
  isKnownAction,
  resourceTypesOf,
  simulate,
  simulateWithDetails,
} from "./support/iam-simulator";

const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:prefect-ecs-events`;
const OTHER_QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:someone-elses-queue`;
const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/my-ecs-cluster`;
const OTHER_CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/production`;
const TASK_DEFINITION_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/prefect-flow:7`;
const EXECUTION_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/ecsTaskExecutionRole`;
const FLOW_TASK_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/prefect-flow-task-role`;
const ADMIN_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/Admin`;
const RULE_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:rule/prefect-ecs-task-state-change`;
const OTHER_RULE_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:rule/somebody-elses-rule`;

const policy = (...Statement: object[]) => ({ Version: "2012-10-17", Statement });

describe("GIVEN an identity policy allowing sqs:ReceiveMessage on one queue ARN", () => {
  const identityPolicies = [policy({ Effect: "Allow", Action: "sqs:ReceiveMessage", Resource: QUEUE_ARN })];

  it("WHEN the principal receives from that queue THEN it is Allowed", async () => {
    const details = await simulateWithDetails({ identityPolicies, action: "sqs:ReceiveMessage", resource: QUEUE_ARN });
    expect(details.result).toBe("Allowed");
    expect(details.grants).toEqual([expect.objectContaining({ policyType: "identity", statementIndex: 1 })]);
  });

  it("WHEN the principal receives from another queue THEN it is ImplicitlyDenied, and the explanation names the resource mismatch", async () => {
    const details = await simulateWithDetails({ identityPolicies, action: "sqs:ReceiveMessage", resource: OTHER_QUEUE_ARN });
    expect(details.result).toBe("ImplicitlyDenied");
    expect(details.explanation).toContain(`resource (${QUEUE_ARN}`);
  });

  it("WHEN the principal calls an action the policy does not name (sqs:DeleteMessage) THEN it is ImplicitlyDenied", async () => {
    await expect(simulate({ identityPolicies, action: "sqs:DeleteMessage", resource: QUEUE_ARN })).resolves.toBe(
      "ImplicitlyDenied",
    );
  });

  it("WHEN the action is spelled in another case (SQS:receivemessage) THEN it is matched case-insensitively like AWS", async () => {
    await expect(simulate({ identityPolicies, action: "SQS:receivemessage", resource: QUEUE_ARN })).resolves.toBe("Allowed");
  });
});

describe("GIVEN an Allow sqs:* on every resource and a Deny sqs:ReceiveMessage on one queue", () => {
  const identityPolicies = [
    policy({ Effect: "Allow", Action: "sqs:*", Resource: "*" }),
    { Id: "guardrail", ...policy({ Sid: "NoReceive", Effect: "Deny", Action: "sqs:ReceiveMessage", Resource: QUEUE_ARN }) },
  ];

  it("WHEN the principal receives from the denied queue THEN the explicit Deny wins", async () => {
    const details = await simulateWithDetails({ identityPolicies, action: "sqs:ReceiveMessage", resource: QUEUE_ARN });
    expect(details.result).toBe("ExplicitlyDenied");
    expect(details.denials).toEqual([
      expect.objectContaining({ denialType: "Explicit", policyType: "identity", policyIdentifier: "guardrail", statementId: "NoReceive" }),
    ]);
  });

  it("WHEN the principal receives from another queue THEN it is Allowed", async () => {
    await expect(simulate({ identityPolicies, action: "sqs:ReceiveMessage", resource: OTHER_QUEUE_ARN })).resolves.toBe("Allowed");
  });
});

describe("GIVEN ecs:RunTask allowed on a task definition family only in one cluster (StringEquals ecs:cluster)", () => {
  const identityPolicies = [
    policy({
      Effect: "Allow",
      Action: "ecs:RunTask",
      Resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/prefect-flow:*`,
      Condition: { StringEquals: { "ecs:cluster": CLUSTER_ARN } },
    }),
  ];
  const runTask = (context: Record<string, string>) =>
    simulateWithDetails({ identityPolicies, action: "ecs:RunTask", resource: TASK_DEFINITION_ARN, context });

  it("WHEN the task is run in that cluster THEN it is Allowed", async () => {
    expect((await runTask({ "ecs:cluster": CLUSTER_ARN })).result).toBe("Allowed");
  });

  it("WHEN the task is run in another cluster THEN it is ImplicitlyDenied, and the explanation names the failed condition", async () => {
    const details = await runTask({ "ecs:cluster": OTHER_CLUSTER_ARN });
    expect(details.result).toBe("ImplicitlyDenied");
    expect(details.explanation).toContain("StringEquals ecs:cluster");
  });

  it("WHEN the request carries no ecs:cluster THEN the condition fails and it is ImplicitlyDenied", async () => {
    const details = await runTask({});
    expect(details.result).toBe("ImplicitlyDenied");
    expect(details.explanation).toContain("key missing from request");
  });

  it("WHEN a context key is misspelled (ecs:clustr) THEN the harness throws instead of silently dropping it", async () => {
    await expect(runTask({ "ecs:clustr": CLUSTER_ARN })).rejects.toThrow(/ecs:clustr do not apply to ecs:RunTask/);
  });

  it("WHEN the resource is the cluster ARN (RunTask authorizes the task definition) THEN the harness throws with the expected ARN format", async () => {
    await expect(
      simulate({ identityPolicies, action: "ecs:RunTask", resource: CLUSTER_ARN, context: { "ecs:cluster": CLUSTER_ARN } }),
    ).rejects.toThrow(/no\.resource\.types.*task-definition\/\$\{TaskDefinitionFamilyName\}:\$\{TaskDefinitionRevisionNumber\}/);
  });
});

describe("GIVEN iam:PassRole on two role ARNs with StringEquals iam:PassedToService ecs-tasks.amazonaws.com", () => {
  const identityPolicies = [
    policy({
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: [EXECUTION_ROLE_ARN, FLOW_TASK_ROLE_ARN],
      Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
    }),
  ];
  const passRole = (resource: string, service: string) =>
    simulate({ identityPolicies, action: "iam:PassRole", resource, context: { "iam:PassedToService": service } });

  it.each([EXECUTION_ROLE_ARN, FLOW_TASK_ROLE_ARN])("WHEN %s is passed to ECS tasks THEN it is Allowed", async (role) => {
    await expect(passRole(role, "ecs-tasks.amazonaws.com")).resolves.toBe("Allowed");
  });

  it("WHEN another role is passed to ECS tasks THEN it is ImplicitlyDenied", async () => {
    await expect(passRole(ADMIN_ROLE_ARN, "ecs-tasks.amazonaws.com")).resolves.toBe("ImplicitlyDenied");
  });

  it("WHEN an allowed role is passed to another service (ec2.amazonaws.com) THEN it is ImplicitlyDenied", async () => {
    await expect(passRole(EXECUTION_ROLE_ARN, "ec2.amazonaws.com")).resolves.toBe("ImplicitlyDenied");
  });
});

describe("GIVEN a queue policy allowing events.amazonaws.com sqs:SendMessage with ArnEquals aws:SourceArn on one rule", () => {
  const resourcePolicy = policy({
    Sid: "AllowEventBridgeRule",
    Effect: "Allow",
    Principal: { Service: "events.amazonaws.com" },
    Action: "sqs:SendMessage",
    Resource: QUEUE_ARN,
    Condition: { ArnEquals: { "aws:SourceArn": RULE_ARN } },
  });
  const send = (principal: string, context: Record<string, string>) =>
    simulateWithDetails({ identityPolicies: [], resourcePolicy, principal, action: "sqs:SendMessage", resource: QUEUE_ARN, context });

  it("WHEN EventBridge delivers on behalf of that rule THEN it is Allowed by the resource policy", async () => {
    const details = await send("events.amazonaws.com", { "aws:SourceArn": RULE_ARN });
    expect(details.result).toBe("Allowed");
    expect(details.grants).toEqual([expect.objectContaining({ policyType: "resource", statementId: "AllowEventBridgeRule" })]);
  });

  it("WHEN EventBridge delivers on behalf of another rule THEN it is ImplicitlyDenied", async () => {
    const details = await send("events.amazonaws.com", { "aws:SourceArn": OTHER_RULE_ARN });
    expect(details.result).toBe("ImplicitlyDenied");
    expect(details.denials).toEqual([expect.objectContaining({ policyType: "resource", denialType: "Implicit" })]);
  });

  it("WHEN EventBridge sends without aws:SourceArn THEN it is ImplicitlyDenied", async () => {
    await expect(send("events.amazonaws.com", {}).then((d) => d.result)).resolves.toBe("ImplicitlyDenied");
  });

  it("WHEN an IAM role of the same account without identity policies sends THEN it is ImplicitlyDenied (the policy names only the service)", async () => {
    await expect(send(DEFAULT_PRINCIPAL_ARN, { "aws:SourceArn": RULE_ARN }).then((d) => d.result)).resolves.toBe(
      "ImplicitlyDenied",
    );
  });

  it("WHEN a service principal is given identity policies THEN the harness refuses the request", async () => {
    await expect(
      simulate({
        identityPolicies: [policy({ Effect: "Allow", Action: "sqs:*", Resource: "*" })],
        principal: "events.amazonaws.com",
        action: "sqs:SendMessage",
        resource: QUEUE_ARN,
      }),
    ).rejects.toThrow(IamSimulationError);
  });
});

describe("GIVEN a condition on the principal-derived key aws:PrincipalAccount", () => {
  const identityPolicies = [
    policy({ Effect: "Allow", Action: "sqs:SendMessage", Resource: "*", Condition: { StringEquals: { "aws:PrincipalAccount": ACCOUNT } } }),
  ];

  it("WHEN no context is given THEN the harness fills aws:PrincipalAccount from the principal ARN and it is Allowed", async () => {
    await expect(simulate({ identityPolicies, action: "sqs:SendMessage", resource: QUEUE_ARN })).resolves.toBe("Allowed");
  });

  it("WHEN the caller overrides aws:PrincipalAccount THEN the caller's value wins and it is ImplicitlyDenied", async () => {
    await expect(
      simulate({ identityPolicies, action: "sqs:SendMessage", resource: QUEUE_ARN, context: { "aws:PrincipalAccount": "210987654321" } }),
    ).resolves.toBe("ImplicitlyDenied");
  });
});

describe("GIVEN kms:Decrypt on one key allowed only with StringEquals kms:EncryptionContext:SecretARN (a key the library alone would drop)", () => {
  const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prefect-AbCdEf`;
  const identityPolicies = [
    policy({
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: KEY_ARN,
      Condition: { StringEquals: { "kms:EncryptionContext:SecretARN": SECRET_ARN } },
    }),
  ];
  const keyPolicy = policy({ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" });
  const decrypt = (context: Record<string, string>) =>
    simulate({ identityPolicies, resourcePolicy: keyPolicy, action: "kms:Decrypt", resource: KEY_ARN, context });

  it("WHEN the request carries that encryption context THEN it is Allowed", async () => {
    await expect(decrypt({ "kms:EncryptionContext:SecretARN": SECRET_ARN })).resolves.toBe("Allowed");
  });

  it("WHEN the request carries another secret's encryption context THEN it is ImplicitlyDenied", async () => {
    await expect(decrypt({ "kms:EncryptionContext:SecretARN": `${SECRET_ARN}x` })).resolves.toBe("ImplicitlyDenied");
  });

  it("WHEN the request carries no encryption context THEN it is ImplicitlyDenied", async () => {
    await expect(decrypt({})).resolves.toBe("ImplicitlyDenied");
  });
});

describe("GIVEN the bundled IAM data", () => {
  it("WHEN ecs:RunTask is looked up THEN it is a known action (case-insensitively)", async () => {
    await expect(isKnownAction("ecs:RunTask")).resolves.toBe(true);
    await expect(isKnownAction("ECS:runtask")).resolves.toBe(true);
  });

  it.each(["ecs:RunTasks", "ecss:RunTask", "ecs:*", "RunTask"])("WHEN %s is looked up THEN it is not a known action", async (action) => {
    await expect(isKnownAction(action)).resolves.toBe(false);
  });

  it("WHEN ecs:RunTask is looked up THEN it supports resource-level permissions on task-definition ARNs", async () => {
    await expect(actionSupportsResourceLevel("ecs:RunTask")).resolves.toBe(true);
    expect((await resourceTypesOf("ecs:RunTask")).map((rt) => rt.name)).toEqual(["task-definition"]);
  });

  // AWS's service authorization reference used to list RegisterTaskDefinition as
  // wildcard-only; the data bundled now gives it the task-definition resource type.
  it("WHEN ecs:RegisterTaskDefinition is looked up THEN the data says it supports resource-level permissions (task-definition)", async () => {
    await expect(actionSupportsResourceLevel("ecs:RegisterTaskDefinition")).resolves.toBe(true);
    expect((await resourceTypesOf("ecs:RegisterTaskDefinition")).map((rt) => rt.name)).toEqual(["task-definition"]);
  });

  it.each(["ecs:DescribeTaskDefinition", "ecs:DeregisterTaskDefinition", "ecs:ListClusters"])(
    "WHEN %s is looked up THEN it is wildcard-only (no resource-level permissions)",
    async (action) => {
      await expect(actionSupportsResourceLevel(action)).resolves.toBe(false);
    },
  );

  it("WHEN a wildcard-only action is simulated on a specific ARN THEN the harness throws; on * it evaluates", async () => {
    const identityPolicies = [policy({ Effect: "Allow", Action: "ecs:DescribeTaskDefinition", Resource: "*" })];
    await expect(simulate({ identityPolicies, action: "ecs:DescribeTaskDefinition", resource: TASK_DEFINITION_ARN })).rejects.toThrow(
      /wildcard-only/,
    );
    await expect(simulate({ identityPolicies, action: "ecs:DescribeTaskDefinition", resource: "*" })).resolves.toBe("Allowed");
  });

  it("WHEN condition keys are looked up THEN ecs:RunTask has ecs:cluster and iam:PassRole has iam:PassedToService", async () => {
    expect(await conditionKeysOf("ecs:RunTask")).toEqual(expect.arrayContaining(["ecs:cluster", "ecs:capacity-provider"]));
    expect(await conditionKeysOf("iam:PassRole")).toEqual(expect.arrayContaining(["iam:PassedToService", "iam:AssociatedResourceArn"]));
    expect(await conditionKeysOf("sqs:SendMessage")).not.toContain("aws:SourceArn"); // global keys are not listed
  });

  it("WHEN an unknown action is inspected THEN the harness throws", async () => {
    await expect(actionSupportsResourceLevel("ecs:RunTasks")).rejects.toThrow(/unknown IAM action "ecs:RunTasks"/);
    await expect(simulate({ identityPolicies: [], action: "ecs:RunTasks", resource: "*" })).rejects.toThrow(IamSimulationError);
  });
});

describe("GIVEN a policy document with a syntax error", () => {
  it("WHEN it is simulated THEN the harness throws with the validator's finding", async () => {
    const identityPolicies = [policy({ Effect: "Alow", Action: "sqs:ReceiveMessage", Resource: QUEUE_ARN })];
    await expect(simulate({ identityPolicies, action: "sqs:ReceiveMessage", resource: QUEUE_ARN })).rejects.toThrow(
      /Statement\[0\]\.Effect/,
    );
  });
});
