/**
 * Turns the `aws_iam_policy_document` data sources of a synthesized stack into
 * the IAM policy JSON the provider would produce at plan time, so a real IAM
 * evaluation engine (see iam-simulator.ts) can judge them.
 *
 * Terraform interpolations are evaluated with example values: plain references
 * (`${aws_sqs_queue.events_queue.arn}`, `${var.aws_region}`) are looked up in
 * `refs`; `element(split("<sep>", <ref or "literal">), <n>)` is computed.
 * Anything else throws, naming the expression and where it sits, so a new kind
 * of expression cannot slip through unevaluated.
 */
import { TerraformJson } from "./synth";

/** Values of Terraform references, keyed without `${}`: `aws_ecs_cluster.cluster.arn`, `var.aws_region`. */
export type TerraformRefs = Record<string, string>;

export interface PolicyJsonStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action?: string[];
  NotAction?: string[];
  Resource?: string[];
  NotResource?: string[];
  Principal?: "*" | Record<string, string[]>;
  NotPrincipal?: "*" | Record<string, string[]>;
  Condition?: Record<string, Record<string, string[]>>;
}

export interface PolicyJson {
  Version: "2012-10-17";
  Id?: string;
  Statement: PolicyJsonStatement[];
}

/** A statement of a `data.aws_iam_policy_document` block, as synthesized. */
export interface DocumentStatement {
  sid?: string;
  effect?: string;
  actions?: string[];
  not_actions?: string[];
  resources?: string[];
  not_resources?: string[];
  principals?: { type: string; identifiers: string[] }[];
  not_principals?: { type: string; identifiers: string[] }[];
  condition?: { test: string; variable: string; values: string[] }[];
}

const SUPPORTED_DOCUMENT_KEYS = new Set(["//", "statement", "version", "policy_id"]);
const SUPPORTED_STATEMENT_KEYS = new Set([
  "sid",
  "effect",
  "actions",
  "not_actions",
  "resources",
  "not_resources",
  "principals",
  "not_principals",
  "condition",
]);

/** The names of every `aws_iam_policy_document` data source of the stack, sorted. */
export function policyDocumentNames(json: TerraformJson): string[] {
  return Object.keys(json.data?.aws_iam_policy_document ?? {}).sort();
}

/**
 * The `data.aws_iam_policy_document` that attribute `attribute` of resource
 * `resourceType.name` references (`policy = "${data.aws_iam_policy_document.X.json}"`):
 * returns X. Throws when the resource is absent or the attribute is anything
 * else than exactly such a reference.
 */
export function policyOf(json: TerraformJson, resourceType: string, name: string, attribute = "policy"): string {
  const body = json.resource[resourceType]?.[name];
  if (!body) throw new Error(`no resource ${resourceType}.${name}`);
  const value = body[attribute];
  const match = typeof value === "string" ? /^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}$/.exec(value) : null;
  if (!match) {
    throw new Error(
      `${resourceType}.${name}.${attribute} is not a reference to an aws_iam_policy_document: ${JSON.stringify(value)}`,
    );
  }
  if (!json.data?.aws_iam_policy_document?.[match[1]]) {
    throw new Error(`${resourceType}.${name}.${attribute} references data.aws_iam_policy_document.${match[1]}, which is absent`);
  }
  return match[1];
}

/** `data.aws_iam_policy_document.<dataName>` as IAM policy JSON, every interpolation evaluated. */
export function renderPolicyDocument(json: TerraformJson, dataName: string, refs: TerraformRefs): PolicyJson {
  const document = json.data?.aws_iam_policy_document?.[dataName];
  if (!document) throw new Error(`no data source data.aws_iam_policy_document.${dataName}`);
  const where = `data.aws_iam_policy_document.${dataName}`;
  for (const key of Object.keys(document)) {
    if (!SUPPORTED_DOCUMENT_KEYS.has(key)) throw new Error(`${where}: argument "${key}" is not supported by renderPolicyDocument`);
  }
  if (document.version !== undefined && document.version !== "2012-10-17") {
    throw new Error(`${where}: version ${JSON.stringify(document.version)} is not supported`);
  }
  const statements = (document.statement ?? []) as DocumentStatement[];
  if (!Array.isArray(statements) || statements.length === 0) throw new Error(`${where}: no statement`);
  const policy: PolicyJson = { Version: "2012-10-17", Statement: [] };
  if (document.policy_id !== undefined) policy.Id = interpolate(String(document.policy_id), refs, `${where}.policy_id`);
  statements.forEach((statement, index) => {
    policy.Statement.push(renderStatement(statement, refs, `${where}.statement[${index}]`));
  });
  return policy;
}

function renderStatement(statement: DocumentStatement, refs: TerraformRefs, where: string): PolicyJsonStatement {
  for (const key of Object.keys(statement)) {
    if (!SUPPORTED_STATEMENT_KEYS.has(key)) throw new Error(`${where}: argument "${key}" is not supported by renderPolicyDocument`);
  }
  const effect = statement.effect ?? "Allow"; // the provider's default
  if (effect !== "Allow" && effect !== "Deny") throw new Error(`${where}: effect ${JSON.stringify(effect)}`);
  const list = (values: string[] | undefined, name: string) =>
    values?.map((value, i) => interpolate(value, refs, `${where}.${name}[${i}]`));
  const out: PolicyJsonStatement = {
    ...(statement.sid !== undefined ? { Sid: interpolate(statement.sid, refs, `${where}.sid`) } : {}),
    Effect: effect,
  };
  if (statement.actions) out.Action = list(statement.actions, "actions");
  if (statement.not_actions) out.NotAction = list(statement.not_actions, "not_actions");
  if (statement.resources) out.Resource = list(statement.resources, "resources");
  if (statement.not_resources) out.NotResource = list(statement.not_resources, "not_resources");
  if (statement.principals) out.Principal = renderPrincipals(statement.principals, refs, `${where}.principals`);
  if (statement.not_principals) out.NotPrincipal = renderPrincipals(statement.not_principals, refs, `${where}.not_principals`);
  if (statement.condition && statement.condition.length > 0) {
    const condition: Record<string, Record<string, string[]>> = {};
    statement.condition.forEach((c, i) => {
      const at = `${where}.condition[${i}]`;
      const test = interpolate(c.test, refs, `${at}.test`);
      const variable = interpolate(c.variable, refs, `${at}.variable`);
      condition[test] ??= {};
      if (condition[test][variable]) {
        throw new Error(`${at}: a second ${test} condition on ${variable} (the provider would merge them; not supported here)`);
      }
      condition[test][variable] = c.values.map((value, j) => interpolate(value, refs, `${at}.values[${j}]`));
    });
    out.Condition = condition;
  }
  return out;
}

function renderPrincipals(
  principals: { type: string; identifiers: string[] }[],
  refs: TerraformRefs,
  where: string,
): "*" | Record<string, string[]> {
  // `type = "*"` with `identifiers = ["*"]` is the anonymous principal, rendered "*" by the provider.
  if (principals.some((p) => p.type === "*")) {
    if (principals.length !== 1 || principals[0].identifiers.join() !== "*") {
      throw new Error(`${where}: principal type "*" must stand alone with identifiers ["*"]`);
    }
    return "*";
  }
  const out: Record<string, string[]> = {};
  principals.forEach((p, i) => {
    const identifiers = p.identifiers.map((id, j) => interpolate(id, refs, `${where}[${i}].identifiers[${j}]`));
    out[p.type] = [...(out[p.type] ?? []), ...identifiers];
  });
  return out;
}

// ------------------------------------------------------------ interpolation

/** Evaluates every `${...}` of a Terraform string template (`$${` is a literal `${`). */
export function interpolate(template: string, refs: TerraformRefs, where = "value"): string {
  let out = "";
  let i = 0;
  while (i < template.length) {
    if (template.startsWith("$${", i)) {
      out += "${";
      i += 3;
    } else if (template.startsWith("%{", i)) {
      throw new Error(`${where}: template directive at ${i} is not supported: ${template}`);
    } else if (template.startsWith("${", i)) {
      const end = closingBrace(template, i + 2, where);
      const expression = template.slice(i + 2, end);
      out += evaluate(expression, refs, where);
      i = end + 1;
    } else {
      out += template[i];
      i += 1;
    }
  }
  return out;
}

/** Index of the `}` closing the interpolation whose body starts at `start` (string literals may hold braces). */
function closingBrace(text: string, start: number, where: string): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      i = endOfString(text, i, where);
    } else if (c === "{") {
      depth++;
    } else if (c === "}") {
      if (depth === 0) return i;
      depth--;
    }
  }
  throw new Error(`${where}: unterminated interpolation in ${text}`);
}

/** Index of the closing quote of the string literal opening at `start`. */
function endOfString(text: string, start: number, where: string): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i;
  }
  throw new Error(`${where}: unterminated string literal in ${text}`);
}

type Value = string | number | string[];

function evaluate(expression: string, refs: TerraformRefs, where: string): string {
  const fail = (why: string): never => {
    throw new Error(`${where}: cannot evaluate \${${expression}}: ${why}`);
  };
  const parser = new ExpressionParser(expression, refs, fail);
  const value = parser.expression();
  parser.end();
  if (typeof value === "number") return String(value);
  if (typeof value !== "string") return fail("the result is a list, not a string");
  return value;
}

/**
 * expression := reference | "string" | number | element(expression, expression) | split(expression, expression)
 */
class ExpressionParser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly refs: TerraformRefs,
    private readonly fail: (why: string) => never,
  ) {}

  expression(): Value {
    this.skip();
    const rest = this.text.slice(this.pos);
    if (rest.startsWith('"')) return this.stringLiteral();
    const number = /^\d+/.exec(rest);
    if (number) {
      this.pos += number[0].length;
      return Number(number[0]);
    }
    const call = /^([A-Za-z_][A-Za-z0-9_]*)\s*\(/.exec(rest);
    if (call) {
      this.pos += call[0].length;
      const args: Value[] = [];
      this.skip();
      while (this.text[this.pos] !== ")") {
        args.push(this.expression());
        this.skip();
        if (this.text[this.pos] === ",") this.pos++;
        else if (this.text[this.pos] !== ")") this.fail(`expected , or ) at ${this.pos}`);
        this.skip();
      }
      this.pos++;
      return this.call(call[1], args);
    }
    const reference = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)+/.exec(rest);
    if (reference) {
      this.pos += reference[0].length;
      if (/^\s*[[.(]/.test(this.text.slice(this.pos))) this.fail(`indexing or splat after ${reference[0]} is not supported`);
      const value = this.refs[reference[0]];
      if (value === undefined) this.fail(`no example value for reference ${reference[0]} in refs`);
      return value as string;
    }
    return this.fail(`unsupported syntax at ${this.pos}: ${rest}`);
  }

  end(): void {
    this.skip();
    if (this.pos !== this.text.length) this.fail(`unsupported syntax at ${this.pos}: ${this.text.slice(this.pos)}`);
  }

  private call(name: string, args: Value[]): Value {
    if (name === "split") {
      const [separator, value] = args;
      if (args.length !== 2 || typeof separator !== "string" || typeof value !== "string") {
        return this.fail("split takes (string separator, string)");
      }
      return value.split(separator);
    }
    if (name === "element") {
      const [list, index] = args;
      if (args.length !== 2 || !Array.isArray(list) || typeof index !== "number") {
        return this.fail("element takes (list, number)");
      }
      if (list.length === 0) return this.fail("element of an empty list");
      return list[index % list.length]; // Terraform's element wraps around
    }
    return this.fail(`function ${name}() is not supported (only element and split)`);
  }

  private stringLiteral(): string {
    const end = endOfString(this.text, this.pos, "expression");
    const literal = this.text.slice(this.pos, end + 1);
    this.pos = end + 1;
    if (literal.includes("${") || literal.includes("%{")) this.fail(`nested template in ${literal} is not supported`);
    return JSON.parse(literal) as string;
  }

  private skip(): void {
    while (/\s/.test(this.text[this.pos] ?? "")) this.pos++;
  }
}

// ------------------------------------------------------------- example refs

export interface ExampleEnvironment {
  account: string;
  region: string;
  partition: string;
}

export const EXAMPLE_ENVIRONMENT: ExampleEnvironment = { account: "123456789012", region: "us-east-1", partition: "aws" };

/** The random suffix Secrets Manager appends to secret ARNs, in examples. */
export const EXAMPLE_SECRET_SUFFIX = "AbCdEf";

/**
 * Example values, as AWS and the provider would report them, for the references
 * the stack's policies use: ARNs (and names) of the resources the stack
 * creates, built from their literal names in `json`, plus `var.aws_region`,
 * `data.aws_partition.current.partition` and
 * `data.aws_caller_identity.current.account_id`, and the locals made of strings
 * over those (`local.cluster.account_id`). Resources whose name is not a
 * literal are left out (rendering a policy that needs them then throws).
 */
export function exampleRefs(json: TerraformJson, env: ExampleEnvironment = EXAMPLE_ENVIRONMENT): TerraformRefs {
  const { account, region, partition } = env;
  const refs: TerraformRefs = {
    "var.aws_region": region,
    "data.aws_partition.current.partition": partition,
    "data.aws_caller_identity.current.account_id": account,
  };
  const arnOf: Record<string, (name: string, body: Record<string, unknown>) => string> = {
    aws_ecs_cluster: (name) => `arn:${partition}:ecs:${region}:${account}:cluster/${name}`,
    aws_iam_role: (name, body) => `arn:${partition}:iam::${account}:role${literal(body.path) ?? "/"}${name}`,
    aws_iam_policy: (name, body) => `arn:${partition}:iam::${account}:policy${literal(body.path) ?? "/"}${name}`,
    aws_sqs_queue: (name) => `arn:${partition}:sqs:${region}:${account}:${name}`,
    // The provider strips the ":*" the API appends to log group ARNs.
    aws_cloudwatch_log_group: (name) => `arn:${partition}:logs:${region}:${account}:log-group:${name}`,
    aws_cloudwatch_event_rule: (name, body) => {
      const bus = literal(body.event_bus_name);
      return `arn:${partition}:events:${region}:${account}:rule/${bus && bus !== "default" ? `${bus}/` : ""}${name}`;
    },
    aws_secretsmanager_secret: (name) =>
      `arn:${partition}:secretsmanager:${region}:${account}:secret:${name}-${EXAMPLE_SECRET_SUFFIX}`,
    aws_ssm_parameter: (name) => `arn:${partition}:ssm:${region}:${account}:parameter/${name.replace(/^\//, "")}`,
    aws_ecr_repository: (name) => `arn:${partition}:ecr:${region}:${account}:repository/${name}`,
  };
  for (const [type, byName] of Object.entries(json.resource)) {
    const arn = arnOf[type];
    if (!arn) continue;
    for (const [logicalName, body] of Object.entries(byName)) {
      const name = literal(body.name);
      if (name === undefined) continue;
      refs[`${type}.${logicalName}.name`] = name;
      refs[`${type}.${logicalName}.arn`] = arn(name, body);
      if (type === "aws_sqs_queue") refs[`${type}.${logicalName}.url`] = `https://sqs.${region}.amazonaws.com/${account}/${name}`;
    }
  }
  // Locals of strings over those references (local.cluster's ARN parts): `local.<name>` or `local.<name>.<key>`.
  // One that cannot be evaluated is left out; a policy using it then throws naming it.
  for (const [name, value] of Object.entries(json.locals ?? {})) {
    const entries = typeof value === "string" ? [[`local.${name}`, value]] : isStringRecord(value) ? Object.entries(value).map(([key, v]) => [`local.${name}.${key}`, v]) : [];
    for (const [reference, template] of entries) {
      try {
        refs[reference] = interpolate(template, refs, reference);
      } catch {
        // not evaluable with these example values
      }
    }
  }
  return refs;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === "string");
}

function literal(value: unknown): string | undefined {
  return typeof value === "string" && !value.includes("${") ? value : undefined;
}
