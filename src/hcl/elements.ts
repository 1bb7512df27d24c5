/**
 * `cdktf synth --hcl` support. cdktf 0.21 (archived, no fix to come) renders HCL from its own
 * guesses, and for this app they go wrong in many places (`required_version` as
 * `0 = "required_version"`, unescaped quotes and backslashes, numeric-looking strings unquoted,
 * `when = "destroy"`, quoted `depends_on`, dropped `default = false`, bare `"${var.x}"` wrappers,
 * no indentation). So an HclSafeStack writes its whole HCL itself, from the JSON output
 * (toTerraform(), the same document cdk.tf.json holds) and the provider bindings' knowledge of
 * which arguments are blocks: both outputs mean the same, and the HCL comes out formatted as
 * `terraform fmt` formats it (src/hcl/document.ts, src/hcl/format.ts).
 */
import { TerraformElement, TerraformStack } from "cdktf";
import { IConstruct } from "constructs";
import { BlockSchema, DocumentLayout, renderDocument } from "./document";

type Json = Record<string, unknown>;

/** A stack whose HCL output (`cdktf synth --hcl`) means what its JSON output means. */
export class HclSafeStack extends TerraformStack {
  public toHclTerraform(): { hcl: string; metadata: Json } {
    const tf = this.toTerraform() as Json;
    return { hcl: renderDocument(tf, this.hclLayout()), metadata: metadataOf(tf) };
  }

  /** Which arguments of each element are blocks, and the elements' order: what renderDocument() needs besides the JSON. */
  public hclLayout(): DocumentLayout {
    const schemas = new Map<string, BlockSchema>();
    const order: string[] = [];
    for (const element of terraformElementsOf(this)) {
      const fragment = element.toHclTerraform() as Json;
      for (const section of ["data", "resource"]) {
        for (const [type, byName] of Object.entries((fragment[section] ?? {}) as Record<string, Json>)) {
          for (const [name, body] of Object.entries(byName)) {
            order.push(`${section}.${type}.${name}`);
            schemas.set(`${section}.${type}.${name}`, blockSchemaOf(body));
          }
        }
      }
      for (const [name, configs] of Object.entries((fragment.provider ?? {}) as Record<string, unknown>)) {
        schemas.set(`provider.${name}`, ([] as unknown[]).concat(configs).map(blockSchemaOf).reduce(mergeSchemas, {}));
      }
    }
    return { schemas, order };
  }
}

/** The stack's Terraform elements, depth first, not entering nested stacks (as cdktf lists them). */
export function terraformElementsOf(node: IConstruct, into: TerraformElement[] = []): TerraformElement[] {
  if (TerraformElement.isTerraformElement(node)) into.push(node);
  for (const child of node.node.children) {
    if (!TerraformStack.isStack(child)) terraformElementsOf(child, into);
  }
  return into;
}

/**
 * The nested blocks of a body as cdktf's HCL fragments describe them: each argument of a provider
 * binding comes as `{ value, isBlock (or is_block), type, storageClassType }`.
 */
function blockSchemaOf(body: unknown): BlockSchema {
  const schema: Record<string, BlockSchema> = {};
  if (body === null || typeof body !== "object" || Array.isArray(body)) return schema;
  for (const [key, entry] of Object.entries(body as Json)) {
    if (entry === null || typeof entry !== "object" || !("value" in entry)) continue;
    const { isBlock, is_block: isBlockSnake, value } = entry as { isBlock?: boolean; is_block?: boolean; value: unknown };
    if (!(isBlock ?? isBlockSnake)) continue;
    schema[key] = ([] as unknown[]).concat(value).map(blockSchemaOf).reduce(mergeSchemas, {});
  }
  return schema;
}

function mergeSchemas(a: BlockSchema, b: BlockSchema): BlockSchema {
  const merged: Record<string, BlockSchema> = { ...a };
  for (const [key, value] of Object.entries(b)) merged[key] = mergeSchemas(merged[key] ?? {}, value);
  return merged;
}

/** What cdktf writes to metadata.json beside cdk.tf: the JSON output's `//` entries and terraform block. */
function metadataOf(tf: Json): Json {
  const metadata: Json = { "//": tf["//"] };
  for (const section of ["data", "resource"]) {
    const bySection = (tf[section] ?? {}) as Record<string, Record<string, Json>>;
    const entries = Object.entries(bySection).map(([type, byName]) => [
      type,
      Object.fromEntries(Object.entries(byName).map(([name, body]) => [name, { "//": body["//"] }])),
    ]);
    if (entries.length > 0) metadata[section] = Object.fromEntries(entries);
  }
  if (tf.terraform) metadata.terraform = tf.terraform;
  return metadata;
}
