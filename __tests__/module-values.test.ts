/**
 * The module's variables for the values the stacks fix at synthesis besides the names: an existing
 * secret's reference, the secret's KMS key, the flow runs' S3 buckets and the work pool's description,
 * concurrency limit and paused flag. Each exists where the configuration's shape uses it, defaults to the
 * configuration's value and validates as synthesis does; with real Terraform, values passed through a
 * root module reach the resources, and bad ones fail naming the variable.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeFormat } from "../src/config/aws-formats";
import { resolveConfig } from "../src/config/resolve";
import { MAX_WORK_POOL_DESCRIPTION, PrefectEcsWorkerConfigInput } from "../src/config/schema";
import { MODULE_NAME } from "../src/module/worker-module";
import { writeModule } from "../src/module/write-module";
import { CLOUD_API_URL } from "./support/synth";
import { describeWithTerraform, init, makeOffline, plan, terraform, terraformConsole } from "./support/terraform";

type Json = Record<string, unknown>;
interface Variable {
  readonly type: string;
  readonly default?: unknown;
  readonly nullable?: boolean;
  readonly validation?: { condition: string; error_message: string }[];
}

const KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555";
const OTHER_KEY = "arn:aws:kms:eu-central-1:210987654321:key/mrk-0123456789abcdef0123456789abcdef";
const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prefect/api-key-AbCdEf";
const OTHER_SECRET_ARN = "arn:aws:secretsmanager:eu-central-1:210987654321:secret:team/prefect-key-XyZ123";
const NETWORK = { vpcId: "vpc-0a1b2c3d4e5f60718", subnetIds: ["subnet-0a1b2c3d4e5f60718"] };

/** Every value of this file set: an existing Secrets Manager secret with its key, buckets, the pool's settings. */
const EXISTING_SECRET: PrefectEcsWorkerConfigInput = {
  prefect: { apiUrl: CLOUD_API_URL },
  aws: { region: "eu-west-1" },
  secret: { existing: SECRET_ARN, kmsKeyArn: KEY },
  network: NETWORK,
  flowRunTaskRole: { s3Buckets: ["prefect-results", "prefect-data"] },
  workPool: { description: "Data team's pool", concurrencyLimit: 5, paused: true },
};
/** A created SSM parameter with a key; no buckets; no description or limit. */
const CREATED_SSM: PrefectEcsWorkerConfigInput = {
  prefect: { server: "self-hosted", apiUrl: "https://prefect.internal.example.com/api", auth: "basic-auth" },
  secret: { store: "ssm", kmsKeyArn: KEY },
  network: NETWORK,
};
const SELF_HOSTED = CREATED_SSM.prefect;

function written(input: PrefectEcsWorkerConfigInput) {
  const outdir = mkdtempSync(join(tmpdir(), "prefect-ecs-module-values-"));
  const { folder, document } = writeModule(resolveConfig(input), outdir);
  return { outdir, folder, variables: document.variable as Record<string, Variable> };
}

const VALUE_VARIABLES = [
  "existing_secret_arn",
  "existing_secret_parameter_arn",
  "existing_secret_parameter_name",
  "secret_kms_key_arn",
  "flow_run_s3_bucket_names",
  "work_pool_description",
  "work_pool_concurrency_limit",
  "work_pool_paused",
];

describe("The module's value variables (besides the names)", () => {
  it.each<{ name: string; input: PrefectEcsWorkerConfigInput; expected: Json }>([
    {
      name: "an existing Secrets Manager secret with a key, buckets and the pool's settings",
      input: EXISTING_SECRET,
      expected: {
        existing_secret_arn: { type: "string", default: SECRET_ARN, nullable: false },
        secret_kms_key_arn: { type: "string", default: KEY, nullable: false },
        flow_run_s3_bucket_names: { type: "list(string)", default: ["prefect-results", "prefect-data"], nullable: false },
        work_pool_description: { type: "string", default: "Data team's pool" },
        work_pool_concurrency_limit: { type: "number", default: 5 },
        work_pool_paused: { type: "bool", default: true, nullable: false },
      },
    },
    {
      name: "a created SSM parameter with a key, no buckets, no description or limit",
      input: CREATED_SSM,
      expected: {
        secret_kms_key_arn: { type: "string", default: KEY, nullable: false },
        work_pool_description: { type: "string", default: null },
        work_pool_concurrency_limit: { type: "number", default: null },
        work_pool_paused: { type: "bool", default: false, nullable: false },
      },
    },
    {
      name: "an existing SSM parameter by name, the pool not managed",
      input: { prefect: SELF_HOSTED, secret: { store: "ssm", existing: "/prefect/auth" }, workPool: { manage: false } },
      expected: { existing_secret_parameter_name: { type: "string", default: "/prefect/auth", nullable: false } },
    },
    {
      name: "an existing SSM parameter by ARN, the pool not managed",
      input: { prefect: SELF_HOSTED, secret: { store: "ssm", existing: "arn:aws:ssm:us-east-1:123456789012:parameter/prefect/auth" }, workPool: { manage: false } },
      expected: { existing_secret_parameter_arn: { type: "string", default: "arn:aws:ssm:us-east-1:123456789012:parameter/prefect/auth", nullable: false } },
    },
    {
      name: "a self-hosted server without auth (no secret), the pool not managed",
      input: { prefect: { server: "self-hosted", apiUrl: "http://prefect.internal:4200/api", auth: "none" }, workPool: { manage: false } },
      expected: {},
    },
  ])("GIVEN $name WHEN the module is written THEN exactly the values its shape uses are variables, defaulting to the configuration's", ({ input, expected }) => {
    const { variables } = written(input);
    const declared = Object.fromEntries(
      VALUE_VARIABLES.filter((name) => name in variables).map((name) => {
        const { type, default: value, nullable } = variables[name];
        return [name, { type, default: value, ...(nullable === undefined ? {} : { nullable }) }];
      }),
    );
    expect(declared).toEqual(expected);
  });

  it("GIVEN every value variable WHEN written THEN each validates with the format synthesis checks for its field, naming the variable", () => {
    const messages = (variables: Record<string, Variable>, name: string) => (variables[name].validation ?? []).map((v) => v.error_message);
    const existing = written(EXISTING_SECRET).variables;
    expect(messages(existing, "existing_secret_arn")).toEqual([`existing_secret_arn must be ${describeFormat("secretsManagerSecretArn")}.`]);
    expect(messages(existing, "secret_kms_key_arn")).toEqual([`secret_kms_key_arn must be ${describeFormat("kmsKeyArn")}.`]);
    expect(messages(existing, "flow_run_s3_bucket_names")).toEqual([`flow_run_s3_bucket_names must be a non-empty list of ${describeFormat("s3BucketName")}.`]);
    expect(messages(existing, "work_pool_description")).toEqual([`work_pool_description must be at most ${MAX_WORK_POOL_DESCRIPTION} characters (or null).`]);
    expect(messages(existing, "work_pool_concurrency_limit")).toEqual(["work_pool_concurrency_limit must be a whole number, 0 or more (or null)."]);
    const byName = written({ prefect: SELF_HOSTED, secret: { store: "ssm", existing: "/prefect/auth" } }).variables;
    expect(messages(byName, "existing_secret_parameter_name")).toEqual([`existing_secret_parameter_name must be ${describeFormat("ssmParameterName")}.`]);
  });
});

// ---------------------------------------------------------------- with Terraform

interface PolicyStatement {
  readonly Sid: string;
  readonly Action: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

/** A root module passing each of `names` (root variables of the same type, null by default) to the module. */
function writeRoot(outdir: string, region: string, variables: Record<string, Variable>, names: string[]): void {
  writeFileSync(
    join(outdir, "main.tf"),
    [
      `provider "aws" {\n  region = "${region}"\n}`,
      ...names.map((name) => `variable "${name}" {\n  type    = ${variables[name].type}\n  default = null\n}`),
      `module "worker" {\n  source = "./modules/${MODULE_NAME}"\n${names.map((name) => `  ${name} = var.${name}`).join("\n")}\n}`,
      "",
    ].join("\n\n"),
  );
  makeOffline(outdir);
  init(outdir);
}

describeWithTerraform("The module's value variables with real Terraform", () => {
  describe("GIVEN an existing Secrets Manager secret with a key, buckets and the pool's settings, called from a root module", () => {
    let root: ReturnType<typeof written>;
    const names = VALUE_VARIABLES.filter((name) => !name.startsWith("existing_secret_parameter"));
    beforeAll(() => {
      root = written(EXISTING_SECRET);
      writeRoot(root.outdir, "eu-west-1", root.variables, names);
    });

    const planFailure = (values: Json): string => {
      const varFile = join(root.outdir, "bad.tfvars.json");
      writeFileSync(varFile, JSON.stringify(values));
      const result = terraform(root.outdir, ["plan", "-input=false", "-no-color", `-var-file=${varFile}`]);
      expect(result.status).not.toBe(0);
      return (result.stdout + result.stderr).replace(/\s*│\s*/g, " ").replace(/\s+/g, " ");
    };

    it("WHEN planned with other values THEN the secret's read and decrypt statements name the other secret, key and region, and the flow runs' policy the other buckets", () => {
      const { json } = plan(root.outdir, {
        existing_secret_arn: OTHER_SECRET_ARN,
        secret_kms_key_arn: OTHER_KEY,
        flow_run_s3_bucket_names: ["other-results"],
      });
      const after = (address: string) => (json.resource_changes ?? []).find((c) => c.address === `module.worker.${address}`)?.change.after as Json;
      for (const role of ["execution_role", "flow_run_execution_role"]) {
        const statements = (JSON.parse(after(`aws_iam_role_policy.${role}_secret_policy`).policy as string) as { Statement: PolicyStatement[] }).Statement;
        expect(statements).toEqual([
          { Sid: "ReadPrefectApiSecret", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: OTHER_SECRET_ARN },
          {
            Sid: "DecryptPrefectApiSecret",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: OTHER_KEY,
            // The service of the secret's own region, from its ARN.
            Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-central-1.amazonaws.com", "kms:EncryptionContext:SecretARN": OTHER_SECRET_ARN } },
          },
        ]);
      }
      const flowRun = (JSON.parse(after("aws_iam_policy.flow_run_task_policy").policy as string) as { Statement: PolicyStatement[] }).Statement;
      expect(flowRun.map(({ Sid, Resource }) => ({ Sid, Resource }))).toEqual([
        { Sid: "ListBuckets", Resource: "arn:aws:s3:::other-results" },
        { Sid: "ReadWriteObjects", Resource: "arn:aws:s3:::other-results/*" },
      ]);
      const worker = JSON.parse(after("aws_ecs_task_definition.worker").container_definitions as string) as { secrets: { valueFrom: string }[] }[];
      expect(worker[0].secrets.map((s) => s.valueFrom)).toEqual([OTHER_SECRET_ARN]);
    });

    it("WHEN planned with two buckets THEN each is listed in both statements", () => {
      const { json } = plan(root.outdir, { flow_run_s3_bucket_names: ["bucket-a", "bucket-b"] });
      const policy = (json.resource_changes ?? []).find((c) => c.address === "module.worker.aws_iam_policy.flow_run_task_policy")?.change.after?.policy as string;
      const statements = (JSON.parse(policy) as { Statement: PolicyStatement[] }).Statement;
      // A policy document's resources are a set: sorted.
      expect(statements.map((s) => [s.Resource].flat().sort())).toEqual([
        ["arn:aws:s3:::bucket-a", "arn:aws:s3:::bucket-b"],
        ["arn:aws:s3:::bucket-a/*", "arn:aws:s3:::bucket-b/*"],
      ]);
    });

    it("WHEN each value is one synthesis rejects THEN each variable's validation fails, naming it and what is allowed, as synthesis does", () => {
      const bad = {
        existing_secret_arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prefect",
        secret_kms_key_arn: "alias/prefect",
        flow_run_s3_bucket_names: ["Not_A_Bucket"],
        work_pool_description: "d".repeat(MAX_WORK_POOL_DESCRIPTION + 1),
        work_pool_concurrency_limit: 1.5,
      };
      const output = planFailure(bad);
      for (const name of Object.keys(bad)) expect(output).toContain(`${name} must be`);
      expect(planFailure({ flow_run_s3_bucket_names: [], work_pool_concurrency_limit: -1 })).toMatch(
        /flow_run_s3_bucket_names must be a non-empty list.*work_pool_concurrency_limit must be a whole number|work_pool_concurrency_limit must be a whole number.*flow_run_s3_bucket_names must be a non-empty list/,
      );
      const fields: [string, PrefectEcsWorkerConfigInput][] = [
        ["secret.existing", { secret: { existing: bad.existing_secret_arn } }],
        ["secret.kmsKeyArn", { secret: { kmsKeyArn: bad.secret_kms_key_arn } }],
        ["flowRunTaskRole.s3Buckets", { flowRunTaskRole: { s3Buckets: bad.flow_run_s3_bucket_names } }],
        ["workPool.description", { workPool: { description: bad.work_pool_description } }],
        ["workPool.concurrencyLimit", { workPool: { concurrencyLimit: bad.work_pool_concurrency_limit } }],
      ];
      for (const [field, input] of fields) expect(() => resolveConfig({ ...EXISTING_SECRET, ...input })).toThrow(field);
    });
  });

  describe("GIVEN a created SSM parameter with a key", () => {
    it("WHEN planned with another key THEN the parameter is encrypted with it", () => {
      const root = written(CREATED_SSM);
      writeRoot(root.outdir, "us-east-1", root.variables, ["secret_kms_key_arn", "prefect_api_auth_string"]);
      const { json } = plan(root.outdir, { secret_kms_key_arn: OTHER_KEY, prefect_api_auth_string: "admin:not-a-real-password" });
      const after = (address: string) => (json.resource_changes ?? []).find((c) => c.address === `module.worker.${address}`)?.change.after as Json;
      expect(after("aws_ssm_parameter.prefect_api_secret").key_id).toBe(OTHER_KEY);
    });
  });

  describe("GIVEN the work pool's settings", () => {
    /** The module's own folder as the root, evaluated by terraform console: the body the work-pool step sends. */
    let folder: string;
    const body = (values: Json): Json => {
      const varFile = join(folder, "values.tfvars.json");
      writeFileSync(varFile, JSON.stringify(values));
      const result = terraformConsole(folder, 'jsonencode({ for key, value in local.work_pool_update : key => value if key != "base_job_template" })', [`-var-file=${varFile}`]);
      return JSON.parse(JSON.parse(result) as string) as Json;
    };
    beforeAll(() => {
      folder = written(EXISTING_SECRET).folder;
      makeOffline(folder);
      init(folder);
    });

    it("WHEN the variables keep their defaults THEN the pool's body holds the configuration's values", () => {
      expect(body({})).toEqual({ description: "Data team's pool", concurrency_limit: 5, is_paused: true });
    });

    it("WHEN other values are given THEN the pool's body holds them; null description and limit mean none", () => {
      expect(body({ work_pool_description: "Other", work_pool_concurrency_limit: 0, work_pool_paused: false })).toEqual({ description: "Other", concurrency_limit: 0, is_paused: false });
      expect(body({ work_pool_description: null, work_pool_concurrency_limit: null })).toEqual({ description: null, concurrency_limit: null, is_paused: true });
    });
  });
});
