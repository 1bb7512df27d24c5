/**
 * The app's edge: the only place that reads the environment and arguments.
 *   node synth.js [--config FILE] [--out DIR]        (runs this file as a bundle; --help for the rest)
 *   npx tsx main.ts [--config FILE] [--out DIR]      (the same, from source)
 *   PREFECT_ECS_WORKER_CONFIG=prefect-ecs-worker.json cdktf synth
 *   node synth.js --module [--config FILE] [--out DIR]  (the reusable module instead of the stacks)
 */
import { parseArgs } from "node:util";
import { IManifest } from "cdktf";
import { version } from "./package.json";
import { ConfigError } from "./src/config/errors";
import { loadConfigs, loadModuleConfig } from "./src/config/load";
import { writeModule } from "./src/module/write-module";
import { describeKept, OutputFolderError, publishSynthesis } from "./src/output-folder";
import { synthesizeApps } from "./src/synthesize";

const CONFIG_VARIABLE = "PREFECT_ECS_WORKER_CONFIG";

const USAGE = `Usage: node synth.js [--config FILE] [--out DIR] [--module]

Synthesizes the Terraform of Prefect's ECS worker guide: a <pool>-aws and a <pool>-work-pool stack per
work pool, in DIR/stacks/. Without a configuration file, the guide's own names and sizes.

Options:
  --config FILE  the configuration, JSON or YAML (.yaml, .yml); also --config=FILE
  --out DIR      the output folder, created with its parents if missing (default: cdktf.out); it then
                 holds exactly this run's stacks: stack folders of earlier runs are removed, except
                 those holding Terraform state or other files of yours, which are kept with a warning
  --module       write instead one reusable Terraform module of both stacks, DIR/modules/prefect-ecs-worker/
                 (replaced whole; nothing else in DIR is touched), from a configuration of one work pool
  -h, --help     print this help and exit
  --version      print the version and exit

Environment:
  ${CONFIG_VARIABLE}  the configuration file when --config is not given (cdktf synth passes
                             no arguments to the app); set but empty is an error

Examples:
  node synth.js
  node synth.js --config prefect-ecs-worker.json --out cdktf.out
  node synth.js --module --config prefect-ecs-worker.json          (npm run synth:module)
  ${CONFIG_VARIABLE}=prefect-ecs-worker.yaml npx cdktf synth

Docs: README.md; every configuration field: help/configuration.md; errors: help/troubleshooting.md
`;

/** A mistake in how the app was called: one line, the usage, exit 2. */
class UsageError extends Error {}

interface Invocation {
  readonly action: "synthesize" | "module" | "help" | "version";
  readonly configPath?: string;
  readonly outdir?: string;
}

function parseInvocation(args: readonly string[], env: NodeJS.ProcessEnv): Invocation {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        config: { type: "string" },
        out: { type: "string" },
        module: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
      tokens: true,
    });
  } catch (error) {
    // Node's messages name the argument; the first line is the point.
    throw new UsageError((error as Error).message.split("\n")[0]);
  }
  const { values, tokens } = parsed;
  for (const name of ["config", "out"] as const) {
    if (tokens.filter((token) => token.kind === "option" && token.name === name).length > 1) throw new UsageError(`--${name} given more than once`);
    if (values[name] === "") throw new UsageError(`--${name} needs a non-empty value`);
  }
  if (values.help) return { action: "help" };
  if (values.version) return { action: "version" };
  const fromEnv = env[CONFIG_VARIABLE];
  if (values.config === undefined && fromEnv === "") {
    throw new UsageError(`${CONFIG_VARIABLE} is set but empty: set it to a configuration file, or unset it for the guide's defaults`);
  }
  // cdktf synth passes its output folder in CDKTF_OUTDIR.
  const action = values.module ? "module" : "synthesize";
  return { action, configPath: values.config ?? fromEnv, outdir: values.out ?? (env.CDKTF_OUTDIR || undefined) };
}

function printWarnings(manifest: IManifest): void {
  for (const [stack, { annotations }] of Object.entries(manifest.stacks)) {
    for (const { level, message } of annotations) {
      if (level.endsWith("warn")) console.error(`Warning (${stack}): ${message}`);
    }
  }
}

function main(): void {
  const invocation = parseInvocation(process.argv.slice(2), process.env);
  if (invocation.action === "help") return void process.stdout.write(USAGE);
  if (invocation.action === "version") return void console.log(version);
  const outdir = invocation.outdir ?? "cdktf.out";
  if (invocation.action === "module") {
    const { folder, warnings } = writeModule(loadModuleConfig(invocation.configPath), outdir);
    for (const message of warnings) console.error(`Warning (module): ${message}`);
    return void console.log(`Wrote the module into ${folder}/`);
  }
  const configs = loadConfigs(invocation.configPath);
  const underCdktf = Boolean(process.env.CDKTF_OUTDIR);
  const { manifest, kept } = publishSynthesis(outdir, (staging) => synthesizeApps(configs, staging).app.manifest, {
    keptFolders: underCdktf ? "refuse" : "keep",
    everyStackFolder: underCdktf,
  });
  for (const folder of kept) console.error(`Warning: ${describeKept(folder)}`);
  if (!underCdktf) {
    // cdktf synth prints the stacks' warnings itself; a plain run must not swallow them.
    printWarnings(manifest);
    console.log(`Synthesized into ${outdir}/stacks/`);
  }
}

try {
  main();
} catch (error) {
  // The user's mistakes end in a message, never in a stack trace from the bundle.
  if (error instanceof UsageError) {
    process.stderr.write(`synth.js: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (error instanceof OutputFolderError) {
    console.error(`synth.js: ${error.message}`);
    process.exit(2);
  }
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
