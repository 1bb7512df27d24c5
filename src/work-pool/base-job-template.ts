/**
 * Pure helpers for Prefect base job templates: the `{ job_configuration,
 * variables }` document a work pool stores and a worker renders.
 *
 * Placeholders follow Prefect's own syntax (`prefect.utilities.templating`):
 * `{{ name }}`, with or without whitespace inside the braces, alone or inside
 * a longer string. A placeholder's name is everything between the braces made
 * of word characters, `.`, `-`, `[`, `]` and `$`, so `{{ build_image.image }}`
 * is named `build_image.image`. The server (`validate_base_job_template`)
 * rejects a template whose `job_configuration` uses a placeholder name that is
 * not a key of `variables.properties`, comparing the whole name, so the
 * helpers below do the same.
 */
import { ConfigProblem, fieldPath } from "../config/errors";

/** A JSON value (what a base job template is made of). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** `T` with every nested property and array read-only. */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** A JSON Schema object (one variable, one definition). */
export type JsonSchema = Record<string, unknown>;

/** A Prefect base job template (`WorkPool.base_job_template`). */
export type BaseJobTemplate = {
  /** What the worker renders; `{{ name }}` placeholders are filled from the job variables. */
  job_configuration: Record<string, unknown>;
  /** JSON Schema of the job variables; `properties.<name>.default` is the work-pool default. */
  variables: {
    type?: string;
    description?: string;
    properties: Record<string, JsonSchema>;
    required?: string[];
    definitions?: Record<string, JsonSchema>;
  };
};

/** Prefect's PLACEHOLDER_CAPTURE_REGEX (`{{\s*([\w\.\-\[\]$]+)\s*}}`), with `\w` as Python reads it in a str pattern. */
const PLACEHOLDER = /\{\{\s*([\p{L}\p{N}_.\-[\]$]+)\s*\}\}/gu;

/** Sequences Terraform reads as the start of a template interpolation or directive. */
const TERRAFORM_TEMPLATE_SEQUENCES = ["${", "%{"] as const;

/**
 * Every placeholder name used in `jobConfiguration`, sorted and without duplicates.
 * Looks into nested objects and arrays, and into object keys too (the server
 * scans the template's JSON text, keys included).
 */
export function placeholdersOf(jobConfiguration: unknown): string[] {
  const names = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === "string") {
      for (const match of value.matchAll(PLACEHOLDER)) names.add(match[1]);
    } else if (Array.isArray(value)) {
      value.forEach(visit);
    } else if (isPlainObject(value)) {
      for (const [key, item] of Object.entries(value)) {
        visit(key);
        visit(item);
      }
    }
  };
  visit(jobConfiguration);
  return [...names].sort();
}

/** Placeholders used in `job_configuration` that `variables.properties` does not declare, sorted. */
export function undeclaredPlaceholders(template: DeepReadonly<BaseJobTemplate> | BaseJobTemplate): string[] {
  const declared = template.variables.properties;
  return placeholdersOf(template.job_configuration).filter((name) => !Object.prototype.hasOwnProperty.call(declared, name));
}

/**
 * The problems that make `template` unfit to be sent as a work pool's
 * `base_job_template` from Terraform; empty when it is fine. `field` names
 * the template in the problems (e.g. `workPool.baseJobTemplate`).
 *
 * Checks: an object with a non-empty `job_configuration` object and a
 * `variables` object whose `properties` is an object of schemas (the server
 * rejects a template without both keys); every placeholder declared (the
 * server rejects undeclared ones); JSON values only; no `${` or `%{` in any
 * key or string (Terraform would read them as template sequences).
 */
export function validateBaseJobTemplate(template: unknown, field: string): ConfigProblem[] {
  if (!isPlainObject(template)) {
    return [{ field, value: template, message: "must be an object with job_configuration and variables" }];
  }
  const problems: ConfigProblem[] = [];
  const at = (...path: PropertyKey[]): string => fieldPath([field, ...path]);

  const jobConfiguration = template.job_configuration;
  if (!isPlainObject(jobConfiguration)) {
    problems.push({
      field: at("job_configuration"),
      value: jobConfiguration,
      message: "must be an object: the job configuration the worker renders",
    });
  } else if (Object.keys(jobConfiguration).length === 0) {
    problems.push({
      field: at("job_configuration"),
      value: jobConfiguration,
      message: "must not be empty (Prefect rejects a base job template without a job configuration)",
    });
  }

  const variables = template.variables;
  let properties: Record<string, unknown> | undefined;
  if (!isPlainObject(variables)) {
    problems.push({
      field: at("variables"),
      value: variables,
      message: "must be an object: the JSON Schema of the job variables, with properties",
    });
  } else if (!isPlainObject(variables.properties)) {
    problems.push({
      field: at("variables", "properties"),
      value: variables.properties,
      message: "must be an object that maps each job variable name to its JSON Schema",
    });
  } else {
    properties = variables.properties;
    for (const [name, schema] of Object.entries(properties)) {
      if (!isPlainObject(schema)) {
        problems.push({
          field: at("variables", "properties", name),
          value: schema,
          message: "must be an object: the JSON Schema of the job variable",
        });
      }
    }
  }

  if (isPlainObject(jobConfiguration) && properties !== undefined) {
    const declared = properties;
    const missing = placeholdersOf(jobConfiguration).filter((name) => !Object.prototype.hasOwnProperty.call(declared, name));
    if (missing.length > 0) {
      problems.push({
        field: at("job_configuration"),
        value: missing,
        message:
          `uses undeclared variable(s) ${missing.join(", ")}: declare each in variables.properties ` +
          "or remove its placeholder from job_configuration (Prefect rejects the template otherwise)",
      });
    }
  }

  walkJson(template, [], (path, problem) => problems.push({ field: at(...path), ...problem }));
  return problems;
}

/**
 * A deep copy of `template` in which `variables.properties[name].default` is
 * `value` for each entry of `defaults`; everything else of each property
 * schema (type, title, description...) is kept. `template` is not modified.
 * Throws if the template does not declare one of the names, or if a value is
 * not JSON.
 */
export function withPoolDefaults(
  template: DeepReadonly<BaseJobTemplate> | BaseJobTemplate,
  defaults: Readonly<Record<string, unknown>>,
): BaseJobTemplate {
  const copy = cloneJson(template as BaseJobTemplate, "base job template");
  for (const [name, value] of Object.entries(defaults)) {
    const schema = Object.prototype.hasOwnProperty.call(copy.variables.properties, name)
      ? copy.variables.properties[name]
      : undefined;
    if (!isPlainObject(schema)) {
      const known = Object.keys(copy.variables.properties).join(", ");
      throw new Error(
        `The base job template does not declare the job variable "${name}", so it cannot get a work-pool default (declared: ${known || "none"}).`,
      );
    }
    schema.default = cloneJson(value, `the default of job variable "${name}"`);
  }
  return copy;
}

/** A deep copy of a JSON value; throws (naming `what` and the path) on anything that is not JSON. */
export function cloneJson<T>(value: T, what = "value"): T {
  const copy = (item: unknown, path: PropertyKey[]): unknown => {
    const bad = notJson(item);
    if (bad !== undefined) {
      const where = path.length > 0 ? ` at ${fieldPath(path)}` : "";
      throw new Error(`${what}${where} is not JSON: ${bad}`);
    }
    if (Array.isArray(item)) return item.map((element, i) => copy(element, [...path, i]));
    if (isPlainObject(item)) {
      const result: Record<string, unknown> = {};
      for (const [key, element] of Object.entries(item)) result[key] = copy(element, [...path, key]);
      return result;
    }
    return item;
  };
  return copy(value, []) as T;
}

// ---------------------------------------------------------------- internals

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Why `value` is not a JSON value (undefined when it is one, at this level). */
function notJson(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : `${String(value)} is not a finite number`;
    case "object":
      if (value === null || Array.isArray(value) || isPlainObject(value)) return undefined;
      return "an object that is not a plain object";
    default:
      return `a value of type ${typeof value}`;
  }
}

/** Reports non-JSON values and Terraform template sequences anywhere in `value` (keys included). */
function walkJson(
  value: unknown,
  path: PropertyKey[],
  report: (path: PropertyKey[], problem: { value: unknown; message: string }) => void,
): void {
  const bad = notJson(value);
  if (bad !== undefined) {
    report(path, { value, message: `must be a JSON value, got ${bad}` });
    return;
  }
  if (typeof value === "string") {
    const found = terraformSequencesIn(value);
    if (found.length > 0) {
      report(path, {
        value,
        message:
          `contains ${found.join(" and ")}, which Terraform reads as the start of a template sequence; ` +
          "remove it (Prefect placeholders are written {{ name }})",
      });
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => walkJson(item, [...path, i], report));
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const found = terraformSequencesIn(key);
      if (found.length > 0) {
        report([...path, key], {
          value: key,
          message: `this key contains ${found.join(" and ")}, which Terraform reads as the start of a template sequence; rename it`,
        });
      }
      walkJson(item, [...path, key], report);
    }
  }
}

function terraformSequencesIn(text: string): string[] {
  return TERRAFORM_TEMPLATE_SEQUENCES.filter((sequence) => text.includes(sequence));
}

/**
 * The guide's "Customize the base job template": adds job variables and sets
 * job_configuration keys, on a copy. Placeholders are checked afterwards by
 * validateBaseJobTemplate. A non-object template is returned as given, for
 * that check to report.
 */
export function customizeTemplate(
  template: unknown,
  extraVariables: Readonly<Record<string, Record<string, unknown>>>,
  jobConfiguration: Readonly<Record<string, unknown>>,
): unknown {
  if (Object.keys(extraVariables).length === 0 && Object.keys(jobConfiguration).length === 0) return template;
  const t = template as Partial<BaseJobTemplate> | null;
  if (!t || typeof t !== "object" || !t.variables || typeof t.variables !== "object") return template;
  return cloneJson({
    ...t,
    job_configuration: { ...(t.job_configuration ?? {}), ...jobConfiguration },
    variables: { ...t.variables, properties: { ...(t.variables.properties ?? {}), ...extraVariables } },
  });
}
