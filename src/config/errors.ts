/** One thing wrong with the configuration: where, what was given, what is allowed. */
export interface ConfigProblem {
  /** Dotted path of the field, e.g. `network.subnetIds[0]`. */
  readonly field: string;
  /** The value found there (undefined when the field is missing). */
  readonly value: unknown;
  /** What is wrong and what is allowed. */
  readonly message: string;
}

/** Thrown at synth time when the configuration is invalid; lists every problem. */
export class ConfigError extends Error {
  public readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], source?: string) {
    const where = source ? ` (${source})` : "";
    super(`Invalid configuration${where}:\n${problems.map((p) => `  - ${describeProblem(p)}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export function describeProblem(problem: ConfigProblem): string {
  const given = problem.value === undefined ? "" : ` (got ${preview(problem.value)})`;
  return `${problem.field}${given}: ${problem.message}`;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`))
    .join("");
}
