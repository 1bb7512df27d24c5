/**
 * Terraform for the context rows: the approach of __tests__/support/terraform.ts
 * (binary from TERRAFORM_BIN or PATH, hashicorp/aws from the filesystem mirror in
 * TF_PROVIDER_MIRROR or found by findProviderMirror(), an override file with the
 * provider's skip_* flags, fake credentials), with the environment returned so
 * the benchmark can time Terraform itself.
 */
import { spawnSync } from "node:child_process";
import { findToolchain, makeOffline, Toolchain, varArgs } from "../__tests__/support/terraform";

export type { Toolchain };

/** The toolchain, or why it is missing: the same one the Terraform gates use. */
export function findTerraform(): Toolchain | string {
  return findToolchain();
}

/** `terraform init` (not timed) and the offline override, so validate and plan can run repeatedly. */
export function prepareStackDir(toolchain: Toolchain, dir: string): void {
  const result = spawnSync(toolchain.bin, [`-chdir=${dir}`, "init", "-input=false", "-no-color"], {
    encoding: "utf8",
    env: toolchain.env,
  });
  if (result.status !== 0) throw new Error(`terraform init failed:\n${result.stdout}\n${result.stderr}`);
  makeOffline(dir);
}

/** Stand-ins for what an offline plan of the default configuration needs (the default-VPC lookups would need AWS). */
export const PLAN_VARS: Record<string, unknown> = {
  prefect_api_url:
    "https://api.prefect.cloud/api/accounts/0b6c1a52-7d5e-4c5f-9a0e-1f2d3c4b5a69/workspaces/9f8e7d6c-5b4a-4321-8fed-cba987654321",
  prefect_api_key: "pnu_FAKEfakeFAKEfakeFAKEfakeFAKEfake1234",
  vpc_id: "vpc-12345678",
  subnet_ids: ["subnet-12345678", "subnet-87654321"],
};

export function validateArgs(dir: string): string[] {
  return [`-chdir=${dir}`, "validate", "-no-color"];
}

export function planArgs(dir: string): string[] {
  return [`-chdir=${dir}`, "plan", "-input=false", "-no-color", "-lock=false", ...varArgs(PLAN_VARS)];
}
