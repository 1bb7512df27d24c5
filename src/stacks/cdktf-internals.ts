/**
 * The cdktf internals this app's fast synthesis relies on (src/stacks/self-contained-stack.ts and
 * src/synthesize.ts copy parts of cdktf 0.21.0 and read what it keeps private). Each is looked up
 * at run time: with another cdktf (a later release, the cdktn fork) that differs, synthesis takes
 * cdktf's own slower way and the stacks carry a warning saying why. Slower, never wrong.
 */
import { TerraformStack } from "cdktf";
import { IConstruct } from "constructs";

/** The cdktf whose synthesis the fast path copies. */
export const FAST_SYNTHESIS_CDKTF_VERSION = "0.21.0";

export interface CdktfInternals {
  /** cdktf/lib/_tokens resolve(): resolves a value's tokens in a scope. */
  readonly resolve: (scope: IConstruct, value: unknown) => unknown;
  /** cdktf/lib/util deepMerge(): merges objects into the first, as toTerraform() does. */
  readonly deepMerge: (target: Record<string, unknown>, ...sources: unknown[]) => Record<string, unknown>;
}

/** cdktf/lib/tokens/private/stack-trace: its token classes call captureStackTrace() through this module object. */
export interface TokenStackTraces {
  captureStackTrace: (...args: unknown[]) => string[];
}

/** The helpers, or undefined when this cdktf lacks one (require() inside try: bundling tolerates a missing module). */
export function cdktfInternals(): CdktfInternals | undefined {
  try {
    const { resolve } = require("cdktf/lib/_tokens") as { resolve?: unknown };
    const { deepMerge } = require("cdktf/lib/util") as { deepMerge?: unknown };
    if (typeof resolve !== "function" || typeof deepMerge !== "function") return undefined;
    return { resolve, deepMerge } as CdktfInternals;
  } catch {
    return undefined;
  }
}

/** The stack-trace module, or undefined when this cdktf has none of that shape. */
export function tokenStackTraces(): TokenStackTraces | undefined {
  try {
    const traces = require("cdktf/lib/tokens/private/stack-trace") as Partial<TokenStackTraces>;
    return typeof traces.captureStackTrace === "function" ? (traces as TokenStackTraces) : undefined;
  } catch {
    return undefined;
  }
}

/** What TerraformStack keeps to itself but the fast toTerraform() needs (cdktf 0.21.0). */
export interface StackInternals {
  readonly rawOverrides: Record<string, unknown>;
  readonly cdktfVersion: string;
}

/** Why the fast synthesis cannot run for `stack` (a problem, named), or undefined when it can. */
export function fastSynthesisProblem(
  stack: TerraformStack,
  { internals, traces }: { internals?: CdktfInternals; traces?: TokenStackTraces } = { internals: cdktfInternals(), traces: tokenStackTraces() },
): string | undefined {
  const fields = stack as unknown as Partial<Record<keyof StackInternals, unknown>>;
  if (fields.cdktfVersion !== FAST_SYNTHESIS_CDKTF_VERSION) {
    return `cdktf ${JSON.stringify(fields.cdktfVersion)} is not ${FAST_SYNTHESIS_CDKTF_VERSION}, the version it copies`;
  }
  if (!internals) return "cdktf/lib/_tokens resolve() or cdktf/lib/util deepMerge() is missing";
  if (!traces) return "cdktf/lib/tokens/private/stack-trace captureStackTrace() is missing";
  const overrides = fields.rawOverrides;
  if (overrides === null || typeof overrides !== "object" || Array.isArray(overrides)) return "TerraformStack has no rawOverrides object";
  for (const method of ["prepareStack", "ensureBackendExists", "toTerraform"] as const) {
    if (typeof stack[method] !== "function") return `TerraformStack has no ${method}()`;
  }
  return undefined;
}
