/**
 * The one validation layer: raw configuration in, a fully resolved
 * configuration (static defaults, derived names) out, or a ConfigError that
 * lists every problem with its field, value and what is allowed.
 */
import { z } from "zod";
import { AWS_FORMATS, AwsFormatName, describeFargateMemory, FARGATE_MEMORY_BY_CPU, matches } from "./aws-formats";
import { ConfigError, ConfigProblem, fieldPath } from "./errors";
import { CONFIG_SCHEMA, ParsedConfig, PolicyStatementConfig } from "./schema";

export type PrefectServer = "cloud" | "self-hosted";
export type PrefectAuth = "api-key" | "basic-auth" | "none";
export type SecretStore = "secretsmanager" | "ssm";

export interface ResolvedSecret {
  readonly store: SecretStore;
  /** Environment variable the worker reads the credential from. */
  readonly environmentName: "PREFECT_API_KEY" | "PREFECT_API_AUTH_STRING";
  /** Create the secret, or reference one that exists. */
  readonly mode: "create" | "existing";
  /** Name of the secret to create (mode create). */
  readonly name?: string;
  /** ARN of the existing secret, when given as an ARN. */
  readonly existingArn?: string;
  /** Name of the existing SSM parameter, when given as a name. */
  readonly existingParameterName?: string;
  readonly valueSource: "ephemeral-variable" | "external";
  readonly kmsKeyArn?: string;
  readonly recoveryWindowInDays: number;
}

export type ResolvedCluster =
  | { readonly mode: "create"; readonly name: string; readonly containerInsights: "enabled" | "enhanced" | "disabled" }
  | { readonly mode: "existing"; readonly arn?: string; readonly name?: string };

export type ResolvedNetwork =
  | { readonly mode: "default-vpc"; readonly assignPublicIp: boolean }
  | {
      readonly mode: "explicit";
      readonly vpcId: string;
      readonly subnetIds: readonly string[];
      readonly securityGroupIds: readonly string[];
      readonly assignPublicIp: boolean;
    };

export interface ResolvedConfig {
  readonly workPoolName: string;
  readonly region: string;
  readonly prefect: { readonly server: PrefectServer; readonly apiUrl?: string; readonly auth: PrefectAuth };
  /** Undefined when the server has no auth (no secret at all). */
  readonly secret?: ResolvedSecret;
  readonly cluster: ResolvedCluster;
  readonly network: ResolvedNetwork;
  readonly worker: ParsedConfig["worker"];
  readonly eventsQueue: { readonly name: string; readonly deadLetterQueueName: string; readonly ruleName: string };
  readonly roles: ParsedConfig["roles"];
  readonly flowRunTaskRole:
    | { readonly enabled: false }
    | {
        readonly enabled: true;
        readonly name: string;
        readonly s3Buckets: readonly string[];
        readonly statements: readonly PolicyStatementConfig[];
      };
  readonly ecr: { readonly enabled: false } | { readonly enabled: true; readonly repositoryName: string };
  readonly logs: { readonly groupName: string; readonly retentionInDays: number };
  readonly tags: Readonly<Record<string, string>>;
}

/** Environment variables the stack sets itself; users may not override them. */
const RESERVED_ENVIRONMENT = ["PREFECT_API_URL", "PREFECT_INTEGRATIONS_AWS_ECS_OBSERVER_SQS_QUEUE_NAME"];
const SECRET_KEY = /^(api[_-]?key|auth[_-]?string|secret[_-]?(string|value)|value|password|token|prefect_api_key|prefect_api_auth_string)$/i;
const PREFECT_KEY_VALUE = /^pn[ub]_[A-Za-z0-9]{16,}$/;

/**
 * Validates raw configuration (parsed JSON or YAML, or an object built in
 * TypeScript) and resolves it. `source` names the file in error messages.
 */
export function resolveConfig(raw: unknown, source?: string): ResolvedConfig {
  const input = raw ?? {};
  const plaintextSecrets = findPlaintextSecrets(input, []);
  // Values echoed in problems come from a copy with the flagged secrets masked, so a secret
  // never leaks through a problem about an enclosing object or through the template check.
  const shown = redact(input, new Map(plaintextSecrets.map((p) => [p.field, p.value])), []);
  const secretProblems = [...plaintextSecrets, ...findTemplateSequences(shown, [])];
  const parsed = CONFIG_SCHEMA.safeParse(input);
  const secretFields = new Set(secretProblems.map((p) => p.field));
  // A flagged secret is reported once, and its value is never echoed back.
  const problems = parsed.success
    ? []
    : parsed.error.issues.flatMap((issue) => describeIssue(issue, shown)).filter((p) => !secretFields.has(p.field));
  if (secretProblems.length > 0 || !parsed.success) {
    throw new ConfigError([...secretProblems, ...problems], source);
  }
  const resolver = new Resolver(parsed.data, input as Record<string, unknown>);
  const resolved = resolver.resolve();
  if (resolver.problems.length > 0) throw new ConfigError(resolver.problems, source);
  return resolved;
}

function findPlaintextSecrets(value: unknown, path: PropertyKey[]): ConfigProblem[] {
  const advice =
    "looks like a plaintext secret; secrets never go in the configuration file. Pass the value at apply time " +
    "(TF_VAR_prefect_api_key or TF_VAR_prefect_api_auth_string) or reference an existing secret with secret.existing";
  if (typeof value === "string") {
    return PREFECT_KEY_VALUE.test(value) ? [{ field: fieldPath(path), value: "pn?_***", message: advice }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => findPlaintextSecrets(item, [...path, i]));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([key, child]) =>
      SECRET_KEY.test(key)
        ? [{ field: fieldPath([...path, key]), value: "***", message: advice }]
        : findPlaintextSecrets(child, [...path, key]),
    );
  }
  return [];
}

function redact(value: unknown, masked: ReadonlyMap<string, unknown>, path: PropertyKey[]): unknown {
  const field = fieldPath(path);
  if (masked.has(field)) return masked.get(field);
  if (Array.isArray(value)) return value.map((item, i) => redact(item, masked, [...path, i]));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, redact(child, masked, [...path, key])]));
  }
  return value;
}

/** `${` and `%{` would be read by Terraform as interpolation or directives in the synthesized strings. */
function findTemplateSequences(value: unknown, path: PropertyKey[]): ConfigProblem[] {
  if (typeof value === "string") {
    return /[$%]\{/.test(value)
      ? [{ field: fieldPath(path), value, message: "must not contain ${ or %{ (Terraform would read them as template sequences)" }]
      : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => findTemplateSequences(item, [...path, i]));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([key, child]) => findTemplateSequences(child, [...path, key]));
  }
  return [];
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): ConfigProblem[] {
  if (issue.code === "unrecognized_keys") {
    const allowed = allowedKeysAt(issue.path);
    return issue.keys.map((key) => ({
      field: fieldPath([...issue.path, key]),
      value: valueAt(input, [...issue.path, key]),
      message: `unknown key; allowed keys here: ${allowed.join(", ")}`,
    }));
  }
  return [{ field: fieldPath(issue.path) || "(root)", value: valueAt(input, issue.path), message: issue.message }];
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Keys the schema allows at a path, for "unknown key" messages. */
function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: z.core.$ZodType = CONFIG_SCHEMA;
  for (const key of [...path, null]) {
    // Unwrap optional/default/prefault/array wrappers until an object or a leaf.
    for (;;) {
      const def = schema._zod.def as unknown as { type: string; innerType?: z.core.$ZodType; element?: z.core.$ZodType };
      if (def.innerType) schema = def.innerType;
      else if (def.type === "array" && typeof key === "number" && def.element) {
        schema = def.element;
        break;
      } else break;
    }
    if (key === null || typeof key !== "string") continue;
    const shape = (schema._zod.def as unknown as { shape?: Record<string, z.core.$ZodType> }).shape;
    if (!shape || !shape[key]) return [];
    schema = shape[key];
  }
  const shape = (schema._zod.def as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

class Resolver {
  public readonly problems: ConfigProblem[] = [];

  constructor(
    private readonly config: ParsedConfig,
    private readonly raw: Record<string, unknown>,
  ) {}

  resolve(): ResolvedConfig {
    const c = this.config;
    const pool = c.workPool.name;
    const prefect = this.resolvePrefect();
    const resolved: ResolvedConfig = {
      workPoolName: pool,
      region: c.aws.region,
      prefect,
      secret: this.resolveSecret(prefect.auth),
      cluster: this.resolveCluster(),
      network: this.resolveNetwork(),
      worker: this.checkWorker(),
      eventsQueue: {
        name: this.derived("eventsQueue.name", c.eventsQueue.name, `${pool}-events`, "sqsQueueName"),
        deadLetterQueueName: this.derived(
          "eventsQueue.deadLetterQueueName",
          c.eventsQueue.deadLetterQueueName,
          `${pool}-events-dlq`,
          "sqsQueueName",
        ),
        ruleName: this.derived("eventsQueue.ruleName", c.eventsQueue.ruleName, `${pool}-task-state-changes`, "eventRuleName"),
      },
      roles: c.roles,
      flowRunTaskRole: this.resolveFlowRunTaskRole(),
      ecr: this.resolveEcr(),
      logs: {
        groupName: this.derived("logs.groupName", c.logs.groupName, `/ecs/prefect-worker/${pool}`, "logGroupName"),
        retentionInDays: c.logs.retentionInDays,
      },
      tags: c.tags,
    };
    this.checkDistinct(resolved);
    return resolved;
  }

  private problem(field: string, value: unknown, message: string): void {
    this.problems.push({ field, value, message });
  }

  private given(section: string, key?: string): boolean {
    const value = this.raw[section];
    if (value === undefined) return false;
    if (key === undefined) return true;
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[key] !== undefined;
  }

  /** A name the user gave, or one derived from the pool name; either must fit AWS's rules. */
  private derived(field: string, explicit: string | undefined, fallback: string, formatName: AwsFormatName): string {
    if (explicit !== undefined) return explicit;
    if (!matches(formatName, fallback)) {
      this.problem(
        field,
        fallback,
        `derived from workPool.name, but must be ${AWS_FORMATS[formatName].allowed}; set ${field} explicitly`,
      );
    }
    return fallback;
  }

  private resolvePrefect(): ResolvedConfig["prefect"] {
    const { server, apiUrl, auth: explicitAuth } = this.config.prefect;
    const auth: PrefectAuth = explicitAuth ?? (server === "cloud" ? "api-key" : "basic-auth");
    if (server === "cloud" && auth !== "api-key") {
      this.problem("prefect.auth", auth, 'Prefect Cloud authenticates with an API key: use "api-key" or choose prefect.server "self-hosted"');
    }
    if (apiUrl !== undefined) {
      const formatName: AwsFormatName = server === "cloud" ? "prefectCloudWorkspaceUrl" : "selfHostedApiUrl";
      if (server === "self-hosted" && /^https:\/\/api\.prefect\.cloud\//.test(apiUrl)) {
        this.problem("prefect.apiUrl", apiUrl, 'is a Prefect Cloud URL but prefect.server is "self-hosted"; set prefect.server to "cloud"');
      } else if (!matches(formatName, apiUrl)) {
        this.problem("prefect.apiUrl", apiUrl, `must be ${AWS_FORMATS[formatName].allowed} (prefect.server is "${server}")`);
      }
    }
    return { server, apiUrl, auth };
  }

  private resolveSecret(auth: PrefectAuth): ResolvedSecret | undefined {
    const s = this.config.secret;
    if (auth === "none") {
      if (this.given("secret")) {
        this.problem("secret", this.raw.secret, 'contradicts prefect.auth "none": a server without auth needs no secret; remove the secret section');
      }
      return undefined;
    }
    const basic = auth === "basic-auth";
    const environmentName = basic ? "PREFECT_API_AUTH_STRING" : "PREFECT_API_KEY";
    const common = { store: s.store, environmentName, kmsKeyArn: s.kmsKeyArn, recoveryWindowInDays: s.recoveryWindowInDays } as const;
    if (s.existing !== undefined) {
      if (s.name !== undefined) this.problem("secret.name", s.name, "contradicts secret.existing: name a secret to create, or reference an existing one, not both");
      if (s.valueSource !== undefined) this.problem("secret.valueSource", s.valueSource, "contradicts secret.existing: the value of an existing secret is managed where it was created");
      if (s.store === "secretsmanager") {
        if (!matches("secretsManagerSecretArn", s.existing)) {
          this.problem("secret.existing", s.existing, `must be ${AWS_FORMATS.secretsManagerSecretArn.allowed}`);
        }
        return { ...common, mode: "existing", existingArn: s.existing, valueSource: "external" };
      }
      if (matches("ssmParameterArn", s.existing)) return { ...common, mode: "existing", existingArn: s.existing, valueSource: "external" };
      if (!matches("ssmParameterName", s.existing)) {
        this.problem("secret.existing", s.existing, `must be ${AWS_FORMATS.ssmParameterArn.allowed}, or ${AWS_FORMATS.ssmParameterName.allowed}`);
      }
      return { ...common, mode: "existing", existingParameterName: s.existing, valueSource: "external" };
    }
    const valueSource = s.valueSource ?? "ephemeral-variable";
    if (s.store === "ssm" && valueSource === "external") {
      this.problem(
        "secret.valueSource",
        valueSource,
        'an SSM parameter cannot exist without a value: use "ephemeral-variable", or create the parameter yourself and reference it with secret.existing',
      );
    }
    const defaultName =
      s.store === "secretsmanager"
        ? basic ? "PrefectECSWorkerAuthString" : "PrefectECSWorkerAPIKey"
        : `/prefect/${this.config.workPool.name}/api/${basic ? "auth-string" : "key"}`;
    const name = s.name ?? defaultName;
    if (s.store === "secretsmanager" && !/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(name)) {
      this.problem("secret.name", name, "must be 1 to 512 letters, digits and / _ + = . @ -");
    }
    if (s.store === "ssm" && !matches("ssmParameterName", name)) {
      this.problem("secret.name", name, `must be ${AWS_FORMATS.ssmParameterName.allowed}`);
    }
    return { ...common, mode: "create", name, valueSource };
  }

  private resolveCluster(): ResolvedCluster {
    const { name, existing, containerInsights } = this.config.cluster;
    if (existing === undefined) return { mode: "create", name: name ?? "my-ecs-cluster", containerInsights };
    if (name !== undefined) {
      this.problem("cluster.name", name, "contradicts cluster.existing: create a cluster or use an existing one, not both");
    }
    if (existing.startsWith("arn:")) {
      if (!matches("ecsClusterArn", existing)) this.problem("cluster.existing", existing, `must be ${AWS_FORMATS.ecsClusterArn.allowed} or a cluster name`);
      return { mode: "existing", arn: existing };
    }
    if (!matches("ecsClusterName", existing)) {
      this.problem("cluster.existing", existing, `must be a cluster name (${AWS_FORMATS.ecsClusterName.allowed}) or ${AWS_FORMATS.ecsClusterArn.allowed}`);
    }
    return { mode: "existing", name: existing };
  }

  private resolveNetwork(): ResolvedNetwork {
    const { vpcId, subnetIds, securityGroupIds, assignPublicIp } = this.config.network;
    if (vpcId === undefined) {
      if (subnetIds !== undefined) this.problem("network.subnetIds", subnetIds, "needs network.vpcId too (without vpcId the default VPC and all its subnets are used)");
      if (securityGroupIds !== undefined) this.problem("network.securityGroupIds", securityGroupIds, "needs network.vpcId too (without vpcId the default VPC's default group is used)");
      return { mode: "default-vpc", assignPublicIp };
    }
    if (subnetIds === undefined) this.problem("network.subnetIds", undefined, "is required with network.vpcId: list the subnets of that VPC the worker runs in");
    if (securityGroupIds === undefined) this.problem("network.securityGroupIds", undefined, "is required with network.vpcId: list the worker's security groups");
    return { mode: "explicit", vpcId, subnetIds: subnetIds ?? [], securityGroupIds: securityGroupIds ?? [], assignPublicIp };
  }

  private checkWorker(): ParsedConfig["worker"] {
    const w = this.config.worker;
    const allowedMemory = FARGATE_MEMORY_BY_CPU[w.cpu];
    if (allowedMemory && !allowedMemory.includes(w.memory)) {
      this.problem("worker.memory", w.memory, `is not a valid Fargate size: ${describeFargateMemory(w.cpu)}`);
    }
    for (const name of Object.keys(w.environment)) {
      if (RESERVED_ENVIRONMENT.includes(name)) {
        this.problem(`worker.environment.${name}`, w.environment[name], "is set by the stack itself (from prefect.apiUrl / eventsQueue.name); remove it");
      }
    }
    return w;
  }

  private resolveFlowRunTaskRole(): ResolvedConfig["flowRunTaskRole"] {
    const r = this.config.flowRunTaskRole;
    if (r.enabled) return { enabled: true, name: r.name, s3Buckets: r.s3Buckets, statements: r.statements };
    if (r.s3Buckets.length > 0) this.problem("flowRunTaskRole.s3Buckets", r.s3Buckets, "contradicts flowRunTaskRole.enabled false: permissions need the role");
    if (r.statements.length > 0) this.problem("flowRunTaskRole.statements", r.statements.length, "contradicts flowRunTaskRole.enabled false: permissions need the role");
    return { enabled: false };
  }

  private resolveEcr(): ResolvedConfig["ecr"] {
    const { enabled, repositoryName } = this.config.ecr;
    if (!enabled) {
      if (repositoryName !== undefined) this.problem("ecr.repositoryName", repositoryName, "contradicts ecr.enabled false");
      return { enabled: false };
    }
    return { enabled: true, repositoryName: this.derived("ecr.repositoryName", repositoryName, `${this.config.workPool.name}-flows`, "ecrRepositoryName") };
  }

  private checkDistinct(resolved: ResolvedConfig): void {
    const roles: [string, string][] = [
      ["roles.executionRoleName", resolved.roles.executionRoleName],
      ["roles.workerTaskRoleName", resolved.roles.workerTaskRoleName],
    ];
    if (resolved.flowRunTaskRole.enabled) roles.push(["flowRunTaskRole.name", resolved.flowRunTaskRole.name]);
    roles.forEach(([field, name], i) => {
      const clash = roles.slice(0, i).find(([, other]) => other === name);
      if (clash) this.problem(field, name, `is also ${clash[0]}; each role needs its own name (execution role ≠ task role, CKV_AWS_249)`);
    });
    if (resolved.eventsQueue.name === resolved.eventsQueue.deadLetterQueueName) {
      this.problem("eventsQueue.deadLetterQueueName", resolved.eventsQueue.deadLetterQueueName, "must differ from eventsQueue.name");
    }
  }
}
