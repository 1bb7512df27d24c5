/**
 * The reusable module (`npm run synth:module`): its files, its variables (one per name, defaults and
 * validation from the configuration), its README generated from the same document, and with real
 * Terraform: two pools through for_each validate and plan offline, bad names fail as synthesis fails,
 * and the module plans exactly the stacks' resources, so the two forms cannot drift.
 */
import { parse } from "@cdktf/hcl2json";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { describeFormat, matches } from "../src/config/aws-formats";
import { resolveConfigs } from "../src/config/pools";
import { resolveConfig, ResolvedConfig } from "../src/config/resolve";
import { PrefectEcsWorkerConfigInput } from "../src/config/schema";
import { workerNames } from "../src/constructs/prefect-ecs-worker";
import { isRequired } from "../src/module/readme";
import { MODULE_FILES, writeModule } from "../src/module/write-module";
import { MODULE_NAME } from "../src/module/worker-module";
import { AWS_PROVIDER_REQUIREMENT, awsStackName } from "../src/stacks/worker-aws-stack";
import { moduleDefaultName, NAME_VARIABLES, poolNameRule } from "../src/stacks/worker-variables";
import { workPoolStackName } from "../src/work-pool/work-pool-stack";
import { awsOutputsState, exampleAwsOutputs } from "./support/aws-state";
import { expectSameFiles, fileTree } from "./support/files";
import { CLOUD_API_URL, synthesize } from "./support/synth";
import { AWS_PROVIDER_VERSION, describeWithTerraform, init, makeOffline, plan, PlanJson, terraform, terraformOk } from "./support/terraform";

type Json = Record<string, unknown>;

const GUIDE: PrefectEcsWorkerConfigInput = { prefect: { apiUrl: CLOUD_API_URL }, tags: { team: "platform" } };

/** Every optional part and the other shape of each choice: self-hosted basic auth, SSM, an existing cluster by ARN, explicit network. */
const OTHER_SHAPES: PrefectEcsWorkerConfigInput = {
  workPool: { name: "data-team", deleteOnDestroy: true },
  prefect: { server: "self-hosted", apiUrl: "https://prefect.internal.example.com/api", auth: "basic-auth" },
  secret: { store: "ssm" },
  aws: { region: "eu-west-1" },
  cluster: { existing: "arn:aws:ecs:eu-west-1:123456789012:cluster/shared" },
  network: { vpcId: "vpc-0a1b2c3d4e5f60718", subnetIds: ["subnet-0a1b2c3d4e5f60718"], assignPublicIp: false },
  flowRunTaskRole: { s3Buckets: ["prefect-demo-bucket"] },
  flowRunLogs: { enabled: true },
};

interface Written {
  readonly config: ResolvedConfig;
  readonly outdir: string;
  readonly folder: string;
  readonly document: Json;
}

function writeFor(input: PrefectEcsWorkerConfigInput): Written {
  const config = resolveConfig(input);
  const outdir = mkdtempSync(join(tmpdir(), "prefect-ecs-module-"));
  const { folder, document } = writeModule(config, outdir);
  return { config, outdir, folder, document };
}

/** The module's .tf files read back by HCL's own parser, merged: blocks become lists. */
async function parsedModule(folder: string): Promise<Json> {
  const merged: Json = {};
  for (const file of Object.keys(MODULE_FILES)) {
    const parsed = (await parse(file, readFileSync(join(folder, file), "utf8"))) as Json;
    for (const [section, body] of Object.entries(parsed)) {
      // Each file holds its own sections (MODULE_FILES): nothing to merge but the locals, data and resources of main.tf.
      expect({ section, twice: section in merged }).toEqual({ section, twice: false });
      merged[section] = body;
    }
  }
  return merged;
}

const variablesOf = (document: Json) => document.variable as Record<string, { default?: unknown; validation?: { condition: string; error_message: string }[] }>;

describe.each([
  { name: "the guide's defaults", input: GUIDE },
  { name: "the other shapes", input: OTHER_SHAPES },
])("The module, GIVEN $name", ({ input }) => {
  let written: Written;
  let parsed: Json;
  beforeAll(async () => {
    written = writeFor(input);
    parsed = await parsedModule(written.folder);
  });

  it(`WHEN written THEN <out>/modules/${MODULE_NAME}/ holds the .tf files, README.md, the upsert script and the base job template`, () => {
    expect(written.folder).toBe(join(written.outdir, "modules", MODULE_NAME));
    expect(readdirSync(written.folder).sort()).toEqual([...Object.keys(MODULE_FILES), "README.md", "assets", "base-job-template.json"].sort());
    expect(readdirSync(join(written.folder, "assets", "upsert_script"))).toEqual(["upsert-work-pool.sh"]);
    expect(readdirSync(written.outdir)).toEqual(["modules"]);
  });

  it("THEN no file holds a path of this machine (the output folder, the project, the home folder)", () => {
    for (const [file, content] of fileTree(written.folder)) {
      for (const path of [written.outdir, join(__dirname, ".."), homedir()]) expect({ file, path, found: content.includes(path) }).toEqual({ file, path, found: false });
    }
  });

  it("THEN it configures no backend and no provider, and requires hashicorp/aws in a range holding 5.100.0 and Terraform >= 1.11", () => {
    expect(parsed.provider).toBeUndefined();
    const [terraformBlock] = parsed.terraform as Json[];
    expect(terraformBlock.backend).toBeUndefined();
    expect(terraformBlock.cloud).toBeUndefined();
    expect((terraformBlock.required_providers as Json[])[0]).toEqual({ aws: AWS_PROVIDER_REQUIREMENT });
    expect(AWS_PROVIDER_REQUIREMENT.source).toBe("hashicorp/aws");
    expect(AWS_PROVIDER_REQUIREMENT.version).toBe(`>= ${AWS_PROVIDER_VERSION}, < 6.0.0`);
    expect(terraformBlock.required_version).toBe(">= 1.11.0");
  });

  it("THEN the work-pool step runs the script shipped in the module, by ${path.module}, and reads no stack's state", () => {
    const main = readFileSync(join(written.folder, "main.tf"), "utf8");
    expect(main).toContain('command = "sh \\"${path.module}/assets/upsert_script/upsert-work-pool.sh\\" upsert"');
    expect(main).toContain('file("${path.module}/base-job-template.json")');
    expect(main).not.toContain("terraform_remote_state");
  });

  it("THEN every name the configuration uses is a variable named after its concept, validated by the formats synthesis checks; a name of the pool's own resources is null by default, a shared one defaults to the configuration's value", () => {
    const variables = variablesOf(written.document);
    const names = workerNames(written.config);
    const used = NAME_VARIABLES.filter(({ name }) => names[name] !== undefined);
    expect(used.length).toBeGreaterThan(12);
    const perPool = used.filter((entry) => poolNameRule(written.config, entry) !== undefined).map(({ variable }) => variable);
    expect(perPool).toEqual(expect.arrayContaining(["execution_role_name", "events_queue_name", "worker_service_name"]));
    expect(perPool).not.toContain("work_pool_name");
    for (const { variable, name, formats, conditions, distinctFrom } of NAME_VARIABLES) {
      if (names[name] === undefined) {
        expect({ variable, declared: variable in variables }).toEqual({ variable, declared: false });
        continue;
      }
      const ownResource = perPool.includes(variable);
      expect({ variable, default: variables[variable].default }).toEqual({ variable, default: ownResource ? null : names[name] });
      const messages = (variables[variable].validation ?? []).map((v) => v.error_message);
      const distinct = (distinctFrom ?? []).filter((other) => other in variables).map((other) => `${variable} must differ from ${other}.`);
      const further = (conditions ?? []).map((c) => c.errorMessage);
      const nullable = ownResource ? " (or null)." : ".";
      expect(messages).toEqual([...formats(written.config).map((format) => `${variable} must be ${describeFormat(format)}${nullable}`), ...further, ...distinct]);
      for (const format of formats(written.config)) expect({ variable, format, ok: matches(format, names[name] as string) }).toEqual({ variable, format, ok: true });
    }
  });

  it("THEN local.default_names declares every name of the pool's own resources, and for the configuration's pool moduleDefaultName gives the configuration's names", () => {
    const defaults = (written.document.locals as Json).default_names as Json;
    const names = workerNames(written.config);
    for (const entry of NAME_VARIABLES.filter((e) => poolNameRule(written.config, e) !== undefined)) {
      expect({ variable: entry.variable, declared: typeof defaults[entry.variable] }).toEqual({ variable: entry.variable, declared: "string" });
      expect({ variable: entry.variable, name: moduleDefaultName(written.config, entry, written.config.workPoolName) }).toEqual({ variable: entry.variable, name: names[entry.name] });
    }
  });

  it("THEN tags is a variable defaulting to the configuration's tags, and every resource that takes tags gets them with PrefectWorkPool and ManagedBy", () => {
    expect(variablesOf(written.document).tags.default).toEqual(written.config.tags);
    const locals = written.document.locals as Json;
    expect(locals.tags).toBe('${merge(var.tags, {"PrefectWorkPool" = var.work_pool_name, "ManagedBy" = "prefect-ecs-worker-cdktf"})}');
    const resources = Object.entries(written.document.resource as Record<string, Record<string, Json>>);
    const tagged = resources.flatMap(([type, byName]) => Object.entries(byName).filter(([, body]) => body.tags !== undefined).map(([name]) => `${type}.${name}`));
    for (const expected of ["aws_iam_role.execution_role", "aws_sqs_queue.events_queue", "aws_ecs_service.worker", "aws_cloudwatch_log_group.worker", "aws_security_group.worker"]) {
      expect(tagged).toContain(expected);
    }
    for (const [type, byName] of resources) for (const body of Object.values(byName)) if (body.tags !== undefined) expect({ type, tags: body.tags }).toEqual({ type, tags: "${local.tags}" });
  });

  it("THEN every output has a description", () => {
    for (const [name, output] of Object.entries(written.document.output as Record<string, Json>)) {
      expect({ name, description: typeof output.description === "string" && output.description.length > 0 }).toEqual({ name, description: true });
    }
  });

  it("THEN the README's inputs and outputs tables list exactly the module's variables and outputs, each with its default and whether it is required", () => {
    const readme = readFileSync(join(written.folder, "README.md"), "utf8");
    const table = (heading: string) => {
      const section = readme.split(`## ${heading}\n`)[1].split("\n## ")[0];
      return section.split("\n").filter((line) => /^\| [a-z_]/.test(line)).map((line) => line.split(/ \| /).map((cell) => cell.replace(/^\| | \|$/g, "")));
    };
    const variables = variablesOf(written.document) as Record<string, { default?: unknown }>;
    const inputs = table("Inputs");
    expect(inputs.map(([name]) => name).sort()).toEqual(Object.keys(variables).sort());
    for (const [name, , , defaultCell, required] of inputs) {
      const variable = variables[name];
      expect({ name, required }).toEqual({ name, required: isRequired(variable) ? "yes" : "no" });
      if (!isRequired(variable)) expect({ name, default: JSON.parse(defaultCell.replace(/^`|`$/g, "").replace(/\\\|/g, "|")) }).toEqual({ name, default: variable.default });
    }
    expect(table("Outputs").map(([name]) => name).sort()).toEqual(Object.keys(written.document.output as Json).sort());
  });
});

/** Pool names that take each path of derivedName: as is, its slug (upper case, _ for ECR), shortened with a hash, an empty slug. */
const TRICKY_POOLS = ["data-team", "ML_Team", `Team_${"x".repeat(70)}`, "z".repeat(210), "-_-", "a", "Data__Team--7"];

describe.each([
  { name: "the guide's defaults", input: GUIDE },
  { name: "the other shapes", input: OTHER_SHAPES },
])("moduleDefaultName, GIVEN $name", ({ input }) => {
  it("WHEN a pool is not the configuration's THEN each name of its own resources is the name a configuration of several pools gives it (the cluster aside: the module creates one per pool), and fits AWS's format", () => {
    const config = resolveConfig(input);
    for (const pool of TRICKY_POOLS.filter((pool) => pool !== config.workPoolName)) {
      const [, other] = resolveConfigs({ ...input, pools: [{ workPool: { name: "first" } }, { workPool: { ...input.workPool, name: pool } }] });
      const names = workerNames(other);
      for (const entry of NAME_VARIABLES.filter((e) => poolNameRule(config, e) !== undefined)) {
        const name = moduleDefaultName(config, entry, pool) as string;
        for (const format of entry.formats(config)) expect({ pool, variable: entry.variable, format, ok: matches(format, name) }).toEqual({ pool, variable: entry.variable, format, ok: true });
        if (entry.variable === "cluster_name") expect(name).toBe(`${workerNames(config).cluster}-${pool}`);
        else expect({ pool, variable: entry.variable, name }).toEqual({ pool, variable: entry.variable, name: names[entry.name] });
      }
    }
  });
});

describe("npm run synth:module (node synth.js --module), the same flags as node synth.js", () => {
  const REPO = join(__dirname, "..");
  const synthModule = (config: unknown, outdir: string) => {
    const configFile = join(mkdtempSync(join(tmpdir(), "prefect-ecs-module-cli-")), "prefect-ecs-worker.json");
    writeFileSync(configFile, JSON.stringify(config));
    return spawnSync("npm", ["run", "-s", "synth:module", "--", "--config", configFile, "--out", outdir], { cwd: REPO, encoding: "utf8", env: process.env });
  };

  it("GIVEN a configuration of one pool WHEN run THEN it writes what writeModule writes into <out>/modules/prefect-ecs-worker/, and nothing else", () => {
    const outdir = join(mkdtempSync(join(tmpdir(), "prefect-ecs-module-cli-")), "out");
    const result = synthModule(OTHER_SHAPES, outdir);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: "" });
    expect(result.stdout).toBe(`Wrote the module into ${join(outdir, "modules", MODULE_NAME)}/\n`);
    expect(readdirSync(outdir)).toEqual(["modules"]);
    expectSameFiles(join(outdir, "modules", MODULE_NAME), writeFor(OTHER_SHAPES).folder, "the module");
  });

  it("GIVEN a module written before WHEN run again with another pool name THEN the folder holds only the new module", () => {
    const outdir = mkdtempSync(join(tmpdir(), "prefect-ecs-module-cli-"));
    expect(synthModule(GUIDE, outdir).status).toBe(0);
    writeFileSync(join(outdir, "modules", MODULE_NAME, "stale.tf"), "# from an older module\n");
    expect(synthModule({ ...GUIDE, workPool: { name: "dev" } }, outdir).status).toBe(0);
    expect(readdirSync(join(outdir, "modules", MODULE_NAME))).not.toContain("stale.tf");
    expect(readFileSync(join(outdir, "modules", MODULE_NAME, "variables.tf"), "utf8")).toContain('default     = "dev"');
  });

  it("GIVEN the stacks in the same output folder WHEN the module is written, then the stacks again THEN each leaves the other's folder as it was", () => {
    const outdir = mkdtempSync(join(tmpdir(), "prefect-ecs-module-cli-"));
    const stacks = () => spawnSync(process.execPath, ["synth.js", "--out", outdir], { cwd: REPO, encoding: "utf8", env: process.env });
    expect(stacks().status).toBe(0);
    const stacksBefore = fileTree(join(outdir, "stacks"));
    expect(synthModule(GUIDE, outdir).status).toBe(0);
    expect(fileTree(join(outdir, "stacks"))).toEqual(stacksBefore);
    const moduleBefore = fileTree(join(outdir, "modules"));
    expect(stacks().status).toBe(0);
    expect(fileTree(join(outdir, "modules"))).toEqual(moduleBefore);
    expect(readdirSync(outdir).sort()).toEqual(["manifest.json", "modules", "stacks"]);
  });

  it("GIVEN --module with a value WHEN run THEN it is a usage error (exit 2, the usage shown) and nothing is written", () => {
    const outdir = join(mkdtempSync(join(tmpdir(), "prefect-ecs-module-cli-")), "out");
    const result = spawnSync(process.execPath, ["synth.js", "--module=yes", "--out", outdir], { cwd: REPO, encoding: "utf8", env: process.env });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^synth\.js: .*--module/);
    expect(result.stderr).toContain("Usage: node synth.js [--config FILE] [--out DIR] [--module]");
    expect(existsSync(outdir)).toBe(false);
  });

  it("GIVEN a configuration of several pools WHEN run THEN it fails naming pools and the pools, and writes nothing", () => {
    const outdir = join(mkdtempSync(join(tmpdir(), "prefect-ecs-module-cli-")), "out");
    const result = synthModule({ pools: [{ workPool: { name: "dev" } }, { workPool: { name: "prod" } }] }, outdir);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('pools (got ["dev","prod"]): the module is one work pool\'s');
    expect(existsSync(outdir)).toBe(false);
  });
});

// ---------------------------------------------------------------- with Terraform

/** A root module calling the module; `calls` are HCL blocks. */
function writeRoot(dir: string, region: string, body: string): void {
  writeFileSync(
    join(dir, "main.tf"),
    [
      `provider "aws" {\n  region = "${region}"\n}`,
      'variable "prefect_api_key" {\n  type      = string\n  sensitive = true\n  ephemeral = true\n  default   = "pnu_FAKEfakeFAKEfakeFAKEfakeFAKEfake1234"\n}',
      'variable "prefect_api_auth_string" {\n  type      = string\n  sensitive = true\n  ephemeral = true\n  default   = "admin:not-a-real-password"\n}',
      body,
      "",
    ].join("\n\n"),
  );
  makeOffline(dir);
}

/** The credential argument the module's configuration needs. */
function credentialArgument(config: ResolvedConfig): string {
  if (config.secret?.mode !== "create") return "";
  return config.secret.environmentName === "PREFECT_API_KEY" ? "prefect_api_key = var.prefect_api_key" : "prefect_api_auth_string = var.prefect_api_auth_string";
}

type Change = NonNullable<PlanJson["resource_changes"]>[number] & { change: { after_unknown?: Json } };
interface OutputChange {
  readonly after: unknown;
  /** true, or the same shape as `after` with true where a value is unknown. */
  readonly after_unknown: unknown;
}
type PlanWithOutputs = PlanJson & { readonly output_changes: Record<string, OutputChange> };

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object";

/** Every leaf `after` knows, by path ("network_configuration.subnets.0"). */
function knownLeaves(after: unknown, unknown: unknown, path = ""): Record<string, unknown> {
  if (unknown === true) return {};
  if (!isObject(after)) return { [path]: after };
  return Object.assign({}, ...Object.entries(after).map(([key, value]) => knownLeaves(value, isObject(unknown) ? unknown[key] : false, path ? `${path}.${key}` : key)));
}

/** The keys of nested objects (lists and unknown values count as leaves): what a plan knows of a value's shape. */
function shapeOf(after: unknown, unknown: unknown): unknown {
  const keys = new Set([...Object.keys(isObject(after) && !Array.isArray(after) ? after : {}), ...Object.keys(isObject(unknown) && !Array.isArray(unknown) ? unknown : {})]);
  if (keys.size === 0) return "leaf";
  return Object.fromEntries([...keys].sort().map((key) => [key, shapeOf(isObject(after) ? after[key] : undefined, isObject(unknown) ? unknown[key] : false)]));
}

function valueAt(value: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((current, key) => (isObject(current) ? current[key] : undefined), value);
}

/** A resource's planned values as both forms must agree on them: the effective tags (tags_all), not where they were set. */
function comparable(change: Change): Json {
  const strip = (values: Json | null | undefined) => Object.fromEntries(Object.entries(values ?? {}).filter(([key]) => key !== "tags"));
  return { actions: change.change.actions, after: strip(change.change.after), after_unknown: strip(change.change.after_unknown) };
}

describeWithTerraform("The module with real Terraform", () => {
  it("GIVEN a root module calling it for two pools with for_each and a provider block WHEN validated and planned offline THEN terraform fmt changes nothing in the module, and both pools plan every resource under their own names and tags", () => {
    const { config, outdir, folder } = writeFor(GUIDE);
    terraformOk(folder, ["fmt", "-check", "-diff", "-no-color"]);
    const pools = ["data-team", `ML_Team_${"x".repeat(60)}`];
    writeRoot(
      outdir,
      config.region,
      [
        `module "prefect_worker" {`,
        `  source   = "./modules/${MODULE_NAME}"`,
        `  for_each = toset(${JSON.stringify(pools)})`,
        "",
        "  work_pool_name  = each.key",
        '  vpc_id          = "vpc-12345678"',
        '  subnet_ids      = ["subnet-12345678"]',
        "  prefect_api_key = var.prefect_api_key",
        '  tags            = { team = each.key }',
        "}",
      ].join("\n"),
    );
    init(outdir);
    // No warning at all: a child module with a backend or a provider block would draw one.
    const validated = terraformOk(outdir, ["validate", "-no-color"]);
    expect(validated.stdout + validated.stderr).not.toMatch(/warning/i);
    const { json, output } = plan(outdir, {});
    expect(output).not.toMatch(/warning/i);
    const changes = json.resource_changes ?? [];
    const stackResources = Object.entries(synthesize(GUIDE).json.resource).flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`));
    const executionRole = NAME_VARIABLES.find(({ variable }) => variable === "execution_role_name") as (typeof NAME_VARIABLES)[number];
    for (const pool of pools) {
      const prefix = `module.prefect_worker["${pool}"].`;
      const mine = changes.filter((c) => c.address.startsWith(prefix) && c.mode === "managed");
      expect(mine.map((c) => c.address.slice(prefix.length)).sort()).toEqual([...stackResources, "terraform_data.work_pool"].sort());
      const role = mine.find((c) => c.address === `${prefix}aws_iam_role.execution_role`)?.change.after;
      expect(role?.name).toBe(moduleDefaultName(config, executionRole, pool));
      expect(role?.tags_all).toEqual({ team: pool, PrefectWorkPool: pool, ManagedBy: "prefect-ecs-worker-cdktf" });
      const work = mine.find((c) => c.address === `${prefix}terraform_data.work_pool`)?.change.after as { input: Json };
      expect(work.input.pool_name).toBe(pool);
    }
    // No account-wide AWS name is planned twice (an inline role policy's name is its role's business).
    const named = changes.flatMap((c) =>
      typeof c.change.after?.name === "string" && c.type !== "aws_iam_role_policy" ? [`${c.type}:${c.change.after.name}`] : [],
    );
    expect(named.length).toBeGreaterThan(20);
    expect(new Set(named).size).toBe(named.length);
  });

  it.each([
    { name: "the guide's defaults", input: GUIDE },
    { name: "the other shapes", input: OTHER_SHAPES },
  ])("GIVEN $name WHEN Terraform evaluates the module's default names for pools that take every path of the shortening THEN they are moduleDefaultName's, name for name", ({ input }) => {
    const { config, outdir, document } = writeFor(input);
    const locals = document.locals as Json;
    // The module's own expressions, evaluated for many pools in one apply that creates nothing.
    const names = join(outdir, "names");
    mkdirSync(names);
    writeFileSync(
      join(names, "main.tf.json"),
      JSON.stringify({
        variable: { work_pool_name: { type: "string" } },
        locals: Object.fromEntries(["pool_slug", "pool_hash", "pool_name_forms", "default_names"].map((key) => [key, locals[key]])),
        output: { default_names: { value: "${local.default_names}" } },
      }),
    );
    const pools = [config.workPoolName, ...TRICKY_POOLS];
    writeFileSync(
      join(outdir, "main.tf.json"),
      JSON.stringify({
        module: { names: { source: "./names", for_each: "${toset(" + JSON.stringify(pools) + ")}", work_pool_name: "${each.key}" } },
        output: { names: { value: "${{for pool, instance in module.names : pool => instance.default_names}}" } },
      }),
    );
    terraformOk(outdir, ["init", "-input=false", "-no-color"]);
    terraformOk(outdir, ["apply", "-input=false", "-no-color", "-auto-approve"]);
    const evaluated = JSON.parse(terraformOk(outdir, ["output", "-json", "names"]).stdout) as Record<string, Record<string, string>>;
    const perPool = NAME_VARIABLES.filter((entry) => poolNameRule(config, entry) !== undefined);
    expect(perPool.length).toBeGreaterThan(10);
    for (const pool of pools) {
      const expected = Object.fromEntries(perPool.map((entry) => [entry.variable, moduleDefaultName(config, entry, pool)]));
      expect({ pool, names: evaluated[pool] }).toEqual({ pool, names: expected });
    }
  });

  describe("GIVEN a role name of 61 characters in the configuration (too long to take -<pool> or a hash for most pools)", () => {
    const LONG_ROLE = "ecsTaskExecutionRole-for-the-data-platform-team-production-xx";
    let written: Written;
    const planWith = (names: Record<string, string>) =>
      terraform(written.outdir, ["plan", "-input=false", "-no-color", `-var=names=${JSON.stringify(names)}`]);
    beforeAll(() => {
      written = writeFor({ ...GUIDE, roles: { executionRoleName: LONG_ROLE } });
      writeRoot(
        written.outdir,
        written.config.region,
        [
          'variable "names" {\n  type = map(string)\n}',
          `module "prefect_worker" {`,
          `  source   = "./modules/${MODULE_NAME}"`,
          '  for_each = toset(["a", "data-team"])',
          "  work_pool_name      = each.key",
          "  execution_role_name = lookup(var.names, each.key, null)",
          '  vpc_id              = "vpc-12345678"',
          '  subnet_ids          = ["subnet-12345678"]',
          `  prefect_api_url     = ${JSON.stringify(CLOUD_API_URL)}`,
          "  prefect_api_key     = var.prefect_api_key",
          "}",
        ].join("\n"),
      );
      init(written.outdir);
    });

    it("WHEN a pool whose derived name would not fit sets none THEN the plan fails naming execution_role_name and why; a short pool still gets a derived name", () => {
      const entry = NAME_VARIABLES.find(({ variable }) => variable === "execution_role_name") as (typeof NAME_VARIABLES)[number];
      expect(poolNameRule(written.config, entry)?.alwaysFits).toBe(false);
      expect(moduleDefaultName(written.config, entry, "data-team")).toBeUndefined();
      expect(moduleDefaultName(written.config, entry, "a")).toBe(`${LONG_ROLE}-a`);
      const result = planWith({});
      expect(result.status).not.toBe(0);
      const output = (result.stdout + result.stderr).replace(/\s*│\s*/g, " ").replace(/\s+/g, " ");
      expect(output).toContain(`execution_role_name must be set for this work pool: ${LONG_ROLE} with -<work_pool_name> (or a 6-character hash) appended is longer than allowed`);
      // One error, for the one instance: the pool "a" plans, and nothing falls back to a null name.
      expect(output.match(/Error: /g)).toHaveLength(1);
    });

    it("WHEN that pool sets its own name THEN both pools plan, the short one with the derived name", () => {
      const { json } = plan(written.outdir, { names: { "data-team": "ecsTaskExecutionRole-data" } });
      const roleName = (pool: string) => json.resource_changes?.find((c) => c.address === `module.prefect_worker["${pool}"].aws_iam_role.execution_role`)?.change.after?.name;
      expect({ a: roleName("a"), "data-team": roleName("data-team") }).toEqual({ a: `${LONG_ROLE}-a`, "data-team": "ecsTaskExecutionRole-data" });
    });
  });

  it("GIVEN the README's usage example as a root module WHEN validated THEN Terraform accepts it", () => {
    const { outdir, folder } = writeFor(OTHER_SHAPES);
    const readme = readFileSync(join(folder, "README.md"), "utf8");
    const example = readme.split("```hcl\n")[1].split("```")[0];
    expect(example).toContain("for_each");
    writeFileSync(join(outdir, "main.tf"), example);
    init(outdir);
    terraformOk(outdir, ["validate", "-no-color"]);
  });

  describe("GIVEN names synthesis rejects, passed to the module (one root module, planned with -var)", () => {
    let written: Written;
    let variables: ReturnType<typeof variablesOf>;
    /** Plans with `names` as the module's name arguments (the others keep their defaults); Terraform's messages on one line. */
    const planFailure = (names: Record<string, string>): string => {
      const result = terraform(written.outdir, ["plan", "-input=false", "-no-color", `-var=names=${JSON.stringify(names)}`]);
      expect(result.status).not.toBe(0);
      return (result.stdout + result.stderr).replace(/\s*│\s*/g, " ").replace(/\s+/g, " ");
    };
    const bad = (variable: string) => (variable === "ecr_repository_name" ? "a".repeat(257) : "");
    const defaultOf = (variable: string) => String(moduleDefaultName(written.config, NAME_VARIABLES.find((entry) => entry.variable === variable) as (typeof NAME_VARIABLES)[number], written.config.workPoolName));
    beforeAll(() => {
      written = writeFor(OTHER_SHAPES);
      variables = variablesOf(written.document);
      const declared = NAME_VARIABLES.filter(({ variable }) => variable in variables);
      writeRoot(
        written.outdir,
        written.config.region,
        [
          'variable "names" {\n  type    = map(string)\n  default = {}\n}',
          'variable "tags" {\n  type    = map(string)\n  default = null\n}',
          `module "prefect_worker" {`,
          `  source = "./modules/${MODULE_NAME}"`,
          // Not nullable: a name left out (null) takes the module's default.
          ...declared.map(({ variable }) => `  ${variable} = lookup(var.names, "${variable}", null)`),
          "  tags = var.tags",
          "  prefect_api_auth_string = var.prefect_api_auth_string",
          "}",
        ].join("\n"),
      );
      init(written.outdir);
    });

    it("WHEN each is empty (the ECR name too long) THEN each variable's validation fails, naming it and what is allowed", () => {
      // A variable compared with another is checked once that one is valid: those get a plan of their own.
      const compared = NAME_VARIABLES.filter(({ variable, distinctFrom }) => variable in variables && distinctFrom?.some((other) => other in variables));
      const rounds = [
        NAME_VARIABLES.filter(({ variable }) => variable in variables && !compared.some((c) => c.variable === variable)),
        ...compared.map((one) => [one]),
      ];
      expect(rounds.flat().length).toBeGreaterThan(15);
      for (const round of rounds) {
        const output = planFailure(Object.fromEntries(round.map(({ variable }) => [variable, bad(variable)])));
        for (const { variable, formats } of round) {
          for (const format of formats(written.config)) {
            if (!matches(format, bad(variable))) expect(output).toContain(`${variable} must be ${describeFormat(format)}`);
          }
        }
      }
    });

    it("WHEN one role name is given to two roles, or the events queue is its own dead-letter queue THEN the validation fails, as synthesis does", () => {
      const first = planFailure({
        worker_task_role_name: defaultOf("execution_role_name"),
        events_dead_letter_queue_name: defaultOf("events_queue_name"),
      });
      expect(first).toContain("worker_task_role_name must differ from execution_role_name.");
      expect(first).toContain("events_dead_letter_queue_name must differ from events_queue_name.");
      expect(planFailure({ flow_run_task_role_name: defaultOf("execution_role_name") })).toContain(
        "flow_run_task_role_name must differ from execution_role_name.",
      );
      expect(planFailure({ flow_run_task_role_name: defaultOf("worker_task_role_name") })).toContain(
        "flow_run_task_role_name must differ from worker_task_role_name.",
      );
      expect(() => resolveConfig({ ...OTHER_SHAPES, roles: { workerTaskRoleName: "ecsTaskExecutionRole" } })).toThrow(/each role needs its own name/);
    });

    it("WHEN the pool name starts with Prefect or holds a space THEN work_pool_name's validation fails, as synthesis does", () => {
      expect(planFailure({ work_pool_name: "Prefect-team" })).toContain('work_pool_name must not start with "prefect" (in any case)');
      expect(planFailure({ work_pool_name: "data team" })).toContain(`work_pool_name must be ${describeFormat("workPoolName")}`);
      for (const name of ["Prefect-team", "data team"]) expect(() => resolveConfig({ workPool: { name } })).toThrow(/workPool\.name/);
    });

    it("WHEN tags hold a key AWS reserves THEN the tags validation fails; with the defaults the same root module plans", () => {
      const reserved = terraform(written.outdir, ["plan", "-input=false", "-no-color", '-var=tags={"aws:reserved" = "x"}']);
      expect(reserved.status).not.toBe(0);
      expect(reserved.stdout + reserved.stderr).toContain("tags must have at most");
      terraformOk(written.outdir, ["plan", "-input=false", "-no-color"]);
    });
  });

  describe.each([
    { name: "the guide's defaults", input: GUIDE, vars: { vpc_id: "vpc-12345678", subnet_ids: ["subnet-12345678", "subnet-87654321"] } },
    { name: "the other shapes", input: OTHER_SHAPES, vars: {} },
  ])("GIVEN $name, the stacks and the module planned for the same configuration", ({ input, vars }) => {
    let stackChanges: Change[];
    let workPoolChanges: Change[];
    let moduleChanges: Change[];
    /** The pool_defaults output: the work-pool stack's (from the AWS outputs in state), the module's (partly unknown at plan). */
    let poolDefaults: { stacks: OutputChange; module: OutputChange };
    beforeAll(() => {
      const { config, outdir: stacksDir } = synthesize(input);
      const credential = config.secret?.environmentName === "PREFECT_API_AUTH_STRING" ? { prefect_api_auth_string: "admin:not-a-real-password" } : { prefect_api_key: "pnu_FAKEfakeFAKEfakeFAKEfakeFAKEfake1234" };
      const awsDir = join(stacksDir, "stacks", awsStackName(config));
      makeOffline(awsDir);
      init(awsDir);
      stackChanges = (plan(awsDir, { ...vars, ...(config.secret?.mode === "create" ? credential : {}) }).json.resource_changes ?? []) as Change[];
      // The AWS outputs as the apply would leave them where the plan knows them already.
      const network = config.network.mode === "explicit" ? config.network : { vpcId: vars.vpc_id, subnetIds: vars.subnet_ids };
      const names = workerNames(config);
      const outputs = exampleAwsOutputs(config.prefect.apiUrl ?? CLOUD_API_URL, {
        vpc_id: network.vpcId,
        subnet_ids: network.subnetIds,
        assign_public_ip: config.network.assignPublicIp,
        ...(names.clusterArn ? { cluster_arn: names.clusterArn } : {}),
        ...(names.flowRunLogGroup ? { flow_run_log_group_name: names.flowRunLogGroup } : {}),
      });
      writeFileSync(join(awsDir, "terraform.tfstate"), awsOutputsState(outputs));
      const workPoolDir = join(stacksDir, "stacks", workPoolStackName(awsStackName(config)));
      init(workPoolDir);
      const workPoolPlan = plan(workPoolDir, {}).json as PlanWithOutputs;
      workPoolChanges = (workPoolPlan.resource_changes ?? []) as Change[];

      const { outdir } = writeFor(input);
      const args = Object.entries(vars).map(([name, value]) => `  ${name} = ${JSON.stringify(value)}`);
      writeRoot(
        outdir,
        config.region,
        [`module "worker" {`, `  source = "./modules/${MODULE_NAME}"`, ...args, `  ${credentialArgument(config)}`, "}", 'output "pool_defaults" {\n  value = module.worker.pool_defaults\n}'].join("\n"),
      );
      init(outdir);
      const modulePlan = plan(outdir, {}).json as PlanWithOutputs;
      moduleChanges = (modulePlan.resource_changes ?? []) as Change[];
      poolDefaults = { stacks: workPoolPlan.output_changes.pool_defaults, module: modulePlan.output_changes.pool_defaults };
    });

    it("WHEN compared THEN the module plans every AWS resource of the AWS stack at the same address under module.worker with the same values and effective tags", () => {
      const inModule = new Map(moduleChanges.map((c) => [c.address, c]));
      expect(stackChanges.length).toBeGreaterThan(20);
      for (const change of stackChanges) {
        const counterpart = inModule.get(`module.worker.${change.address}`);
        expect({ address: change.address, found: counterpart !== undefined }).toEqual({ address: change.address, found: true });
        expect({ address: change.address, ...comparable(counterpart as Change) }).toEqual({ address: change.address, ...comparable(change) });
      }
    });

    it("THEN the module's only other resources are the work-pool stack's, at the same addresses, sending the same pool's name to the same API", () => {
      const fromStacks = new Set([...stackChanges, ...workPoolChanges].map((c) => `module.worker.${c.address}`));
      const extra = moduleChanges.filter((c) => !fromStacks.has(c.address)).map((c) => c.address);
      expect(extra).toEqual([]);
      for (const change of workPoolChanges) {
        const counterpart = moduleChanges.find((c) => c.address === `module.worker.${change.address}`) as Change;
        const identity = (c: Change) => {
          const { pool_name, pool_name_encoded, auth, csrf, api_url } = (c.change.after as { input: Json }).input;
          return { pool_name, pool_name_encoded, auth, csrf, api_url };
        };
        expect(identity(counterpart)).toEqual(identity(change));
      }
      expect(workPoolChanges.map((c) => c.address)).toContain("terraform_data.work_pool");
    });

    it("THEN the work pool's defaults are the same job variables, and each value the module's plan knows is the stacks' value", () => {
      const { stacks, module } = poolDefaults;
      expect(stacks.after_unknown).toBe(false);
      const leaves = knownLeaves(module.after, module.after_unknown);
      expect(Object.keys(leaves).length).toBeGreaterThan(3);
      expect(shapeOf(module.after, module.after_unknown)).toEqual(shapeOf(stacks.after, false));
      for (const [path, value] of Object.entries(leaves)) expect({ path, value }).toEqual({ path, value: valueAt(stacks.after, path) });
    });
  });
});
