import { cpSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { App } from "cdktf";
import { ResolvedConfig } from "../config/resolve";
import { renderDocument } from "../hcl/document";
import { withoutTokenCreationStacks } from "../synthesize";
import { AWS_PROVIDER_REQUIREMENT, REQUIRED_TERRAFORM_VERSION } from "../stacks/worker-aws-stack";
import { moduleReadme } from "./readme";
import { MODULE_NAME, WorkerModuleStack } from "./worker-module";

type Json = Record<string, unknown>;

/** The module's files, as terraform-aws-modules lay them out; the sections of the JSON document each holds. */
export const MODULE_FILES = {
  "versions.tf": ["terraform"],
  "variables.tf": ["variable"],
  "main.tf": ["locals", "data", "resource"],
  "outputs.tf": ["output"],
} as const;

/** What the stack folder holds that is not the module's: cdktf's files. */
const CDKTF_FILES = new Set(["cdk.tf.json", "cdk.tf", "metadata.json"]);

export interface WrittenModule {
  /** `<outdir>/modules/prefect-ecs-worker`. */
  readonly folder: string;
  /** The module as one Terraform JSON document (what its .tf files mean together). */
  readonly document: Json;
  /** The stacks' warnings (annotations). */
  readonly warnings: readonly string[];
}

/**
 * Writes the configuration's module to `<outdir>/modules/prefect-ecs-worker/`: versions.tf, variables.tf,
 * main.tf and outputs.tf in formatted HCL, README.md, and the files the work-pool step reads (the upsert
 * script, the base job template). The folder is built beside it and replaces the old one only when complete;
 * nothing else in `outdir` is touched.
 */
export function writeModule(config: ResolvedConfig, outdir: string): WrittenModule {
  const modules = join(outdir, "modules");
  // The first folder this run had to create, removed again if it fails: a failed run writes nothing.
  const created = mkdirSync(modules, { recursive: true });
  const staging = mkdtempSync(join(modules, `.${MODULE_NAME}-`));
  let written = false;
  try {
    const { document, stackFolder, warnings } = withoutTokenCreationStacks(() => {
      const app = new App({ outdir: join(staging, "cdktf"), stackTraces: false, skipValidation: true, hclOutput: false });
      const stack = new WorkerModuleStack(app, MODULE_NAME, { config, resolveOnce: true });
      app.synth();
      const { synthesizedStackPath, annotations } = app.manifest.forStack(stack);
      const tf = moduleDocument(stack.toTerraform() as Json);
      const folder = join(app.outdir, synthesizedStackPath, "..");
      return { document: { tf, layout: stack.hclLayout() }, stackFolder: folder, warnings: annotations.filter((a) => a.level.endsWith("warn")).map((a) => a.message) };
    });
    const module = join(staging, MODULE_NAME);
    mkdirSync(module);
    for (const entry of readdirSync(stackFolder)) {
      if (!CDKTF_FILES.has(entry)) cpSync(join(stackFolder, entry), join(module, entry), { recursive: true });
    }
    for (const [file, sections] of Object.entries(MODULE_FILES)) {
      const part = Object.fromEntries(sections.filter((section) => document.tf[section] !== undefined).map((section) => [section, document.tf[section]]));
      writeFileSync(join(module, file), renderDocument(part, document.layout));
    }
    writeFileSync(join(module, "README.md"), moduleReadme(document.tf));
    const folder = join(modules, MODULE_NAME);
    rmSync(folder, { recursive: true, force: true });
    renameSync(module, folder);
    written = true;
    return { folder, document: document.tf, warnings };
  } finally {
    rmSync(staging, { recursive: true, force: true });
    if (!written && created !== undefined) rmSync(created, { recursive: true, force: true });
  }
}

/** The stack's document as a module: no backend, no cdktf metadata. */
function moduleDocument(tf: Json): Json {
  const { "//": _metadata, terraform: _stackTerraform, ...rest } = tf;
  return {
    terraform: { required_version: REQUIRED_TERRAFORM_VERSION, required_providers: { aws: AWS_PROVIDER_REQUIREMENT } },
    ...rest,
  };
}
