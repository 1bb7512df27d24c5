/**
 * The app's edge: the only place that reads the environment and arguments.
 *   node synth.js [--config prefect-ecs-worker.json] [--out cdktf.out]   (runs this file as a bundle)
 *   npx tsx main.ts [--config ...] [--out ...]                             (the same, from source)
 *   PREFECT_ECS_WORKER_CONFIG=prefect-ecs-worker.json cdktf synth
 */
import { rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { IManifest } from "cdktf";
import { ConfigError } from "./src/config/errors";
import { loadConfigs } from "./src/config/load";
import { synthesizeApps } from "./src/synthesize";

function argument(name: string): string | undefined {
  const args = process.argv.slice(2);
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

function printWarnings(manifest: IManifest): void {
  for (const [stack, { annotations }] of Object.entries(manifest.stacks)) {
    for (const { level, message } of annotations) {
      if (level.endsWith("warn")) console.error(`Warning (${stack}): ${message}`);
    }
  }
}

/**
 * JSON (cdk.tf.json) and HCL (cdk.tf, `cdktf synth --hcl`) synthesis write different files: drop the
 * other format's file from each stack folder, or Terraform would read both and find every block twice.
 */
function removeOtherFormat(outdir: string, manifest: IManifest): void {
  for (const { synthesizedStackPath } of Object.values(manifest.stacks)) {
    const other = basename(synthesizedStackPath) === "cdk.tf" ? "cdk.tf.json" : "cdk.tf";
    rmSync(join(outdir, dirname(synthesizedStackPath), other), { force: true });
  }
}

function main(): void {
  const configPath = argument("--config") ?? process.env.PREFECT_ECS_WORKER_CONFIG;
  // cdktf synth passes its output folder in CDKTF_OUTDIR.
  const outdir = argument("--out") ?? process.env.CDKTF_OUTDIR ?? "cdktf.out";
  // What cdktf wrote to manifest.json about each stack: its file and its annotations.
  const { manifest } = synthesizeApps(loadConfigs(configPath), outdir).app;
  removeOtherFormat(outdir, manifest);
  if (!process.env.CDKTF_OUTDIR) {
    // cdktf synth prints the stacks' warnings itself; a plain run must not swallow them.
    printWarnings(manifest);
    console.log(`Synthesized into ${outdir}/stacks/`);
  }
}

try {
  main();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
