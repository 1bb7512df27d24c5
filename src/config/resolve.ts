/**
 * The one validation layer: raw configuration in, a fully resolved
 * configuration (static defaults, derived names) out, or a ConfigError that
 * lists every problem with its field, value and what is allowed.
 */
import { z } from "zod";
import { AWS_FORMATS, AwsFormatName, describeFargateMemory, describeFormat, FARGATE_MEMORY_BY_CPU, matches } from "./aws-formats";
import { BaseJobTemplate, customizeTemplate, validateBaseJobTemplate } from "../work-pool/base-job-template";
import { ecsBaseJobTemplate } from "../work-pool/ecs-base-job-template";
import { nameFromTemplate, POOL_NAME_TEMPLATES, PoolNameTemplate, ssmSecretNameTemplate } from "./derived-names";
import { ConfigError, ConfigProblem, fieldPath } from "./errors";
import { CONFIG_SCHEMA, ParsedConfig, PolicyStatementConfig, STACK_TAG_KEYS } from "./schema";

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
  | {
      readonly mode: "existing";
      readonly arn?: string;
      readonly name?: string;
      /** Another pool of the same app creates this cluster: its AWS stack applies first. */
      readonly createdByPool?: string;
    };

interface NetworkCommon {
  readonly assignPublicIp: boolean;
  /** Groups added to the worker's own security group. */
  readonly extraSecurityGroupIds: readonly string[];
  readonly egressPorts: readonly number[];
}

export type ResolvedNetwork =
  | (NetworkCommon & { readonly mode: "default-vpc" })
  | (NetworkCommon & { readonly mode: "explicit"; readonly vpcId: string; readonly subnetIds: readonly string[] });

export interface ResolvedWorkPool {
  /** Whether the work-pool stack is synthesized. */
  readonly manage: boolean;
  readonly description?: string;
  readonly concurrencyLimit?: number;
  readonly paused: boolean;
  /** A user-supplied base job template; undefined means the built-in prefect-aws 0.7.11 template. */
  readonly baseJobTemplate?: BaseJobTemplate;
  readonly csrf: boolean;
  readonly deleteOnDestroy: boolean;
  /** Send the pool on every apply (repairs drift). */
  readonly enforceOnEveryApply: boolean;
  /** The pool's auto_deregister_task_definition default; grants ecs:DeregisterTaskDefinition. */
  readonly autoDeregisterTaskDefinitions: boolean;
}

export type ResolvedBackend =
  | { readonly type: "local" }
  | {
      readonly type: "s3";
      readonly bucket: string;
      readonly keyPrefix: string;
      readonly region: string;
      readonly encrypt: boolean;
      readonly kmsKeyId?: string;
      readonly useLockfile: boolean;
    }
  | {
      readonly type: "cloud";
      readonly organization: string;
      readonly hostname: string;
      readonly project?: string;
      readonly workspacePrefix: string;
    };

export interface ResolvedConfig {
  readonly backend: ResolvedBackend;
  readonly workPoolName: string;
  readonly workPool: ResolvedWorkPool;
  readonly region: string;
  readonly prefect: { readonly server: PrefectServer; readonly apiUrl?: string; readonly auth: PrefectAuth };
  /** Undefined when the server has no auth (no secret at all). */
  readonly secret?: ResolvedSecret;
  readonly cluster: ResolvedCluster;
  readonly network: ResolvedNetwork;
  readonly worker: ParsedConfig["worker"];
  readonly eventsQueue: { readonly name: string; readonly deadLetterQueueName: string; readonly ruleName: string };
  readonly roles: ParsedConfig["roles"] & {
    /** Undefined with iam.policies "guide": flow runs use the worker's execution role, as in the guide. */
    readonly flowRunExecutionRoleName?: string;
  };
  /** The worker image's ECR repository, when worker.image is one (its execution role may pull from it). */
  readonly workerImageRepository?: { readonly account: string; readonly region: string; readonly name: string };
  readonly flowRunTaskRole:
    | { readonly enabled: false }
    | {
        readonly enabled: true;
        readonly name: string;
        readonly policyName: string;
        readonly s3Buckets: readonly string[];
        readonly statements: readonly PolicyStatementConfig[];
      };
  readonly ecr:
    | { readonly enabled: false }
    | {
        readonly enabled: true;
        readonly repositoryName: string;
        readonly imageTagMutability: "MUTABLE" | "IMMUTABLE";
        readonly keepImages: number;
      };
  readonly logs: { readonly groupName: string; readonly retentionInDays: number };
  readonly iamPolicies: "least-privilege" | "guide";
  readonly flowRunLogs:
    | { readonly enabled: false }
    | { readonly enabled: true; readonly groupName: string; readonly retentionInDays: number };
  readonly tags: Readonly<Record<string, string>>;
}

/** Work pool job variables whose defaults the work-pool stack sets from the AWS stack's outputs. */
const POOL_DEFAULT_VARIABLES = ["cluster", "vpc_id", "execution_role_arn", "network_configuration"];

/** Environment variables the stack sets itself; users may not override them. */
const RESERVED_ENVIRONMENT = ["HOME", "PREFECT_API_URL", "PREFECT_INTEGRATIONS_AWS_ECS_OBSERVER_SQS_QUEUE_NAME"];
const SECRET_KEY = /^(api[_-]?key|auth[_-]?string|secret[_-]?(string|value)|password|token|prefect_api_key|prefect_api_auth_string)$/i;
/** `value` names a secret only in the sections about credentials; elsewhere ({name, value} pairs) it is ordinary. */
const SECRET_SECTIONS = ["secret", "prefect"];
/** A Prefect API key (`pnu_`, user; `pnb_`, service account) anywhere inside a string. */
const PREFECT_KEY_VALUE = /pn[ub]_[A-Za-z0-9]{16,}/;
/** A URL with user information (`https://user:password@host`). */
const URL_CREDENTIALS = /[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#\s@]+@/;
/** An environment variable name with a part that says secret, password, token or key (DB_PASSWORD, GITHUB_TOKEN). */
const SECRET_ENVIRONMENT_NAME = /(^|_)[A-Za-z0-9]*(secret|password|passwd|token|key)s?(_|$)/i;
/** Maps of environment variables: their keys are variable names. */
const ENVIRONMENT_SECTIONS = ["environment", "env"];

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
  if (parsed.success && secretProblems.length === 0) {
    const resolver = new Resolver(parsed.data, input as Record<string, unknown>, () => false);
    const resolved = resolver.resolve();
    if (resolver.problems.length > 0) throw new ConfigError(resolver.problems, source);
    return resolved;
  }
  const secretFields = new Set(secretProblems.map((p) => p.field));
  // A flagged secret is reported once, and its value is never echoed back.
  const schemaProblems = parsed.success
    ? []
    : parsed.error.issues.flatMap((issue) => describeIssue(issue, shown)).filter((p) => !secretFields.has(p.field));
  // The cross-field checks too, so one run reports every problem.
  const reported = [...secretProblems, ...schemaProblems];
  throw new ConfigError([...reported, ...crossFieldProblems(shown, reported)], source);
}

/**
 * The cross-field problems of a configuration that has schema problems or flagged secrets, so
 * they are reported together. The checks run on a best-effort parse of the masked copy (so no
 * secret is echoed): every invalid field is dropped, which falls back to its default, and the
 * checks that depend on a dropped field are skipped, so a fallback never causes a problem.
 */
function crossFieldProblems(shown: unknown, reported: readonly ConfigProblem[]): ConfigProblem[] {
  const parse = bestEffortParse(shown);
  if (!parse) return [];
  const invalid = (field: string) => parse.dropped.some((dropped) => isWithin(field, dropped));
  // Sections are echoed as the user wrote them (masked), not as pruned for the parse.
  const resolver = new Resolver(parse.data, shown as Record<string, unknown>, invalid);
  resolver.resolve();
  const reportedFields = new Set(reported.map((p) => p.field));
  // One problem per field: what the schema (or the secret check) said about a field comes first.
  return resolver.problems.filter((p) => !reportedFields.has(p.field) && !invalid(p.field));
}

/** Whether `field` is `ancestor` or lies inside it ("" is the root). */
function isWithin(field: string, ancestor: string): boolean {
  return ancestor === "" || field === ancestor || field.startsWith(`${ancestor}.`) || field.startsWith(`${ancestor}[`);
}

/**
 * Parses `input` after dropping every field the schema rejects, so the schema defaults take their
 * place. A field inside a list drops the whole list (removing one item would shift the others).
 * Returns the parsed configuration and the dropped fields, or undefined if dropping fields did not help.
 */
function bestEffortParse(input: unknown): { data: ParsedConfig; dropped: string[] } | undefined {
  // A deep copy (redact with nothing to mask copies every object and list): problems
  // already reported hold parts of `input`, which must stay as the user wrote them.
  let current: unknown = redact(input, new Map(), []);
  const dropped: string[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const parsed = CONFIG_SCHEMA.safeParse(current);
    if (parsed.success) return { data: parsed.data, dropped };
    for (const issue of parsed.error.issues) {
      const paths = issue.code === "unrecognized_keys" ? issue.keys.map((key) => [...issue.path, key]) : [issue.path];
      for (const path of paths) {
        const firstIndex = path.findIndex((key) => typeof key !== "string");
        const cut = firstIndex < 0 ? path : path.slice(0, firstIndex);
        dropped.push(fieldPath(cut));
        current = dropAt(current, cut);
      }
    }
  }
  return undefined;
}

/** `value` without the property at `path` (the root becomes {}); changes `value` in place. */
function dropAt(value: unknown, path: readonly PropertyKey[]): unknown {
  if (path.length === 0) return {};
  let parent: unknown = value;
  for (const key of path.slice(0, -1)) {
    if (parent === null || typeof parent !== "object") return value;
    parent = (parent as Record<PropertyKey, unknown>)[key];
  }
  if (parent !== null && typeof parent === "object") delete (parent as Record<PropertyKey, unknown>)[path[path.length - 1]];
  return value;
}

function findPlaintextSecrets(value: unknown, path: PropertyKey[]): ConfigProblem[] {
  const advice =
    "looks like a plaintext secret; secrets never go in the configuration file. Pass the value at apply time " +
    "(TF_VAR_prefect_api_key or TF_VAR_prefect_api_auth_string) or reference an existing secret with secret.existing";
  const field = fieldPath(path);
  if (typeof value === "string") {
    if (PREFECT_KEY_VALUE.test(value)) return [{ field, value: "pn?_***", message: `holds a Prefect API key (pnu_/pnb_): ${advice}` }];
    if (URL_CREDENTIALS.test(value)) {
      return [{ field, value: "***", message: "holds credentials in a URL (user:password@host): remove them; the worker authenticates with the secret (prefect.auth)" }];
    }
    return [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => findPlaintextSecrets(item, [...path, i]));
  if (value && typeof value === "object") {
    const environment = path.length > 0 && ENVIRONMENT_SECTIONS.includes(String(path[path.length - 1]));
    return Object.entries(value).flatMap(([key, child]) =>
      // worker.secrets maps names to references: its keys name secrets on purpose.
      (SECRET_KEY.test(key) && field !== "worker.secrets") ||
      (key.toLowerCase() === "value" && path.length === 1 && SECRET_SECTIONS.includes(String(path[0])))
        ? [{ field: fieldPath([...path, key]), value: "***", message: advice }]
        : environment && SECRET_ENVIRONMENT_NAME.test(key)
          ? [
              {
                field: fieldPath([...path, key]),
                value: "***",
                message:
                  "is an environment variable whose name says secret, password, token or key, and environment values land " +
                  "in plaintext in the task definition: pass it by reference with worker.secrets (a Secrets Manager ARN or " +
                  "SSM parameter) instead",
              },
            ]
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
  if (issue.code === "invalid_key") {
    // A map key (tags, worker.environment) is wrong: show the key, and what keys may be.
    const key = issue.path[issue.path.length - 1];
    return issue.issues.map((inner) => ({ field: fieldPath(issue.path), value: key, message: `key ${inner.message}` }));
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

  /**
   * @param config the parsed configuration
   * @param raw what the user wrote (for "was this section given" and for echoing sections)
   * @param invalid whether a field was invalid and replaced by its default; checks that
   *   depend on such a field are skipped, as the default is not what the user meant
   */
  constructor(
    private readonly config: ParsedConfig,
    private readonly raw: Record<string, unknown>,
    private readonly invalid: (field: string) => boolean,
  ) {}

  resolve(): ResolvedConfig {
    const c = this.config;
    const pool = c.workPool.name;
    const prefect = this.resolvePrefect();
    const resolved: ResolvedConfig = {
      workPoolName: pool,
      workPool: this.resolveWorkPool(prefect.server),
      region: c.aws.region,
      prefect,
      secret: this.resolveSecret(prefect.auth),
      cluster: this.resolveCluster(),
      network: this.resolveNetwork(),
      worker: this.checkWorker(),
      eventsQueue: {
        name: this.derived("eventsQueue.name", c.eventsQueue.name),
        deadLetterQueueName: this.derived("eventsQueue.deadLetterQueueName", c.eventsQueue.deadLetterQueueName),
        ruleName: this.derived("eventsQueue.ruleName", c.eventsQueue.ruleName),
      },
      roles: this.resolveRoles(),
      workerImageRepository: ecrRepositoryOf(c.worker.image),
      flowRunTaskRole: this.resolveFlowRunTaskRole(),
      ecr: this.resolveEcr(),
      logs: {
        groupName: this.derived("logs.groupName", c.logs.groupName),
        retentionInDays: c.logs.retentionInDays,
      },
      tags: this.checkTags(),
      iamPolicies: c.iam.policies,
      backend: this.resolveBackend(),
      flowRunLogs: this.resolveFlowRunLogs(),
    };
    this.checkDistinct(resolved);
    return resolved;
  }

  private problem(field: string, value: unknown, message: string): void {
    this.problems.push({ field, value, message });
  }

  /** Whether every field a check reads holds what the user wrote (none was invalid). */
  private valid(...fields: string[]): boolean {
    return !fields.some((field) => this.invalid(field));
  }

  private given(section: string, key?: string): boolean {
    const value = this.raw[section];
    if (value === undefined) return false;
    if (key === undefined) return true;
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[key] !== undefined;
  }

  /** A name the user gave, or one derived from the pool name (see derivedName); either must fit AWS's rules. */
  private derived(field: keyof typeof POOL_NAME_TEMPLATES, explicit: string | undefined): string;
  private derived(field: string, explicit: string | undefined, template: PoolNameTemplate): string;
  private derived(field: string, explicit: string | undefined, template?: PoolNameTemplate): string {
    if (explicit !== undefined) return explicit;
    template ??= POOL_NAME_TEMPLATES[field as keyof typeof POOL_NAME_TEMPLATES];
    const formatName = template.format;
    const fallback = nameFromTemplate(this.config.workPool.name, template);
    if (this.valid(field, "workPool.name") && !matches(formatName, fallback)) {
      this.problem(
        field,
        fallback,
        `derived from workPool.name, but must be ${describeFormat(formatName)}; set ${field} explicitly`,
      );
    }
    return fallback;
  }

  private resolvePrefect(): ResolvedConfig["prefect"] {
    const { server, apiUrl, auth: explicitAuth } = this.config.prefect;
    const auth: PrefectAuth = explicitAuth ?? (server === "cloud" ? "api-key" : "basic-auth");
    if (server === "cloud" && auth !== "api-key" && this.valid("prefect.server", "prefect.auth")) {
      this.problem("prefect.auth", auth, 'Prefect Cloud authenticates with an API key: use "api-key" or choose prefect.server "self-hosted"');
    }
    if (apiUrl !== undefined && this.valid("prefect.server")) {
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
      const storeValid = this.valid("secret.store");
      if (s.store === "secretsmanager") {
        if (storeValid && !matches("secretsManagerSecretArn", s.existing)) {
          this.problem("secret.existing", s.existing, `must be ${AWS_FORMATS.secretsManagerSecretArn.allowed}`);
        }
        return { ...common, mode: "existing", existingArn: s.existing, valueSource: "external" };
      }
      if (matches("ssmParameterArn", s.existing)) return { ...common, mode: "existing", existingArn: s.existing, valueSource: "external" };
      if (storeValid && !matches("ssmParameterName", s.existing)) {
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
    if (s.store === "ssm") {
      // The default parameter name derives from the pool name, like the other derived names.
      const name = this.derived("secret.name", s.name, ssmSecretNameTemplate(environmentName));
      if (s.name !== undefined && this.valid("secret.store") && !matches("ssmParameterName", s.name)) {
        this.problem("secret.name", s.name, `must be ${AWS_FORMATS.ssmParameterName.allowed}`);
      }
      return { ...common, mode: "create", name, valueSource };
    }
    const name = s.name ?? (basic ? "PrefectECSWorkerAuthString" : "PrefectECSWorkerAPIKey");
    if (this.valid("secret.store") && !matches("secretsManagerSecretName", name)) {
      this.problem("secret.name", name, `must be ${AWS_FORMATS.secretsManagerSecretName.allowed}`);
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

  private resolveBackend(): ResolvedBackend {
    const b = this.config.backend;
    if (b.type !== "s3") return b;
    return { ...b, region: b.region ?? this.config.aws.region };
  }

  private resolveFlowRunLogs(): ResolvedConfig["flowRunLogs"] {
    const { enabled, groupName, retentionInDays } = this.config.flowRunLogs;
    if (!enabled) {
      if (groupName !== undefined) this.problem("flowRunLogs.groupName", groupName, "contradicts flowRunLogs.enabled false");
      return { enabled: false };
    }
    return {
      enabled: true,
      groupName: this.derived("flowRunLogs.groupName", groupName),
      retentionInDays,
    };
  }

  private resolveWorkPool(server: PrefectServer): ResolvedWorkPool {
    const w = this.config.workPool;
    if (w.baseJobTemplateFile !== undefined) {
      // loadConfig() reads the file at the app's edge and passes its content as baseJobTemplate.
      this.problem(
        "workPool.baseJobTemplateFile",
        w.baseJobTemplateFile,
        w.baseJobTemplate === undefined
          ? "is read by loadConfig(); when building the configuration in code, pass the template as workPool.baseJobTemplate"
          : "contradicts workPool.baseJobTemplate: give the template inline or as a file, not both",
      );
    }
    if (w.csrf && server === "cloud" && this.valid("prefect.server")) {
      this.problem("workPool.csrf", w.csrf, 'CSRF tokens are a self-hosted server setting; Prefect Cloud has none: remove it or set prefect.server "self-hosted"');
    }
    if (!w.manage) {
      const keys = ["description", "concurrencyLimit", "paused", "baseJobTemplate", "extraVariables", "jobConfiguration", "deleteOnDestroy", "csrf", "enforceOnEveryApply"] as const;
      for (const key of keys) {
        if (this.given("workPool", key)) {
          this.problem(`workPool.${key}`, w[key], "contradicts workPool.manage false: without the work-pool stack nothing applies it");
        }
      }
    }
    let baseJobTemplate: BaseJobTemplate | undefined;
    const customized = Object.keys(w.extraVariables).length > 0 || Object.keys(w.jobConfiguration).length > 0;
    if ((w.baseJobTemplate !== undefined || customized) && this.valid("workPool.baseJobTemplate", "workPool.extraVariables", "workPool.jobConfiguration")) {
      const template = customizeTemplate(w.baseJobTemplate ?? ecsBaseJobTemplate(), w.extraVariables, w.jobConfiguration);
      const field = w.baseJobTemplate !== undefined ? "workPool.baseJobTemplate" : "workPool.jobConfiguration";
      // Without a user template, name the user's own fields rather than parts of the built-in template.
      const problems = validateBaseJobTemplate(template, "workPool.baseJobTemplate").map((p) =>
        w.baseJobTemplate !== undefined
          ? p
          : {
              ...p,
              field: p.field
                .replace(/^workPool\.baseJobTemplate\.job_configuration/, "workPool.jobConfiguration")
                .replace(/^workPool\.baseJobTemplate\.variables(\.properties)?/, "workPool.extraVariables"),
            },
      );
      const declared = Object.keys((template as { variables?: { properties?: object } }).variables?.properties ?? {});
      const needed = [
        ...POOL_DEFAULT_VARIABLES,
        ...(this.config.flowRunTaskRole.enabled ? ["task_role_arn"] : []),
        ...(this.config.flowRunLogs.enabled ? ["configure_cloudwatch_logs", "cloudwatch_logs_options"] : []),
        ...(w.autoDeregisterTaskDefinitions ? ["auto_deregister_task_definition"] : []),
      ];
      const missing = problems.length === 0 ? needed.filter((name) => !declared.includes(name)) : [];
      if (missing.length > 0) {
        problems.push({
          field,
          value: `variables: ${declared.join(", ")}`,
          message: `must declare the variables the stack sets from AWS: ${missing.join(", ")} missing (an ECS template declares them)`,
        });
      }
      problems.forEach((p) => this.problems.push(p));
      if (problems.length === 0) baseJobTemplate = template as BaseJobTemplate;
    }
    return {
      manage: w.manage,
      description: w.description,
      concurrencyLimit: w.concurrencyLimit,
      paused: w.paused,
      baseJobTemplate,
      csrf: w.csrf,
      deleteOnDestroy: w.deleteOnDestroy,
      enforceOnEveryApply: w.enforceOnEveryApply,
      autoDeregisterTaskDefinitions: w.autoDeregisterTaskDefinitions,
    };
  }

  private resolveNetwork(): ResolvedNetwork {
    const { vpcId, subnetIds, securityGroupIds, assignPublicIp, egressPorts } = this.config.network;
    const common = { assignPublicIp, extraSecurityGroupIds: securityGroupIds, egressPorts };
    if (vpcId === undefined) {
      if (!this.valid("network.vpcId")) return { mode: "default-vpc", ...common };
      if (subnetIds !== undefined) this.problem("network.subnetIds", subnetIds, "needs network.vpcId too (without vpcId the default VPC and all its subnets are used)");
      return { mode: "default-vpc", ...common };
    }
    if (subnetIds === undefined && this.valid("network.subnetIds")) this.problem("network.subnetIds", undefined, "is required with network.vpcId: list the subnets of that VPC the worker runs in");
    return { mode: "explicit", vpcId, subnetIds: subnetIds ?? [], ...common };
  }

  private checkWorker(): ParsedConfig["worker"] {
    const w = this.config.worker;
    const allowedMemory = FARGATE_MEMORY_BY_CPU[w.cpu];
    if (allowedMemory && !allowedMemory.includes(w.memory) && this.valid("worker.cpu", "worker.memory")) {
      this.problem("worker.memory", w.memory, `is not a valid Fargate size: ${describeFargateMemory(w.cpu)}`);
    }
    for (const name of Object.keys(w.environment)) {
      if (RESERVED_ENVIRONMENT.includes(name)) {
        this.problem(`worker.environment.${name}`, w.environment[name], "is set by the stack itself (HOME: the writable scratch volume; the others from prefect.apiUrl / eventsQueue.name); remove it");
      }
    }
    const credential = this.config.prefect.auth === "none" ? [] : ["PREFECT_API_KEY", "PREFECT_API_AUTH_STRING"];
    for (const [name, reference] of Object.entries(w.secrets)) {
      const field = `worker.secrets.${name}`;
      if (RESERVED_ENVIRONMENT.includes(name) || credential.includes(name)) {
        this.problem(field, reference, "is set by the stack itself (the API URL, the events queue or the Prefect credential from secret); remove it");
      } else if (name in w.environment) {
        this.problem(field, reference, `is also worker.environment.${name}; a variable is either plain or secret`);
      }
      // A parameter name must start with /, so that a plain value (a password, say) is never taken for one.
      const isReference =
        matches("secretsManagerSecretArn", reference) || matches("ssmParameterArn", reference) || (reference.startsWith("/") && matches("ssmParameterName", reference));
      if (!isReference) {
        // Not echoed: what is not a reference may be the secret itself.
        this.problem(
          field,
          "***",
          `must be a reference, not a value: ${AWS_FORMATS.secretsManagerSecretArn.allowed}, ${AWS_FORMATS.ssmParameterArn.allowed}, ` +
            `or an SSM parameter name starting with / (${AWS_FORMATS.ssmParameterName.allowed})`,
        );
      }
    }
    return w;
  }

  private checkTags(): ParsedConfig["tags"] {
    const tags = this.config.tags;
    for (const key of STACK_TAG_KEYS) {
      if (key in tags) {
        this.problem(`tags.${key}`, tags[key], `is set by the stack itself on every resource (${STACK_TAG_KEYS.join(", ")}); remove it`);
      }
    }
    return tags;
  }

  private resolveRoles(): ResolvedConfig["roles"] {
    const { flowRunExecutionRoleName, ...roles } = this.config.roles;
    if (this.config.iam.policies === "guide") {
      if (flowRunExecutionRoleName !== undefined && this.valid("iam.policies")) {
        this.problem(
          "roles.flowRunExecutionRoleName",
          flowRunExecutionRoleName,
          'contradicts iam.policies "guide": the guide gives flow runs the worker\'s execution role; remove it or use "least-privilege"',
        );
      }
      return roles;
    }
    return { ...roles, flowRunExecutionRoleName: flowRunExecutionRoleName ?? "PrefectECSRunnerExecutionRole" };
  }

  private resolveFlowRunTaskRole(): ResolvedConfig["flowRunTaskRole"] {
    const r = this.config.flowRunTaskRole;
    r.statements.forEach((statement, i) => {
      if (statement.effect !== "Allow") return;
      statement.actions.forEach((action, j) => {
        const problem = escalation(action, statement.resources);
        if (problem) this.problem(`flowRunTaskRole.statements[${i}].actions[${j}]`, action, problem);
      });
    });
    if (r.enabled) return { enabled: true, name: r.name, policyName: r.policyName, s3Buckets: r.s3Buckets, statements: r.statements };
    if (r.s3Buckets.length > 0) this.problem("flowRunTaskRole.s3Buckets", r.s3Buckets, "contradicts flowRunTaskRole.enabled false: permissions need the role");
    if (r.statements.length > 0) this.problem("flowRunTaskRole.statements", r.statements.length, "contradicts flowRunTaskRole.enabled false: permissions need the role");
    return { enabled: false };
  }

  private resolveEcr(): ResolvedConfig["ecr"] {
    const { enabled, repositoryName, imageTagMutability, keepImages } = this.config.ecr;
    if (!enabled) {
      if (repositoryName !== undefined) this.problem("ecr.repositoryName", repositoryName, "contradicts ecr.enabled false");
      return { enabled: false };
    }
    return {
      enabled: true,
      repositoryName: this.derived("ecr.repositoryName", repositoryName),
      imageTagMutability,
      keepImages,
    };
  }

  private checkDistinct(resolved: ResolvedConfig): void {
    const roles: [string, string][] = [
      ["roles.executionRoleName", resolved.roles.executionRoleName],
      ["roles.workerTaskRoleName", resolved.roles.workerTaskRoleName],
    ];
    if (resolved.roles.flowRunExecutionRoleName !== undefined) {
      roles.push(["roles.flowRunExecutionRoleName", resolved.roles.flowRunExecutionRoleName]);
    }
    if (resolved.flowRunTaskRole.enabled) roles.push(["flowRunTaskRole.name", resolved.flowRunTaskRole.name]);
    roles.forEach(([field, name], i) => {
      if (!this.valid(field)) return;
      const clash = roles.slice(0, i).find(([otherField, other]) => other === name && this.valid(otherField));
      if (clash) this.problem(field, name, `is also ${clash[0]}; each role needs its own name (execution role ≠ task role, CKV_AWS_249)`);
    });
    if (
      resolved.eventsQueue.name === resolved.eventsQueue.deadLetterQueueName &&
      this.valid("eventsQueue.name", "eventsQueue.deadLetterQueueName", "workPool.name")
    ) {
      this.problem("eventsQueue.deadLetterQueueName", resolved.eventsQueue.deadLetterQueueName, "must differ from eventsQueue.name");
    }
  }
}

/** `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<name>`: a private ECR repository. */
const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/(.+)$/;

function ecrRepositoryOf(image: string): ResolvedConfig["workerImageRepository"] {
  const match = ECR_IMAGE.exec(image);
  return match ? { account: match[1], region: match[2], name: match[3] } : undefined;
}

/**
 * Why an allowed action would hand every flow run (any deployment author) the account, if it does:
 * a wildcard over IAM actions, or iam:PassRole on every role. Refused rather than warned about,
 * since the flow-run role is what deployment code runs as.
 */
function escalation(action: string, resources: readonly string[]): string | undefined {
  const [service, name] = action.toLowerCase().split(":");
  if (service === "iam" && name.includes("*")) {
    return (
      "is a wildcard over IAM actions: any flow run could create or change roles and policies and take over the " +
      "account. List the IAM actions flow runs need, each on specific ARNs"
    );
  }
  if (service === "iam" && name === "passrole" && resources.some((resource) => resource === "*" || resource.endsWith(":role/*"))) {
    return (
      "on every role lets any flow run start compute with any role, including administrators. Name the role ARNs it " +
      "may pass, and add an iam:PassedToService condition"
    );
  }
  return undefined;
}
