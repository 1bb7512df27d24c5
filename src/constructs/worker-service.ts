import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { Fn, IResolvable, ITerraformDependable, TerraformLocal, Token } from "cdktf";
import { Construct } from "constructs";

export interface WorkerServiceProps {
  readonly workPoolName: string;
  readonly workQueues: readonly string[];
  readonly family: string;
  readonly containerName: string;
  readonly serviceName: string;
  /** Image repository and tag (the tag may be a Terraform variable). */
  readonly image: string;
  readonly imageTag: string;
  readonly cpu: number;
  readonly memory: number;
  readonly desiredCount: number;
  readonly region: string;
  readonly prefectApiUrl: string;
  readonly eventsQueueName: string;
  /** Extra plain environment variables. */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * The credential the worker reads, always injected with `valueFrom`.
   * @default none: the server has no auth
   */
  readonly apiSecret?: { readonly environmentName: string; readonly arn: string };
  /**
   * Further secret variables, each injected with `valueFrom`.
   * @default none
   */
  readonly secrets?: readonly { readonly name: string; readonly valueFrom: string }[];
  readonly executionRoleArn: string;
  readonly taskRoleArn: string;
  readonly clusterArn: string;
  readonly subnetIds: string[];
  readonly securityGroupIds: string[];
  readonly assignPublicIp: boolean | IResolvable;
  /** The worker's log group (its container logs there with awslogs). */
  readonly logGroup: CloudwatchLogGroup;
  /** Resources the service must wait for (the execution role's policies), so the first task can start. */
  readonly dependsOn?: ITerraformDependable[];
}

/** Steps 18-19, logging to the group the guide's troubleshooting section sends users to. */
export class WorkerService extends Construct {
  public readonly logGroup: CloudwatchLogGroup;
  /** The worker container definition, as a Terraform local (`local.worker_container`). */
  public readonly container: TerraformLocal;
  public readonly taskDefinition: EcsTaskDefinition;
  public readonly service: EcsService;

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);
    this.logGroup = props.logGroup;

    const environment = [
      // Prefect keeps its profile and caches in ~/.prefect: on the one writable volume.
      { name: "HOME", value: WORKER_SCRATCH.containerPath },
      { name: "PREFECT_API_URL", value: props.prefectApiUrl },
      // Always set: the worker's built-in default (prefect-ecs-tasks-events) is not our queue.
      { name: "PREFECT_INTEGRATIONS_AWS_ECS_OBSERVER_SQS_QUEUE_NAME", value: props.eventsQueueName },
      ...Object.keys(props.environment)
        .sort()
        .map((name) => ({ name, value: props.environment[name] })),
    ];
    const container = {
      name: props.containerName,
      image: `${props.image}:${props.imageTag}`,
      cpu: props.cpu,
      memory: props.memory,
      essential: true,
      // Not root, and nothing in the image can change: only the ephemeral scratch volume is writable.
      user: WORKER_USER,
      readonlyRootFilesystem: true,
      mountPoints: [{ sourceVolume: WORKER_SCRATCH.volumeName, containerPath: WORKER_SCRATCH.containerPath, readOnly: false }],
      // Exec form, no shell: pool and queue names reach Prefect verbatim, whatever characters they hold.
      command: workerCommand(props.workPoolName, props.workQueues),
      // The worker's own health endpoint (--with-healthcheck): unhealthy when it stops polling Prefect.
      healthCheck: WORKER_HEALTH_CHECK,
      environment,
      secrets: [
        ...(props.apiSecret ? [{ name: props.apiSecret.environmentName, valueFrom: props.apiSecret.arn }] : []),
        ...(props.secrets ?? []),
      ],
      logConfiguration: {
        logDriver: "awslogs",
        options: {
          "awslogs-group": this.logGroup.name,
          "awslogs-region": props.region,
          "awslogs-stream-prefix": "worker",
        },
      },
    };
    // A local is written as plain JSON, so user strings (environment values, queue names) keep their quotes
    // and backslashes; inside an HCL jsonencode() expression cdktf would not escape them.
    this.container = new TerraformLocal(this, "container", container);
    this.container.overrideLogicalId("worker_container");
    this.taskDefinition = new EcsTaskDefinition(this, "task", {
      family: props.family,
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      cpu: Token.asString(props.cpu),
      memory: Token.asString(props.memory),
      executionRoleArn: props.executionRoleArn,
      taskRoleArn: props.taskRoleArn,
      containerDefinitions: Fn.jsonencode([this.container.expression]),
      // A Fargate bind mount on the task's ephemeral storage: gone with the task.
      volume: [{ name: WORKER_SCRATCH.volumeName }],
    });
    this.taskDefinition.overrideLogicalId("worker");

    this.service = new EcsService(this, "service", {
      name: props.serviceName,
      cluster: props.clusterArn,
      taskDefinition: this.taskDefinition.arn,
      launchType: "FARGATE",
      desiredCount: props.desiredCount,
      networkConfiguration: {
        subnets: props.subnetIds,
        securityGroups: props.securityGroupIds,
        assignPublicIp: props.assignPublicIp,
      },
      deploymentCircuitBreaker: { enable: true, rollback: true },
      // No shell into the worker: it holds the Prefect credential and the worker role.
      enableExecuteCommand: false,
      dependsOn: props.dependsOn,
    });
    this.service.overrideLogicalId("worker");
  }
}

export function workerCommand(workPoolName: string, workQueues: readonly string[]): string[] {
  return [
    "prefect",
    "worker",
    "start",
    "--pool",
    workPoolName,
    "--type",
    "ecs",
    "--with-healthcheck",
    ...workQueues.flatMap((queue) => ["--work-queue", queue]),
  ];
}

/**
 * The worker's user: an unprivileged uid and gid that own nothing in the image (it has no
 * such user; Prefect needs none, as HOME is set).
 */
export const WORKER_USER = "1000:1000";

/**
 * The one writable path of the worker container: Prefect writes its home (~/.prefect) and
 * temporary files there. The image's /tmp (mode 1777) seeds the volume, so the user can write.
 */
export const WORKER_SCRATCH = { volumeName: "scratch", containerPath: "/tmp" } as const;

/** Probes `prefect worker start --with-healthcheck`'s endpoint with the image's Python (no curl in the image). */
export const WORKER_HEALTH_CHECK = {
  command: [
    "CMD-SHELL",
    "python -c \"import urllib.request; urllib.request.urlopen('http://localhost:8080/health', timeout=5)\"",
  ],
  interval: 30,
  timeout: 10,
  retries: 3,
  startPeriod: 60,
} as const;
