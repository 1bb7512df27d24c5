/**
 * The Checkov findings we accept on our own output, kept as data in ONE file, checkov-skips.json
 * at the repository root: each skip names the check, the resources it applies to, the
 * configuration switch that makes it pass (if any) and why we accept it.
 *
 * __tests__/checkov.test.ts runs the real Checkov on several configurations and fails on any
 * finding this list does not name, and on any skip no configuration needs. help/security.md's
 * table of exceptions is rendered from it (npm run docs:security); the same test file fails when
 * the committed table is stale.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

/** Relative to the repository root. */
export const CHECKOV_SKIPS_FILE = "checkov-skips.json";
export const SECURITY_DOC_FILE = "help/security.md";

const oneLine = (what: string) => z.string().min(1).regex(/^[^\n|]+$/, `${what} must be one line without "|" (it is a Markdown table cell)`);

const CHECKOV_SKIP = z
  .object({
    /** Checkov's check ID. */
    id: z.string().regex(/^CKV2?_AWS_\d+$/, "must be a Checkov AWS check ID such as CKV_AWS_51 or CKV2_AWS_57"),
    /** Checkov's own title of the check, verbatim (the tests compare it with Checkov's). */
    check: oneLine("check"),
    /** Terraform addresses (`type.name`, the same in every stack) the check may fail on. */
    resources: z.array(z.string().regex(/^[a-z0-9_]+\.[a-z0-9_]+$/, "must be a Terraform address type.name")).min(1),
    /** Markdown: the configuration that makes the check pass; absent when nothing does. */
    switch: oneLine("switch").optional(),
    /** Markdown: why the finding is accepted. */
    reason: oneLine("reason"),
  })
  .strict();

const CHECKOV_SKIPS = z
  .object({
    $comment: z.string().optional(),
    /** The Checkov version the list was last checked against. */
    checkov: z.string().regex(/^\d+\.\d+\.\d+$/),
    skips: z.array(CHECKOV_SKIP),
  })
  .strict();

export type CheckovSkip = z.infer<typeof CHECKOV_SKIP>;
export type CheckovSkips = z.infer<typeof CHECKOV_SKIPS>;

/** Validates the skip list: every problem named by its place in the file; each check at most once. */
export function parseCheckovSkips(raw: unknown, source = CHECKOV_SKIPS_FILE): CheckovSkips {
  const parsed = CHECKOV_SKIPS.safeParse(raw);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.map(String).join(".") || "(top level)"}: ${issue.message}`);
  if (parsed.success) {
    const seen = new Set<string>();
    parsed.data.skips.forEach((skip, index) => {
      if (seen.has(skip.id)) problems.push(`skips.${index}.id (got ${skip.id}): each check is listed once; add the resource to its first entry`);
      seen.add(skip.id);
    });
  }
  if (problems.length > 0 || !parsed.success) throw new Error(`Invalid ${source}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return parsed.data;
}

export function readCheckovSkips(root = join(__dirname, "..", "..")): CheckovSkips {
  return parseCheckovSkips(JSON.parse(readFileSync(join(root, CHECKOV_SKIPS_FILE), "utf8")));
}

export const GENERATED_START = `<!-- generated from ${CHECKOV_SKIPS_FILE} by npm run docs:security: do not edit by hand -->`;
export const GENERATED_END = "<!-- end of the generated section -->";

/** The Markdown table of the accepted findings. */
export function renderCheckovSkips(skips: CheckovSkips): string {
  const rows = skips.skips.map((skip) =>
    [
      skip.id,
      skip.check,
      skip.resources.map((resource) => `\`${resource}\``).join(", "),
      skip.switch ?? "—",
      skip.reason,
    ].join(" | "),
  );
  return [
    `Checked against Checkov ${skips.checkov}.`,
    "",
    "| ID | Checkov's check | Fails on | Passes with | Why we accept it |",
    "|---|---|---|---|---|",
    ...rows.map((row) => `| ${row} |`),
  ].join("\n");
}

/** `doc` with its generated section replaced by the table rendered from `skips`. */
export function withCheckovSkips(doc: string, skips: CheckovSkips): string {
  const start = doc.indexOf(GENERATED_START);
  const end = doc.indexOf(GENERATED_END);
  if (start < 0 || end < start) throw new Error(`${SECURITY_DOC_FILE} needs the markers ${GENERATED_START} and ${GENERATED_END}`);
  return `${doc.slice(0, start)}${GENERATED_START}\n${renderCheckovSkips(skips)}\n${doc.slice(end)}`;
}
