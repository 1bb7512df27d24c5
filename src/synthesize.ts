import { buildApps, SynthesizedApps } from "./app";
import { ResolvedConfig } from "./config/resolve";
// cdktf's capture of each token's creation stack: its token classes look it up here at each call.
import tokenStackTrace = require("cdktf/lib/tokens/private/stack-trace");

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
 */
export function withoutTokenCreationStacks<T>(fn: () => T): T {
  const fullDepth = tokenStackTrace.captureStackTrace;
  tokenStackTrace.captureStackTrace = () => [];
  try {
    return fn();
  } finally {
    tokenStackTrace.captureStackTrace = fullDepth;
  }
}
