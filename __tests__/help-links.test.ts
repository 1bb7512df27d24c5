/**
 * The help pages cannot rot silently: in README.md and help/*.md every relative link leads to a file
 * of the repository (and its #anchor to a heading there) and every `npm run <script>` is a script of
 * package.json. help/extending.md, the checklists for a new resource or configuration field, says
 * more: every repository path it names exists, and every name in backticks in a step (a name with a
 * capital letter, or ending in `()`) occurs in one of the files that step names.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";

const ROOT = join(__dirname, "..");
const EXTENDING = "help/extending.md";
const DOCS = ["README.md", ...readdirSync(join(ROOT, "help")).filter((name) => name.endsWith(".md")).map((name) => `help/${name}`)].sort();
const SCRIPTS = new Set(Object.keys((JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts));

/** What a page is checked against: the repository's files and package.json's scripts. */
interface Repository {
  /** The text of a file (a path relative to the root), or undefined when there is none. */
  readonly read: (path: string) => string | undefined;
  /** Whether a file or folder exists (relative to the root). */
  readonly exists: (path: string) => boolean;
  /** The files of a folder, recursively (relative to the root). */
  readonly filesUnder: (folder: string) => string[];
  readonly scripts: ReadonlySet<string>;
}

const DISK: Repository = {
  read: (path) => (existsSync(join(ROOT, path)) && statSync(join(ROOT, path)).isFile() ? readFileSync(join(ROOT, path), "utf8") : undefined),
  exists: (path) => existsSync(join(ROOT, path)),
  filesUnder: (folder) =>
    (readdirSync(join(ROOT, folder), { recursive: true }) as string[]).map((entry) => posix.join(folder, entry)).filter((path) => statSync(join(ROOT, path)).isFile()),
  scripts: SCRIPTS,
};

/** The lines of a Markdown text outside fenced code blocks. */
function proseLines(markdown: string): string[] {
  let fenced = false;
  return markdown.split("\n").filter((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return false;
    }
    return !fenced;
  });
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as -, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = heading[1].toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Problems of the relative links in `file`: a missing target, or an anchor that is no heading there. */
function linkProblems(file: string, markdown: string, repo: Repository): string[] {
  const problems: string[] = [];
  for (const line of proseLines(markdown)) {
    // Code spans hold no links (but link texts may be code spans).
    for (const [, target] of line.replace(/`[^`]*`/g, "code").matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      const [path, anchor] = target.split("#", 2);
      const resolved = path === "" ? file : posix.normalize(posix.join(posix.dirname(file), path));
      if (!repo.exists(resolved)) {
        problems.push(`${file}: link ${target}: ${resolved} does not exist`);
        continue;
      }
      if (anchor === undefined || !resolved.endsWith(".md")) continue;
      if (!anchorsOf(repo.read(resolved) ?? "").has(anchor)) problems.push(`${file}: link ${target}: no heading #${anchor} in ${resolved}`);
    }
  }
  return problems;
}

/** Problems of the `npm run <script>` commands in `file`: scripts package.json does not have. */
function scriptProblems(file: string, markdown: string, repo: Repository): string[] {
  return [...markdown.matchAll(/\bnpm run ([A-Za-z0-9:_-]*[A-Za-z0-9_-])/g)]
    .map(([, script]) => script)
    .filter((script) => !repo.scripts.has(script))
    .map((script) => `${file}: npm run ${script}: no such script in package.json`);
}

const ROOT_FILE = /^[\w-][\w.-]*\.(?:ts|js|json|md|py|sh|svg|txt|ya?ml)$/;

/** Whether a code span is a path in the repository: `src/config/`, `__tests__/x.test.ts`, `checkov-skips.json`. */
function isRepositoryPath(span: string): boolean {
  if (/[\s<>()"'`:$?*]/.test(span) || span.startsWith("@") || span.startsWith(".")) return false;
  return span.includes("/") || ROOT_FILE.test(span);
}

/** A name worth checking: with a capital letter (`WorkerNames`, `NAME_VARIABLES`) or called (`ownTags()`). */
function nameIn(span: string): string | undefined {
  const match = /^([A-Za-z_$][\w$]*)(\(\))?$/.exec(span);
  if (!match) return undefined;
  const [, name, call] = match;
  return call || /[A-Z]/.test(name) ? name : undefined;
}

const codeSpans = (text: string) => [...text.matchAll(/`([^`\n]+)`/g)].map(([, span]) => span);

/** The numbered steps of a checklist page: each item with its continuation lines, labelled by its section. */
function stepsOf(markdown: string): { label: string; text: string }[] {
  const steps: { label: string; text: string }[] = [];
  let section = "";
  let current: { label: string; text: string } | undefined;
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+([A-Z])\./.exec(line);
    const item = /^(\d+)\.\s/.exec(line);
    if (heading) section = heading[1];
    if (item) {
      current = { label: `${section}.${item[1]}`, text: line };
      steps.push(current);
    } else if (current && /^\s+\S/.test(line)) current.text += `\n${line}`;
    else current = undefined;
  }
  return steps;
}

/** Problems of a checklist page: paths that do not exist, names in none of the files of their step. */
function checklistProblems(file: string, markdown: string, repo: Repository): string[] {
  const problems = codeSpans(markdown)
    .filter(isRepositoryPath)
    .filter((path) => !repo.exists(path))
    .map((path) => `${file}: ${path} does not exist`);
  for (const { label, text } of stepsOf(markdown)) {
    const paths = codeSpans(text).filter(isRepositoryPath).filter(repo.exists);
    const files = paths.flatMap((path) => (path.endsWith("/") || repo.read(path) === undefined ? repo.filesUnder(path) : [path]));
    for (const name of new Set(codeSpans(text).flatMap((span) => nameIn(span) ?? []))) {
      const word = new RegExp(`(?<![\\w$])${name.replace(/\$/g, "\\$")}(?![\\w$])`);
      if (!files.some((path) => word.test(repo.read(path) ?? ""))) {
        problems.push(`${file}: step ${label} names ${name}, which is in none of its files (${paths.join(", ") || "it names none"})`);
      }
    }
  }
  return problems;
}

const read = (file: string) => readFileSync(join(ROOT, file), "utf8");

describe("GIVEN the README and every help page", () => {
  it.each(DOCS)("WHEN the relative links of %s are followed THEN each leads to a file, and each #anchor to a heading there", (file) => {
    expect(linkProblems(file, read(file), DISK)).toEqual([]);
  });

  it.each(DOCS)("WHEN %s says npm run <script> THEN package.json has that script", (file) => {
    expect(scriptProblems(file, read(file), DISK)).toEqual([]);
  });

  it("WHEN the docs list of the README is read THEN it links every help page", () => {
    const linked = new Set([...read("README.md").matchAll(/\]\((help\/[^)#\s]+\.md)/g)].map(([, path]) => path));
    expect(DOCS.filter((file) => file.startsWith("help/") && !linked.has(file))).toEqual([]);
  });
});

describe(`GIVEN ${EXTENDING}, the checklists for a new AWS resource and a new configuration field`, () => {
  const markdown = read(EXTENDING);
  const steps = stepsOf(markdown);

  it("WHEN its steps are read THEN A and B are numbered lists of 8 to 15 steps, each naming a file of the repository (a path or a link) or a command", () => {
    for (const section of ["A", "B"]) {
      const numbers = steps.filter(({ label }) => label.startsWith(`${section}.`)).map(({ label }) => Number(label.split(".")[1]));
      expect({ section, numbers }).toEqual({ section, numbers: numbers.map((_, i) => i + 1) });
      expect(numbers.length).toBeGreaterThanOrEqual(8);
      expect(numbers.length).toBeLessThanOrEqual(15);
    }
    const bare = steps.filter(({ text }) => !codeSpans(text).some(isRepositoryPath) && !/\]\(|npm run |duplicates /.test(text));
    expect(bare.map(({ label }) => label)).toEqual([]);
  });

  it("WHEN checked against the repository THEN every path it names exists and every name of a step is in a file that step names", () => {
    const paths = codeSpans(markdown).filter(isRepositoryPath);
    expect(paths).toEqual(expect.arrayContaining(["src/config/schema.ts", "src/constructs/prefect-ecs-worker.ts", "checkov-skips.json", "src/constructs/"]));
    expect(checklistProblems(EXTENDING, markdown, DISK)).toEqual([]);
  });
});

describe("GIVEN the checks themselves, on pages that are wrong", () => {
  const page = [
    "# Page",
    "## A. Steps",
    "",
    "1. **Outputs.** `addWorkerOutputs()` and `STACK_OUTPUTS` in `src/stacks/worker-aws-stack.ts`; then `npm run docs:nope`.",
    "2. **Gone.** `src/stacks/worker-aws-stak.ts`, `checkov-skipz.json`, and [the guide](guide-mapping.md#no-such-heading).",
    "3. **Moved.** `ownTags()` and `@cdktf/provider-aws/lib/<resource>` in",
    "   `src/config/pools.ts`.",
    "",
    "```sh",
    "npm run also-nope   # in a code block: still a command",
    "[not a link](nowhere.md)",
    "```",
  ].join("\n");
  const file = "help/page.md";

  it("WHEN a path is misspelt THEN it is reported; a package import and a placeholder are not paths", () => {
    expect(checklistProblems(file, page, DISK).filter((p) => p.includes("does not exist"))).toEqual([
      `${file}: src/stacks/worker-aws-stak.ts does not exist`,
      `${file}: checkov-skipz.json does not exist`,
    ]);
  });

  it("WHEN a step names a name its files do not hold THEN it is reported, with the files it looked in", () => {
    expect(checklistProblems(file, page, DISK).filter((p) => p.includes("names"))).toEqual([
      `${file}: step A.1 names STACK_OUTPUTS, which is in none of its files (src/stacks/worker-aws-stack.ts)`,
      `${file}: step A.3 names ownTags, which is in none of its files (src/config/pools.ts)`,
    ]);
  });

  it("WHEN an anchor names no heading, or a script package.json lacks THEN each is reported; links in code blocks are not followed", () => {
    expect(linkProblems(file, page, DISK)).toEqual([`${file}: link guide-mapping.md#no-such-heading: no heading #no-such-heading in help/guide-mapping.md`]);
    expect(scriptProblems(file, page, DISK)).toEqual([`${file}: npm run docs:nope: no such script in package.json`, `${file}: npm run also-nope: no such script in package.json`]);
  });

  it("WHEN headings repeat or hold code and punctuation THEN their anchors are GitHub's", () => {
    const anchors = anchorsOf("# The module (`npm run synth:module`)\n## Actions that stay on \"*\"\n## Tags\n## Tags\n```\n# not a heading\n```\n");
    expect([...anchors]).toEqual(["the-module-npm-run-synthmodule", "actions-that-stay-on-", "tags", "tags-1"]);
  });
});
