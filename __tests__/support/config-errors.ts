/** Test helpers for configuration errors: one place that turns a thrown ConfigError into its problems. */
import { ConfigError, ConfigProblem } from "../../src/config/errors";

/** The ConfigError that `action` throws; fails the test if it returns or throws anything else. */
export function configErrorFrom(action: () => unknown): ConfigError {
  let result: unknown;
  try {
    result = action();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw new Error(`expected a ConfigError, got ${String(error)}`);
  }
  throw new Error(`expected a ConfigError, but got a result: ${JSON.stringify(result)?.slice(0, 300)}`);
}

/** The problems `action` reports; fails the test if it does not throw a ConfigError. */
export function problemsFrom(action: () => unknown): readonly ConfigProblem[] {
  return configErrorFrom(action).problems;
}

export function fieldsOf(problems: readonly ConfigProblem[]): string[] {
  return problems.map((p) => p.field);
}
