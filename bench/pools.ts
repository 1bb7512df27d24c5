/**
 * Configurations of N work pools that can live in one AWS account and region:
 * distinct pool names (hence distinct stacks and pool-derived names such as
 * queues, log groups and the ECR repository) and distinct account-global
 * names the defaults would share (IAM roles, cluster, secret, task family).
 */
import { resolveConfig, ResolvedConfig } from "../src/config/resolve";
import { PrefectEcsWorkerConfigInput } from "../src/config/schema";

/** Name of the i-th pool (1-based): pool-001, pool-002, ... */
export function poolName(i: number): string {
  return `pool-${String(i).padStart(3, "0")}`;
}

/** The i-th pool's configuration as a user would write it. */
export function poolInput(i: number): PrefectEcsWorkerConfigInput {
  const pool = poolName(i);
  return {
    workPool: { name: pool },
    cluster: { name: `prefect-${pool}` },
    roles: { executionRoleName: `ecsTaskExecutionRole-${pool}`, workerTaskRoleName: `ecsTaskRole-${pool}` },
    flowRunTaskRole: { name: `PrefectECSRunnerTaskRole-${pool}` },
    secret: { name: `PrefectECSWorkerAPIKey-${pool}` },
    worker: { family: `prefect-worker-task-${pool}` },
  };
}

/** n resolved configurations, pools 1..n. */
export function poolConfigs(n: number): ResolvedConfig[] {
  return Array.from({ length: n }, (_, i) => resolveConfig(poolInput(i + 1)));
}
