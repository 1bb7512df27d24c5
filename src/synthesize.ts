import { buildApps, SynthesizedApps } from "./app";
import { ResolvedConfig } from "./config/resolve";
import { tokenStackTraces } from "./stacks/cdktf-internals";

/**
 * Builds and synthesizes the stacks of the given work pools into `outdir`, the fast way: each
 * element resolved once (the stacks hold this app's constructs only) and no token creation
 * stacks. The output is the same as buildApps(...).app.synth()'s (tested).
 */
export function synthesizeApps(configs: readonly ResolvedConfig[], outdir: string): SynthesizedApps {
  return withoutTokenCreationStacks(() => {
    const apps = buildApps(configs, outdir, { resolveOnce: true });
    apps.app.synth();
    return apps;
  });
}

/**
 * Runs `fn` with cdktf recording no creation stack for the tokens it makes; cdktf's own capture
 * is back afterwards. cdktf records every frame of every token, only to show it if the token
 * fails to resolve, and that costs more than building the constructs: even 10 frames a token
 * cost 5 ms a work pool (help/performance.md). Other stack traces, errors' included, are untouched.
 * A cdktf without that module (src/stacks/cdktf-internals.ts) records them as usual: slower, same output.
 */
export function withoutTokenCreationStacks<T>(fn: () => T): T {
  // cdktf's token classes look captureStackTrace up on this module object at each call.
  const traces = tokenStackTraces();
  if (!traces) return fn();
  const fullDepth = traces.captureStackTrace;
  traces.captureStackTrace = () => [];
  try {
    return fn();
  } finally {
    traces.captureStackTrace = fullDepth;
  }
}
