/**
 * Synthesizes N work pools (each with its AWS and work-pool stacks) in one app.
 *   tsx bench/synth-pools.ts <pools> <outdir>
 * Prints one JSON line with in-process timings (ms): when the script body
 * started (Node/tsx start-up and module loading), resolving, building, synth.
 */
import { buildApps } from "../src/app";
import { poolConfigs } from "./pools";

const loadedMs = performance.now();
const pools = Number(process.argv[2] ?? "1");
const outdir = process.argv[3] ?? "cdktf.out";
if (!Number.isInteger(pools) || pools < 1) throw new Error(`pools must be a positive integer, got ${process.argv[2]}`);

let t = performance.now();
const configs = poolConfigs(pools);
const resolveMs = performance.now() - t;
t = performance.now();
const { app } = buildApps(configs, outdir);
const buildMs = performance.now() - t;
t = performance.now();
app.synth();
const synthMs = performance.now() - t;
console.log(JSON.stringify({ pools, loadedMs, resolveMs, buildMs, synthMs }));
