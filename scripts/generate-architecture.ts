/**
 * Writes help/architecture.md (the run-time picture and the Mermaid resource graph of the stacks the
 * default configuration synthesizes) and help/architecture-runtime.svg (the run-time picture, drawn
 * by Graphviz).
 *   npm run docs:architecture  (npx tsx scripts/generate-architecture.ts)
 * __tests__/architecture.test.ts fails when either committed file is stale.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveConfig } from "../src/config/resolve";
import { ARCHITECTURE_DOC_FILE, defaultArchitectureDoc } from "../src/docs/architecture";
import { renderSvg, RUNTIME_ARCHITECTURE_SVG_FILE, runtimeArchitectureDot } from "../src/docs/runtime-architecture";

async function main(): Promise<void> {
  const root = join(__dirname, "..");
  writeFileSync(join(root, ARCHITECTURE_DOC_FILE), defaultArchitectureDoc());
  writeFileSync(join(root, RUNTIME_ARCHITECTURE_SVG_FILE), await renderSvg(runtimeArchitectureDot(resolveConfig({}))));
  console.log(`wrote ${ARCHITECTURE_DOC_FILE} and ${RUNTIME_ARCHITECTURE_SVG_FILE}`);
}

void main();
