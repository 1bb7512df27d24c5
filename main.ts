/**
 * The app's edge: the only place that reads the environment and arguments.
 *   npm run synth [-- --config prefect-ecs-worker.json] [--out cdktf.out]
 *   PREFECT_ECS_WORKER_CONFIG=prefect-ecs-worker.json cdktf synth
 */
import { buildApp } from "./src/app";
import { ConfigError } from "./src/config/errors";
import { loadConfig } from "./src/config/load";

function argument(name: string): string | undefined {
  const args = process.argv.slice(2);
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

try {
  const configPath = argument("--config") ?? process.env.PREFECT_ECS_WORKER_CONFIG;
  // cdktf synth passes its output folder in CDKTF_OUTDIR.
  const outdir = argument("--out") ?? process.env.CDKTF_OUTDIR ?? "cdktf.out";
  const { app } = buildApp(loadConfig(configPath), outdir);
  app.synth();
  if (!process.env.CDKTF_OUTDIR) console.log(`Synthesized into ${outdir}/stacks/`);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
