/**
 * Checkov itself on our output. Several configurations are synthesized as HCL (`cdktf synth
 * --hcl`, what `npm run synth:hcl` hands over) and planned offline by real Terraform
 * (`terraform show -json`); one Checkov run scans them all, with the `terraform` and
 * `terraform_plan` frameworks. Every failed check must be a skip of checkov-skips.json on one of
 * the resources it names, every skip must still be needed, and help/security.md's table of
 * exceptions is rendered from that file.
 *
 * Why both forms: on HCL Checkov evaluates variables' defaults and policy documents but sees the
 * worker container only as `jsonencode(...)`; the plan has the values Terraform computes,
 * including the container definitions once they are known at plan time (an existing secret).
 * Checkov 3.3.30 cannot read cdk.tf.json at all (the terraform_json test below), which is why the
 * JSON form is not scanned.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
import { awsStackName } from "../src/stacks/worker-aws-stack";
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
 * json/defaults/stacks/<stack>/cdk.tf.json. The plans run in `work`/terraform/<case>, outside the scan.
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
  synthesizeApps(resolveConfigs({}), folder(root, "json", "defaults"));
  await Promise.all(
    Array.from({ length: PARALLEL_PLANS }, async () => {
      for (let next = plans.shift(); next; next = plans.shift()) await next();
    }),
  );
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
  readonly stack: string;
  readonly id: string;
  readonly check: string;
  readonly resource: string;
}

/** Where a result comes from, by its path in the scanned tree. */
function locate(result: CheckovResult): { form: "hcl" | "plan"; caseName: string; stack: string } {
  const hcl = /^\/hcl\/([^/]+)\/stacks\/([^/]+)\/cdk\.tf$/.exec(result.file_path);
  if (hcl) return { form: "hcl", caseName: hcl[1], stack: hcl[2] };
  const planned = /^\/plan\/([^/]+)\/([^/]+)\.json$/.exec(result.file_path);
  if (planned) return { form: "plan", caseName: planned[1], stack: planned[2] };
  throw new Error(`a result from an unexpected file: ${result.file_path}`);
}

function resultsOf(run: CheckovRun, kind: "passed_checks" | "failed_checks"): Finding[] {
  return ["terraform", "terraform_plan"].flatMap((framework) =>
    reportOf(run, framework).results[kind].map((result) => ({
      ...locate(result),
      id: result.check_id,
      check: result.check_name,
      resource: result.resource,
    })),
  );
}

const skipFor = (skips: readonly CheckovSkip[], finding: Finding) =>
  skips.find((skip) => skip.id === finding.id && skip.resources.includes(finding.resource));

/** Readable and sortable: `plan dev-aws CKV_AWS_51 aws_ecr_repository.flow_images`. */
const describeFinding = (finding: Finding) => `${finding.form} ${finding.stack} ${finding.id} ${finding.resource}`;

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

    it("THEN it parsed every AWS stack of every configuration, as HCL and as a plan", () => {
      for (const framework of ["terraform", "terraform_plan"]) {
        expect(reportOf(run, framework).results.parsing_errors).toEqual([]);
        // Nothing is skipped behind the list's back (an inline `checkov:skip` comment would be).
        expect(reportOf(run, framework).results.skipped_checks).toEqual([]);
      }
      const expected = ALL_CASES.flatMap(({ name, config }) =>
        awsStacks(resolveConfigs(config)).flatMap((stack) => [`hcl ${name} ${stack}`, `plan ${name} ${stack}`]),
      );
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

    it("THEN every skip is needed: each of its resources fails its check in some configuration, and its title is Checkov's", () => {
      const ours = failed.filter((finding) => finding.caseName !== GUIDE_CASE.name);
      for (const skip of skips) {
        for (const resource of skip.resources) {
          const hits = ours.filter((finding) => finding.id === skip.id && finding.resource === resource);
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

    it("GIVEN container definitions known at plan time THEN Checkov evaluates the worker container: CKV_AWS_334/335/336 pass (not privileged, no host PID, read-only root)", () => {
      const container = (list: Finding[]) =>
        list
          .filter((f) => f.form === "plan" && f.caseName === "existing-cluster" && f.resource === "aws_ecs_task_definition.worker")
          .map((f) => f.id)
          .filter((id) => ["CKV_AWS_334", "CKV_AWS_335", "CKV_AWS_336"].includes(id))
          .sort();
      expect({ passed: container(passed), failed: container(failed) }).toEqual({ passed: ["CKV_AWS_334", "CKV_AWS_335", "CKV_AWS_336"], failed: [] });
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
