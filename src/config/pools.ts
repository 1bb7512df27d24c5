/**
 * A configuration describes one work pool, or several under `pools` (teams,
 * environments): the top level holds what they share, each entry overrides
 * it. With several pools, account-wide names the user did not choose get the
 * pool name appended, pools that name the same cluster share it (the first
 * creates it), and any remaining clash is a configuration error.
 */
import { AwsFormatName } from "./aws-formats";
import { derivedName, poolSlug } from "./derived-names";
import { ConfigError, ConfigProblem } from "./errors";
import { resolveConfig, ResolvedConfig } from "./resolve";

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Objects merge key by key; anything else (arrays included) is replaced. */
export function mergeConfig(base: Json, override: Json): Json {
  const result: Json = { ...base };
  for (const [key, value] of Object.entries(override)) {
    result[key] = isObject(value) && isObject(base[key]) ? mergeConfig(base[key] as Json, value) : value;
  }
  return result;
}

function has(config: Json, section: string, key: string): boolean {
  const value = config[section];
  return isObject(value) && value[key] !== undefined;
}

function withDefault(config: Json, section: string, key: string, value: unknown): Json {
  if (has(config, section, key)) return config;
  return { ...config, [section]: { ...(isObject(config[section]) ? (config[section] as Json) : {}), [key]: value } };
}

/** Account-wide names a pool gets unless the configuration names them, shortened to AWS's limits. */
function withPoolSuffixes(config: Json, pool: string): Json {
  const suffixed: [string, string, (pool: string) => string, AwsFormatName][] = [
    ["roles", "executionRoleName", (p) => `ecsTaskExecutionRole-${p}`, "iamRoleName"],
    ["roles", "workerTaskRoleName", (p) => `ecsTaskRole-${p}`, "iamRoleName"],
    ["roles", "workerPolicyName", (p) => `ecsTaskPolicy-${p}`, "iamPolicyName"],
    ["flowRunTaskRole", "name", (p) => `PrefectECSRunnerTaskRole-${p}`, "iamRoleName"],
    ["flowRunTaskRole", "policyName", (p) => `PrefectECSRunnerTaskPolicy-${p}`, "iamPolicyName"],
    ["worker", "family", (p) => `prefect-worker-task-${p}`, "ecsName"],
    ["worker", "serviceName", (p) => `prefect-worker-service-${p}`, "ecsName"],
  ];
  // In guide mode flow runs share the worker's execution role: there is no second one to name.
  const guide = isObject(config.iam) && config.iam.policies === "guide";
  if (!guide) suffixed.push(["roles", "flowRunExecutionRoleName", (p) => `PrefectECSRunnerExecutionRole-${p}`, "iamRoleName"]);
  let result = config;
  for (const [section, key, name, formatName] of suffixed) result = withDefault(result, section, key, derivedName(pool, name, formatName));
  const secret = isObject(result.secret) ? result.secret : {};
  const prefect = isObject(result.prefect) ? result.prefect : {};
  // A server without auth has no secret: a secret section would contradict prefect.auth "none".
  if (prefect.auth !== "none" && secret.existing === undefined && (secret.store ?? "secretsmanager") === "secretsmanager") {
    const basic = prefect.auth === "basic-auth" || (prefect.server === "self-hosted" && prefect.auth === undefined);
    const name = derivedName(pool, (p) => `${basic ? "PrefectECSWorkerAuthString" : "PrefectECSWorkerAPIKey"}-${p}`, "secretsManagerSecretName");
    result = withDefault(result, "secret", "name", name);
  }
  return result;
}

/** Resolves a configuration of one pool or of several (`pools`). */
export function resolveConfigs(raw: unknown, source?: string): ResolvedConfig[] {
  if (!isObject(raw) || raw.pools === undefined) return [resolveConfig(raw, source)];
  const { pools, ...shared } = raw;
  if (!Array.isArray(pools) || pools.length === 0 || !pools.every(isObject)) {
    throw new ConfigError([{ field: "pools", value: pools, message: "must be a non-empty list of pool configurations (objects)" }], source);
  }
  const problems: ConfigProblem[] = [];
  const resolved: ResolvedConfig[] = [];
  pools.forEach((entry, i) => {
    let merged = mergeConfig(shared, entry as Json);
    const pool = isObject(merged.workPool) ? merged.workPool.name : undefined;
    if (typeof pool !== "string") {
      problems.push({ field: `pools[${i}].workPool.name`, value: pool, message: "is required for each pool when several are configured" });
      return;
    }
    if (pools.length > 1) merged = withPoolSuffixes(merged, pool);
    try {
      resolved.push(resolveConfig(merged));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // Fields may come from the shared top level or from the entry: both meet in pools[i].
      problems.push(...error.problems.map((p) => ({ ...p, field: `pools[${i}].${p.field}` })));
    }
  });
  if (problems.length === 0) problems.push(...clashes(resolved), ...familyOverlaps(resolved));
  if (problems.length > 0) throw new ConfigError(problems, source);
  return shareClusters(resolved);
}

/** Names that must be unique: IAM names per account, the others per account and region. */
function uniqueNames(config: ResolvedConfig): [field: string, key: string][] {
  const regional = (kind: string, name: string) => `${kind}:${config.region}:${name}`;
  const names: [string, string][] = [
    ["workPool.name", `pool:${poolSlug(config.workPoolName)}`],
    ["roles.executionRoleName", `role:${config.roles.executionRoleName}`],
    ["roles.workerTaskRoleName", `role:${config.roles.workerTaskRoleName}`],
    ["roles.workerPolicyName", `policy:${config.roles.workerPolicyName}`],
    ["eventsQueue.name", regional("queue", config.eventsQueue.name)],
    ["eventsQueue.deadLetterQueueName", regional("queue", config.eventsQueue.deadLetterQueueName)],
    ["eventsQueue.ruleName", regional("rule", config.eventsQueue.ruleName)],
    ["logs.groupName", regional("log group", config.logs.groupName)],
    ["worker.family", regional("family", config.worker.family)],
  ];
  if (config.roles.flowRunExecutionRoleName !== undefined) {
    names.push(["roles.flowRunExecutionRoleName", `role:${config.roles.flowRunExecutionRoleName}`]);
  }
  if (config.flowRunTaskRole.enabled) {
    names.push(["flowRunTaskRole.name", `role:${config.flowRunTaskRole.name}`]);
    names.push(["flowRunTaskRole.policyName", `policy:${config.flowRunTaskRole.policyName}`]);
  }
  if (config.flowRunLogs.enabled) names.push(["flowRunLogs.groupName", regional("log group", config.flowRunLogs.groupName)]);
  if (config.ecr.enabled) names.push(["ecr.repositoryName", regional("ECR repository", config.ecr.repositoryName)]);
  if (config.secret?.mode === "create") names.push(["secret.name", regional(`${config.secret.store} secret`, config.secret.name ?? "")]);
  const cluster = config.cluster.mode === "create" ? config.cluster.name : (config.cluster.name ?? config.cluster.arn);
  names.push(["worker.serviceName", regional(`service in cluster ${cluster}`, config.worker.serviceName)]);
  return names;
}

function clashes(configs: readonly ResolvedConfig[]): ConfigProblem[] {
  const seen = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  configs.forEach((config, i) => {
    for (const [field, key] of uniqueNames(config)) {
      const owner = seen.get(key);
      const here = `pools[${i}].${field}`;
      if (owner === undefined) seen.set(key, here);
      else problems.push({ field: here, value: key.slice(key.lastIndexOf(":") + 1), message: `is also ${owner}; each pool needs its own (names are unique in an AWS account and region)` });
    }
  });
  return problems;
}

/** The cluster a pool's flow runs go to, as `region:name` (an ARN and a name of the same cluster agree). */
function clusterKey(config: ResolvedConfig): string {
  const cluster = config.cluster;
  const name = cluster.mode === "create" ? cluster.name : (cluster.name ?? cluster.arn?.split("/").pop() ?? "");
  return `${config.region}:${name}`;
}

/**
 * In a shared cluster each pool's EventBridge rule matches task definitions starting with
 * prefect_<pool>_, so pool "dev" would also capture pool "dev_x"'s flow runs (its observer cannot
 * describe them, and the events end in its dead-letter queue).
 */
function familyOverlaps(configs: readonly ResolvedConfig[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  configs.forEach((config, i) => {
    configs.forEach((other, j) => {
      if (i === j || clusterKey(config) !== clusterKey(other)) return;
      if (!config.workPoolName.startsWith(`${other.workPoolName}_`)) return;
      problems.push({
        field: `pools[${i}].workPool.name`,
        value: config.workPoolName,
        message:
          `starts with the name of pools[${j}] ("${other.workPoolName}") plus "_", and both use cluster ${clusterKey(config).split(":")[1]}: ` +
          `that pool's event rule (task definitions prefect_${other.workPoolName}_...) would capture this pool's flow runs too; choose another name`,
      });
    });
  });
  return problems;
}

/** Pools that would create the same cluster share it: the first creates it, the others use it. */
function shareClusters(configs: ResolvedConfig[]): ResolvedConfig[] {
  const creators = new Map<string, string>();
  return configs.map((config) => {
    if (config.cluster.mode !== "create") return config;
    const key = `${config.region}:${config.cluster.name}`;
    const owner = creators.get(key);
    if (owner === undefined) {
      creators.set(key, config.workPoolName);
      return config;
    }
    return { ...config, cluster: { mode: "existing", name: config.cluster.name, createdByPool: owner } };
  });
}
