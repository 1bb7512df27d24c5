/**
 * Writes the configuration's JSON Schema and Markdown reference from
 * CONFIG_SCHEMA:  npm run docs  (npx tsx scripts/generate-config-docs.ts).
 * __tests__/config-docs.test.ts fails when the committed files are stale.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { CONFIG_DOC_FILES, configJsonSchema, formatJson, renderConfigReference } from "../src/config/docs";

const root = join(__dirname, "..");
const schema = configJsonSchema();
const outputs: [string, string][] = [
  [CONFIG_DOC_FILES.jsonSchema, formatJson(schema)],
  [CONFIG_DOC_FILES.reference, renderConfigReference(schema)],
];
for (const [file, content] of outputs) {
  const path = join(root, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  console.log(`wrote ${file}`);
}
