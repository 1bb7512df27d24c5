import { readFileSync } from "node:fs";
import { ConfigError } from "./errors";
import { resolveConfig, ResolvedConfig } from "./resolve";

/**
 * Reads a configuration file (JSON, or YAML by extension) and resolves it.
 * Without a path, the built-in defaults (the guide's own names) apply.
 */
export function loadConfig(path?: string): ResolvedConfig {
  if (!path) return resolveConfig({});
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError([{ field: "(file)", value: path, message: `cannot be read: ${(error as Error).message}` }]);
  }
  return resolveConfig(parseConfigText(text, path), path);
}

export function parseConfigText(text: string, path: string): unknown {
  try {
    if (/\.ya?ml$/i.test(path)) {
      // Loaded only for YAML files, so JSON users do not pay for the parser.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const yaml = require("yaml") as typeof import("yaml");
      return yaml.parse(text);
    }
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError([{ field: "(file)", value: path, message: `is not valid ${/\.ya?ml$/i.test(path) ? "YAML" : "JSON"}: ${(error as Error).message}` }], path);
  }
}
