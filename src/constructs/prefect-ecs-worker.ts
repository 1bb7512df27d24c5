import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { Annotations, Fn, IResolvable, Token } from "cdktf";
import { Construct } from "constructs";
import { ResolvedCluster, ResolvedConfig } from "../config/resolve";
import { WorkerApiSecret } from "./api-secret";
import { WorkerCluster } from "./cluster";
import { EcsTasksTrustPolicy } from "./ecs-tasks-trust";
import { EcsEventsQueue } from "./events-queue";
import { FlowImageRepository } from "./flow-image-repository";
import { DefaultVpcOverrides, WorkerNetwork } from "./network";
import { renderPrefectYaml } from "./prefect-yaml";
import { FlowRunTaskRole, TaskExecutionRole, WorkerTaskRole } from "./roles";
import { WorkerSecurityGroup } from "./worker-security-group";
import { TaskLogGroup } from "./task-log-group";
import { flowRunTaskDefinitionArnPrefix } from "./worker-policy";
import { WorkerService } from "./worker-service";
import { ContainerSecrets } from "./container-secrets";

/**
 * Values that may differ per environment. Each may be a literal or a Terraform
 * reference (the app passes Terraform variables).
 */
export interface WorkerSettings {
  /** @default config.region */
  readonly region?: string;
  /** PREFECT_API_URL. @default config.prefect.apiUrl (required when that is unset) */
  readonly prefectApiUrl?: string;
  /** @default config.worker.imageTag */
  readonly imageTag?: string;
  /** @default config.worker.cpu */
  readonly cpu?: number;
  /** @default config.worker.memory */
  readonly memory?: number;
  /** @default config.worker.desiredCount */
  readonly desiredCount?: number;
  /** @default config.network.assignPublicIp */
  readonly assignPublicIp?: boolean | IResolvable;
  /** Explicit network mode: the network. @default the configured IDs */
  readonly vpcId?: string;
  readonly subnetIds?: string[];
  /** Groups added to the worker's own security group. @default config.network.securityGroupIds */
  readonly extraSecurityGroupIds?: string[];
  /** Default-VPC mode: variables that replace the lookups when set. @default always look up */
  readonly defaultVpcOverrides?: DefaultVpcOverrides;
  /** The credential for a created secret (an ephemeral variable). @default none: set outside Terraform */
  readonly secretValue?: string;
  /** Bump to rewrite the secret value. @default 1 */
  readonly secretValueVersion?: number;
  /** The secret's customer-managed KMS key, when the configuration has one. @default config.secret.kmsKeyArn */
  readonly secretKmsKeyArn?: string;
  /** An existing secret's ARN, or its SSM parameter's name, as the configuration gives it. @default config.secret's */
  readonly existingSecret?: string;
  /** Buckets of the flow-run task role, when the configuration grants some. @default config.flowRunTaskRole.s3Buckets */
  readonly flowRunS3Buckets?: string[];
  /** Names of the work pool and the AWS resources (the module passes variables). @default workerNames(config) */
  readonly names?: WorkerNames;
}

/**
 * The names a configuration gives the work pool and the AWS resources, each a literal or a Terraform
 * reference. A name the configuration's shape does not use (an existing cluster's ARN when the cluster
 * is created, the flow-run role when it is disabled, ...) is undefined.
 */
export interface WorkerNames {
  readonly workPool?: string;
  /** A created cluster, or an existing one given by name. */
  readonly cluster?: string;
  /** An existing cluster given by ARN. */
  readonly clusterArn?: string;
  /** A created Secrets Manager secret or SSM parameter. */
  readonly secret?: string;
  readonly executionRole?: string;
  /** The flow runs' own execution role (least-privilege policies). */
  readonly flowRunExecutionRole?: string;
  readonly workerTaskRole?: string;
  readonly workerPolicy?: string;
  readonly flowRunTaskRole?: string;
  readonly flowRunTaskPolicy?: string;
  readonly eventsQueue?: string;
  readonly eventsDeadLetterQueue?: string;
  readonly eventsRule?: string;
  readonly workerLogGroup?: string;
  readonly flowRunLogGroup?: string;
  readonly ecrRepository?: string;
  readonly workerFamily?: string;
  readonly workerContainer?: string;
  readonly workerService?: string;
}

/** The names of a configuration, as synthesis fixes them. */
export function workerNames(config: ResolvedConfig): WorkerNames {
  const { cluster, secret, flowRunTaskRole, flowRunLogs, ecr } = config;
  return {
    workPool: config.workPoolName,
    cluster: cluster.name,
    clusterArn: cluster.mode === "existing" ? cluster.arn : undefined,
    secret: secret?.mode === "create" ? secret.name : undefined,
    executionRole: config.roles.executionRoleName,
    flowRunExecutionRole: config.roles.flowRunExecutionRoleName,
    workerTaskRole: config.roles.workerTaskRoleName,
    workerPolicy: config.roles.workerPolicyName,
    flowRunTaskRole: flowRunTaskRole.enabled ? flowRunTaskRole.name : undefined,
    flowRunTaskPolicy: flowRunTaskRole.enabled ? flowRunTaskRole.policyName : undefined,
    eventsQueue: config.eventsQueue.name,
    eventsDeadLetterQueue: config.eventsQueue.deadLetterQueueName,
    eventsRule: config.eventsQueue.ruleName,
    workerLogGroup: config.logs.groupName,
    flowRunLogGroup: flowRunLogs.enabled ? flowRunLogs.groupName : undefined,
    ecrRepository: ecr.enabled ? ecr.repositoryName : undefined,
    workerFamily: config.worker.family,
    workerContainer: config.worker.containerName,
    workerService: config.worker.serviceName,
  };
}

export interface PrefectEcsWorkerProps {
  /** Validated configuration, from `resolveConfig()`. */
  readonly config: ResolvedConfig;
  /** Per-environment values. @default taken from config */
  readonly settings?: WorkerSettings;
}

/**
 * Every AWS resource of Prefect's guide "How to manually deploy an ECS worker
 * to an ECS cluster", with the guide's defects fixed. Resource addresses are
 * fixed (one worker per stack), so ops teams see names such as
 * `aws_iam_role.execution_role`.
 */
export class PrefectEcsWorker extends Construct {
  public readonly config: ResolvedConfig;
  /** The work pool's name: the configuration's, or what settings.names gave. */
  public readonly workPoolName: string;
  public readonly partition: DataAwsPartition;
  public readonly network: WorkerNetwork;
  /** The worker's own security group (no ingress). */
  public readonly securityGroup: WorkerSecurityGroup;
  /** The worker's group plus the configured extra groups. */
  public readonly securityGroupIds: string[];
  public readonly cluster: WorkerCluster;
  /** Undefined when the server has no auth. */
  public readonly apiSecret?: WorkerApiSecret;
  /** worker.secrets: the container's secret variables by reference and the execution role's right to read them. */
  public readonly containerSecrets: ContainerSecrets;
  /** The worker's execution role (with iam.policies "guide" also that of flow runs). */
  public readonly executionRole: TaskExecutionRole;
  /** The flow runs' execution role (the work pool's execution_role_arn); the worker's with iam.policies "guide". */
  public readonly flowRunExecutionRole: TaskExecutionRole;
  public readonly workerLogs: TaskLogGroup;
  public readonly workerTaskRole: WorkerTaskRole;
  /** Undefined when flowRunTaskRole.enabled is false. */
  public readonly flowRunTaskRole?: FlowRunTaskRole;
  /** Undefined when flowRunLogs.enabled is false. */
  public readonly flowRunLogs?: TaskLogGroup;
  public readonly eventsQueue: EcsEventsQueue;
  public readonly service: WorkerService;
  /** Undefined when ecr.enabled is false. */
  public readonly flowImageRepository?: FlowImageRepository;
  /** prefect.yaml for the guide's deployment; undefined without the ECR repository. */
  public readonly prefectYaml?: string;

  constructor(scope: Construct, id: string, props: PrefectEcsWorkerProps) {
    super(scope, id);
    const { config } = props;
    const settings = props.settings ?? {};
    this.config = config;
    const names: WorkerNames = { ...workerNames(config), ...settings.names };
    const name = (key: keyof WorkerNames): string => {
      const value = names[key];
      if (value === undefined) throw new Error(`PrefectEcsWorker: settings.names.${key} is undefined, but the configuration needs it`);
      return value;
    };
    const workPoolName = name("workPool");
    this.workPoolName = workPoolName;
    const region = settings.region ?? config.region;
    const prefectApiUrl = settings.prefectApiUrl ?? config.prefect.apiUrl;
    if (prefectApiUrl === undefined) {
      throw new Error("PrefectEcsWorker: set config.prefect.apiUrl or settings.prefectApiUrl (PREFECT_API_URL of the worker)");
    }

    this.partition = new DataAwsPartition(this, "partition");
    this.partition.overrideLogicalId("current");
    const partition = this.partition.partition;

    this.network =
      config.network.mode === "explicit"
        ? new WorkerNetwork(this, "network", {
            mode: "explicit",
            vpcId: settings.vpcId ?? config.network.vpcId,
            subnetIds: settings.subnetIds ?? [...config.network.subnetIds],
          })
        : new WorkerNetwork(this, "network", { mode: "default-vpc", overrides: settings.defaultVpcOverrides });
    this.securityGroup = new WorkerSecurityGroup(this, "security_group", {
      namePrefix: `prefect-worker-${workPoolName}-`,
      vpcId: this.network.vpcId,
      egressPorts: config.network.egressPorts,
    });
    this.securityGroupIds = Token.asList(
      Fn.concat([[this.securityGroup.securityGroup.id], settings.extraSecurityGroupIds ?? [...config.network.extraSecurityGroupIds]]),
    );
    const cluster: ResolvedCluster =
      config.cluster.mode === "create"
        ? { ...config.cluster, name: name("cluster") }
        : { ...config.cluster, name: names.cluster, arn: names.clusterArn };
    this.cluster = new WorkerCluster(this, "cluster", { cluster });
    const trust = new EcsTasksTrustPolicy(this, "trust", { cluster: this.cluster, style: config.iamPolicies });

    if (config.secret) {
      this.apiSecret = new WorkerApiSecret(this, "api_secret", {
        secret: config.secret.mode === "create" ? { ...config.secret, name: name("secret") } : config.secret,
        partition,
        region,
        value: settings.secretValue,
        valueVersion: settings.secretValueVersion,
        kmsKeyArn: settings.secretKmsKeyArn,
        existing: settings.existingSecret,
      });
    }
    const style = config.iamPolicies;
    const worker = config.worker;
    this.workerLogs = new TaskLogGroup(this, "worker_logs", {
      groupName: name("workerLogGroup"),
      retentionInDays: config.logs.retentionInDays,
      logicalId: "worker",
    });
    if (config.flowRunLogs.enabled) {
      this.flowRunLogs = new TaskLogGroup(this, "flow_run_logs", { ...config.flowRunLogs, groupName: name("flowRunLogGroup"), logicalId: "flow_runs" });
    }
    if (config.ecr.enabled) {
      this.flowImageRepository = new FlowImageRepository(this, "flow_images", {
        repositoryName: name("ecrRepository"),
        imageTagMutability: config.ecr.imageTagMutability,
        keepImages: config.ecr.keepImages,
      });
    }
    const workerImage = config.workerImageRepository;
    this.executionRole = new TaskExecutionRole(this, "execution_role", {
      name: name("executionRole"),
      description:
        style === "guide"
          ? "ECS task execution role of the Prefect worker and its flow runs"
          : "ECS task execution role of the Prefect worker: pulls its image, writes its logs, reads its secret",
      logicalId: "execution_role",
      assumeRolePolicy: trust.json,
      partition,
      style,
      logStreamArns: [this.workerLogs.streamsArn],
      ecrRepositoryArns: workerImage
        ? [`arn:${partition}:ecr:${workerImage.region}:${workerImage.account}:repository/${workerImage.name}`]
        : [],
      secretReadStatements: this.apiSecret?.readStatements,
    });
    this.containerSecrets = new ContainerSecrets(this, "container_secrets", {
      secrets: config.worker.secrets,
      executionRole: this.executionRole.role,
      partition,
      region,
    });
    this.flowRunExecutionRole =
      config.roles.flowRunExecutionRoleName === undefined
        ? this.executionRole
        : new TaskExecutionRole(this, "flow_run_execution_role", {
            name: name("flowRunExecutionRole"),
            description: "ECS task execution role of Prefect flow runs: pulls the flow images, writes flow-run logs, reads the secret",
            logicalId: "flow_run_execution_role",
            assumeRolePolicy: trust.json,
            partition,
            logStreamArns: this.flowRunLogs ? [this.flowRunLogs.streamsArn] : [],
            ecrRepositoryArns: this.flowImageRepository ? [this.flowImageRepository.repository.arn] : [],
            secretReadStatements: this.apiSecret?.readStatements,
          });

    this.eventsQueue = new EcsEventsQueue(this, "events", {
      queueName: name("eventsQueue"),
      deadLetterQueueName: name("eventsDeadLetterQueue"),
      ruleName: name("eventsRule"),
      clusterArn: this.cluster.arn,
      taskDefinitionArnPrefix: flowRunTaskDefinitionArnPrefix(this.cluster, workPoolName),
      policyStyle: config.iamPolicies,
    });
    if (config.flowRunTaskRole.enabled) {
      this.flowRunTaskRole = new FlowRunTaskRole(this, "flow_run_task_role", {
        name: name("flowRunTaskRole"),
        policyName: name("flowRunTaskPolicy"),
        assumeRolePolicy: trust.json,
        partition,
        s3Buckets: settings.flowRunS3Buckets ?? config.flowRunTaskRole.s3Buckets,
        statements: config.flowRunTaskRole.statements,
        style,
      });
    }
    if (config.iamPolicies === "guide") {
      Annotations.of(this).addWarning(
        'iam.policies is "guide": the worker role gets the guide\'s twelve actions on "*", including iam:PassRole on any role, ' +
          "and flow runs share the worker's execution role with AWS's AmazonECSTaskExecutionRolePolicy",
      );
    }
    this.workerTaskRole = new WorkerTaskRole(this, "worker_task_role", {
      name: name("workerTaskRole"),
      policyName: name("workerPolicy"),
      assumeRolePolicy: trust.json,
      style: config.iamPolicies,
      workPoolName,
      deregisterTaskDefinitions: config.workPool.autoDeregisterTaskDefinitions,
      cluster: this.cluster,
      // Only what flow runs use: never the worker's own execution role (unless the guide's single role is both).
      passRoleArns: [this.flowRunExecutionRole.role.arn, ...(this.flowRunTaskRole ? [this.flowRunTaskRole.role.arn] : [])],
      eventsQueueArn: this.eventsQueue.queue.arn,
      flowRunLogGroupArn: this.flowRunLogs?.logGroup.arn,
    });

    this.service = new WorkerService(this, "worker", {
      workPoolName,
      workQueues: worker.workQueues,
      family: name("workerFamily"),
      containerName: name("workerContainer"),
      serviceName: name("workerService"),
      image: worker.image,
      imageTag: settings.imageTag ?? worker.imageTag,
      cpu: settings.cpu ?? worker.cpu,
      memory: settings.memory ?? worker.memory,
      desiredCount: settings.desiredCount ?? worker.desiredCount,
      region,
      prefectApiUrl,
      eventsQueueName: this.eventsQueue.queue.name,
      environment: worker.environment,
      apiSecret: this.apiSecret,
      secrets: this.containerSecrets.entries,
      executionRoleArn: this.executionRole.role.arn,
      taskRoleArn: this.workerTaskRole.role.arn,
      clusterArn: this.cluster.arn,
      subnetIds: this.network.subnetIds,
      securityGroupIds: this.securityGroupIds,
      assignPublicIp: settings.assignPublicIp ?? config.network.assignPublicIp,
      logGroup: this.workerLogs.logGroup,
      dependsOn: [...this.executionRole.policies, ...(this.containerSecrets.policy ? [this.containerSecrets.policy] : [])],
    });

    if (config.ecr.enabled && this.flowImageRepository) {
      this.prefectYaml = renderPrefectYaml({
        workPoolName,
        imageName: this.flowImageRepository.repositoryUrl,
        immutableTags: config.ecr.imageTagMutability === "IMMUTABLE",
      });
    }
  }
}
