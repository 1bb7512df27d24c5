import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Construct } from "constructs";
import { PolicyStatementConfig } from "../config/schema";
import { attachInlinePolicy, attachManagedPolicy, createRole } from "./iam-policy";
import { WorkerPolicyProps, workerPolicyStatements, workerSqsStatements } from "./worker-policy";

export interface TaskExecutionRoleProps {
  readonly name: string;
  readonly assumeRolePolicy: string;
  readonly partition: string;
  /**
   * Statements that let ECS read the Prefect credential (from WorkerApiSecret).
   * @default none: the server has no auth
   */
  readonly secretReadStatements?: DataAwsIamPolicyDocumentStatement[];
}

/**
 * Steps 2-5: the execution role ECS uses to pull images, write logs and read
 * the secret, for the worker and for flow runs. The guide's unattached
 * `ecsTaskExecutionPolicy` is dropped: the inline policy is what takes effect.
 */
export class TaskExecutionRole extends Construct {
  public readonly role: IamRole;
  public readonly managedPolicyAttachment: IamRolePolicyAttachment;
  public readonly secretPolicy?: IamRolePolicy;

  constructor(scope: Construct, id: string, props: TaskExecutionRoleProps) {
    super(scope, id);
    this.role = createRole(this, {
      name: props.name,
      description: "ECS task execution role of the Prefect worker and its flow runs",
      assumeRolePolicy: props.assumeRolePolicy,
      logicalId: "execution_role",
    });
    this.managedPolicyAttachment = new IamRolePolicyAttachment(this, "managed", {
      role: this.role.name,
      policyArn: `arn:${props.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`,
    });
    this.managedPolicyAttachment.overrideLogicalId("execution_role_managed_policy");
    if (props.secretReadStatements && props.secretReadStatements.length > 0) {
      this.secretPolicy = attachInlinePolicy(
        this,
        this.role,
        "PrefectECSWorkerSecretPolicy",
        "execution_role_secret_policy",
        props.secretReadStatements,
      );
    }
  }
}

export interface WorkerTaskRoleProps extends WorkerPolicyProps {
  readonly name: string;
  /** @default "ecsTaskPolicy" (the guide's name) */
  readonly policyName?: string;
  readonly assumeRolePolicy: string;
}

/** Steps 6-8 and 17: the role of the worker container itself. */
export class WorkerTaskRole extends Construct {
  public readonly role: IamRole;
  public readonly workerPolicy: IamPolicy;
  public readonly sqsPolicy: IamRolePolicy;

  constructor(scope: Construct, id: string, props: WorkerTaskRoleProps) {
    super(scope, id);
    this.role = createRole(this, {
      name: props.name,
      description: "Task role of the Prefect ECS worker: runs flow-run tasks and reads ECS events",
      assumeRolePolicy: props.assumeRolePolicy,
      logicalId: "worker_task_role",
    });
    this.workerPolicy = attachManagedPolicy(
      this,
      this.role,
      props.policyName ?? "ecsTaskPolicy",
      "worker_task_policy",
      workerPolicyStatements(props),
    );
    this.sqsPolicy = attachInlinePolicy(
      this,
      this.role,
      "EcsWorkerSqsPolicy",
      "worker_task_sqs_policy",
      workerSqsStatements(props.style, props.eventsQueueArn),
    );
  }
}

export interface FlowRunTaskRoleProps {
  readonly name: string;
  /** @default "PrefectECSRunnerTaskPolicy" (the guide's name) */
  readonly policyName?: string;
  readonly assumeRolePolicy: string;
  readonly partition: string;
  /** Buckets flow runs may use (the guide's runner-task-policy.json, per bucket). */
  readonly s3Buckets: readonly string[];
  /** Further statements. */
  readonly statements: readonly PolicyStatementConfig[];
}

/** Steps 9-11: the optional role flow-run containers assume (work pool `task_role_arn`). */
export class FlowRunTaskRole extends Construct {
  public readonly role: IamRole;
  /** Undefined when no permissions are configured. */
  public readonly policy?: IamPolicy;

  constructor(scope: Construct, id: string, props: FlowRunTaskRoleProps) {
    super(scope, id);
    this.role = createRole(this, {
      name: props.name,
      description: "Task role of Prefect flow runs started by the ECS worker",
      assumeRolePolicy: props.assumeRolePolicy,
      logicalId: "flow_run_task_role",
    });
    const statements = [...s3Statements(props.partition, props.s3Buckets), ...props.statements.map(toDocumentStatement)];
    if (statements.length > 0) {
      this.policy = attachManagedPolicy(
        this,
        this.role,
        props.policyName ?? "PrefectECSRunnerTaskPolicy",
        "flow_run_task_policy",
        statements,
      );
    }
  }
}

function s3Statements(partition: string, buckets: readonly string[]): DataAwsIamPolicyDocumentStatement[] {
  if (buckets.length === 0) return [];
  const bucketArns = buckets.map((bucket) => `arn:${partition}:s3:::${bucket}`);
  return [
    { sid: "ListBuckets", effect: "Allow", actions: ["s3:ListBucket", "s3:GetBucketLocation"], resources: bucketArns },
    {
      sid: "ReadWriteObjects",
      effect: "Allow",
      actions: ["s3:PutObject", "s3:PutObjectAcl", "s3:GetObject", "s3:GetObjectAcl", "s3:DeleteObject"],
      resources: bucketArns.map((arn) => `${arn}/*`),
    },
  ];
}

function toDocumentStatement(statement: PolicyStatementConfig): DataAwsIamPolicyDocumentStatement {
  return {
    sid: statement.sid,
    effect: statement.effect,
    actions: statement.actions,
    resources: statement.resources,
    condition: statement.conditions.length > 0 ? statement.conditions : undefined,
  };
}
