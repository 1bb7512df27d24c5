/**
 * Synthesizes N work pools (each with its AWS and work-pool stacks) in one app.
 *   tsx bench/synth-pools.ts <pools> <outdir> [--skip-validation] [--cap-stack-traces] [--skip-prepare]
 * Prints one JSON line with in-process timings (ms): when the script body
 * started (Node/tsx start-up and module loading), resolving, building, synth.
 *
 * The flags are what-if experiments for the performance report, not features:
 *   --skip-validation   cdktf's synth-time validations off (what App({ skipValidation: true })
 *                       does); among them one `terraform version` run per terraform_data resource
 *   --cap-stack-traces  Error.stackTraceLimit pinned at 10, so cdktf's captureStackTrace() (one
 *                       full-depth trace per token it creates) records 10 frames, not all
 *   --skip-prepare      cdktf's "preparing" resolve pass over every stack skipped (it finds
 *                       cross-stack references, which these stacks do not use: the work-pool stack
 *                       reads the AWS stack through terraform_remote_state); the output is identical
 */
import { TerraformStack } from "cdktf";
import { buildApps } from "../src/app";
import { poolConfigs } from "./pools";

const loadedMs = performance.now();
const [poolsArg, outdirArg, ...flags] = process.argv.slice(2);
const pools = Number(poolsArg ?? "1");
const outdir = outdirArg ?? "cdktf.out";
if (!Number.isInteger(pools) || pools < 1) throw new Error(`pools must be a positive integer, got ${poolsArg}`);
const FLAGS = ["--skip-validation", "--cap-stack-traces", "--skip-prepare"];
const unknown = flags.filter((flag) => !FLAGS.includes(flag));
if (unknown.length > 0) throw new Error(`unknown flags: ${unknown.join(" ")}`);
if (flags.includes("--cap-stack-traces")) {
  Object.defineProperty(Error, "stackTraceLimit", { configurable: true, get: () => 10, set: () => undefined });
}
if (flags.includes("--skip-prepare")) {
  const prototype = TerraformStack.prototype as unknown as { prepareStack(): void; ensureBackendExists(): void };
  prototype.prepareStack = function (this: typeof prototype) {
    this.ensureBackendExists();
  };
}

let t = performance.now();
const configs = poolConfigs(pools);
const resolveMs = performance.now() - t;
t = performance.now();
const { app } = buildApps(configs, outdir);
const buildMs = performance.now() - t;
if (flags.includes("--skip-validation")) (app as unknown as { skipValidation: boolean }).skipValidation = true;
t = performance.now();
app.synth();
const synthMs = performance.now() - t;
console.log(JSON.stringify({ pools, loadedMs, resolveMs, buildMs, synthMs }));
