import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Fn, ITerraformDependable, Token } from "cdktf";
import { Construct } from "constructs";
import { PolicyStatementConfig } from "../config/schema";
import { attachInlinePolicy, attachManagedPolicy, createRole } from "./iam-policy";
import { IamPolicyStyle, WorkerPolicyProps, workerPolicyStatements, workerSqsStatements } from "./worker-policy";

/** What ECS does with a task execution role when it pulls images from ECR (AmazonECSTaskExecutionRolePolicy's ECR part). */
export const ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"] as const;
/** What the awslogs driver does with the execution role in a log group that exists. */
export const LOG_WRITE_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"] as const;

export interface TaskExecutionRoleProps {
  readonly name: string;
  readonly description: string;
  /** Terraform logical id of the role; its policies are named after it (`<id>_policy`, `<id>_secret_policy`). */
  readonly logicalId: string;
  readonly assumeRolePolicy: string;
  readonly partition: string;
  /**
   * "least-privilege": a scoped inline policy; "guide": AWS's managed AmazonECSTaskExecutionRolePolicy, as the guide does.
   * @default "least-privilege"
   */
  readonly style?: IamPolicyStyle;
  /** Stream ARN patterns (`<group arn>:log-stream:*`) the awslogs driver writes to. @default none */
  readonly logStreamArns?: string[];
  /** ECR repositories ECS pulls the task's images from. @default none: images come from a public registry */
  readonly ecrRepositoryArns?: string[];
  /**
   * Statements that let ECS read the Prefect credential (from WorkerApiSecret).
   * @default none: the server has no auth
   */
  readonly secretReadStatements?: DataAwsIamPolicyDocumentStatement[];
}

/**
 * Steps 2-5: an execution role ECS uses to pull images, write logs and read
 * the secret. By default the worker and flow runs each get their own, limited
 * to their log group, their images and the secret, instead of AWS's managed
 * policy (ECR pulls from every repository, log writes to every group). The
 * guide's unattached `ecsTaskExecutionPolicy` is dropped: the inline policy
 * is what takes effect.
 */
export class TaskExecutionRole extends Construct {
  public readonly role: IamRole;
  /** AWS's managed policy; only with style "guide". */
  public readonly managedPolicyAttachment?: IamRolePolicyAttachment;
  /** The scoped image and log permissions; undefined with style "guide" or when there is nothing to allow. */
  public readonly policy?: IamRolePolicy;
  public readonly secretPolicy?: IamRolePolicy;

  constructor(scope: Construct, id: string, props: TaskExecutionRoleProps) {
    super(scope, id);
    this.role = createRole(this, {
      name: props.name,
      description: props.description,
      assumeRolePolicy: props.assumeRolePolicy,
      logicalId: props.logicalId,
    });
    if (props.style === "guide") {
      this.managedPolicyAttachment = new IamRolePolicyAttachment(this, "managed", {
        role: this.role.name,
        policyArn: `arn:${props.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`,
      });
      this.managedPolicyAttachment.overrideLogicalId(`${props.logicalId}_managed_policy`);
    } else {
      const statements = executionStatements(props.ecrRepositoryArns ?? [], props.logStreamArns ?? []);
      if (statements.length > 0) {
        this.policy = attachInlinePolicy(this, this.role, "PrefectECSTaskExecutionPolicy", `${props.logicalId}_policy`, statements);
      }
    }
    if (props.secretReadStatements && props.secretReadStatements.length > 0) {
      this.secretPolicy = attachInlinePolicy(
        this,
        this.role,
        "PrefectECSWorkerSecretPolicy",
        `${props.logicalId}_secret_policy`,
        props.secretReadStatements,
      );
    }
  }

  /** Everything that must exist before a task can start with this role. */
  get policies(): ITerraformDependable[] {
    return [this.managedPolicyAttachment, this.policy, this.secretPolicy].filter((p): p is NonNullable<typeof p> => p !== undefined);
  }
}

function executionStatements(repositoryArns: string[], logStreamArns: string[]): DataAwsIamPolicyDocumentStatement[] {
  const statements: DataAwsIamPolicyDocumentStatement[] = [];
  if (repositoryArns.length > 0) {
    statements.push(
      // AWS defines no resource for it: the token opens the registry, the repository statement limits what is pulled.
      { sid: "EcrLogin", effect: "Allow", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
      { sid: "PullOurImages", effect: "Allow", actions: [...ECR_PULL_ACTIONS], resources: repositoryArns },
    );
  }
  if (logStreamArns.length > 0) {
    statements.push({ sid: "WriteOurLogs", effect: "Allow", actions: [...LOG_WRITE_ACTIONS], resources: logStreamArns });
  }
  return statements;
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
  /**
   * Buckets flow runs may use (the guide's runner-task-policy.json, per bucket): names, or a Terraform
   * reference to a non-empty list of names (the statements exist either way).
   */
  readonly s3Buckets: readonly string[];
  /**
   * "guide" keeps the guide's s3:PutObjectAcl, which flow runs do not need (buckets own their objects).
   * @default "least-privilege"
   */
  readonly style?: IamPolicyStyle;
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
    const statements = [
      ...s3Statements(props.partition, props.s3Buckets, props.style ?? "least-privilege"),
      ...props.statements.map(toDocumentStatement),
    ];
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

function s3Statements(partition: string, buckets: readonly string[], style: IamPolicyStyle): DataAwsIamPolicyDocumentStatement[] {
  if (buckets.length === 0) return [];
  const bucketArns = formatEach("arn:%s:s3:::%s", [partition], buckets);
  return [
    { sid: "ListBuckets", effect: "Allow", actions: ["s3:ListBucket", "s3:GetBucketLocation"], resources: bucketArns },
    {
      sid: "ReadWriteObjects",
      effect: "Allow",
      actions: [
        "s3:PutObject",
        ...(style === "guide" ? ["s3:PutObjectAcl"] : []),
        "s3:GetObject",
        "s3:GetObjectAcl",
        "s3:DeleteObject",
      ],
      resources: formatEach("%s/*", [], bucketArns),
    },
  ];
}

/**
 * `template` for each of `values` (literals, or a Terraform reference to a list): its %s filled by `args`,
 * then by the value, as Terraform's formatlist() does.
 */
function formatEach(template: string, args: readonly string[], values: readonly string[]): string[] {
  if (Token.isUnresolved(values)) return Token.asList(Fn.formatlist(template, [...args, values]));
  return values.map((value) => [...args, value].reduce((text, arg) => text.replace("%s", arg), template));
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
