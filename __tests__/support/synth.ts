import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfigs } from "../../src/config/pools";
import { resolveConfig, ResolvedConfig } from "../../src/config/resolve";
import { PrefectEcsWorkerConfigInput } from "../../src/config/schema";
import { awsStackName } from "../../src/stacks/worker-aws-stack";
import { synthesizeApps } from "../../src/synthesize";

/** A synthesized Terraform JSON document (cdk.tf.json). */
export interface TerraformJson {
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly locals?: Record<string, unknown>;
  readonly resource: Record<string, Record<string, Record<string, unknown>>>;
  readonly variable: Record<string, Record<string, unknown>>;
  readonly output: Record<string, { value: unknown; description?: string }>;
  readonly provider: Record<string, Record<string, unknown>[]>;
  readonly terraform: Record<string, unknown>;
}

export interface Synthesized {
  readonly config: ResolvedConfig;
  /** The cdktf output folder. */
  readonly outdir: string;
  /** The AWS stack's folder, where Terraform runs. */
  readonly stackDir: string;
  readonly json: TerraformJson;
}

/** Synthesizes the app for a configuration into a fresh temporary folder, as `node synth.js` does. */
export function synthesize(input: PrefectEcsWorkerConfigInput = {}): Synthesized {
  return synthesizeResolved([resolveConfig(input)])[0];
}

/** Synthesizes a configuration with several pools (`pools`) into one app; one result per pool's AWS stack. */
export function synthesizePools(input: Record<string, unknown>): Synthesized[] {
  return synthesizeResolved(resolveConfigs(input));
}

function synthesizeResolved(configs: ResolvedConfig[]): Synthesized[] {
  const outdir = mkdtempSync(join(tmpdir(), "prefect-ecs-synth-"));
  synthesizeApps(configs, outdir);
  return configs.map((config) => {
    const stackDir = join(outdir, "stacks", awsStackName(config));
    const json = JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8")) as TerraformJson;
    return { config, outdir, stackDir, json };
  });
}

/**
 * In-process `cdktf synth --hcl` (what the CLI asks of main.ts) of one configuration or several
 * pools into a fresh temporary folder (or `outdir`), without `terraform fmt`: cdk.tf per stack.
 */
export function synthesizeHcl(configs: ResolvedConfig | readonly ResolvedConfig[], outdir = mkdtempSync(join(tmpdir(), "prefect-ecs-hcl-"))): string {
  // cdktf reads this variable itself when it writes the stacks.
  const previous = process.env.SYNTH_HCL_OUTPUT;
  process.env.SYNTH_HCL_OUTPUT = "true";
  try {
    synthesizeApps(Array.isArray(configs) ? configs : [configs as ResolvedConfig], outdir);
  } finally {
    if (previous === undefined) delete process.env.SYNTH_HCL_OUTPUT;
    else process.env.SYNTH_HCL_OUTPUT = previous;
  }
  return outdir;
}

/** The body of resource `type.name`; fails loudly when absent. */
export function resourceOf(json: TerraformJson, type: string, name: string): Record<string, unknown> {
  const body = json.resource[type]?.[name];
  if (!body) throw new Error(`no resource ${type}.${name}; have: ${resourceAddresses(json).join(", ")}`);
  return body;
}

export function dataOf(json: TerraformJson, type: string, name: string): Record<string, unknown> {
  const body = json.data?.[type]?.[name];
  if (!body) throw new Error(`no data source data.${type}.${name}`);
  return body;
}

export function resourceAddresses(json: TerraformJson): string[] {
  return Object.entries(json.resource)
    .flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`))
    .sort();
}

export function dataAddresses(json: TerraformJson): string[] {
  return Object.entries(json.data ?? {})
    .flatMap(([type, byName]) => Object.keys(byName).map((name) => `data.${type}.${name}`))
    .sort();
}

/** Cloud URL used wherever a valid one is needed. */
export const CLOUD_API_URL =
  "https://api.prefect.cloud/api/accounts/0b6c1a52-7d5e-4c5f-9a0e-1f2d3c4b5a69/workspaces/9f8e7d6c-5b4a-4321-8fed-cba987654321";
