import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ConfigError } from "./errors";
import { resolveConfigs } from "./pools";
import { resolveConfig, ResolvedConfig } from "./resolve";

/**
 * Reads a configuration file (JSON, or YAML by extension) and resolves it.
 * Without a path, the built-in defaults (the guide's own names) apply.
 */
export function loadConfig(path?: string): ResolvedConfig {
  if (!path) return resolveConfig({});
  return resolveConfig(withTemplateFile(parseConfigText(readConfigFile(path), path), path), path);
}

function readConfigFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError([{ field: "(file)", value: path, message: `cannot be read: ${(error as Error).message}` }]);
  }
}

/**
 * Reads a configuration file of one work pool or of several (`pools`) and
 * resolves every pool. Without a path, the built-in defaults: one pool.
 */
export function loadConfigs(path?: string): ResolvedConfig[] {
  if (!path) return resolveConfigs({});
  const raw = withTemplateFile(parseConfigText(readConfigFile(path), path), path) as { pools?: unknown };
  const pools = Array.isArray(raw?.pools) ? raw.pools.map((entry) => withTemplateFile(entry, path)) : raw?.pools;
  return resolveConfigs(pools === undefined ? raw : { ...raw, pools }, path);
}

/**
 * The configuration of the reusable module: one work pool (the module is called once per pool). A file
 * with several `pools` is refused, naming them.
 */
export function loadModuleConfig(path?: string): ResolvedConfig {
  const configs = loadConfigs(path);
  if (configs.length > 1) {
    throw new ConfigError(
      [
        {
          field: "pools",
          value: configs.map((config) => config.workPoolName),
          message: "the module is one work pool's: give a configuration of one pool, and call the module once per pool (for_each)",
        },
      ],
      path,
    );
  }
  return configs[0];
}

/** Reads workPool.baseJobTemplateFile (relative to the configuration file) into workPool.baseJobTemplate. */
function withTemplateFile(raw: unknown, configPath: string): unknown {
  const workPool = (raw as { workPool?: Record<string, unknown> } | null)?.workPool;
  const file = workPool?.baseJobTemplateFile;
  if (typeof file !== "string" || workPool?.baseJobTemplate !== undefined) return raw;
  const templatePath = resolve(dirname(configPath), file);
  let text: string;
  try {
    text = readFileSync(templatePath, "utf8");
  } catch (error) {
    throw new ConfigError(
      [{ field: "workPool.baseJobTemplateFile", value: file, message: `cannot be read: ${(error as Error).message}` }],
      configPath,
    );
  }
  const { baseJobTemplateFile: _file, ...rest } = workPool as Record<string, unknown>;
  return { ...(raw as object), workPool: { ...rest, baseJobTemplate: parseConfigText(text, file) } };
}

export function parseConfigText(text: string, path: string): unknown {
  try {
    if (/\.ya?ml$/i.test(path)) {
      // Loaded only for YAML files, so JSON users do not pay for the parser.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const yaml = require("yaml") as typeof import("yaml");
      const parsed: unknown = yaml.parse(text);
      // An empty document (or only comments) is null: taking it for "no settings" would hide a wrong or truncated file.
      if (parsed === null || parsed === undefined) throw new Error("the file holds no document (empty, or only comments)");
      return parsed;
    }
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError([{ field: "(file)", value: path, message: `is not valid ${/\.ya?ml$/i.test(path) ? "YAML" : "JSON"}: ${(error as Error).message}` }], path);
  }
}
