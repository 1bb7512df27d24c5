import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = join(__dirname, "..", "..");

/** Every file below `dir`, as relative path → content (bytes as latin1, so any file compares exactly). */
export function fileTree(dir: string): Map<string, string> {
  return new Map(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name))
      .map((path) => [relative(dir, path), readFileSync(path, "latin1")] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** Fails unless both folders hold the same files with the same bytes, naming the first file that differs. */
export function expectSameFiles(actualDir: string, expectedDir: string, what: string): void {
  const expected = fileTree(expectedDir);
  const actual = fileTree(actualDir);
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [path, content] of expected) {
    if (actual.get(path) !== content) throw new Error(`${path} differs: ${what}`);
  }
}

/**
 * Fails when the committed `file` (relative to the project) differs from what its generator
 * produces now, showing the first differing line and the command that regenerates it.
 */
export function expectCommittedFile(file: string, expected: string, regenerate: string): void {
  let committed: string;
  try {
    committed = readFileSync(join(ROOT, file), "utf8");
  } catch {
    throw new Error(`${file} is missing: run \`${regenerate}\` and commit the result`);
  }
  if (committed === expected) return;
  const committedLines = committed.split("\n");
  const expectedLines = expected.split("\n");
  const differing = expectedLines.findIndex((text, i) => text !== committedLines[i]);
  const line = differing >= 0 ? differing : expectedLines.length;
  throw new Error(
    `${file} is stale: run \`${regenerate}\` and commit the result.\n` +
      `First difference at line ${line + 1}:\n  committed: ${committedLines[line] ?? "(end of file)"}\n  expected:  ${expectedLines[line] ?? "(end of file)"}`,
  );
}
