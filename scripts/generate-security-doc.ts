/**
 * Writes the table of accepted Checkov findings into help/security.md from checkov-skips.json.
 *   npm run docs:security  (npx tsx scripts/generate-security-doc.ts)
 * __tests__/checkov.test.ts fails when the committed table is stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readCheckovSkips, SECURITY_DOC_FILE, withCheckovSkips } from "../src/docs/checkov-skips";

const path = join(__dirname, "..", SECURITY_DOC_FILE);
writeFileSync(path, withCheckovSkips(readFileSync(path, "utf8"), readCheckovSkips()));
console.log(`wrote ${SECURITY_DOC_FILE}`);
