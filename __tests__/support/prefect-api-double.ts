/**
 * A loopback HTTP test double of the Prefect REST API's work-pool routes, for
 * what a real Prefect server cannot be made to do on demand: 5xx, 429 with
 * Retry-After, dropped connections, slow answers (see `injectFaults`). Everything
 * else is tested against the real server (support/peers.ts); the contract tests
 * (prefect-api-contract.test.ts) run the same requests against both, so the
 * double cannot drift from the pinned server.
 *
 * What it mirrors (bodies are validated against the OpenAPI schema of the pinned
 * prefect package, dumped by support/peers.ts `prefectReference()`):
 * - API base: self-hosted `http://127.0.0.1:PORT/api`; Cloud
 *   `http://127.0.0.1:PORT/api/accounts/<uuid>/workspaces/<uuid>`.
 * - Auth: Cloud `Authorization: Bearer <apiKey>`; self-hosted with an auth
 *   string `Authorization: Basic base64(user:pass)` (GET …health/…ready exempt,
 *   as on the real server); otherwise none. Failure: 401 {"exception_message": "Unauthorized"}.
 * - CSRF (self-hosted, opt-in): `GET /csrf-token?client=<id>`; POST/PUT/PATCH/DELETE
 *   need `Prefect-Csrf-Token` + `Prefect-Csrf-Client` (403 otherwise, with the
 *   server's three messages).
 * - Routes: POST /work_pools/, GET|PATCH|DELETE /work_pools/{name}, GET /health.
 *   Starlette-style 307 redirect when only the trailing slash differs, 405 for
 *   a known path with another method, 404 {"detail": "Not Found"} otherwise.
 * - Bodies are validated against WorkPoolCreate / WorkPoolUpdate with ajv
 *   (JSON Schema 2020-12) and 422s are shaped like Prefect's FastAPI handler.
 *   A body is parsed as JSON only when Content-Type is absent or application/json
 *   (or +json), as FastAPI does: curl's default form content type ⇒ 422.
 * - base_job_template: Prefect's `validate_base_job_template` (create + update)
 *   and, on create only, `validate_job_variable_defaults_for_work_pool`
 *   (defaults validated against the variables schema after Prefect's
 *   preprocessing; block references resolved from `blockDocuments`).
 *
 * Order of checks per request: fault injection, base path (404), CSRF (403;
 * the server's CsrfMiddleware wraps the API app), auth (401), routing
 * (404/405/307), body validation (422), route logic.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { MessageChannel, type MessagePort, parentPort, receiveMessageOnPort, Worker } from "node:worker_threads";
import Ajv2020 from "ajv/dist/2020";
import type { ErrorObject, ValidateFunction } from "ajv";
import { prefectReference } from "./peers";

export type WorkPoolStatus = "READY" | "NOT_READY" | "PAUSED";

export interface WorkPoolStorageConfiguration {
  bundle_upload_step: Record<string, unknown> | null;
  bundle_execution_step: Record<string, unknown> | null;
  default_result_storage_block_id: string | null;
}

/** What GET /work_pools/{name} returns (field order as the server serialises it). */
export interface WorkPoolResponse {
  id: string;
  created: string;
  updated: string;
  name: string;
  description: string | null;
  type: string;
  base_job_template: Record<string, unknown>;
  is_paused: boolean;
  concurrency_limit: number | null;
  status: WorkPoolStatus | null;
  default_queue_id: string;
  storage_configuration: WorkPoolStorageConfiguration;
  active_slots: number | null;
}

export interface PrefectApiDoubleOptions {
  mode: "cloud" | "self-hosted";
  /** Cloud only: the key the client must send as `Authorization: Bearer <apiKey>`. Default: a random `pnu_…` key (see `.apiKey`). */
  apiKey?: string;
  /** Cloud only: IDs in the API base path. Default: random UUIDs. */
  accountId?: string;
  workspaceId?: string;
  /** Self-hosted only: "user:pass"; requires `Authorization: Basic base64(user:pass)`. Absent ⇒ no auth. */
  authString?: string;
  /** Self-hosted only: PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED. */
  csrf?: boolean;
  /** Lifetime of issued CSRF tokens (server default: 1 hour). */
  csrfTokenTtlMs?: number;
  /** Block documents by id, for `{"$ref": {"block_document_id": …}}` defaults on create (missing ⇒ 404 "Block not found."). */
  blockDocuments?: Record<string, unknown>;
}

export interface FaultMatch {
  /** HTTP method, case-insensitive. */
  method?: string;
  /** Substring of the raw request target (e.g. "/work_pools/my%20pool") or of its percent-decoded form. */
  pathIncludes?: string;
}

/** Answer with this status instead of handling the request (state untouched), e.g. 500, 503, 429 or even 404. */
export interface StatusFault {
  status: number;
  times?: number;
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  /** Response body; default a Prefect-like error JSON. */
  body?: unknown;
  match?: FaultMatch;
}

/**
 * Respond slowly. By default the request is handled (and state changed) at once
 * and only the response is held back, like a server that commits and then
 * stalls; `processAfterDelay: true` waits first and then handles it.
 */
export interface DelayFault {
  delayMs: number;
  times?: number;
  processAfterDelay?: boolean;
  match?: FaultMatch;
}

/** Destroy the connection without a response (state untouched). */
export interface DropFault {
  drop: true;
  times?: number;
  match?: FaultMatch;
}

export type Fault = StatusFault | DelayFault | DropFault;

export interface RecordedRequest {
  /** Position in the log since start (not reset by `resetLog`). */
  readonly seq: number;
  readonly method: string;
  /** The request target exactly as received, e.g. "/api/work_pools/my%20pool?x=1". */
  readonly url: string;
  /** Percent-decoded path relative to the API base, e.g. "/work_pools/my pool"; the whole decoded path when outside the base. */
  readonly path: string;
  readonly insideBase: boolean;
  readonly query: Readonly<Record<string, string>>;
  /** Decoded pool name for /work_pools/{name} routes. */
  readonly poolName?: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  /** Parsed JSON body; undefined when empty, not JSON, or not sent as JSON. */
  readonly body: unknown;
  /** Status returned; null when the connection was dropped. */
  readonly status: number | null;
  readonly responseHeaders: Readonly<Record<string, string>>;
  /** Parsed response body (undefined for 204/307). */
  readonly responseBody: unknown;
  /** The injected fault that applied, if any. */
  readonly fault?: Fault;
  readonly receivedAt: number;
  readonly respondedAt: number;
}

export interface SeedOverrides {
  id?: string;
  created?: string;
  updated?: string;
  status?: WorkPoolStatus | null;
  default_queue_id?: string;
}

interface CsrfToken {
  id: string;
  created: string;
  updated: string;
  token: string;
  client: string;
  expiration: string;
}

interface FastApiError {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

const SCHEMA_BASE = "https://prefect-api-double.invalid/components/schemas/";
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
/** prefect.utilities.templating.PLACEHOLDER_CAPTURE_REGEX */
const PLACEHOLDER_RE = /\{\{\s*([\w.\-[\]$]+)\s*\}\}/g;
const CSRF_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

// ---------------------------------------------------------------------------
// Schemas (loaded once per thread from the pinned prefect package's OpenAPI document)
// ---------------------------------------------------------------------------

interface SchemaSet {
  readonly create: ValidateFunction;
  readonly update: ValidateFunction;
  readonly response: ValidateFunction;
  readonly createFieldOrder: string[];
  readonly updateFieldOrder: string[];
}

let schemaSet: SchemaSet | undefined;

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [
        key,
        key === "$ref" && typeof inner === "string" && inner.startsWith("#/components/schemas/")
          ? SCHEMA_BASE + inner.slice("#/components/schemas/".length)
          : rewriteRefs(inner),
      ]),
    );
  }
  return value;
}

function loadSchemas(): SchemaSet {
  if (schemaSet) return schemaSet;
  const document = prefectReference().openapi;
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true });
  ajv.addFormat("uuid", UUID_RE);
  ajv.addFormat("date-time", DATE_TIME_RE);
  for (const [name, schema] of Object.entries(document.components.schemas)) {
    ajv.addSchema({ ...(rewriteRefs(schema) as object), $id: SCHEMA_BASE + name });
  }
  const get = (name: string): ValidateFunction => {
    const validate = ajv.getSchema(SCHEMA_BASE + name);
    if (!validate) throw new Error(`the pinned prefect's OpenAPI document has no components.schemas.${name}`);
    return validate;
  };
  const fieldOrder = (name: string) => Object.keys((document.components.schemas[name]?.properties as object) ?? {});
  schemaSet = {
    create: get("WorkPoolCreate"),
    update: get("WorkPoolUpdate"),
    response: get("WorkPoolResponse"),
    createFieldOrder: fieldOrder("WorkPoolCreate"),
    updateFieldOrder: fieldOrder("WorkPoolUpdate"),
  };
  return schemaSet;
}

/** Validates a value against one of the OpenAPI file's component schemas; returns ajv's errors or null. */
export function validateAgainstPrefectSchema(
  name: "WorkPoolCreate" | "WorkPoolUpdate" | "WorkPoolResponse",
  value: unknown,
): ErrorObject[] | null {
  const set = loadSchemas();
  const validate = name === "WorkPoolCreate" ? set.create : name === "WorkPoolUpdate" ? set.update : set.response;
  return validate(value) ? null : [...(validate.errors ?? [])];
}

// ---------------------------------------------------------------------------
// ajv errors → FastAPI/pydantic v2 error objects
// ---------------------------------------------------------------------------

function pointerSegments(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .split("/")
    .slice(1)
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((segment) => (/^(0|[1-9]\d*)$/.test(segment) ? Number(segment) : segment));
}

function valueAt(root: unknown, segments: (string | number)[]): unknown {
  let current: unknown = root;
  for (const segment of segments) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function toFastApiErrors(errors: ErrorObject[], body: unknown): FastApiError[] {
  const isCombinator = (e: ErrorObject) => e.keyword === "anyOf" || e.keyword === "oneOf";
  const kept = errors.filter((error) => {
    if (isCombinator(error)) {
      // keep the "anyOf" wrapper only when no branch said anything more precise
      return !errors.some((other) => other !== error && !isCombinator(other) && !isNullBranch(other) && other.instancePath.startsWith(error.instancePath));
    }
    if (isNullBranch(error)) {
      return !errors.some((other) => other !== error && !isCombinator(other) && !isNullBranch(other) && other.instancePath.startsWith(error.instancePath));
    }
    return true;
  });
  const seen = new Set<string>();
  const result: FastApiError[] = [];
  for (const error of kept) {
    const mapped = mapAjvError(error, body);
    const key = JSON.stringify([mapped.loc, mapped.type]);
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(mapped);
  }
  return result;
}

/** What pydantic's lax mode reads as a boolean (str, case-insensitive, and the numbers 0 and 1). */
const PYDANTIC_BOOLEANS: Record<string, boolean> = {
  "0": false, off: false, f: false, false: false, n: false, no: false,
  "1": true, on: true, t: true, true: true, y: true, yes: true,
};

/** is_paused, the one boolean field of WorkPoolCreate / WorkPoolUpdate, coerced in place as pydantic does. */
function coerceBooleans(body: unknown): void {
  if (!isPlainObject(body) || !("is_paused" in body)) return;
  const value = body.is_paused;
  const key = typeof value === "string" ? value.toLowerCase() : value === 0 || value === 1 ? String(value) : undefined;
  if (key !== undefined && key in PYDANTIC_BOOLEANS) body.is_paused = PYDANTIC_BOOLEANS[key];
}

function isNullBranch(error: ErrorObject): boolean {
  return error.keyword === "type" && (error.params as { type?: unknown }).type === "null";
}

function mapAjvError(error: ErrorObject, body: unknown): FastApiError {
  const segments = pointerSegments(error.instancePath);
  const loc: (string | number)[] = ["body", ...segments];
  const value = valueAt(body, segments);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return { type: "missing", loc: [...loc, String(params.missingProperty)], msg: "Field required", input: value };
    case "additionalProperties": {
      const property = String(params.additionalProperty);
      return {
        type: "extra_forbidden",
        loc: [...loc, property],
        msg: "Extra inputs are not permitted",
        input: (value as Record<string, unknown>)[property],
      };
    }
    case "type": {
      const expected = String(params.type);
      if (expected === "string") return { type: "string_type", loc, msg: "Input should be a valid string", input: value };
      if (expected === "boolean") {
        return typeof value === "string"
          ? { type: "bool_parsing", loc, msg: "Input should be a valid boolean, unable to interpret input", input: value }
          : { type: "bool_type", loc, msg: "Input should be a valid boolean", input: value };
      }
      if (expected === "integer") {
        if (typeof value === "string") {
          return { type: "int_parsing", loc, msg: "Input should be a valid integer, unable to parse string as an integer", input: value };
        }
        if (typeof value === "number") {
          return { type: "int_from_float", loc, msg: "Input should be a valid integer, got a number with a fractional part", input: value };
        }
        return { type: "int_type", loc, msg: "Input should be a valid integer", input: value };
      }
      if (expected === "object") {
        if (segments.length === 0) {
          return { type: "model_attributes_type", loc, msg: "Input should be a valid dictionary or object to extract fields from", input: value };
        }
        const parent = error.parentSchema as { properties?: unknown; title?: string } | undefined;
        if (parent?.properties && parent.title) {
          return {
            type: "model_type",
            loc,
            msg: `Input should be a valid dictionary or instance of ${parent.title}`,
            input: value,
            ctx: { class_name: parent.title },
          };
        }
        return { type: "dict_type", loc, msg: "Input should be a valid dictionary", input: value };
      }
      return { type: `${expected}_type`, loc, msg: `Input should be a valid ${expected}`, input: value };
    }
    case "minimum":
      return {
        type: "greater_than_equal",
        loc,
        msg: `Input should be greater than or equal to ${String(params.limit)}`,
        input: value,
        ctx: { ge: params.limit },
      };
    case "pattern":
      return {
        type: "string_pattern_mismatch",
        loc,
        msg: `String should match pattern '${String(params.pattern)}'`,
        input: value,
        ctx: { pattern: params.pattern },
      };
    case "format":
      if (params.format === "uuid") {
        return { type: "uuid_parsing", loc, msg: "Input should be a valid UUID", input: value };
      }
      return { type: `${String(params.format)}_parsing`, loc, msg: `Input should be a valid ${String(params.format)}`, input: value };
    default:
      return { type: error.keyword, loc, msg: error.message ?? "Invalid value", input: value };
  }
}

function invalidRequest(errors: FastApiError[], requestBody: unknown): HttpError {
  return new HttpError(422, {
    exception_message: "Invalid request received.",
    exception_detail: errors,
    request_body: requestBody,
  });
}

// ---------------------------------------------------------------------------
// base_job_template validation (prefect.server.schemas.actions.validate_base_job_template)
// ---------------------------------------------------------------------------

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Python truthiness for JSON values. */
function truthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value as object).length > 0;
  return true;
}

/** Placeholder names used in a job configuration (each value JSON-encoded, as the server does). */
export function placeholdersIn(jobConfiguration: Record<string, unknown>): string[] {
  const names = new Set<string>();
  for (const value of Object.values(jobConfiguration)) {
    const encoded = JSON.stringify(value) ?? "";
    for (const match of encoded.matchAll(PLACEHOLDER_RE)) names.add(match[1]!);
  }
  return [...names];
}

/** Returns the ValueError message the server raises, or undefined when the template is acceptable. */
export function baseJobTemplateProblem(template: Record<string, unknown>): string | undefined {
  if (Object.keys(template).length === 0) return undefined;
  const jobConfiguration = template.job_configuration;
  const variables = template.variables;
  if (!(truthy(jobConfiguration) && truthy(variables))) {
    return "The `base_job_template` must contain both a `job_configuration` key and a `variables` key.";
  }
  if (!isPlainObject(jobConfiguration) || !isPlainObject(variables)) {
    // The server would fail with an AttributeError here; a 422 is kinder and still a failure.
    return "The `base_job_template` must contain both a `job_configuration` key and a `variables` key (as objects).";
  }
  const properties = isPlainObject(variables.properties) ? variables.properties : {};
  const missing = placeholdersIn(jobConfiguration)
    .filter((name) => !Object.prototype.hasOwnProperty.call(properties, name))
    .sort();
  if (missing.length === 0) return undefined;
  return (
    "The variables specified in the job configuration template must be present as properties in the variables schema. " +
    // the server joins with ' ,' (sic)
    `Your job configuration uses the following undeclared variable(s): ${missing.join(" ,")}.`
  );
}

// ---------------------------------------------------------------------------
// Job variable defaults (prefect.server.api.validation, create only)
// ---------------------------------------------------------------------------

let templateAjv: Ajv2020 | undefined;

function getTemplateAjv(): Ajv2020 {
  if (!templateAjv) {
    // jsonschema's Draft202012Validator: unknown keywords and formats are ignored; uuid is checked.
    templateAjv = new Ajv2020({ strict: false, logger: false, allErrors: false, verbose: true });
    templateAjv.addFormat("uuid", UUID_RE);
  }
  return templateAjv;
}

function deepClone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** prefect.utilities.schema_tools.validation._fix_null_typing / _fix_tuple_items / process_properties */
function processProperties(properties: Record<string, unknown>, requiredFields: unknown[], allowNoneWithDefault: boolean): void {
  for (const [key, schema] of Object.entries(properties)) {
    if (!isPlainObject(schema)) continue;
    if (
      !requiredFields.includes(key) &&
      "type" in schema &&
      schema.type !== "null" &&
      (!("default" in schema) || allowNoneWithDefault)
    ) {
      schema.anyOf = [{ type: schema.type }, { type: "null" }];
      delete schema.type;
    }
    if (Array.isArray(schema.items) && schema.items.length > 0 && !schema.prefixItems) {
      schema.prefixItems = deepClone(schema.items);
      delete schema.items;
    }
    if (isPlainObject(schema.properties)) {
      processProperties(schema.properties, Array.isArray(schema.required) ? schema.required : [], false);
    }
  }
}

/** prefect.utilities.schema_tools.validation.preprocess_schema */
function preprocessSchema(schema: Record<string, unknown>, allowNoneWithDefault: boolean): Record<string, unknown> {
  const copy = deepClone(schema);
  if (isPlainObject(copy.properties)) {
    processProperties(copy.properties, Array.isArray(copy.required) ? copy.required : [], allowNoneWithDefault);
  }
  if (isPlainObject(copy.definitions)) {
    const definitions = copy.definitions;
    for (const definition of Object.values({ ...definitions })) {
      if (!isPlainObject(definition)) continue;
      if (isPlainObject(definition.properties)) {
        processProperties(definition.properties, Array.isArray(definition.required) ? definition.required : [], allowNoneWithDefault);
      }
      if ("block_type_slug" in definition && typeof definition.title === "string") {
        definitions[definition.title] = {
          oneOf: [
            definition,
            { type: "object", properties: { $ref: { type: "string", format: "uuid" } }, required: ["$ref"] },
          ],
        };
      }
    }
  }
  return copy;
}

/** prefect.utilities.collections.remove_nested_keys(["required"], …) */
function removeRequired(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(removeRequired);
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).filter(([key]) => key !== "required").map(([key, inner]) => [key, removeRequired(inner)]));
  }
  return value;
}

function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string") return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (typeof value === "object") {
    return `{${Object.entries(value as object).map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(", ")}}`;
  }
  return String(value);
}

/** A jsonschema-like message for the most relevant (shallowest, outermost) ajv error. */
function jsonschemaMessage(errors: ErrorObject[], data: unknown): string {
  const depth = (e: ErrorObject) => pointerSegments(e.instancePath).length;
  const shallowest = Math.min(...errors.map(depth));
  const candidates = errors.filter((e) => depth(e) === shallowest);
  const error = candidates[candidates.length - 1]!;
  const segments = pointerSegments(error.instancePath);
  const instance = valueAt(data, segments);
  const params = error.params as Record<string, unknown>;
  let reason: string;
  switch (error.keyword) {
    case "type":
      reason = `${pyRepr(instance)} is not of type ${String(params.type)
        .split(",")
        .map((t) => `'${t}'`)
        .join(", ")}`;
      break;
    case "enum":
      reason = `${pyRepr(instance)} is not one of ${pyRepr(params.allowedValues)}`;
      break;
    case "const":
      reason = `${pyRepr(params.allowedValue)} was expected`;
      break;
    case "anyOf":
      reason = `${pyRepr(instance)} is not valid under any of the given schemas`;
      break;
    case "oneOf":
      reason = `${pyRepr(instance)} is not valid under any of the given schemas`;
      break;
    case "minimum":
      reason = `${pyRepr(instance)} is less than the minimum of ${String(params.limit)}`;
      break;
    case "maximum":
      reason = `${pyRepr(instance)} is greater than the maximum of ${String(params.limit)}`;
      break;
    case "additionalProperties":
      reason = `Additional properties are not allowed (${pyRepr(params.additionalProperty)} was unexpected)`;
      break;
    case "format":
      reason = `${pyRepr(instance)} is not a ${pyRepr(params.format)}`;
      break;
    default:
      reason = `${pyRepr(instance)}: ${error.message ?? "is invalid"}`;
  }
  const path = segments.map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`)).join("");
  const prefix = path ? `Validation failed for field ${pyRepr(path.replace(/^\./, ""))}.` : "Validation failed.";
  return `${prefix} Failure reason: ${reason}`;
}

// ---------------------------------------------------------------------------
// Misc helpers
// ---------------------------------------------------------------------------

/** Percent-decoding like Python's urllib.parse.unquote: invalid escapes stay as they are. */
function unquote(raw: string): string {
  return raw.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function freshStorageConfiguration(input?: Record<string, unknown> | null): WorkPoolStorageConfiguration {
  return {
    bundle_upload_step: (input?.bundle_upload_step as Record<string, unknown> | null | undefined) ?? null,
    bundle_execution_step: (input?.bundle_execution_step as Record<string, unknown> | null | undefined) ?? null,
    default_result_storage_block_id: (input?.default_result_storage_block_id as string | null | undefined) ?? null,
  };
}

function matches(fault: Fault, method: string, url: string, decodedUrl: string): boolean {
  const match = fault.match;
  if (!match) return true;
  if (match.method && match.method.toUpperCase() !== method.toUpperCase()) return false;
  if (match.pathIncludes && !url.includes(match.pathIncludes) && !decodedUrl.includes(match.pathIncludes)) return false;
  return true;
}

function faultBody(status: number): unknown {
  if (status === 500) return { exception_message: "Internal Server Error" };
  if (status === 429) return { detail: "Too Many Requests" };
  if (status === 502) return { detail: "Bad Gateway" };
  if (status === 504) return { detail: "Gateway Timeout" };
  return { detail: "Service Unavailable" };
}

type Route =
  | { kind: "pools"; name?: undefined }
  | { kind: "pool"; name: string }
  | { kind: "health"; name?: undefined }
  | { kind: "csrf"; name?: undefined };

const ROUTE_METHODS: Record<Route["kind"], string[]> = {
  pools: ["POST"],
  pool: ["GET", "PATCH", "DELETE"],
  health: ["GET"],
  csrf: ["GET"],
};

function matchRoute(path: string): Route | undefined {
  if (path === "/work_pools/") return { kind: "pools" };
  if (path === "/health") return { kind: "health" };
  if (path === "/csrf-token") return { kind: "csrf" };
  const pool = /^\/work_pools\/([^/]+)$/.exec(path);
  // "/work_pools/filter" and "/work_pools/count" are POST routes of their own upstream (not doubled)
  if (pool) return { kind: "pool", name: pool[1]! };
  return undefined;
}

// ---------------------------------------------------------------------------
// The server core (runs inside a worker thread, see PrefectApiDouble below)
// ---------------------------------------------------------------------------

interface ServerInfo {
  port: number;
  origin: string;
  url: string;
  basePath: string;
  mode: "cloud" | "self-hosted";
  apiKey?: string;
  accountId?: string;
  workspaceId?: string;
}

function checkOptions(options: PrefectApiDoubleOptions): void {
  if (options.mode !== "cloud" && options.mode !== "self-hosted") throw new Error(`PrefectApiDouble: unknown mode ${String(options.mode)}`);
  if (options.mode === "cloud" && (options.authString !== undefined || options.csrf)) {
    throw new Error("PrefectApiDouble: authString and csrf are self-hosted options");
  }
  if (options.mode === "self-hosted" && (options.apiKey !== undefined || options.accountId !== undefined || options.workspaceId !== undefined)) {
    throw new Error("PrefectApiDouble: apiKey/accountId/workspaceId are Cloud options");
  }
  for (const id of [options.accountId, options.workspaceId]) {
    if (id !== undefined && !UUID_RE.test(id)) throw new Error(`PrefectApiDouble: Cloud IDs are UUIDs, got ${id}`);
  }
}

class DoubleServer {
  readonly info: ServerInfo;
  private readonly basePath: string;
  private readonly origin: string;
  private readonly mode: "cloud" | "self-hosted";
  private readonly apiKey: string | undefined;
  private readonly options: PrefectApiDoubleOptions;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly pools = new Map<string, WorkPoolResponse>();
  private readonly workersOnline = new Set<string>();
  private readonly csrfTokens = new Map<string, CsrfToken>();
  private faults: Fault[] = [];
  private log: RecordedRequest[] = [];
  private seq = 0;

  private constructor(options: PrefectApiDoubleOptions, server: Server, port: number, ids: { accountId?: string; workspaceId?: string; apiKey?: string }) {
    this.options = options;
    this.server = server;
    this.mode = options.mode;
    this.apiKey = ids.apiKey;
    this.origin = `http://127.0.0.1:${port}`;
    this.basePath = options.mode === "cloud" ? `/api/accounts/${ids.accountId}/workspaces/${ids.workspaceId}` : "/api";
    this.info = { port, origin: this.origin, url: this.origin + this.basePath, basePath: this.basePath, mode: this.mode, ...ids };
  }

  static async start(options: PrefectApiDoubleOptions): Promise<DoubleServer> {
    checkOptions(options);
    loadSchemas();
    const ids =
      options.mode === "cloud"
        ? {
            accountId: options.accountId ?? randomUUID(),
            workspaceId: options.workspaceId ?? randomUUID(),
            apiKey: options.apiKey ?? `pnu_${randomBytes(18).toString("hex")}`,
          }
        : {};
    let double: DoubleServer | undefined;
    const server = createServer((req, res) => {
      void double!.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    double = new DoubleServer(options, server, port, ids);
    server.on("connection", (socket) => {
      double!.sockets.add(socket);
      socket.on("close", () => double!.sockets.delete(socket));
    });
    return double;
  }

  close(): void {
    this.server.close();
    for (const socket of this.sockets) socket.destroy();
    this.server.closeAllConnections();
  }

  // ----- helpers the facade calls -----------------------------------------

  requests(): RecordedRequest[] {
    return this.log;
  }

  resetLog(): void {
    this.log = [];
  }

  injectFaults(faults: Fault[]): void {
    const queue: Fault[] = [];
    for (const fault of faults) {
      const times = fault.times ?? 1;
      if (!Number.isInteger(times) || times < 1) throw new Error(`PrefectApiDouble: fault.times must be a positive integer, got ${String(fault.times)}`);
      if ("status" in fault && !(Number.isInteger(fault.status) && fault.status >= 100 && fault.status <= 599)) {
        throw new Error(`PrefectApiDouble: fault.status must be an HTTP status, got ${String(fault.status)}`);
      }
      if ("delayMs" in fault && !(fault.delayMs >= 0)) throw new Error(`PrefectApiDouble: fault.delayMs must be >= 0`);
      queue.push({ ...fault, times });
    }
    this.faults = queue;
  }

  pendingFaults(): Fault[] {
    return this.faults;
  }

  seedPool(create: object, overrides: SeedOverrides = {}): WorkPoolResponse {
    const errors = validateAgainstPrefectSchema("WorkPoolCreate", create);
    if (errors) throw new Error(`PrefectApiDouble.seedPool: not a WorkPoolCreate: ${JSON.stringify(toFastApiErrors(errors, create))}`);
    const body = create as Record<string, unknown>;
    const name = body.name as string;
    if (this.pools.has(name)) throw new Error(`PrefectApiDouble.seedPool: pool "${name}" already exists`);
    const pool = this.buildPool(body);
    Object.assign(pool, overrides);
    this.pools.set(name, pool);
    return this.present(pool);
  }

  pool(name: string): WorkPoolResponse | undefined {
    const pool = this.pools.get(name);
    return pool ? this.present(pool) : undefined;
  }

  poolNames(): string[] {
    return [...this.pools.keys()].sort();
  }

  setWorkersOnline(name: string, online: boolean): void {
    const pool = this.pools.get(name);
    if (!pool) throw new Error(`PrefectApiDouble.setWorkersOnline: no pool "${name}"`);
    if (online) this.workersOnline.add(name);
    else this.workersOnline.delete(name);
    if (pool.type !== "prefect-agent" && !pool.is_paused) pool.status = online ? "READY" : "NOT_READY";
  }

  // ----- request handling ---------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // client went away mid-body
    }
    const rawBody = Buffer.concat(chunks).toString("utf8");
    const method = (req.method ?? "GET").toUpperCase();
    const url = req.url ?? "/";
    const questionMark = url.indexOf("?");
    const rawPath = questionMark === -1 ? url : url.slice(0, questionMark);
    const rawQuery = questionMark === -1 ? "" : url.slice(questionMark + 1);
    const query = Object.fromEntries(new URLSearchParams(rawQuery));
    const decodedPath = unquote(rawPath);
    const insideBase = decodedPath.startsWith(this.basePath + "/");
    const path = insideBase ? decodedPath.slice(this.basePath.length) : decodedPath;
    const route = insideBase ? matchRoute(path) : undefined;
    const { body } = this.parseBody(req.headers, rawBody);

    const record = (reply: Reply | null, fault?: Fault) => {
      const entry: RecordedRequest = {
        seq: ++this.seq,
        method,
        url,
        path,
        insideBase,
        query,
        ...(route?.kind === "pool" ? { poolName: route.name } : {}),
        headers: req.headers,
        rawBody,
        body,
        status: reply ? reply.status : null,
        responseHeaders: reply?.headers ?? {},
        responseBody: reply?.body,
        ...(fault ? { fault } : {}),
        receivedAt,
        respondedAt: Date.now(),
      };
      this.log.push(entry);
    };

    const fault = this.takeFault(method, url, unquote(url));
    if (fault && "drop" in fault) {
      record(null, fault);
      req.socket.destroy();
      return;
    }
    if (fault && "status" in fault) {
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
      const reply: Reply = { status: fault.status, body: fault.body ?? faultBody(fault.status), headers };
      record(reply, fault);
      this.send(res, reply);
      return;
    }

    let reply: Reply;
    if (fault && "delayMs" in fault) {
      if (fault.processAfterDelay) {
        await sleep(fault.delayMs);
        reply = this.dispatch(method, req.headers, path, insideBase, route, query, rawQuery, rawBody);
      } else {
        reply = this.dispatch(method, req.headers, path, insideBase, route, query, rawQuery, rawBody);
        await sleep(fault.delayMs);
      }
    } else {
      reply = this.dispatch(method, req.headers, path, insideBase, route, query, rawQuery, rawBody);
    }
    if (reply.status === 307) reply.headers = { ...reply.headers, location: this.origin + this.basePath + reply.headers!.location! };
    record(reply, fault);
    if (!res.destroyed) this.send(res, reply);
  }

  private takeFault(method: string, url: string, decodedUrl: string): Fault | undefined {
    const index = this.faults.findIndex((fault) => matches(fault, method, url, decodedUrl));
    if (index === -1) return undefined;
    const fault = this.faults[index]!;
    const remaining = (fault.times ?? 1) - 1;
    if (remaining <= 0) this.faults.splice(index, 1);
    else this.faults[index] = { ...fault, times: remaining };
    const { times: _times, ...applied } = fault;
    return applied as Fault;
  }

  private send(res: ServerResponse, reply: Reply): void {
    const headers: Record<string, string> = { ...(reply.headers ?? {}) };
    let payload = "";
    if (reply.body !== undefined && reply.status !== 204) {
      payload = JSON.stringify(reply.body);
      headers["content-type"] = "application/json";
    }
    headers["content-length"] = String(Buffer.byteLength(payload));
    res.writeHead(reply.status, headers);
    res.end(payload);
  }

  /** FastAPI: JSON only when Content-Type is absent or application/json / application/*+json. */
  private parseBody(headers: IncomingHttpHeaders, rawBody: string): { body: unknown; kind: "empty" | "json" | "invalid-json" | "not-json" } {
    if (rawBody.length === 0) return { body: undefined, kind: "empty" };
    const contentType = headers["content-type"];
    if (contentType) {
      const mediaType = contentType.split(";")[0]!.trim().toLowerCase();
      const [main, sub = ""] = mediaType.split("/");
      if (main !== "application" || !(sub === "json" || sub.endsWith("+json"))) return { body: undefined, kind: "not-json" };
    }
    try {
      return { body: JSON.parse(rawBody) as unknown, kind: "json" };
    } catch {
      return { body: undefined, kind: "invalid-json" };
    }
  }

  private dispatch(
    method: string,
    headers: IncomingHttpHeaders,
    path: string,
    insideBase: boolean,
    route: Route | undefined,
    query: Record<string, string>,
    rawQuery: string,
    rawBody: string,
  ): Reply {
    try {
      if (!insideBase) throw new HttpError(404, { detail: "Not Found" });
      // CsrfMiddleware sits on the outer app, the basic-auth middleware on the API app: CSRF first.
      this.checkCsrf(method, headers);
      this.checkAuth(method, path, headers);
      if (!route) {
        const toggled = path.endsWith("/") ? path.slice(0, -1) : `${path}/`;
        const alternative = matchRoute(toggled);
        if (alternative && ROUTE_METHODS[alternative.kind].includes(method)) {
          return { status: 307, headers: { location: encodeURI(toggled) + (rawQuery ? `?${rawQuery}` : "") } };
        }
        throw new HttpError(404, { detail: "Not Found" });
      }
      if (!ROUTE_METHODS[route.kind].includes(method)) {
        throw new HttpError(405, { detail: "Method Not Allowed" });
      }
      switch (route.kind) {
        case "health":
          return { status: 200, body: true };
        case "csrf":
          return this.issueCsrfToken(query);
        case "pools":
          return this.createPool(headers, rawBody);
        case "pool":
          if (method === "GET") return this.readPool(route.name);
          if (method === "PATCH") return this.updatePool(route.name, headers, rawBody);
          return this.deletePool(route.name);
      }
    } catch (error) {
      if (error instanceof HttpError) return { status: error.status, body: error.body };
      return { status: 500, body: { exception_message: "Internal Server Error" } };
    }
  }

  private checkAuth(method: string, path: string, headers: IncomingHttpHeaders): void {
    const header = headers.authorization;
    const unauthorized = () => new HttpError(401, { exception_message: "Unauthorized" });
    if (this.mode === "cloud") {
      const parts = (header ?? "").trim().split(/\s+/);
      if (parts.length !== 2 || parts[0] !== "Bearer" || parts[1] !== this.apiKey) throw unauthorized();
      return;
    }
    const authString = this.options.authString;
    if (authString === undefined) return;
    // the server lets probes through: GET on paths ending in "health" or "ready"
    if (method === "GET" && (path.endsWith("health") || path.endsWith("ready"))) return;
    if (header === undefined) throw unauthorized();
    const parts = header.split(/\s+/).filter(Boolean);
    if (parts.length !== 2 || parts[0] !== "Basic") throw unauthorized();
    if (Buffer.from(parts[1]!, "base64").toString("utf8") !== authString) throw unauthorized();
  }

  private checkCsrf(method: string, headers: IncomingHttpHeaders): void {
    if (!this.options.csrf || !CSRF_METHODS.has(method)) return;
    const token = headers["prefect-csrf-token"];
    const client = headers["prefect-csrf-client"];
    if (token === undefined) throw new HttpError(403, { detail: "Missing CSRF token." });
    if (client === undefined) throw new HttpError(403, { detail: "Missing client identifier." });
    const stored = this.csrfTokens.get(String(client));
    if (!stored || stored.token !== token || Date.parse(stored.expiration) <= Date.now()) {
      throw new HttpError(403, { detail: "Invalid CSRF token or client identifier." });
    }
  }

  private issueCsrfToken(query: Record<string, string>): Reply {
    const client = query.client;
    if (client === undefined) {
      throw new HttpError(422, {
        exception_message: "Invalid request received.",
        exception_detail: [{ type: "missing", loc: ["query", "client"], msg: "Field required", input: null }],
        request_body: null,
      });
    }
    if (!this.options.csrf) throw new HttpError(422, { detail: "CSRF protection is disabled." });
    const now = new Date();
    const previous = this.csrfTokens.get(client);
    const token: CsrfToken = {
      id: previous?.id ?? randomUUID(),
      created: previous?.created ?? now.toISOString(),
      updated: now.toISOString(),
      token: randomBytes(32).toString("hex"),
      client,
      expiration: new Date(now.getTime() + (this.options.csrfTokenTtlMs ?? 3_600_000)).toISOString(),
    };
    this.csrfTokens.set(client, token);
    return { status: 200, body: token };
  }

  /** Parses and schema-validates a body; throws the 422 FastAPI would send. */
  private validatedBody(headers: IncomingHttpHeaders, rawBody: string, which: "create" | "update"): Record<string, unknown> {
    const { body, kind } = this.parseBody(headers, rawBody);
    if (kind === "empty") throw invalidRequest([{ type: "missing", loc: ["body"], msg: "Field required", input: null }], null);
    if (kind === "invalid-json") {
      let position = 0;
      try {
        JSON.parse(rawBody);
      } catch (error) {
        position = Number(/position (\d+)/.exec(String((error as Error).message))?.[1] ?? 0);
        throw invalidRequest(
          [{ type: "json_invalid", loc: ["body", position], msg: "JSON decode error", input: {}, ctx: { error: (error as Error).message } }],
          rawBody,
        );
      }
    }
    if (kind === "not-json") {
      throw invalidRequest(
        [{ type: "model_attributes_type", loc: ["body"], msg: "Input should be a valid dictionary or object to extract fields from", input: rawBody }],
        rawBody,
      );
    }
    const schemas = loadSchemas();
    const validate = which === "create" ? schemas.create : schemas.update;
    coerceBooleans(body);
    const errors: FastApiError[] = validate(body) ? [] : toFastApiErrors(validate.errors ?? [], body);
    if (isPlainObject(body)) {
      const failed = (field: string) => errors.some((e) => e.loc[1] === field);
      if (which === "create" && typeof body.name === "string" && !failed("name") && body.name.replace(/^['" ]+|['" ]+$/g, "") === "") {
        errors.push({ type: "value_error", loc: ["body", "name"], msg: "Value error, name cannot be an empty string", input: body.name, ctx: { error: {} } });
      }
      if (isPlainObject(body.base_job_template) && !failed("base_job_template")) {
        const problem = baseJobTemplateProblem(body.base_job_template);
        if (problem) {
          errors.push({ type: "value_error", loc: ["body", "base_job_template"], msg: `Value error, ${problem}`, input: body.base_job_template, ctx: { error: {} } });
        }
      }
    }
    if (errors.length > 0) {
      // pydantic reports in field order, unknown (extra) fields last
      const order = which === "create" ? schemas.createFieldOrder : schemas.updateFieldOrder;
      const rank = (e: FastApiError) => {
        if (e.loc.length === 1) return -1;
        const index = order.indexOf(String(e.loc[1]));
        return index === -1 ? order.length : index;
      };
      errors.sort((a, b) => rank(a) - rank(b));
      throw invalidRequest(errors, body);
    }
    return body as Record<string, unknown>;
  }

  private createPool(headers: IncomingHttpHeaders, rawBody: string): Reply {
    const body = this.validatedBody(headers, rawBody, "create");
    const name = body.name as string;
    if (name.toLowerCase().startsWith("prefect")) {
      throw new HttpError(403, { detail: "Work pools starting with 'Prefect' are reserved for internal use." });
    }
    this.validateJobVariableDefaults((body.base_job_template as Record<string, unknown> | undefined) ?? {});
    if (this.pools.has(name)) throw new HttpError(409, { detail: "A work pool with this name already exists." });
    const pool = this.buildPool(body);
    this.pools.set(name, pool);
    return { status: 201, body: this.present(pool) };
  }

  private readPool(name: string): Reply {
    const pool = this.pools.get(name);
    if (!pool) throw new HttpError(404, { detail: `Work pool "${name}" not found.` });
    return { status: 200, body: this.present(pool) };
  }

  private updatePool(name: string, headers: IncomingHttpHeaders, rawBody: string): Reply {
    const body = this.validatedBody(headers, rawBody, "update");
    const fields = Object.keys(body);
    if (name.toLowerCase().startsWith("prefect") && fields.some((field) => field !== "is_paused" && field !== "concurrency_limit")) {
      throw new HttpError(403, {
        detail: "Work pools starting with 'Prefect' are reserved for internal use and can only be updated to set concurrency limits or pause.",
      });
    }
    const pool = this.pools.get(name);
    if (!pool) throw new HttpError(404, { detail: `Work pool "${name}" not found.` });
    // Columns that are NOT NULL in the server's database: an explicit null fails
    // there (validator AttributeError / IntegrityError ⇒ 500), so it does here.
    for (const field of ["is_paused", "base_job_template", "storage_configuration"]) {
      if (field in body && body[field] === null) throw new HttpError(500, { exception_message: "Internal Server Error" });
    }
    const next: WorkPoolResponse = deepClone(pool);
    if ("description" in body) next.description = body.description as string | null;
    if ("base_job_template" in body) next.base_job_template = deepClone(body.base_job_template as Record<string, unknown>);
    if ("concurrency_limit" in body) next.concurrency_limit = body.concurrency_limit as number | null;
    if ("storage_configuration" in body) next.storage_configuration = freshStorageConfiguration(body.storage_configuration as Record<string, unknown>);
    if ("is_paused" in body) {
      next.is_paused = body.is_paused as boolean;
      if (next.type !== "prefect-agent") {
        next.status = next.is_paused ? "PAUSED" : this.workersOnline.has(name) ? "READY" : "NOT_READY";
      }
    }
    next.updated = new Date().toISOString();
    this.pools.set(name, next);
    return { status: 204 };
  }

  private deletePool(name: string): Reply {
    if (name.toLowerCase().startsWith("prefect")) {
      throw new HttpError(403, { detail: "Work pools starting with 'Prefect' are reserved for internal use and can not be deleted." });
    }
    if (!this.pools.delete(name)) throw new HttpError(404, { detail: `Work pool "${name}" not found.` });
    this.workersOnline.delete(name);
    return { status: 204 };
  }

  /** prefect.server.api.validation.validate_job_variable_defaults_for_work_pool */
  private validateJobVariableDefaults(template: Record<string, unknown>): void {
    if (!truthy(template)) return;
    const variables = template.variables;
    if (!truthy(variables) || !isPlainObject(variables)) return;
    const ajv = getTemplateAjv();
    if (!ajv.validateSchema(variables)) {
      throw new HttpError(422, { detail: `Invalid schema: ${ajv.errorsText(ajv.errors, { dataVar: "variables" })}` });
    }
    const defaults: Record<string, unknown> = {};
    const properties = isPlainObject(variables.properties) ? variables.properties : {};
    for (const [name, attributes] of Object.entries(properties)) {
      if (!isPlainObject(attributes) || !("default" in attributes)) continue;
      const value = attributes.default;
      if (isPlainObject(value) && "$ref" in value) {
        const reference = value.$ref;
        const blockId = isPlainObject(reference) ? reference.block_document_id : undefined;
        if (blockId === undefined || blockId === null) continue;
        const documents = this.options.blockDocuments ?? {};
        if (typeof blockId !== "string" || !UUID_RE.test(blockId) || !(blockId.toLowerCase() in documents)) {
          throw new HttpError(404, { detail: "Block not found." });
        }
        defaults[name] = deepClone(documents[blockId.toLowerCase()]);
      } else {
        defaults[name] = value;
      }
    }
    const schema = removeRequired(preprocessSchema(variables, true)) as Record<string, unknown>;
    delete schema.$id;
    let validate: ValidateFunction;
    try {
      validate = ajv.compile(schema);
    } catch (error) {
      throw new HttpError(422, { detail: `Invalid schema: ${(error as Error).message}` });
    } finally {
      ajv.removeSchema(schema);
    }
    if (!validate(defaults)) {
      throw new HttpError(422, {
        detail: `Validation failed for work pool's job variable defaults: ${jsonschemaMessage(validate.errors ?? [], defaults)}`,
      });
    }
  }

  private buildPool(body: Record<string, unknown>): WorkPoolResponse {
    const now = new Date().toISOString();
    const type = (body.type as string | undefined) ?? "prefect-agent";
    const isPaused = (body.is_paused as boolean | undefined) ?? false;
    return {
      id: randomUUID(),
      created: now,
      updated: now,
      name: body.name as string,
      description: (body.description as string | null | undefined) ?? null,
      type,
      base_job_template: deepClone((body.base_job_template as Record<string, unknown> | undefined) ?? {}),
      is_paused: isPaused,
      concurrency_limit: (body.concurrency_limit as number | null | undefined) ?? null,
      status: type === "prefect-agent" ? null : isPaused ? "PAUSED" : "NOT_READY",
      default_queue_id: randomUUID(),
      storage_configuration: freshStorageConfiguration(body.storage_configuration as Record<string, unknown> | undefined),
      active_slots: null,
    };
  }

  /** The response view: active_slots is 0 (no runs) when a limit is set, else null. */
  private present(pool: WorkPoolResponse): WorkPoolResponse {
    return { ...deepClone(pool), active_slots: pool.concurrency_limit === null ? null : 0 };
  }
}

// ---------------------------------------------------------------------------
// Worker-thread hosting
//
// Tests often run Terraform / the script with spawnSync, which blocks the main
// thread's event loop. The HTTP server therefore lives in a worker thread; the
// helpers below (requests, pool, seedPool, …) stay synchronous by posting a
// message and blocking on Atomics.wait until the worker answers.
// ---------------------------------------------------------------------------

type RpcOp = "requests" | "resetLog" | "injectFaults" | "pendingFaults" | "seedPool" | "pool" | "poolNames" | "setWorkersOnline" | "close";
interface RpcRequest {
  id: number;
  op: RpcOp;
  args: unknown[];
}
type RpcReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

interface WorkerData {
  filename: string;
  options: PrefectApiDoubleOptions;
  rpc: MessagePort;
  signal: Int32Array;
}

const RPC_TIMEOUT_MS = 15_000;

/**
 * Loads this very file in the worker: TypeScript (this file and the support files it imports)
 * is compiled with @swc/core, the project's Jest transform.
 */
const WORKER_BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
const Module = require("node:module");
const { readFileSync } = require("node:fs");
const filename = workerData.filename;
const localRequire = Module.createRequire(filename);
if (/\.[cm]?tsx?$/.test(filename)) {
  const { transformSync } = localRequire("@swc/core");
  Module._extensions[".ts"] = (module, file) => {
    const { code } = transformSync(readFileSync(file, "utf8"), {
      filename: file,
      swcrc: false,
      configFile: false,
      sourceMaps: "inline",
      jsc: { parser: { syntax: "typescript" }, target: "es2022" },
      module: { type: "commonjs" },
    });
    module._compile(code, file);
  };
}
localRequire(filename).runPrefectApiDoubleWorker(workerData);
`;

/** Entry point inside the worker thread. */
export async function runPrefectApiDoubleWorker(data: WorkerData): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error("runPrefectApiDoubleWorker must run in a worker thread");
  let server: DoubleServer;
  try {
    server = await DoubleServer.start(data.options);
  } catch (error) {
    port.postMessage({ error: (error as Error).message });
    return;
  }
  const target = server as unknown as Record<RpcOp, (...args: unknown[]) => unknown>;
  data.rpc.on("message", (request: RpcRequest) => {
    let reply: RpcReply;
    try {
      reply = { id: request.id, ok: true, value: target[request.op](...request.args) };
    } catch (error) {
      reply = { id: request.id, ok: false, error: (error as Error).message };
    }
    try {
      data.rpc.postMessage(reply);
    } catch (error) {
      data.rpc.postMessage({ id: request.id, ok: false, error: `unclonable reply: ${(error as Error).message}` });
    }
    Atomics.store(data.signal, 0, 1);
    Atomics.notify(data.signal, 0);
  });
  port.postMessage({ info: server.info });
}

/**
 * A Prefect REST API double (work pools) on 127.0.0.1, served from a worker
 * thread so that it keeps answering while the test blocks in spawnSync.
 */
export class PrefectApiDouble {
  /** The API base URL a client should use as PREFECT_API_URL (no trailing slash). */
  readonly url: string;
  /** e.g. "http://127.0.0.1:43210" */
  readonly origin: string;
  readonly port: number;
  readonly mode: "cloud" | "self-hosted";
  /** The path of the API base: "/api" or "/api/accounts/<uuid>/workspaces/<uuid>". */
  readonly basePath: string;
  /** Cloud: the API key the double accepts (the `apiKey` option, or a generated one). */
  readonly apiKey: string | undefined;
  readonly accountId: string | undefined;
  readonly workspaceId: string | undefined;

  private readonly worker: Worker;
  private readonly rpc: MessagePort;
  private readonly signal: Int32Array;
  private rpcSeq = 0;
  private stopped = false;
  private workerError: Error | undefined;

  private constructor(worker: Worker, rpc: MessagePort, signal: Int32Array, info: ServerInfo) {
    this.worker = worker;
    this.rpc = rpc;
    this.signal = signal;
    this.url = info.url;
    this.origin = info.origin;
    this.port = info.port;
    this.mode = info.mode;
    this.basePath = info.basePath;
    this.apiKey = info.apiKey;
    this.accountId = info.accountId;
    this.workspaceId = info.workspaceId;
  }

  static async start(options: PrefectApiDoubleOptions): Promise<PrefectApiDouble> {
    checkOptions(options);
    const signal = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    const workerData: WorkerData = { filename: __filename, options, rpc: port2, signal };
    const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData, transferList: [port2] });
    let info: ServerInfo;
    try {
      info = await new Promise<ServerInfo>((resolve, reject) => {
        worker.once("message", (message: { info?: ServerInfo; error?: string }) =>
          message.info ? resolve(message.info) : reject(new Error(`PrefectApiDouble: ${message.error ?? "the server thread failed to start"}`)),
        );
        worker.once("error", reject);
        worker.once("exit", (code) => reject(new Error(`PrefectApiDouble: the server thread exited (${code}) before it was ready`)));
      });
    } catch (error) {
      port1.close();
      await worker.terminate();
      throw error;
    }
    worker.removeAllListeners();
    const double = new PrefectApiDouble(worker, port1, signal, info);
    worker.on("error", (error) => {
      double.workerError = error;
    });
    // a forgotten stop() must not keep the test process alive
    worker.unref();
    return double;
  }

  /** Shuts the server down (open connections and pending slow responses are cut). Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    try {
      this.call("close");
    } catch {
      // terminate below ends it anyway
    }
    this.stopped = true;
    this.rpc.close();
    await this.worker.terminate();
  }

  /** Every request since start or the last resetLog(), oldest first, faulted ones included. */
  get requests(): readonly RecordedRequest[] {
    return this.call<RecordedRequest[]>("requests");
  }

  resetLog(): void {
    this.call("resetLog");
  }

  /**
   * Replaces the fault queue. For each request the first queued fault whose
   * `match` fits is applied and its `times` (default 1) decremented; spent
   * faults leave the queue. `injectFaults([])` clears it.
   */
  injectFaults(faults: Fault[]): void {
    this.call("injectFaults", faults);
  }

  /** Faults not yet used up, with their remaining `times`. */
  get pendingFaults(): readonly Fault[] {
    return this.call<Fault[]>("pendingFaults");
  }

  /**
   * Puts a pool in place directly (e.g. one a worker created with its own
   * template). `create` must satisfy the WorkPoolCreate schema; reserved names
   * and the template/default checks are not applied. Returns the pool.
   */
  seedPool(create: object, overrides: SeedOverrides = {}): WorkPoolResponse {
    return this.call<WorkPoolResponse>("seedPool", create, overrides);
  }

  /** The stored pool, as GET /work_pools/{name} would return it, or undefined. */
  pool(name: string): WorkPoolResponse | undefined {
    return this.call<WorkPoolResponse | undefined>("pool", name);
  }

  poolNames(): string[] {
    return this.call<string[]>("poolNames");
  }

  /** Workers polling ⇒ status READY (unless paused); none ⇒ NOT_READY. */
  setWorkersOnline(name: string, online: boolean): void {
    this.call("setWorkersOnline", name, online);
  }

  private call<T = unknown>(op: RpcOp, ...args: unknown[]): T {
    if (this.stopped) throw new Error(`PrefectApiDouble.${op}: the double has been stopped`);
    if (this.workerError) throw new Error(`PrefectApiDouble.${op}: the server thread failed: ${this.workerError.message}`);
    const id = ++this.rpcSeq;
    Atomics.store(this.signal, 0, 0);
    this.rpc.postMessage({ id, op, args } satisfies RpcRequest);
    const deadline = Date.now() + RPC_TIMEOUT_MS;
    for (;;) {
      const received = receiveMessageOnPort(this.rpc);
      if (received) {
        const reply = received.message as RpcReply;
        if (reply.id !== id) continue; // a late answer to an earlier, timed-out call
        if (!reply.ok) throw new Error(reply.error);
        return reply.value as T;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`PrefectApiDouble.${op}: no answer from the server thread within ${RPC_TIMEOUT_MS} ms`);
      Atomics.wait(this.signal, 0, 0, left);
      Atomics.store(this.signal, 0, 0);
    }
  }
}
