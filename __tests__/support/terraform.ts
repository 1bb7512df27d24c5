/**
 * Runs the real Terraform binary with the real AWS provider from a local
 * filesystem mirror, offline. Where to find them comes from the environment:
 *   TERRAFORM_BIN       the terraform binary (default: `terraform` on PATH)
 *   TF_PROVIDER_MIRROR  a filesystem mirror in registry layout holding hashicorp/aws 5.100.0
 *                       (default: searched for below the usual install roots)
 * Without them the Terraform gates skip with a loud reason, except under
 * CI=true, where they fail.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
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

/** terraform() without blocking the test worker, so that independent runs (plans of several stacks) overlap. */
export function terraformAsync(dir: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<TerraformResult> {
  const found = findToolchain();
  if (typeof found === "string") return Promise.reject(new Error(found));
  return new Promise((resolve, reject) => {
    const child = spawn(found.bin, [`-chdir=${dir}`, ...args], { env: { ...found.env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status: status ?? -1, stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") }));
  });
}

/** `terraform console` in `dir` with `args`: the value of `expression`, as console prints it. */
export function terraformConsole(dir: string, expression: string, args: string[] = []): string {
  const found = findToolchain();
  if (typeof found === "string") throw new Error(found);
  const consoleArgs = ["console", "-no-color", ...args];
  const result = spawnSync(found.bin, [`-chdir=${dir}`, ...consoleArgs], { encoding: "utf8", env: found.env, input: `${expression}\n` });
  return succeeded(consoleArgs, { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr }).stdout.trim();
}

function succeeded(args: string[], result: TerraformResult): TerraformResult {
  if (result.status !== 0) {
    throw new Error(`terraform ${args.join(" ")} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

/** Runs Terraform and fails with its output when it exits non-zero. */
export function terraformOk(dir: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): TerraformResult {
  return succeeded(args, terraform(dir, args, extraEnv));
}

export async function terraformOkAsync(dir: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<TerraformResult> {
  return succeeded(args, await terraformAsync(dir, args, extraEnv));
}

const INIT_ARGS = ["init", "-input=false", "-no-color"];
const SHOW_PLAN_ARGS = ["show", "-json", "-no-color", "plan.bin"];
const planArgs = (vars: Record<string, unknown>) => ["plan", "-input=false", "-no-color", "-out=plan.bin", ...varArgs(vars)];

export function init(dir: string): void {
  terraformOk(dir, INIT_ARGS);
}

/**
 * Puts the AWS provider into the shared plugin cache once, before test workers start: two
 * `terraform init`s that populate an empty cache at the same moment fail ("mkdir ...: file exists").
 * Returns why it could not, or undefined (also when there is no toolchain: the gates report that).
 */
export function warmProviderCache(): string | undefined {
  if (typeof findToolchain() === "string") return undefined;
  const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-tf-warm-"));
  try {
    writeFileSync(
      join(dir, "main.tf.json"),
      JSON.stringify({ terraform: { required_providers: { aws: { source: "hashicorp/aws", version: AWS_PROVIDER_VERSION } } } }),
    );
    const result = terraform(dir, INIT_ARGS);
    return result.status === 0 ? undefined : `terraform init of the provider cache failed:\n${result.stdout}\n${result.stderr}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
  const result = terraformOk(dir, planArgs(vars));
  const show = terraformOk(dir, SHOW_PLAN_ARGS);
  return { json: JSON.parse(show.stdout) as PlanJson, output: result.stdout + result.stderr, planFile: join(dir, "plan.bin") };
}

/**
 * makeOffline and plan of an initialized stack folder, without blocking: the plan as `terraform show
 * -json` prints it. (Run `init` one folder at a time: concurrent inits race on the plugin cache.)
 */
export async function offlinePlanJson(dir: string, vars: Record<string, unknown>): Promise<string> {
  makeOffline(dir);
  await terraformOkAsync(dir, planArgs(vars));
  return (await terraformOkAsync(dir, SHOW_PLAN_ARGS)).stdout;
}

/** A well-formed API key that is no one's, for plans that need the ephemeral variable. */
export const FAKE_PREFECT_API_KEY = "pnu_FAKEfakeFAKEfakeFAKEfakeFAKEfake1234";

/** Stand-ins for the default-VPC lookups, which would need AWS. */
export const DEFAULT_VPC_VARS = {
  vpc_id: "vpc-12345678",
  subnet_ids: ["subnet-12345678", "subnet-87654321"],
  security_group_ids: ["sg-12345678"],
};

export function varArgs(vars: Record<string, unknown>): string[] {
  return Object.entries(vars).map(([name, value]) => `-var=${name}=${typeof value === "string" ? value : JSON.stringify(value)}`);
}
