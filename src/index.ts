/** Public entry point: the configuration, the constructs and the stacks. */
export { AWS_FORMATS, FARGATE_MEMORY_BY_CPU, LOG_RETENTION_DAYS } from "./config/aws-formats";
export { ConfigError, type ConfigProblem } from "./config/errors";
export { loadConfig, parseConfigText } from "./config/load";
export { resolveConfig, type ResolvedConfig } from "./config/resolve";
export { CONFIG_SCHEMA, type PrefectEcsWorkerConfigInput } from "./config/schema";
export { WorkerApiSecret, type WorkerApiSecretProps } from "./constructs/api-secret";
export { WorkerCluster, type WorkerClusterProps } from "./constructs/cluster";
export { EcsEventsQueue, type EcsEventsQueueProps } from "./constructs/events-queue";
export { FlowImageRepository, type FlowImageRepositoryProps } from "./constructs/flow-image-repository";
export { WorkerNetwork, type WorkerNetworkProps } from "./constructs/network";
export { PrefectEcsWorker, type PrefectEcsWorkerProps, type WorkerSettings } from "./constructs/prefect-ecs-worker";
export { renderPrefectYaml } from "./constructs/prefect-yaml";
export { FlowRunTaskRole, TaskExecutionRole, WorkerTaskRole } from "./constructs/roles";
export { WorkerService, type WorkerServiceProps } from "./constructs/worker-service";
export { buildApp } from "./app";
export { awsStackName, WorkerAwsStack, type WorkerAwsStackProps } from "./stacks/worker-aws-stack";
