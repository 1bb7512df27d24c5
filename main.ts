/**
 * The app's edge: the only place that reads the environment and arguments.
 *   npm run synth [-- --config prefect-ecs-worker.json] [--out cdktf.out]
 *   PREFECT_ECS_WORKER_CONFIG=prefect-ecs-worker.json cdktf synth
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildApp } from "./src/app";
import { ConfigError } from "./src/config/errors";
import { loadConfig } from "./src/config/load";

function argument(name: string): string | undefined {
  const args = process.argv.slice(2);
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

function printWarnings(outdir: string): void {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as {
    stacks: Record<string, { annotations: { level: string; message: string }[] }>;
  };
  for (const [stack, { annotations }] of Object.entries(manifest.stacks)) {
    for (const { level, message } of annotations) {
      if (level.endsWith("warn")) console.error(`Warning (${stack}): ${message}`);
    }
  }
}

try {
  const configPath = argument("--config") ?? process.env.PREFECT_ECS_WORKER_CONFIG;
  // cdktf synth passes its output folder in CDKTF_OUTDIR.
  const outdir = argument("--out") ?? process.env.CDKTF_OUTDIR ?? "cdktf.out";
  const { app } = buildApp(loadConfig(configPath), outdir);
  app.synth();
  if (!process.env.CDKTF_OUTDIR) {
    // cdktf synth prints the stacks' warnings itself; a plain run must not swallow them.
    printWarnings(outdir);
    console.log(`Synthesized into ${outdir}/stacks/`);
  }
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
