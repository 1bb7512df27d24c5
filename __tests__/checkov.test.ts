/**
 * Checkov itself on our output. Several configurations are synthesized as HCL (`cdktf synth
 * --hcl`, what `npm run synth:hcl` hands over) and planned offline by real Terraform
 * (`terraform show -json`); one Checkov run scans them all, with the `terraform` and
 * `terraform_plan` frameworks. Every failed check must be a skip of checkov-skips.json on one of
 * the resources it names, every skip must still be needed, and help/security.md's table of
 * exceptions is rendered from that file.
 *
 * The reusable module (npm run synth:module) is scanned in the same run: each of our configurations'
 * module folder as HCL, and one plan of a root module that calls them all (a configuration of two
 * pools through for_each). A skip names an address inside a stack or the module, which are the same
 * (module.test.ts), so one entry covers `aws_x.y` in a stack and `module.<call>["<pool>"].aws_x.y`;
 * and the module must fail exactly the checks its stack fails.
 *
 * Why both forms: on HCL Checkov evaluates variables' defaults and policy documents but sees the
 * worker container only as `jsonencode(...)`; the plan has the values Terraform computes,
 * including the container definitions once they are known at plan time (an existing secret).
 * Checkov 3.3.30 cannot read cdk.tf.json at all (the terraform_json test below), which is why the
 * JSON form is not scanned.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { resolveConfigs } from "../src/config/pools";
import { ResolvedConfig } from "../src/config/resolve";
import {
  CHECKOV_SKIPS_FILE,
  CheckovSkip,
  parseCheckovSkips,
  readCheckovSkips,
  SECURITY_DOC_FILE,
  withCheckovSkips,
} from "../src/docs/checkov-skips";
import { workerNames } from "../src/constructs/prefect-ecs-worker";
import { MODULE_NAME } from "../src/module/worker-module";
import { writeModule } from "../src/module/write-module";
import { awsStackName } from "../src/stacks/worker-aws-stack";
import { NAME_VARIABLES } from "../src/stacks/worker-variables";
import { synthesizeApps } from "../src/synthesize";
import { CheckovRun, CheckovResult, reportOf, runCheckov } from "./support/checkov";
import { expectCommittedFile } from "./support/files";
import { describeWithPeers } from "./support/peers";
import { CLOUD_API_URL, resourceOf, synthesizeHcl, TerraformJson } from "./support/synth";
import { DEFAULT_VPC_VARS, describeWithTerraform, FAKE_PREFECT_API_KEY, init, offlinePlanJson } from "./support/terraform";

const KMS_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const PRIVATE_NETWORK = { vpcId: "vpc-0a1b2c3d4e5f60718", subnetIds: ["subnet-0a1b2c3d4e5f60718", "subnet-1a1b2c3d4e5f60718"] };
const SELF_HOSTED = { server: "self-hosted", apiUrl: "https://prefect.internal.example.com/api", auth: "basic-auth" };
/** Every switch of the skip list that makes a check pass. */
const HARDENING = {
  network: { ...PRIVATE_NETWORK, assignPublicIp: false },
  ecr: { imageTagMutability: "IMMUTABLE" },
  logs: { retentionInDays: 365 },
  flowRunLogs: { retentionInDays: 3653 },
};

interface ScanCase {
  /** Folder name in the scanned tree. */
  readonly name: string;
  readonly title: string;
  /** A configuration file's content: one pool, or several under `pools`. */
  readonly config: Record<string, unknown>;
  /** Variables of each AWS stack's offline plan. */
  readonly vars: Record<string, unknown>;
  /** Every switch on: no skip that names a switch may fail. */
  readonly hardened?: boolean;
}

const CASES: readonly ScanCase[] = [
  {
    name: "defaults",
    title: "the guide's defaults (Prefect Cloud, Secrets Manager, new cluster, default VPC)",
    config: {},
    vars: { ...DEFAULT_VPC_VARS, prefect_api_url: CLOUD_API_URL, prefect_api_key: FAKE_PREFECT_API_KEY },
  },
  {
    name: "cloud-cmk",
    title: "Prefect Cloud with a customer KMS key and every hardening switch",
    config: { ...HARDENING, prefect: { apiUrl: CLOUD_API_URL }, secret: { kmsKeyArn: KMS_KEY_ARN }, cluster: { containerInsights: "enhanced" } },
    vars: { prefect_api_key: FAKE_PREFECT_API_KEY },
    hardened: true,
  },
  {
    name: "self-hosted-ssm",
    title: "self-hosted with basic auth in an SSM parameter, port 4200 open",
    config: { prefect: SELF_HOSTED, secret: { store: "ssm" }, network: { ...PRIVATE_NETWORK, egressPorts: [443, 4200] } },
    vars: { prefect_api_auth_string: "admin:not-a-real-password" },
  },
  {
    name: "self-hosted-ssm-cmk",
    title: "self-hosted with basic auth in an SSM parameter with a customer KMS key, flow-run S3 buckets and every hardening switch",
    config: {
      ...HARDENING,
      prefect: SELF_HOSTED,
      secret: { store: "ssm", kmsKeyArn: KMS_KEY_ARN },
      flowRunTaskRole: { s3Buckets: ["prefect-demo-bucket", "second-bucket"] },
    },
    vars: { prefect_api_auth_string: "admin:not-a-real-password" },
    hardened: true,
  },
  {
    name: "existing-cluster",
    title: "an existing cluster and an existing secret (the container definitions are known at plan time)",
    config: {
      prefect: { apiUrl: CLOUD_API_URL },
      cluster: { existing: "arn:aws:ecs:us-east-1:123456789012:cluster/shared" },
      secret: { existing: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prefect/api-key-AbCdEf" },
      network: PRIVATE_NETWORK,
    },
    vars: {},
  },
  {
    name: "several-pools",
    title: "two work pools, each with its own cluster",
    config: {
      prefect: { apiUrl: CLOUD_API_URL },
      pools: [{ workPool: { name: "dev" } }, { workPool: { name: "prod" }, worker: { desiredCount: 2 }, cluster: { name: "prod" } }],
    },
    vars: { ...DEFAULT_VPC_VARS, prefect_api_key: FAKE_PREFECT_API_KEY },
  },
];

/** Not one of ours: the guide's policies as printed, scanned to show why they are not the default. */
const GUIDE_CASE: ScanCase = {
  name: "guide-policies",
  title: 'iam.policies "guide"',
  config: { prefect: { apiUrl: CLOUD_API_URL }, iam: { policies: "guide" } },
  vars: { ...DEFAULT_VPC_VARS, prefect_api_key: FAKE_PREFECT_API_KEY },
};

const ALL_CASES = [...CASES, GUIDE_CASE];

// ---------------------------------------------------------------- the scanned tree

/** Plans running side by side: Terraform and the AWS provider spend much of a plan starting up. */
const PARALLEL_PLANS = 2;

/**
 * Into `root`: hcl/<case>/stacks/<stack>/cdk.tf, plan/<case>/<stack>.json and
 * json/defaults/stacks/<stack>/cdk.tf.json; for each of our configurations the reusable module
 * (module/<case>/modules/prefect-ecs-worker/*.tf, scanned as HCL on its own) and one plan of a root
 * module calling every case's module (plan/modules.json; several pools through for_each). The plans
 * run in `work`/terraform/<case>, outside the scan.
 */
async function buildScanTree(root: string, work: string): Promise<void> {
  const plans: (() => Promise<void>)[] = [];
  for (const scanCase of ALL_CASES) {
    const configs = resolveConfigs(scanCase.config);
    synthesizeHcl(configs, folder(root, "hcl", scanCase.name));
    const jsonOut = folder(work, "terraform", scanCase.name);
    synthesizeApps(configs, jsonOut);
    const planFolder = folder(root, "plan", scanCase.name);
    for (const stack of awsStacks(configs)) {
      init(join(jsonOut, "stacks", stack));
      plans.push(async () => writeFileSync(join(planFolder, `${stack}.json`), await offlinePlanJson(join(jsonOut, "stacks", stack), scanCase.vars)));
    }
  }
  const modulesRoot = folder(work, "terraform", "modules-root");
  writeFileSync(join(modulesRoot, "main.tf.json"), JSON.stringify(modulesRootModule(root, modulesRoot), null, 2));
  init(modulesRoot);
  // The longest plan first, so that the two queues end together.
  plans.unshift(async () => writeFileSync(join(root, "plan", MODULES_PLAN), await offlinePlanJson(modulesRoot, {})));
  synthesizeApps(resolveConfigs({}), folder(root, "json", "defaults"));
  await Promise.all(
    Array.from({ length: PARALLEL_PLANS }, async () => {
      for (let next = plans.shift(); next; next = plans.shift()) await next();
    }),
  );
}

/** The plan of the root module that calls every case's module, in plan/. */
const MODULES_PLAN = "modules.json";

/**
 * Writes each case's module (of its first pool) into the scanned tree and returns, as Terraform JSON, a
 * root module with one `module "<case>"` call per case: the case's plan variables as arguments, and for a
 * case of several pools `for_each` over the pools, each pool's names (and worker count) from its configuration.
 */
function modulesRootModule(root: string, rootDir: string): Record<string, unknown> {
  const calls = CASES.map((scanCase) => {
    const configs = resolveConfigs(scanCase.config);
    const { folder: moduleFolder, document } = writeModule(configs[0], folder(root, "module", scanCase.name));
    const declared = document.variable as Record<string, unknown>;
    const args = Object.fromEntries(Object.entries(scanCase.vars).filter(([name]) => name in declared));
    // ../../scanned/module/<case>/modules/prefect-ecs-worker: a local path, as Terraform requires.
    const source = relative(rootDir, moduleFolder);
    if (configs.length === 1) return { name: scanCase.name, region: configs[0].region, call: { source, ...args } };
    const perPool = (config: ResolvedConfig): Record<string, unknown> => {
      const names = workerNames(config);
      return {
        ...Object.fromEntries(NAME_VARIABLES.filter(({ variable, name }) => variable in declared && names[name] !== undefined).map(({ variable, name }) => [variable, names[name]])),
        worker_desired_count: config.worker.desiredCount,
      };
    };
    const pools = Object.fromEntries(configs.map((config) => [config.workPoolName, perPool(config)]));
    const fromEach = Object.fromEntries(Object.keys(perPool(configs[0])).map((variable) => [variable, `\${each.value.${variable}}`]));
    return { name: scanCase.name, region: configs[0].region, call: { source, for_each: pools, ...args, ...fromEach } };
  });
  const regions = new Set(calls.map(({ region }) => region));
  if (regions.size !== 1) throw new Error(`the cases' modules need one provider region, have ${[...regions].join(", ")}`);
  return { provider: { aws: { region: [...regions][0] } }, module: Object.fromEntries(calls.map(({ name, call }) => [name, call])) };
}

function folder(...parts: string[]): string {
  const path = join(...parts);
  mkdirSync(path, { recursive: true });
  return path;
}

function awsStacks(configs: readonly ResolvedConfig[]): string[] {
  return configs.map(awsStackName);
}

// ---------------------------------------------------------------- reading the report

interface Finding {
  readonly form: "hcl" | "plan";
  readonly caseName: string;
  /** The AWS stack, or the module (`prefect-ecs-worker`, `prefect-ecs-worker["dev"]` for an instance of for_each). */
  readonly stack: string;
  readonly id: string;
  readonly check: string;
  /** As Checkov names it: `aws_ecr_repository.flow_images`, `module.defaults.aws_ecr_repository.flow_images`. */
  readonly resource: string;
  /** The address inside its stack or module: what checkov-skips.json names. */
  readonly address: string;
}

/** `module.<case>.` or `module.<case>["<pool>"].` before an address in the modules' plan. */
const MODULE_CALL = /^module\.([A-Za-z0-9_-]+)(?:\["([^"]+)"\])?\./;

/** Where a result comes from, by its path in the scanned tree (and in the modules' plan, by its module call). */
function locate(result: CheckovResult): { form: "hcl" | "plan"; caseName: string; stack: string; address: string } | undefined {
  const hcl = /^\/hcl\/([^/]+)\/stacks\/([^/]+)\/cdk\.tf$/.exec(result.file_path);
  if (hcl) return { form: "hcl", caseName: hcl[1], stack: hcl[2], address: result.resource };
  const planned = /^\/plan\/([^/]+)\/([^/]+)\.json$/.exec(result.file_path);
  if (planned) return { form: "plan", caseName: planned[1], stack: planned[2], address: result.resource };
  const moduleHcl = new RegExp(`^/module/([^/]+)/modules/${MODULE_NAME}/[^/]+\\.tf$`).exec(result.file_path);
  if (moduleHcl) return { form: "hcl", caseName: moduleHcl[1], stack: MODULE_NAME, address: result.resource };
  const call = MODULE_CALL.exec(result.resource);
  if (result.file_path === `/plan/${MODULES_PLAN}` && call) {
    return { form: "plan", caseName: call[1], stack: call[2] ? `${MODULE_NAME}["${call[2]}"]` : MODULE_NAME, address: result.resource.slice(call[0].length) };
  }
  // The provider block of the test's own root module: not our output (a module configures no provider).
  if (result.file_path === `/plan/${MODULES_PLAN}` && result.resource === "aws.default") return undefined;
  throw new Error(`a result from an unexpected file or resource: ${result.file_path} ${result.resource}`);
}

function resultsOf(run: CheckovRun, kind: "passed_checks" | "failed_checks"): Finding[] {
  return ["terraform", "terraform_plan"].flatMap((framework) =>
    reportOf(run, framework).results[kind].flatMap((result) => {
      const where = locate(result);
      return where ? [{ ...where, id: result.check_id, check: result.check_name, resource: result.resource }] : [];
    }),
  );
}

/** One list for the stacks and the module: a skip names addresses inside a stack or the module, which are the same. */
const skipFor = (skips: readonly CheckovSkip[], finding: Finding) =>
  skips.find((skip) => skip.id === finding.id && skip.resources.includes(finding.address));

/** Readable and sortable: `plan dev-aws CKV_AWS_51 aws_ecr_repository.flow_images`. */
const describeFinding = (finding: Finding) => `${finding.form} ${finding.stack} ${finding.id} ${finding.resource}`;

/** Every stack and module each case's scan must cover, as `<form> <case> <stack>`. */
function expectedScans(): string[] {
  return ALL_CASES.flatMap(({ name, config }) => {
    const configs = resolveConfigs(config);
    const stacks = awsStacks(configs).flatMap((stack) => [`hcl ${name} ${stack}`, `plan ${name} ${stack}`]);
    if (!CASES.some((scanCase) => scanCase.name === name)) return stacks;
    const instances = configs.length === 1 ? [MODULE_NAME] : configs.map((pool) => `${MODULE_NAME}["${pool.workPoolName}"]`);
    return [...stacks, `hcl ${name} ${MODULE_NAME}`, ...instances.map((instance) => `plan ${name} ${instance}`)];
  });
}

// ================================================================= the real Checkov

describeWithPeers("Checkov on the synthesized output", ["checkov"], () => {
  describeWithTerraform(`GIVEN ${ALL_CASES.length} configurations as HCL and as offline plans WHEN one Checkov run scans them`, () => {
    const skips = readCheckovSkips().skips;
    let run: CheckovRun;
    let failed: Finding[];
    let passed: Finding[];

    let work: string;

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), "prefect-ecs-checkov-"));
      const root = folder(work, "scanned");
      await buildScanTree(root, work);
      run = runCheckov(root, ["terraform", "terraform_plan", "terraform_json"]);
      failed = resultsOf(run, "failed_checks");
      passed = resultsOf(run, "passed_checks");
    }, 900_000);

    afterAll(() => rmSync(work, { recursive: true, force: true }));

    it("THEN Checkov attempted no DNS lookup and no connection, and is the pinned version", () => {
      expect(run.networkAttempts).toEqual([]);
      for (const report of run.reports) expect(report.summary.checkov_version).toBe(readCheckovSkips().checkov);
    });

    it("THEN it parsed every AWS stack of every configuration, and each of our configurations' module, as HCL and as a plan (two pools through for_each)", () => {
      for (const framework of ["terraform", "terraform_plan"]) {
        expect(reportOf(run, framework).results.parsing_errors).toEqual([]);
        // Nothing is skipped behind the list's back (an inline `checkov:skip` comment would be).
        expect(reportOf(run, framework).results.skipped_checks).toEqual([]);
      }
      const expected = expectedScans();
      const scanned = new Set([...passed, ...failed].map(({ form, caseName, stack }) => `${form} ${caseName} ${stack}`));
      expect([...scanned].sort()).toEqual(expected.sort());
    });

    it.each(CASES.map((scanCase) => [scanCase.title, scanCase]))(
      "GIVEN %s THEN every failed check is a skip of checkov-skips.json on a resource it names",
      (_, scanCase) => {
        const unexpected = failed.filter((finding) => finding.caseName === scanCase.name && !skipFor(skips, finding));
        expect(unexpected.map(describeFinding).sort()).toEqual([]);
      },
    );

    it("GIVEN each configuration's module THEN Checkov fails on it exactly the checks, at the same addresses, that it fails on the configuration's AWS stack, as HCL and as a plan", () => {
      /** The AWS stack a finding stands for: its own, or for the module the stack of the same pool (the HCL module is the first pool's). */
      const counterpart = (finding: Finding): string => {
        const configs = resolveConfigs(ALL_CASES.find(({ name }) => name === finding.caseName)!.config);
        const pool = /^[^[]+\["(.+)"\]$/.exec(finding.stack)?.[1];
        if (!finding.stack.startsWith(MODULE_NAME)) return finding.stack;
        return awsStackName(pool ? configs.find((config) => config.workPoolName === pool)! : configs[0]);
      };
      const failures = (fromModule: boolean) =>
        failed
          .filter((finding) => CASES.some(({ name }) => name === finding.caseName) && finding.stack.startsWith(MODULE_NAME) === fromModule)
          .filter((finding) => fromModule || finding.form === "plan" || finding.stack === counterpart({ ...finding, stack: MODULE_NAME }))
          .map((finding) => `${finding.form} ${finding.caseName} ${counterpart(finding)} ${finding.id} ${finding.address}`)
          .sort();
      expect(failures(true).length).toBeGreaterThan(20);
      expect(failures(true)).toEqual(failures(false));
    });

    it("THEN every skip is needed: each of its resources fails its check in some configuration, and its title is Checkov's", () => {
      const ours = failed.filter((finding) => finding.caseName !== GUIDE_CASE.name);
      for (const skip of skips) {
        for (const resource of skip.resources) {
          const hits = ours.filter((finding) => finding.id === skip.id && finding.address === resource);
          expect({ skip: skip.id, resource, failsSomewhere: hits.length > 0 }).toEqual({ skip: skip.id, resource, failsSomewhere: true });
          for (const hit of hits) expect({ skip: skip.id, check: hit.check }).toEqual({ skip: skip.id, check: skip.check });
        }
      }
    });

    it.each(CASES.filter((scanCase) => scanCase.hardened).map((scanCase) => [scanCase.title, scanCase]))(
      "GIVEN %s THEN no skip that names a switch applies",
      (_, scanCase) => {
        const switchable = failed.filter((finding) => finding.caseName === scanCase.name && skipFor(skips, finding)?.switch !== undefined);
        expect(switchable.map(describeFinding)).toEqual([]);
      },
    );

    it("GIVEN container definitions known at plan time THEN Checkov evaluates the worker container of the stack and of the module: CKV_AWS_334/335/336 pass (not privileged, no host PID, read-only root)", () => {
      const container = (list: Finding[], stack: string) =>
        list
          .filter((f) => f.form === "plan" && f.caseName === "existing-cluster" && f.stack === stack && f.address === "aws_ecs_task_definition.worker")
          .map((f) => f.id)
          .filter((id) => ["CKV_AWS_334", "CKV_AWS_335", "CKV_AWS_336"].includes(id))
          .sort();
      for (const stack of ["my-ecs-pool-aws", MODULE_NAME]) {
        expect({ stack, passed: container(passed, stack), failed: container(failed, stack) }).toEqual({ stack, passed: ["CKV_AWS_334", "CKV_AWS_335", "CKV_AWS_336"], failed: [] });
      }
    });

    it('GIVEN iam.policies "guide" THEN, beyond the skips, Checkov fails the guide\'s worker policy: permissions management, write access and "*" resources', () => {
      const beyondSkips = failed.filter((finding) => finding.caseName === GUIDE_CASE.name && !skipFor(skips, finding));
      expect(beyondSkips.map(describeFinding).sort()).toEqual([
        "hcl my-ecs-pool-aws CKV_AWS_109 aws_iam_policy_document.worker_task_policy",
        "hcl my-ecs-pool-aws CKV_AWS_111 aws_iam_policy_document.worker_task_policy",
        "hcl my-ecs-pool-aws CKV_AWS_356 aws_iam_policy_document.worker_task_policy",
        "plan my-ecs-pool-aws CKV_AWS_289 aws_iam_policy.worker_task_policy",
        "plan my-ecs-pool-aws CKV_AWS_290 aws_iam_policy.worker_task_policy",
        "plan my-ecs-pool-aws CKV_AWS_355 aws_iam_policy.worker_task_policy",
      ]);
    });

    it("GIVEN cdk.tf.json WHEN Checkov 3.3.30's terraform_json framework reads it THEN it cannot parse it (bridgecrewio/checkov#7454), so the scan reads HCL and plans", () => {
      const report = reportOf(run, "terraform_json");
      expect(report.summary.resource_count).toBe(0);
      expect(report.results.parsing_errors.map((path) => path.replace(/^.*\/json\//, "json/")).sort()).toEqual([
        "json/defaults/stacks/my-ecs-pool-aws/cdk.tf.json",
        "json/defaults/stacks/my-ecs-pool-work-pool/cdk.tf.json",
      ]);
    });
  });
});

// ================================================================= what Checkov 3.3.30 cannot check

describe("GIVEN the worker's task definition in every scanned configuration", () => {
  const tasks = () =>
    CASES.flatMap(({ name, config }) => {
      const outdir = mkdtempSync(join(tmpdir(), "prefect-ecs-checkov-json-"));
      const configs = resolveConfigs(config);
      synthesizeApps(configs, outdir);
      return awsStacks(configs).map((stack) => {
        const json = JSON.parse(readFileSync(join(outdir, "stacks", stack, "cdk.tf.json"), "utf8")) as TerraformJson;
        return { where: `${name} ${stack}`, task: resourceOf(json, "aws_ecs_task_definition", "worker"), container: json.locals?.worker_container as Record<string, unknown> };
      });
    });

  // CKV_AWS_334 reads a container key `privilege` and CKV_AWS_335 a container key `pidMode`: ECS has
  // `privileged`, and `pid_mode` on the task. Checkov passes them whatever we write, so we check.
  it("THEN the worker container is not privileged and the task does not share the host's process namespace", () => {
    for (const { where, task, container } of tasks()) {
      expect({ where, container: container.name, privileged: container.privileged ?? false, pidMode: task.pid_mode ?? "task" }).toEqual({
        where,
        container: "prefect-worker",
        privileged: false,
        pidMode: "task",
      });
    }
  });
});

// ================================================================= the skip list and its documentation

describe(`GIVEN ${CHECKOV_SKIPS_FILE}`, () => {
  it(`THEN ${SECURITY_DOC_FILE}'s table of exceptions is rendered from it`, () => {
    const committed = readFileSync(join(__dirname, "..", SECURITY_DOC_FILE), "utf8");
    expectCommittedFile(SECURITY_DOC_FILE, withCheckovSkips(committed, readCheckovSkips()), "npm run docs:security");
  });

  it("WHEN an entry is malformed or a check is listed twice THEN loading it names each field and what is allowed", () => {
    const valid = { id: "CKV_AWS_51", check: "Ensure ECR Image Tags are immutable", resources: ["aws_ecr_repository.flow_images"], reason: "why" };
    expect(() =>
      parseCheckovSkips({
        checkov: "3.3.30",
        skips: [valid, { ...valid, id: "CKV_AWS_X", resources: ["flow_images"], reason: "two | cells" }, valid],
      }),
    ).toThrow(
      [
        `Invalid ${CHECKOV_SKIPS_FILE}:`,
        "  - skips.1.id: must be a Checkov AWS check ID such as CKV_AWS_51 or CKV2_AWS_57",
        "  - skips.1.resources.0: must be a Terraform address type.name",
        '  - skips.1.reason: reason must be one line without "|" (it is a Markdown table cell)',
      ].join("\n"),
    );
    expect(() => parseCheckovSkips({ checkov: "3.3.30", skips: [valid, valid] })).toThrow(
      "skips.1.id (got CKV_AWS_51): each check is listed once; add the resource to its first entry",
    );
  });
});
