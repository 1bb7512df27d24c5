/**
 * Each stack keeps its state where the configuration says (local folder, S3,
 * or its own Terraform Cloud workspace), and the work-pool stack reads the
 * AWS stack's outputs from that same place.
 */
import { problemsFrom } from "./support/config-errors";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { resolveConfig } from "../src/config/resolve";
import { PrefectEcsWorkerConfigInput } from "../src/config/schema";
import { synthesize, TerraformJson } from "./support/synth";
import { describeWithTerraform, init, terraformOk } from "./support/terraform";

interface Stacks {
  readonly aws: TerraformJson;
  readonly workPool: TerraformJson;
  readonly awsDir: string;
  readonly workPoolDir: string;
}

function stacksOf(config: PrefectEcsWorkerConfigInput): Stacks {
  const { json, stackDir } = synthesize(config);
  const workPoolDir = stackDir.replace(/-aws$/, "-work-pool");
  const workPool = JSON.parse(readFileSync(join(workPoolDir, "cdk.tf.json"), "utf8")) as TerraformJson;
  return { aws: json, workPool, awsDir: stackDir, workPoolDir };
}

function remoteState(json: TerraformJson): Record<string, unknown> {
  const { "//": _metadata, ...body } = json.data?.terraform_remote_state?.aws_stack ?? {};
  return body;
}

const S3 = { type: "s3" as const, bucket: "acme-terraform-state", keyPrefix: "platform/prefect" };
const CLOUD = { type: "cloud" as const, organization: "acme", project: "prefect", workspacePrefix: "prod-" };

describe("GIVEN no backend configured", () => {
  const stacks = stacksOf({});
  it("THEN both stacks keep a relative local state and the work-pool stack reads the sibling folder's state", () => {
    expect(stacks.aws.terraform.backend).toEqual({ local: { path: "terraform.tfstate" } });
    expect(stacks.workPool.terraform.backend).toEqual({ local: { path: "terraform.tfstate" } });
    expect(remoteState(stacks.workPool)).toEqual({ backend: "local", config: { path: "../my-ecs-pool-aws/terraform.tfstate" } });
  });
});

describe("GIVEN an S3 backend", () => {
  const stacks = stacksOf({ aws: { region: "eu-west-1" }, backend: S3 });
  it("THEN each stack has its own key under the prefix, encrypted and locked natively, in aws.region by default", () => {
    expect(stacks.aws.terraform.backend).toEqual({
      s3: {
        bucket: "acme-terraform-state",
        key: "platform/prefect/my-ecs-pool-aws/terraform.tfstate",
        region: "eu-west-1",
        encrypt: true,
        use_lockfile: true,
      },
    });
    expect(stacks.workPool.terraform.backend).toMatchObject({
      s3: { key: "platform/prefect/my-ecs-pool-work-pool/terraform.tfstate", use_lockfile: true },
    });
  });

  it("THEN the work-pool stack reads the AWS stack's object", () => {
    expect(remoteState(stacks.workPool)).toEqual({
      backend: "s3",
      config: { bucket: "acme-terraform-state", key: "platform/prefect/my-ecs-pool-aws/terraform.tfstate", region: "eu-west-1" },
    });
  });

  it("WHEN the bucket's region and a KMS key are given THEN they are used", () => {
    const kms = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const { aws } = stacksOf({ backend: { ...S3, region: "us-west-2", kmsKeyId: kms, useLockfile: false } });
    expect(aws.terraform.backend).toEqual({
      s3: {
        bucket: "acme-terraform-state",
        key: "platform/prefect/my-ecs-pool-aws/terraform.tfstate",
        region: "us-west-2",
        encrypt: true,
        kms_key_id: kms,
      },
    });
  });
});

describe("GIVEN Terraform Cloud", () => {
  const stacks = stacksOf({ backend: CLOUD });
  it("THEN each stack has its own named workspace in the project", () => {
    expect(stacks.aws.terraform.cloud).toEqual({
      hostname: "app.terraform.io",
      organization: "acme",
      workspaces: { name: "prod-my-ecs-pool-aws", project: "prefect" },
    });
    expect(stacks.workPool.terraform.cloud).toMatchObject({ workspaces: { name: "prod-my-ecs-pool-work-pool" } });
    expect(stacks.aws.terraform.backend).toBeUndefined();
  });

  it("THEN the work-pool stack reads the AWS workspace's outputs through the remote backend", () => {
    expect(remoteState(stacks.workPool)).toEqual({
      backend: "remote",
      config: { hostname: "app.terraform.io", organization: "acme", workspaces: { name: "prod-my-ecs-pool-aws" } },
    });
  });

  it("WHEN a Terraform Enterprise hostname is given THEN both the backend and the remote state use it", () => {
    const { aws, workPool } = stacksOf({ backend: { ...CLOUD, hostname: "tfe.acme.example" } });
    expect(aws.terraform.cloud).toMatchObject({ hostname: "tfe.acme.example" });
    expect(remoteState(workPool)).toMatchObject({ config: { hostname: "tfe.acme.example" } });
  });
});

describe("GIVEN an invalid backend", () => {
  const problemsOf = (backend: unknown) => problemsFrom(() => resolveConfig({ backend }));

  it.each([
    [{ type: "s3" }, "backend.bucket"],
    [{ type: "s3", bucket: "Bad_Bucket" }, "backend.bucket"],
    [{ type: "cloud", organization: "acme corp" }, "backend.organization"],
    [{ type: "cloud", organization: "acme", workspacePrefix: "prod/" }, "backend.workspacePrefix"],
    [{ type: "s3", bucket: "acme-state", organization: "acme" }, "backend.organization"],
  ])("WHEN %j THEN the problem names %s", (backend, field) => {
    expect(problemsOf(backend).map((p) => p.field)).toContain(field);
  });

  it("WHEN the type is unknown THEN the message lists the types", () => {
    const [problem] = problemsOf({ type: "gcs" });
    expect(problem.field).toBe("backend.type");
    expect(problem.message).toMatch(/local|s3|cloud/);
  });
});

describeWithTerraform("Terraform gate: backends", () => {
  it.each([
    ["S3", { backend: S3 }],
    ["Terraform Cloud", { backend: CLOUD }],
  ])("GIVEN %s WHEN both stacks are initialized without a backend and validated THEN Terraform accepts them", (_name, config) => {
    const stacks = stacksOf(config as PrefectEcsWorkerConfigInput);
    for (const dir of [stacks.awsDir, stacks.workPoolDir]) {
      terraformOk(dir, ["init", "-backend=false", "-input=false", "-no-color"]);
      const report = JSON.parse(terraformOk(dir, ["validate", "-json", "-no-color"]).stdout);
      expect(report).toMatchObject({ valid: true, error_count: 0 });
    }
  });

  it("GIVEN the default local backend WHEN the work-pool stack is validated THEN Terraform accepts it", () => {
    const stacks = stacksOf({});
    init(stacks.workPoolDir);
    expect(JSON.parse(terraformOk(stacks.workPoolDir, ["validate", "-json", "-no-color"]).stdout)).toMatchObject({ valid: true });
  });
});
