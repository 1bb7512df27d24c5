/**
 * The HCL hand-off: `npm run synth:hcl` and `cdktf synth --hcl` write the same
 * cdk.tf for every stack, formatted as `terraform fmt` formats it, and it
 * means exactly what cdk.tf.json means: real Terraform with the real AWS
 * provider validates both, and offline plans of both have the same addresses,
 * configuration and planned values. Also: no absolute path of this machine in
 * the output, and the same bytes on every run.
 */
import { parse } from "@cdktf/hcl2json";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir, tmpdir, userInfo } from "node:os";
import { join, relative } from "node:path";
import { tokenize } from "../src/hcl/format";
import { resolveConfig } from "../src/config/resolve";
import { PrefectEcsWorkerConfigInput } from "../src/config/schema";
import { awsStackName, REQUIRED_TERRAFORM_VERSION } from "../src/stacks/worker-aws-stack";
import { workPoolStackName } from "../src/work-pool/work-pool-stack";
import { awsOutputsState, exampleAwsOutputs } from "./support/aws-state";
import { CLOUD_API_URL, synthesize, synthesizeHcl } from "./support/synth";
import { describeWithTerraform, init, makeOffline, terraform, terraformOk, varArgs } from "./support/terraform";

const REPO = join(__dirname, "..");

interface HclCase {
  readonly name: string;
  readonly config: PrefectEcsWorkerConfigInput;
  /** Variables of the AWS stack's offline plan. */
  readonly awsVars: Record<string, unknown>;
}

const COMPLEX_CONFIG: PrefectEcsWorkerConfigInput = {
  workPool: {
    name: "data-team",
    // Quotes, a backslash, a line break and template-looking text: what cdktf's own HCL renderer gets wrong.
    description: 'The "data" team\'s pool\nC:\\flows {{ not_a_placeholder }} [x] {y}',
    concurrencyLimit: 0,
    deleteOnDestroy: true,
    // The guide's "Customize the base job template".
    extraVariables: {
      task_definition: { type: "object", title: "Task Definition", description: "Custom ECS task definition overrides", default: {} },
    },
    jobConfiguration: { task_definition: "{{ task_definition }}" },
  },
  prefect: { server: "self-hosted", apiUrl: "https://prefect.internal.example.com/api", auth: "basic-auth" },
  secret: { store: "ssm", kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" },
  aws: { region: "eu-west-1" },
  cluster: { existing: "arn:aws:ecs:eu-west-1:123456789012:cluster/shared" },
  network: {
    vpcId: "vpc-0a1b2c3d4e5f60718",
    subnetIds: ["subnet-0a1b2c3d4e5f60718", "subnet-1a1b2c3d4e5f60718"],
    securityGroupIds: ["sg-0a1b2c3d4e5f60718"],
    assignPublicIp: false,
  },
  worker: {
    imageTag: "0.7.11-python3.12",
    workQueues: ["default", "urgent\\eu"],
    environment: { GREETING: 'say "hi" from C:\\dir', PORT: "8080", LIST: "[1, 2]", OBJECT: '{"a": 1}', FLAG: "false", LINES: "one\ntwo" },
  },
  flowRunTaskRole: {
    s3Buckets: ["prefect-demo-bucket"],
    statements: [{ actions: ["dynamodb:GetItem"], resources: ["arn:aws:dynamodb:eu-west-1:123456789012:table/runs"] }],
  },
};

const CASES: HclCase[] = [
  {
    name: "the guide's defaults",
    config: { prefect: { apiUrl: CLOUD_API_URL } },
    awsVars: {
      vpc_id: "vpc-12345678",
      subnet_ids: ["subnet-12345678", "subnet-87654321"],
      prefect_api_key: "pnu_FAKEfakeFAKEfakeFAKEfakeFAKEfake1234",
    },
  },
  {
    name: "self-hosted basic auth + SSM + KMS key + existing cluster + explicit network + deleteOnDestroy + template customization",
    config: COMPLEX_CONFIG,
    awsVars: { prefect_api_auth_string: "admin:not-a-real-password" },
  },
];

/** In-process `cdktf synth --hcl` (what the CLI asks of main.ts), without the formatting step. */
function synthesizeHclInProcess(config: PrefectEcsWorkerConfigInput): string {
  return synthesizeHcl(resolveConfig(config));
}

/**
 * A documented command, as a user runs it, into a new folder or over `outdir`: `npm run synth:hcl`,
 * or cdktf's own CLI (`cdktf synth --hcl`, which runs the app and then formats each cdk.tf itself).
 */
function synthHcl(config: PrefectEcsWorkerConfigInput, outdir?: string, command: "npm" | "cdktf" = "npm"): string {
  const work = mkdtempSync(join(tmpdir(), "prefect-ecs-hcl-cli-"));
  const configFile = join(work, "prefect-ecs-worker.json");
  writeFileSync(configFile, JSON.stringify(config));
  outdir ??= join(work, "out");
  const result =
    command === "npm"
      ? spawnSync("npm", ["run", "-s", "synth:hcl", "--", "--config", configFile, "--out", outdir], { cwd: REPO, encoding: "utf8", env: process.env })
      : spawnSync("npx", ["cdktf", "synth", "--hcl", "--output", outdir], {
          cwd: REPO,
          encoding: "utf8",
          // CHECKPOINT_DISABLE: cdktf-cli sends no telemetry (and waits for no network).
          env: { ...process.env, PREFECT_ECS_WORKER_CONFIG: configFile, CHECKPOINT_DISABLE: "1" },
        });
  if (result.status !== 0) throw new Error(`${command} synth --hcl failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return outdir;
}

/** Each string of `hcl` that is one interpolation and nothing else (`"${var.x}"`): terraform fmt and readers want `var.x`. */
function bareInterpolations(hcl: string): string[] {
  const tokens = tokenize(hcl);
  const found: string[] = [];
  tokens.forEach((token, i) => {
    if (token.type !== "oquote" || tokens[i + 1]?.type !== "interp") return;
    let depth = 0;
    for (let j = i + 1; j < tokens.length; j += 1) {
      depth += tokens[j].type === "interp" || tokens[j].type === "control" ? 1 : tokens[j].type === "seqend" ? -1 : 0;
      if (depth === 0) {
        if (tokens[j + 1]?.type === "cquote") found.push(tokens.slice(i, j + 2).map((t) => t.text).join(" "));
        return;
      }
    }
  });
  return found;
}

function stackNames(config: PrefectEcsWorkerConfigInput): { aws: string; workPool: string } {
  const aws = awsStackName(resolveConfig(config));
  return { aws, workPool: workPoolStackName(aws) };
}

function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

function hclOf(outdir: string, stack: string): string {
  return readFileSync(join(outdir, "stacks", stack, "cdk.tf"), "utf8");
}

/** Paths of this machine and run that must not leak into the hand-off. */
function machinePaths(outdir: string): string[] {
  // Paths under the temporary folder leak; "/tmp" itself is the worker container's scratch mount.
  return [outdir, REPO, `${tmpdir()}/`, homedir(), `/${userInfo().username}/`];
}

// ---------------------------------------------------------------- without Terraform

type Json = Record<string, unknown>;

/** cdk.tf read back by HCL's own parser (@cdktf/hcl2json): blocks become lists, expressions `${...}` strings. */
async function parseHcl(hcl: string): Promise<Json> {
  return (await parse("cdk.tf", hcl)) as Json;
}

function jsonOf(outdir: string, stack: string): Json {
  return JSON.parse(readFileSync(join(outdir, "stacks", stack, "cdk.tf.json"), "utf8")) as Json;
}

/** Each named block of a parsed HCL section (`variable "x" {...}` → x: [{...}]) as its single body. */
function singleBlocks(section: unknown): Record<string, Json> {
  return Object.fromEntries(
    Object.entries((section ?? {}) as Record<string, Json[]>).map(([name, blocks]) => {
      expect({ name, count: blocks.length }).toEqual({ name, count: 1 });
      return [name, blocks[0]];
    }),
  );
}

/** The parsed terraform block in the JSON output's shape (blocks as objects). */
function terraformBlockOf(parsed: Json): Json {
  const [block] = parsed.terraform as Json[];
  const single = (blocks: unknown) => (blocks as Json[])[0];
  const settings = (body: Json) => (body.workspaces ? { ...body, workspaces: single(body.workspaces) } : body);
  return {
    ...block,
    ...(block.required_providers ? { required_providers: single(block.required_providers) } : {}),
    ...(block.backend ? { backend: Object.fromEntries(Object.entries(singleBlocks(block.backend)).map(([type, body]) => [type, settings(body)])) } : {}),
    ...(block.cloud ? { cloud: settings(single(block.cloud)) } : {}),
  };
}

function withoutMetadata(body: Json): Json {
  return Object.fromEntries(Object.entries(body).filter(([key]) => key !== "//"));
}

describe.each(CASES)("HCL synthesis, GIVEN $name", ({ config }) => {
  const names = stackNames(config);
  let outdir: string;
  let hcl: { aws: string; workPool: string };
  let parsed: { aws: Json; workPool: Json };
  let json: { aws: Json; workPool: Json };
  beforeAll(async () => {
    outdir = synthesizeHclInProcess(config);
    hcl = { aws: hclOf(outdir, names.aws), workPool: hclOf(outdir, names.workPool) };
    parsed = { aws: await parseHcl(hcl.aws), workPool: await parseHcl(hcl.workPool) };
    const jsonOut = synthesize(config).outdir;
    json = { aws: jsonOf(jsonOut, names.aws), workPool: jsonOf(jsonOut, names.workPool) };
  });
  const both = () => [
    { stack: "aws", hcl: hcl.aws, parsed: parsed.aws, json: json.aws },
    { stack: "work-pool", hcl: hcl.workPool, parsed: parsed.workPool, json: json.workPool },
  ];

  it("WHEN synthesized with --hcl THEN each stack folder holds cdk.tf", () => {
    for (const stack of [names.aws, names.workPool]) {
      expect(readdirSync(join(outdir, "stacks", stack)).filter((f) => f.startsWith("cdk."))).toEqual(["cdk.tf"]);
    }
  });

  it("THEN the terraform block is the JSON output's: Terraform >= 1.11, the provider, the backend (cdktf alone writes `0 = \"required_version\"`)", () => {
    for (const { hcl: text, parsed: tree, json: tf } of both()) {
      expect(terraformBlockOf(tree)).toEqual(tf.terraform);
      expect(terraformBlockOf(tree).required_version).toBe(REQUIRED_TERRAFORM_VERSION);
      expect(text).not.toMatch(/^\s*\d+ = /m);
    }
  });

  it("THEN the locals hold exactly the JSON output's values (quotes, backslashes, line breaks, numeric-looking strings, nulls)", () => {
    for (const { parsed: tree, json: tf } of both()) {
      expect(Object.assign({}, ...((tree.locals as Json[]) ?? []))).toEqual(tf.locals);
    }
  });

  it("THEN the variables are the JSON output's: defaults (false, null), nullable, sensitive, ephemeral, validation", () => {
    const typeName = (type: unknown) => String(type).replace(/^\$\{(.*)\}$/, "$1");
    const variables = Object.entries(singleBlocks(parsed.aws.variable)).map(([name, body]) => [name, { ...body, type: typeName(body.type) }]);
    expect(Object.fromEntries(variables)).toEqual(json.aws.variable);
  });

  it("THEN the outputs are the JSON output's, prefect_yaml an exact heredoc", () => {
    for (const { parsed: tree, json: tf } of both()) expect(singleBlocks(tree.output)).toEqual(tf.output);
    expect(hcl.aws).toMatch(/^ {2}value += <<EOT\nname: ecs-worker-guide\n[\s\S]*\n {2}schedules: \[\]\nEOT$/m);
  });

  it("THEN depends_on names resources, unquoted", () => {
    for (const { hcl: text, parsed: tree, json: tf } of both()) {
      const dependsOn = (resources: unknown, unwrap: (address: string) => string) =>
        Object.entries((resources ?? {}) as Record<string, Record<string, unknown>>).flatMap(([type, byName]) =>
          Object.entries(byName).map(([name, body]) => {
            const single = (Array.isArray(body) ? body[0] : body) as { depends_on?: string[] };
            return [`${type}.${name}`, (single.depends_on ?? []).map(unwrap)];
          }),
        );
      expect(dependsOn(tree.resource, (address) => address.replace(/^\$\{(.*)\}$/, "$1"))).toEqual(dependsOn(tf.resource, (a) => a));
      expect(text).not.toMatch(/depends_on = \[\s*"/);
    }
    expect(hcl.aws).toMatch(/^ {2}depends_on = \[aws_iam_role_policy\.execution_role_policy, aws_iam_role_policy\.execution_role_secret_policy\]$/m);
  });

  it("THEN the work-pool resources (input, triggers, provisioner commands and environment) are the JSON output's", () => {
    const hclData = singleBlocks((parsed.workPool.resource as Json).terraform_data);
    const jsonData = (json.workPool.resource as Record<string, Record<string, Json>>).terraform_data;
    const normalized = Object.entries(hclData).map(([name, body]) => {
      const provisioners = Object.entries(body.provisioner as Record<string, Json[]>).flatMap(([type, blocks]) =>
        blocks.map((block) => ({ [type]: block.when ? { ...block, when: String(block.when).replace(/^\$\{(.*)\}$/, "$1") } : block })),
      );
      const dependsOn = body.depends_on ? { depends_on: (body.depends_on as string[]).map((a) => a.replace(/^\$\{(.*)\}$/, "$1")) } : {};
      return [name, { ...body, ...dependsOn, provisioner: provisioners }];
    });
    expect(Object.fromEntries(normalized)).toEqual(Object.fromEntries(Object.entries(jsonData).map(([name, body]) => [name, withoutMetadata(body)])));
  });

  it("THEN every policy is a policy-document data block, referenced by .json, never escaped JSON", () => {
    const documents = [...hcl.aws.matchAll(/^data "aws_iam_policy_document" "(\w+)"/gm)].map((m) => m[1]);
    expect(documents.length).toBeGreaterThanOrEqual(4);
    const policies = [...hcl.aws.matchAll(/^ +(?:policy|assume_role_policy) += (.*)$/gm)].map((m) => m[1]);
    expect(policies.length).toBeGreaterThanOrEqual(5);
    for (const policy of policies) expect(policy).toMatch(/^data\.aws_(iam|ecr_lifecycle)_policy_document\.\w+\.json$/);
    expect(hcl.aws).not.toMatch(/\\"(Version|Statement|rules)\\"/);
    expect(hcl.aws).toMatch(/^data "aws_ecr_lifecycle_policy_document" "flow_images"/m);
  });

  it("THEN no value is a string holding one interpolation and nothing else (`var.x`, not `\"${var.x}\"`), in lists and objects neither", () => {
    for (const { hcl: text } of both()) expect(bareInterpolations(text)).toEqual([]);
    // The check finds them where they are.
    expect(bareInterpolations('x = ["${var.a}", "${var.b}-c"]\n')).toEqual(['" ${ var . a } "']);
  });

  it("WHEN synthesized twice THEN the bytes are the same and hold no path of this machine", () => {
    const again = synthesizeHclInProcess(config);
    expect(filesBelow(again)).toEqual(filesBelow(outdir));
    for (const file of filesBelow(outdir)) {
      const text = readFileSync(join(outdir, file), "utf8");
      expect(readFileSync(join(again, file), "utf8")).toBe(text);
      for (const path of [...machinePaths(outdir), again]) expect(text).not.toContain(path);
    }
  });
});

describe.each([
  ["S3", { type: "s3", bucket: "prefect-state-bucket", kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" }],
  ["HCP Terraform", { type: "cloud", organization: "acme", project: "prefect", workspacePrefix: "prod-" }],
] as const)("GIVEN the %s backend WHEN synthesized with --hcl", (_name, backend) => {
  test("THEN both stacks' terraform blocks and the remote state the work-pool stack reads are the JSON output's", async () => {
    const config: PrefectEcsWorkerConfigInput = { prefect: { apiUrl: CLOUD_API_URL }, backend };
    const names = stackNames(config);
    const hclOut = synthesizeHclInProcess(config);
    const jsonOut = synthesize(config).outdir;
    for (const stack of [names.aws, names.workPool]) {
      const parsed = await parseHcl(hclOf(hclOut, stack));
      const json = jsonOf(jsonOut, stack);
      expect(terraformBlockOf(parsed)).toEqual(json.terraform);
      if (stack === names.workPool) {
        const remoteState = singleBlocks((parsed.data as Json).terraform_remote_state);
        const jsonRemoteState = (json.data as Record<string, Record<string, Json>>).terraform_remote_state;
        expect(remoteState).toEqual(Object.fromEntries(Object.entries(jsonRemoteState).map(([name, body]) => [name, withoutMetadata(body)])));
      }
    }
  });
});

test("GIVEN deleteOnDestroy WHEN synthesized with --hcl THEN the destroy-time provisioner says `when = destroy`, unquoted", () => {
  const outdir = synthesizeHclInProcess(COMPLEX_CONFIG);
  const hcl = hclOf(outdir, stackNames(COMPLEX_CONFIG).workPool);
  const deletion = /^resource "terraform_data" "work_pool_deletion" \{\n[\s\S]*?\n\}$/m.exec(hcl)?.[0] ?? "";
  expect(/^ {2}provisioner "local-exec" \{\n[\s\S]*?^ {4}when += destroy$/m.test(deletion)).toBe(true);
  expect(hcl).not.toContain('"destroy"');
});

// ---------------------------------------------------------------- with Terraform

/** The AWS stack's outputs, as its apply would leave them in state, for planning the work-pool stack. */
function awsStateFile(config: PrefectEcsWorkerConfigInput): string {
  const resolved = resolveConfig(config);
  const outputs = exampleAwsOutputs(resolved.prefect.apiUrl ?? CLOUD_API_URL, {
    cluster_arn: "arn:aws:ecs:eu-west-1:123456789012:cluster/shared",
    secret_arn: "arn:aws:ssm:eu-west-1:123456789012:parameter/prefect/data-team/api/auth-string",
    flow_run_log_group_name: "/ecs/prefect-flow-runs/data-team",
  });
  return awsOutputsState(outputs);
}

interface ShownPlan {
  readonly variables?: Record<string, unknown>;
  readonly planned_values?: unknown;
  readonly resource_changes?: { address: string; change: unknown }[];
  readonly prior_state?: unknown;
  readonly configuration?: { root_module?: { resources?: { address: string }[]; variables?: object; outputs?: object } };
}

/** What an offline plan says the stack is, without what differs between any two runs (timestamps, versions). */
function plannedFacts(dir: string, vars: Record<string, unknown>): ShownPlan {
  terraformOk(dir, ["plan", "-input=false", "-no-color", "-out=plan.bin", ...varArgs(vars)]);
  const shown = JSON.parse(terraformOk(dir, ["show", "-json", "-no-color", "plan.bin"]).stdout) as ShownPlan;
  return {
    variables: shown.variables,
    planned_values: shown.planned_values,
    resource_changes: shown.resource_changes,
    prior_state: shown.prior_state,
    configuration: withoutSyntaxDetails(shown.configuration) as ShownPlan["configuration"],
  };
}

/**
 * The configuration section describes expressions by syntax: for JSON it gives
 * a template's source text as `constant_value` (`"${var.x}"`, `"${element(...)}"`),
 * for HCL nothing; references come in source order (JSON object keys are
 * sorted, HCL's are not). What they evaluate to is compared in planned values.
 */
function withoutSyntaxDetails(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutSyntaxDetails);
  if (node === null || typeof node !== "object") return node;
  const entries = Object.entries(node as Record<string, unknown>)
    .filter(([key, value]) => !(key === "constant_value" && JSON.stringify(value).includes("${")))
    .map(([key, value]) => [key, key === "references" ? [...new Set(value as string[])].sort() : withoutSyntaxDetails(value)]);
  return Object.fromEntries(entries);
}

function addressesOf(plan: ShownPlan): { resources: string[]; variables: string[]; outputs: string[] } {
  const root = plan.configuration?.root_module ?? {};
  return {
    resources: (root.resources ?? []).map((r) => r.address).sort(),
    variables: Object.keys(root.variables ?? {}).sort(),
    outputs: Object.keys(root.outputs ?? {}).sort(),
  };
}

/** The values of a data source read during the plan. */
function dataSourceValues(plan: ShownPlan, address: string): Json {
  const resources = (plan.prior_state as { values?: { root_module?: { resources?: { address: string; values: Json }[] } } })
    ?.values?.root_module?.resources;
  const found = (resources ?? []).find((resource) => resource.address === address);
  if (!found) throw new Error(`${address} was not read during the plan`);
  return found.values;
}

describeWithTerraform("HCL hand-off gate: npm run synth:hcl against cdk.tf.json", () => {
  describe.each(CASES)("GIVEN $name", ({ config, awsVars }) => {
    const names = stackNames(config);
    let hclOut: string;
    let jsonOut: string;
    const dirs = () => ({
      hcl: { aws: join(hclOut, "stacks", names.aws), workPool: join(hclOut, "stacks", names.workPool) },
      json: { aws: join(jsonOut, "stacks", names.aws), workPool: join(jsonOut, "stacks", names.workPool) },
    });

    beforeAll(() => {
      hclOut = synthHcl(config);
      jsonOut = synthesize(config).outdir;
    });

    it("WHEN the documented command has run THEN every stack has a cdk.tf that terraform fmt -check accepts", () => {
      for (const dir of Object.values(dirs().hcl)) expect(readdirSync(dir).filter((f) => f.startsWith("cdk."))).toEqual(["cdk.tf"]);
      const check = terraform(join(hclOut, "stacks"), ["fmt", "-check", "-recursive", "-no-color"]);
      expect({ status: check.status, unformatted: check.stdout }).toEqual({ status: 0, unformatted: "" });
    });

    it("WHEN cdktf's own CLI (cdktf synth --hcl, which formats each file) runs over a folder synthesized as JSON THEN it writes the same bytes as npm run synth:hcl, no path of this machine, and no cdk.tf.json", () => {
      const again = synthHcl(config, synthesize(config).outdir, "cdktf");
      const files = filesBelow(hclOut).filter((f) => !/terraform\.tfstate|\.terraform|plan\.bin|_override\.tf/.test(f));
      expect(filesBelow(again)).toEqual(files);
      for (const file of files) {
        const text = readFileSync(join(hclOut, file), "utf8");
        expect({ file, same: readFileSync(join(again, file), "utf8") === text }).toEqual({ file, same: true });
        for (const path of [...machinePaths(hclOut), again]) expect({ file, leaks: text.includes(path) ? path : "" }).toEqual({ file, leaks: "" });
      }
    });

    it("WHEN validated THEN Terraform and the AWS provider accept the JSON and the HCL of both stacks, without warnings", () => {
      for (const form of [dirs().json, dirs().hcl]) {
        for (const dir of [form.aws, form.workPool]) {
          init(dir);
          const report = JSON.parse(terraformOk(dir, ["validate", "-no-color", "-json"]).stdout) as object;
          expect({ dir: relative(tmpdir(), dir), report }).toMatchObject({ report: { valid: true, warning_count: 0, error_count: 0 } });
        }
      }
    });

    it("WHEN the AWS stack is planned offline in both forms THEN addresses, configuration and planned values are the same", () => {
      const facts = [dirs().json.aws, dirs().hcl.aws].map((dir) => {
        init(dir);
        makeOffline(dir);
        return plannedFacts(dir, awsVars);
      });
      expect(addressesOf(facts[1])).toEqual(addressesOf(facts[0]));
      expect(addressesOf(facts[0]).resources).toEqual(expect.arrayContaining(["aws_ecs_service.worker", "data.aws_iam_policy_document.worker_task_policy"]));
      expect(facts[1]).toEqual(facts[0]);
      // The lifecycle rules, now from a policy-document data source, are those the JSON string used to hold.
      expect(JSON.parse(dataSourceValues(facts[1], "data.aws_ecr_lifecycle_policy_document.flow_images").json as string)).toEqual({
        rules: [
          {
            rulePriority: 1,
            description: "Expire untagged images after 7 days",
            selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
            action: { type: "expire" },
          },
          {
            rulePriority: 2,
            description: "Keep the 30 most recent images",
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 30 },
            action: { type: "expire" },
          },
        ],
      });
      // The credential variable is ephemeral in both: its value is in neither plan.
      expect(Object.keys(facts[1].variables ?? {})).not.toEqual(expect.arrayContaining([expect.stringMatching(/^prefect_api_(key|auth_string)$/)]));
    });

    it("WHEN the work-pool stack is planned in both forms THEN addresses, provisioners and the body hash are the same", () => {
      const facts = [dirs().json, dirs().hcl].map(({ aws, workPool: dir }) => {
        // The work-pool stack reads the AWS stack's outputs from the sibling folder's state.
        writeFileSync(join(aws, "terraform.tfstate"), awsStateFile(config));
        init(dir);
        return plannedFacts(dir, {});
      });
      expect(addressesOf(facts[1])).toEqual(addressesOf(facts[0]));
      expect(facts[1]).toEqual(facts[0]);
    });
  });
});
