import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

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
