/**
 * The generated configuration docs: the committed JSON Schema and reference
 * are current, and the JSON Schema keeps the zod schema's strictness and
 * defaults.
 */
import { join } from "node:path";
import { z } from "zod";
import { FARGATE_MEMORY_BY_CPU, LOG_RETENTION_DAYS } from "../src/config/aws-formats";
import { CONFIG_DOC_FILES, configJsonSchema, formatJson, JsonSchemaNode, renderConfigReference } from "../src/config/docs";
import { CONFIG_SCHEMA } from "../src/config/schema";
import { expectCommittedFile } from "./support/files";

const ROOT = join(__dirname, "..");
const schema = configJsonSchema();
const reference = renderConfigReference(schema);

/** Fails with a hint to regenerate when a committed file differs from what the generator produces now. */
const expectCommitted = (file: string, expected: string) => expectCommittedFile(file, expected, "npm run docs");

/** Every node of the JSON Schema with its dotted path (`[]` for array items). */
function walk(node: JsonSchemaNode, path = ""): [string, JsonSchemaNode][] {
  const nodes: [string, JsonSchemaNode][] = [[path, node]];
  for (const [key, child] of Object.entries(node.properties ?? {})) nodes.push(...walk(child, path ? `${path}.${key}` : key));
  if (node.items) nodes.push(...walk(node.items, `${path}[]`));
  return nodes;
}

type ZodNode = z.core.$ZodType;
interface ZodDef {
  type: string;
  innerType?: ZodNode;
  defaultValue?: unknown;
  shape?: Record<string, ZodNode>;
}
const defOf = (schema: ZodNode) => schema._zod.def as unknown as ZodDef;

/** The default of a zod field (through optional/default/prefault wrappers), if it has one. */
function zodDefault(field: ZodNode): { has: boolean; value?: unknown } {
  for (let current: ZodNode | undefined = field; current; current = defOf(current).innerType) {
    const def = defOf(current);
    if (def.type === "default" || def.type === "prefault") return { has: true, value: def.defaultValue };
  }
  return { has: false };
}

/** The object shape inside a zod field, if the field is an object. */
function zodShape(field: ZodNode): Record<string, ZodNode> | undefined {
  for (let current: ZodNode | undefined = field; current; current = defOf(current).innerType) {
    const shape = defOf(current).shape;
    if (shape) return shape;
  }
  return undefined;
}

const ZOD_SHAPE = CONFIG_SCHEMA.shape as unknown as Record<string, ZodNode>;
const TOP_LEVEL_KEYS = Object.keys(ZOD_SHAPE);

describe("configuration docs: committed files", () => {
  it(`GIVEN the committed ${CONFIG_DOC_FILES.jsonSchema} WHEN compared with configJsonSchema() THEN it is up to date`, () => {
    expectCommitted(CONFIG_DOC_FILES.jsonSchema, formatJson(schema));
  });

  it(`GIVEN the committed ${CONFIG_DOC_FILES.reference} WHEN compared with renderConfigReference() THEN it is up to date`, () => {
    expectCommitted(CONFIG_DOC_FILES.reference, reference);
  });

  it("GIVEN the generators WHEN run twice THEN they produce the same output, with no absolute path or date", () => {
    expect(formatJson(configJsonSchema())).toBe(formatJson(schema));
    expect(renderConfigReference(configJsonSchema())).toBe(reference);
    for (const text of [formatJson(schema), reference]) {
      expect(text).not.toContain(ROOT);
      expect(text).not.toMatch(/\b20\d\d-\d\d-\d\d\b/);
      expect(text.endsWith("\n")).toBe(true);
    }
  });
});

describe("configuration docs: JSON Schema", () => {
  it("GIVEN the JSON Schema WHEN inspected THEN it has a title, no $id and draft 2020-12", () => {
    expect(schema.title).toBe("Prefect ECS worker configuration");
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(JSON.stringify(schema)).not.toContain('"$id"');
  });

  it("GIVEN an unknown top-level key WHEN checked THEN the root and every nested object reject it (additionalProperties false)", () => {
    expect(schema.additionalProperties).toBe(false);
    const objects = walk(schema).filter(([, node]) => node.type === "object");
    const maps = objects.filter(([, node]) => typeof node.additionalProperties === "object").map(([path]) => path);
    // The only free-form maps; every other object is closed.
    expect(maps.sort()).toEqual([
      "tags",
      "workPool.baseJobTemplate",
      "workPool.extraVariables",
      "workPool.jobConfiguration",
      "worker.environment",
      "worker.secrets",
    ]);
    for (const [path, node] of objects) {
      if (maps.includes(path)) continue;
      expect({ path, additionalProperties: node.additionalProperties }).toEqual({ path, additionalProperties: false });
    }
    // The zod schema agrees.
    expect(CONFIG_SCHEMA.safeParse({ unknownKey: 1 }).success).toBe(false);
    expect(CONFIG_SCHEMA.safeParse({ worker: { unknownKey: 1 } }).success).toBe(false);
  });

  it("GIVEN {} WHEN checked THEN nothing is required at the root or in any section", () => {
    expect(schema.required ?? []).toEqual([]);
    for (const key of TOP_LEVEL_KEYS) expect({ key, required: schema.properties?.[key]?.required ?? [] }).toEqual({ key, required: [] });
    expect(CONFIG_SCHEMA.safeParse({}).success).toBe(true);
  });

  it("GIVEN the zod schema WHEN converted THEN every top-level key and section field appears, with its default", () => {
    expect(Object.keys(schema.properties ?? {})).toEqual(TOP_LEVEL_KEYS);
    for (const key of TOP_LEVEL_KEYS) {
      const json = schema.properties?.[key] as JsonSchemaNode;
      const topDefault = zodDefault(ZOD_SHAPE[key]);
      expect({ key, default: json.default }).toEqual({ key, default: topDefault.has ? topDefault.value : undefined });
      const shape = zodShape(ZOD_SHAPE[key]);
      if (!shape) continue;
      expect(Object.keys(json.properties ?? {})).toEqual(Object.keys(shape));
      for (const [field, fieldSchema] of Object.entries(shape)) {
        const fieldDefault = zodDefault(fieldSchema);
        expect({ field: `${key}.${field}`, default: json.properties?.[field]?.default }).toEqual({
          field: `${key}.${field}`,
          default: fieldDefault.has ? fieldDefault.value : undefined,
        });
      }
    }
  });

  it("GIVEN the JSON Schema WHEN inspected THEN every field has a description", () => {
    const undocumented = walk(schema)
      .filter(([path]) => path !== "" && !path.endsWith("[]"))
      .filter(([, node]) => !node.description)
      .map(([path]) => path);
    expect(undocumented).toEqual([]);
  });

  it("GIVEN the refinements added to the JSON Schema WHEN compared with the zod validator THEN they agree", () => {
    const worker = schema.properties?.worker?.properties;
    expect(worker?.cpu?.enum).toEqual(Object.keys(FARGATE_MEMORY_BY_CPU).map(Number));
    for (const cpu of worker?.cpu?.enum as number[]) {
      expect(CONFIG_SCHEMA.safeParse({ worker: { cpu, memory: FARGATE_MEMORY_BY_CPU[cpu][0] } }).success).toBe(true);
    }
    expect(CONFIG_SCHEMA.safeParse({ worker: { cpu: 300 } }).success).toBe(false);

    const retention = schema.properties?.logs?.properties?.retentionInDays?.enum;
    expect(retention).toEqual([...LOG_RETENTION_DAYS]);
    for (const days of retention as number[]) expect(CONFIG_SCHEMA.safeParse({ logs: { retentionInDays: days } }).success).toBe(true);
    expect(CONFIG_SCHEMA.safeParse({ logs: { retentionInDays: 2 } }).success).toBe(false);

    const recovery = schema.properties?.secret?.properties?.recoveryWindowInDays;
    const allowedByJsonSchema = (days: number) =>
      (recovery?.anyOf ?? []).some(
        (option) => option.const === days || (option.minimum !== undefined && days >= option.minimum && days <= (option.maximum ?? Infinity)),
      );
    for (const days of [0, 1, 6, 7, 15, 30, 31]) {
      expect({ days, jsonSchema: allowedByJsonSchema(days) }).toEqual({
        days,
        jsonSchema: CONFIG_SCHEMA.safeParse({ secret: { recoveryWindowInDays: days } }).success,
      });
    }

    const reservedPrefix = new RegExp(schema.properties?.workPool?.properties?.name?.not?.pattern as string);
    for (const name of ["prefect-pool", "Prefect", "PREFECTx", "my-prefect-pool"]) {
      expect({ name, jsonSchema: !reservedPrefix.test(name) }).toEqual({
        name,
        jsonSchema: CONFIG_SCHEMA.safeParse({ workPool: { name } }).success,
      });
    }
  });
});

describe("configuration docs: reference", () => {
  it("GIVEN the reference WHEN read THEN every top-level key has a section", () => {
    for (const key of TOP_LEVEL_KEYS) expect(reference).toContain(`\n## \`${key}\`\n`);
  });

  it("GIVEN the reference WHEN read THEN every field path appears in a table row", () => {
    const fields = walk(schema)
      .map(([path]) => path)
      .filter((path) => path !== "" && !path.endsWith("[]") && (path.includes(".") || !schema.properties?.[path]?.properties));
    for (const field of fields) expect(reference).toContain(`| \`${field}\` |`);
  });

  it("GIVEN the reference WHEN read THEN it says it is generated and explains how to pass the file and keep secrets out", () => {
    expect(reference).toContain("generated by scripts/generate-config-docs.ts — do not edit");
    expect(reference).toContain("node synth.js --config my.json");
    expect(reference).toContain("PREFECT_ECS_WORKER_CONFIG=my.json");
    expect(reference).toContain("YAML");
    expect(reference).toContain("Unknown keys are errors");
    expect(reference).toContain("Secrets never go in it");
  });
});
