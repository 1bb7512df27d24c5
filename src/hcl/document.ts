/**
 * A whole Terraform JSON document (what cdk.tf.json holds) as HCL with the
 * same meaning, formatted as `terraform fmt` formats it. JSON cannot tell a
 * nested block from an object-valued argument, so the caller says which keys
 * of each resource, data source and provider are blocks (BlockSchema, from
 * the provider bindings); Terraform's own blocks (lifecycle, provisioner,
 * validation, ...) are known here.
 */
import { formatHcl } from "./format";
import { hclExpression, hclString } from "./render";

/** Which keys of a block's body are nested blocks, each with the same for its own body. */
export interface BlockSchema {
  readonly [name: string]: BlockSchema;
}

export interface DocumentLayout {
  /** Block schema of `resource.<type>.<name>`, `data.<type>.<name>` and `provider.<name>`. */
  readonly schemas: ReadonlyMap<string, BlockSchema>;
  /** The order of data sources and resources (`data.<type>.<name>`, `resource.<type>.<name>`); the rest follow. */
  readonly order: readonly string[];
}

type Json = Record<string, unknown>;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const LIFECYCLE: BlockSchema = { precondition: {}, postcondition: {} };
const RESOURCE_META_BLOCKS: BlockSchema = { lifecycle: LIFECYCLE, connection: {} };
const VARIABLE: BlockSchema = { validation: {} };
const OUTPUT: BlockSchema = { precondition: {} };
/** Settings of a backend or the cloud block that are blocks themselves. */
const BACKEND: BlockSchema = { workspaces: {} };
/** Meta-arguments, written first and apart (Terraform's style guide). */
const META_ARGUMENTS = ["count", "for_each", "provider"];
/** Arguments some blocks write first, in this order. */
const LEADING: Readonly<Record<string, readonly string[]>> = {
  variable: ["description", "type", "default", "sensitive", "ephemeral", "nullable"],
  output: ["description", "value", "sensitive", "ephemeral"],
  validation: ["condition", "error_message"],
  precondition: ["condition", "error_message"],
  postcondition: ["condition", "error_message"],
};
/** Nested blocks written before the others (the terraform block's provider requirements). */
const LEADING_BLOCKS = ["required_providers"];
/** Blocks written last, in this order, then depends_on. */
const TRAILING_BLOCKS = ["provisioner", "lifecycle"];
const SECTIONS = new Set(["//", "terraform", "provider", "variable", "locals", "data", "resource", "output"]);

/** The HCL of a Terraform JSON document, formatted. */
export function renderDocument(tf: Json, layout: DocumentLayout): string {
  for (const key of Object.keys(tf)) if (!SECTIONS.has(key)) throw new Error(`cannot write a top-level "${key}" in HCL`);
  const blocks: string[] = [];
  if (tf.terraform) blocks.push(block("terraform", [], tf.terraform as Json, { required_providers: {}, backend: BACKEND, cloud: BACKEND }));
  for (const [name, configs] of entriesOf(tf.provider)) {
    for (const config of ([] as Json[]).concat(configs as Json)) blocks.push(block("provider", [name], config, schemaOf(layout, `provider.${name}`)));
  }
  for (const [name, body] of entriesOf(tf.variable)) blocks.push(block("variable", [name], body as Json, VARIABLE));
  const locals = entriesOf(tf.locals);
  if (locals.length > 0) blocks.push(block("locals", [], tf.locals as Json, {}));
  for (const address of addressesInOrder(tf, layout.order)) {
    const [section, type, name] = address.split(".");
    const body = ((tf[section] as Record<string, Json>)[type] as Record<string, Json>)[name];
    blocks.push(block(section, [type, name], body, { ...RESOURCE_META_BLOCKS, ...schemaOf(layout, address) }));
  }
  for (const [name, body] of entriesOf(tf.output)) blocks.push(block("output", [name], body as Json, OUTPUT));
  return formatHcl(`${blocks.join("\n\n")}\n`);
}

function entriesOf(section: unknown): [string, unknown][] {
  return Object.entries((section ?? {}) as Json);
}

function schemaOf(layout: DocumentLayout, address: string): BlockSchema {
  return layout.schemas.get(address) ?? {};
}

/** Every data source and resource, those the layout names first in its order. */
function addressesInOrder(tf: Json, order: readonly string[]): string[] {
  const all = ["data", "resource"].flatMap((section) =>
    entriesOf(tf[section]).flatMap(([type, byName]) => Object.keys(byName as Json).map((name) => `${section}.${type}.${name}`)),
  );
  const present = new Set(all);
  const ordered = order.filter((address) => present.has(address));
  const named = new Set(ordered);
  return [...ordered, ...all.filter((address) => !named.has(address))];
}

/** `type "label" ... { body }`. */
function block(type: string, labels: readonly string[], body: Json, schema: BlockSchema): string {
  const header = [type, ...labels.map((label) => hclString(label.replace(/\$\{/g, "$${").replace(/%\{/g, "%%{")))].join(" ");
  const inner = bodyOf(type, body, schema);
  return inner.length === 0 ? `${header} {}` : `${header} {\n${inner}\n}`;
}

/** A block body: meta-arguments, the other arguments, nested blocks, trailing blocks, depends_on; groups apart by a blank line. */
function bodyOf(blockType: string, body: Json, schema: BlockSchema): string {
  const entries = Object.entries(body).filter(([key, value]) => key !== "//" && value !== undefined);
  const leading = LEADING[blockType] ?? [];
  const rank = (key: string) => leading.indexOf(key) >>> 0;
  const isBlock = (key: string) => key in schema || key === "provisioner";
  const meta = META_ARGUMENTS.flatMap((name) => entries.filter(([key]) => key === name && !isBlock(key)));
  const attributes = entries
    .filter(([key]) => !isBlock(key) && !META_ARGUMENTS.includes(key) && key !== "depends_on")
    .sort(([a], [b]) => rank(a) - rank(b));
  const nested = entries
    .filter(([key]) => isBlock(key) && !TRAILING_BLOCKS.includes(key))
    .sort(([a], [b]) => (LEADING_BLOCKS.indexOf(a) >>> 0) - (LEADING_BLOCKS.indexOf(b) >>> 0));
  const trailing = TRAILING_BLOCKS.flatMap((name) => entries.filter(([key]) => key === name && isBlock(key)));
  const dependsOn = entries.filter(([key]) => key === "depends_on");
  const groups = [
    meta.map(([key, value]) => argument(blockType, key, value)).join("\n"),
    attributes.map(([key, value]) => argument(blockType, key, value)).join("\n"),
    ...[...nested, ...trailing].flatMap(([key, value]) => nestedBlocks(key, value, schema[key] ?? {})),
    dependsOn.map(([, value]) => `depends_on = [${references(value).join(", ")}]`).join("\n"),
  ];
  return groups.filter((group) => group !== "").join("\n\n");
}

function nestedBlocks(key: string, value: unknown, schema: BlockSchema): string[] {
  const items = ([] as unknown[]).concat(value).filter((item) => item !== undefined && item !== null);
  if (key === "provisioner") {
    return items.flatMap((item) => Object.entries(item as Json).map(([type, body]) => block("provisioner", [type], body as Json, { connection: {} })));
  }
  if (key === "backend") {
    return items.flatMap((item) => Object.entries(item as Json).map(([type, body]) => block("backend", [type], body as Json, schema)));
  }
  return items.map((item) => {
    if (typeof item !== "object" || Array.isArray(item)) throw new Error(`block ${key} holds ${JSON.stringify(item)}, not an object`);
    return block(key, [], item as Json, schema);
  });
}

/**
 * `key = value`. In Terraform's JSON syntax most strings are templates, but
 * a few arguments hold keywords, types or references as plain strings.
 */
function argument(blockType: string, key: string, value: unknown): string {
  const name = IDENTIFIER.test(key) ? key : fail(`argument name ${JSON.stringify(key)} is not an HCL identifier`);
  if (blockType === "variable" && key === "type") return `${name} = ${typeExpression(value)}`;
  if (blockType === "provisioner" && (key === "when" || key === "on_failure")) return `${name} = ${keyword(value)}`;
  if (blockType === "lifecycle" && (key === "ignore_changes" || key === "replace_triggered_by")) {
    return `${name} = ${key === "ignore_changes" && value === "all" ? "all" : `[${references(value).join(", ")}]`}`;
  }
  if (key === "provider" && (blockType === "resource" || blockType === "data")) return `${name} = ${references([value])[0]}`;
  if (blockType === "required_providers") return `${name} = ${hclExpression(sourceFirst(value))}`;
  return `${name} = ${hclExpression(value, { heredoc: true })}`;
}

/** Reference expressions written as plain strings (depends_on, replace_triggered_by, provider), or as `${...}`. */
function references(value: unknown): string[] {
  if (!Array.isArray(value)) fail(`expected a list of references, got ${JSON.stringify(value)}`);
  return (value as unknown[]).map((item) => {
    const text = String(item).replace(/^\$\{(.*)\}$/s, "$1");
    if (!/^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*|\[[^\]]+\])*$/.test(text)) fail(`not a reference: ${JSON.stringify(item)}`);
    return text;
  });
}

/** A provider requirement as the registry documents it: source, then version. */
function sourceFirst(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const { source, ...rest } = value as Json;
  return source === undefined ? value : { source, ...rest };
}

function typeExpression(value: unknown): string {
  if (typeof value !== "string" || !/^[a-z]+(\(|$)/.test(value)) fail(`not a type: ${JSON.stringify(value)}`);
  return String(value);
}

function keyword(value: unknown): string {
  if (typeof value !== "string" || !/^[a-z_]+$/.test(value)) fail(`not a keyword: ${JSON.stringify(value)}`);
  return String(value);
}

function fail(message: string): never {
  throw new Error(`cannot write HCL: ${message}`);
}
