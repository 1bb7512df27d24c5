/**
 * Writes help/architecture.md: the Mermaid picture of the stacks the default
 * configuration synthesizes, drawn from their cdk.tf.json files.
 *   npm run docs:architecture  (npx tsx scripts/generate-architecture.ts)
 * __tests__/architecture.test.ts fails when the committed file is stale.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ARCHITECTURE_DOC_FILE, defaultArchitectureDoc } from "../src/docs/architecture";

writeFileSync(join(__dirname, "..", ARCHITECTURE_DOC_FILE), defaultArchitectureDoc());
console.log(`wrote ${ARCHITECTURE_DOC_FILE}`);
