/**
 * Runs the real Terraform binary with the real AWS provider from a local
 * filesystem mirror, offline. Where to find them comes from the environment:
 *   TERRAFORM_BIN       the terraform binary (default: `terraform` on PATH)
 *   TF_PROVIDER_MIRROR  a filesystem mirror in registry layout holding hashicorp/aws 5.100.0
 *                       (default: searched for below the usual install roots)
 * Without them the Terraform gates skip with a loud reason, except under
 * CI=true, where they fail.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

/** The provider version @cdktf/provider-aws 20.1.0 pins. */
export const AWS_PROVIDER_VERSION = "5.100.0";
const MIRROR_SEARCH_ROOTS = ["/opt", "/usr/local/share", "/usr/share", "/usr/local/lib", "/var/lib", homedir()];

/** A folder below the roots whose registry layout holds the AWS provider we pin. */
export function findProviderMirror(roots = MIRROR_SEARCH_ROOTS, depth = 3): string | undefined {
  const holdsProvider = (dir: string) =>
    existsSync(join(dir, "registry.terraform.io", "hashicorp", "aws", AWS_PROVIDER_VERSION));
  const search = (dir: string, level: number): string | undefined => {
    if (holdsProvider(dir)) return dir;
    if (level === 0) return undefined;
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "node_modules")
        .map((entry) => entry.name)
        .sort();
    } catch {
      return undefined;
    }
    for (const name of entries) {
      const found = search(join(dir, name), level - 1);
      if (found) return found;
    }
    return undefined;
  };
  for (const root of roots) {
    const found = search(root, depth);
    if (found) return found;
  }
  return undefined;
}

export interface TerraformResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Toolchain {
  readonly bin: string;
  /** e.g. "Terraform v1.11.4". */
  readonly version: string;
  readonly env: NodeJS.ProcessEnv;
}

let toolchain: Toolchain | string | undefined;

/** The toolchain (binary, offline environment with the provider mirror), or the reason it is missing. */
export function findToolchain(): Toolchain | string {
  if (toolchain !== undefined) return toolchain;
  const bin = process.env.TERRAFORM_BIN || "terraform";
  const version = spawnSync(bin, ["version"], { encoding: "utf8" });
  const mirror = process.env.TF_PROVIDER_MIRROR || findProviderMirror();
  if (version.status !== 0) {
    toolchain = `no Terraform binary (${bin}): set TERRAFORM_BIN or put terraform on PATH`;
  } else if (!mirror || !existsSync(join(mirror, "registry.terraform.io", "hashicorp", "aws", AWS_PROVIDER_VERSION))) {
    toolchain =
      `no filesystem mirror of hashicorp/aws ${AWS_PROVIDER_VERSION} found (TF_PROVIDER_MIRROR=${mirror ?? "unset"}): ` +
      "set TF_PROVIDER_MIRROR to a folder holding registry.terraform.io/hashicorp/aws/" + AWS_PROVIDER_VERSION;
  } else {
    const home = mkdtempSync(join(tmpdir(), "prefect-ecs-tf-"));
    const cache = join(tmpdir(), "prefect-ecs-tf-plugin-cache");
    mkdirSync(cache, { recursive: true });
    const cliConfig = join(home, "terraform.rc");
    writeFileSync(
      cliConfig,
      [
        "provider_installation {",
        `  filesystem_mirror {`,
        `    path    = ${JSON.stringify(mirror)}`,
        `    include = ["registry.terraform.io/hashicorp/aws"]`,
        "  }",
        "}",
        `plugin_cache_dir = ${JSON.stringify(cache)}`,
        "",
      ].join("\n"),
    );
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      TF_CLI_CONFIG_FILE: cliConfig,
      TF_IN_AUTOMATION: "1",
      CHECKPOINT_DISABLE: "1",
      // Fake credentials: nothing here may reach AWS.
      AWS_ACCESS_KEY_ID: "AKIAFAKEFAKEFAKEFAKE",
      AWS_SECRET_ACCESS_KEY: "fake-secret-access-key",
      AWS_EC2_METADATA_DISABLED: "true",
    };
    toolchain = { bin, version: (version.stdout.match(/Terraform v\S+/) ?? ["Terraform"])[0], env };
  }
  return toolchain;
}

/**
 * `describe` for tests that need Terraform: runs them when the toolchain is
 * there; otherwise skips loudly, or fails under CI=true. SKIP_TERRAFORM_GATES=1
 * (npm run test:unit) skips them on purpose.
 */
export function describeWithTerraform(name: string, body: () => void): void {
  if (process.env.SKIP_TERRAFORM_GATES === "1") {
    describe.skip(name, body);
    return;
  }
  const found = findToolchain();
  if (typeof found === "string") {
    if (process.env.CI === "true") {
      describe(name, () => {
        it("needs Terraform and the AWS provider mirror (CI=true makes this a failure)", () => {
          throw new Error(`Terraform gate cannot run: ${found}`);
        });
      });
      return;
    }
    console.warn(`\n!!! SKIPPING Terraform gate "${name}": ${found} !!!\n`);
    describe.skip(name, body);
    return;
  }
  describe(name, body);
}

export function terraform(dir: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): TerraformResult {
  const found = findToolchain();
  if (typeof found === "string") throw new Error(found);
  const result = spawnSync(found.bin, [`-chdir=${dir}`, ...args], {
    encoding: "utf8",
    env: { ...found.env, ...extraEnv },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Runs Terraform and fails with its output when it exits non-zero. */
export function terraformOk(dir: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): TerraformResult {
  const result = terraform(dir, args, extraEnv);
  if (result.status !== 0) {
    throw new Error(`terraform ${args.join(" ")} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

export function init(dir: string): void {
  terraformOk(dir, ["init", "-input=false", "-no-color"]);
}

/**
 * Lets the provider plan without AWS: fake credentials, no account lookup.
 * An override file, so the synthesized files stay as users get them.
 */
export function makeOffline(dir: string): void {
  writeFileSync(
    join(dir, "offline_provider_override.tf.json"),
    JSON.stringify({
      provider: {
        aws: {
          skip_credentials_validation: true,
          skip_requesting_account_id: true,
          skip_metadata_api_check: true,
          skip_region_validation: true,
        },
      },
    }),
  );
}

export interface PlanJson {
  readonly resource_changes?: { address: string; mode: "managed" | "data"; type: string; change: { actions: string[]; after: Record<string, unknown> | null } }[];
  readonly planned_values?: { outputs?: Record<string, { value?: unknown; sensitive: boolean }> };
}

/** `terraform plan` with variables, saved and read back as JSON. */
export function plan(dir: string, vars: Record<string, unknown>): { json: PlanJson; output: string; planFile: string } {
  const args = ["plan", "-input=false", "-no-color", "-out=plan.bin", ...varArgs(vars)];
  const result = terraformOk(dir, args);
  const show = terraformOk(dir, ["show", "-json", "-no-color", "plan.bin"]);
  return { json: JSON.parse(show.stdout) as PlanJson, output: result.stdout + result.stderr, planFile: join(dir, "plan.bin") };
}

export function varArgs(vars: Record<string, unknown>): string[] {
  return Object.entries(vars).map(([name, value]) => `-var=${name}=${typeof value === "string" ? value : JSON.stringify(value)}`);
}
