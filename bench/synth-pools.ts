/**
 * Synthesizes N work pools (each with its AWS and work-pool stacks) the way
 * `node synth.js` does (synthesizeApps), or with one of its speed-ups undone,
 * for the profile behind help/performance.md (npx tsx bench/profile.ts).
 *   node <bundle of this file> <pools> <outdir> [--resolve-three-times] [--full-token-stacks]
 * Prints one JSON line with in-process timings (ms): when the script body
 * started (Node start-up and module loading), resolving the configuration,
 * building and synthesizing.
 *
 *   --resolve-three-times  cdktf's own synthesis: a preparing pass, each element, then the whole
 *                          stack again (buildApps without resolveOnce)
 *   --full-token-stacks    cdktf records every frame of every token's creation stack
 */
import { buildApps } from "../src/app";
import { withoutTokenCreationStacks } from "../src/synthesize";
import { poolConfigs } from "./pools";

const loadedMs = performance.now();
const [poolsArg, outdirArg, ...flags] = process.argv.slice(2);
const pools = Number(poolsArg ?? "1");
const outdir = outdirArg ?? "cdktf.out";
if (!Number.isInteger(pools) || pools < 1) throw new Error(`pools must be a positive integer, got ${poolsArg}`);
const FLAGS = ["--resolve-three-times", "--full-token-stacks"];
const unknown = flags.filter((flag) => !FLAGS.includes(flag));
if (unknown.length > 0) throw new Error(`unknown flags: ${unknown.join(" ")} (known: ${FLAGS.join(" ")})`);

const timed = () => {
  let t = performance.now();
  const configs = poolConfigs(pools);
  const resolveMs = performance.now() - t;
  t = performance.now();
  const { app } = buildApps(configs, outdir, { resolveOnce: !flags.includes("--resolve-three-times") });
  const buildMs = performance.now() - t;
  t = performance.now();
  app.synth();
  return { pools, loadedMs, resolveMs, buildMs, synthMs: performance.now() - t };
};
console.log(JSON.stringify(flags.includes("--full-token-stacks") ? timed() : withoutTokenCreationStacks(timed)));
