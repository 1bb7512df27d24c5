/**
 * End to end: real Terraform applies the work-pool stack, whose local-exec
 * runs the shipped sh + curl script against a Prefect API test double on
 * loopback. The AWS stack's outputs come from a prepared local state file.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PrefectEcsWorkerConfigInput } from "../src/config/schema";
import { ecsBaseJobTemplate } from "../src/work-pool/ecs-base-job-template";
import { awsOutputsState, exampleAwsOutputs as awsOutputs } from "./support/aws-state";
import { PrefectApiDouble } from "./support/prefect-api-double";
import { synthesize } from "./support/synth";
import { describeWithTerraform, init, terraform, TerraformResult } from "./support/terraform";

const API_KEY = "pnu_e2eFAKEfakeFAKEfakeFAKEfake123456";
const AUTH_STRING = "admin:e2e-not-a-real-password";

interface Deployment {
  readonly workPoolDir: string;
  readonly awsDir: string;
  setAwsOutputs(outputs: Record<string, unknown>): void;
  apply(env?: NodeJS.ProcessEnv): TerraformResult;
  destroy(env?: NodeJS.ProcessEnv): TerraformResult;
}

function deploy(config: PrefectEcsWorkerConfigInput, outputs: Record<string, unknown>): Deployment {
  const { outdir, stackDir } = synthesize(config);
  const workPoolDir = stackDir.replace(/-aws$/, "-work-pool");
  const deployment: Deployment = {
    workPoolDir,
    awsDir: stackDir,
    setAwsOutputs: (next) => writeFileSync(join(stackDir, "terraform.tfstate"), awsOutputsState(next)),
    apply: (env = {}) => terraform(workPoolDir, ["apply", "-auto-approve", "-input=false", "-no-color"], env),
    destroy: (env = {}) => terraform(workPoolDir, ["destroy", "-auto-approve", "-input=false", "-no-color"], env),
  };
  expect(outdir).toBeTruthy();
  deployment.setAwsOutputs(outputs);
  init(workPoolDir);
  return deployment;
}

function expectOk(result: TerraformResult): void {
  if (result.status !== 0) throw new Error(`terraform failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
}

type Template = { variables: { properties: Record<string, Record<string, unknown>> }; job_configuration: unknown };

describeWithTerraform("Terraform gate: the work-pool stack against a Prefect API double", () => {
  describe("GIVEN a Prefect Cloud workspace without the pool", () => {
    let api: PrefectApiDouble;
    let deployment: Deployment;
    const cloudEnv = { PREFECT_API_KEY: API_KEY };

    beforeAll(async () => {
      api = await PrefectApiDouble.start({ mode: "cloud", apiKey: API_KEY });
      deployment = deploy({ prefect: { apiUrl: undefined } }, awsOutputs(api.url));
    });
    afterAll(() => api.stop());

    it("WHEN applied THEN the pool exists with our template and the AWS stack's values as top-level defaults", () => {
      expectOk(deployment.apply(cloudEnv));
      const pool = api.pool("my-ecs-pool");
      expect(pool).toMatchObject({ name: "my-ecs-pool", type: "ecs", is_paused: false, concurrency_limit: null });
      const template = pool!.base_job_template as Template;
      const ours = ecsBaseJobTemplate() as unknown as Template;
      expect(template.job_configuration).toEqual(ours.job_configuration);
      const props = template.variables.properties;
      expect(Object.keys(props).sort()).toEqual(Object.keys(ours.variables.properties).sort());
      expect(props.cluster.default).toBe("arn:aws:ecs:us-east-1:123456789012:cluster/my-ecs-cluster");
      expect(props.vpc_id.default).toBe("vpc-12345678");
      expect(props.execution_role_arn.default).toBe("arn:aws:iam::123456789012:role/ecsTaskExecutionRole");
      expect(props.task_role_arn.default).toBe("arn:aws:iam::123456789012:role/PrefectECSRunnerTaskRole");
      expect(props.prefect_api_key_secret_arn.default).toBe(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:PrefectECSWorkerAPIKey-AbCdEf",
      );
      expect(props.network_configuration.default).toEqual({
        subnets: ["subnet-12345678", "subnet-87654321"],
        securityGroups: ["sg-12345678"],
        assignPublicIp: "ENABLED",
      });
      // Flow runs log to the group the AWS stack made, without creating one.
      expect(props.configure_cloudwatch_logs.default).toBe(true);
      expect(props.cloudwatch_logs_options.default).toEqual({
        "awslogs-group": "/ecs/prefect-flow-runs/my-ecs-pool",
        "awslogs-create-group": "false",
      });
      // The property schemas stay intact: only `default` is added.
      for (const name of ["cluster", "vpc_id", "network_configuration"]) {
        const { default: _set, ...schema } = props[name];
        const { default: _original, ...original } = ours.variables.properties[name];
        expect(schema).toEqual(original);
      }
      expect(api.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["PATCH 404", "POST 201"]);
    });

    it("WHEN applied again unchanged THEN nothing is sent", () => {
      api.resetLog();
      expectOk(deployment.apply(cloudEnv));
      expect(api.requests).toEqual([]);
    });

    it("WHEN a subnet changes in the AWS stack THEN the pool is PATCHed with the whole new template", () => {
      api.resetLog();
      deployment.setAwsOutputs(awsOutputs(api.url, { subnet_ids: ["subnet-0a0a0a0a"], assign_public_ip: false }));
      expectOk(deployment.apply(cloudEnv));
      expect(api.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["PATCH 204"]);
      const props = (api.pool("my-ecs-pool")!.base_job_template as Template).variables.properties;
      expect(props.network_configuration.default).toEqual({
        subnets: ["subnet-0a0a0a0a"],
        securityGroups: ["sg-12345678"],
        assignPublicIp: "DISABLED",
      });
    });

    it("THEN the API key is in no state file, output or log", () => {
      const state = readFileSync(join(deployment.workPoolDir, "terraform.tfstate"), "utf8");
      expect(state).not.toContain(API_KEY);
      const output = terraform(deployment.workPoolDir, ["output", "-json"]);
      expect(output.stdout).not.toContain(API_KEY);
      const apply = deployment.apply(cloudEnv);
      expect(apply.stdout + apply.stderr).not.toContain(API_KEY);
    });
  });

  describe("GIVEN a pool a worker already created with its own template", () => {
    let api: PrefectApiDouble;
    beforeAll(async () => {
      api = await PrefectApiDouble.start({ mode: "cloud", apiKey: API_KEY });
    });
    afterAll(() => api.stop());

    it("WHEN applied THEN the template is replaced as a whole and the pool is kept", () => {
      const fallback = JSON.parse(
        readFileSync(join(__dirname, "..", "..", "shared", "reference", "prefect-server-fallback-ecs-base-job-template.json"), "utf8"),
      );
      api.seedPool({ name: "my-ecs-pool", type: "ecs", base_job_template: fallback });
      const before = api.pool("my-ecs-pool")!;
      const deployment = deploy({}, awsOutputs(api.url));
      expectOk(deployment.apply({ PREFECT_API_KEY: API_KEY }));
      const after = api.pool("my-ecs-pool")!;
      expect(after.id).toBe(before.id);
      const props = (after.base_job_template as Template).variables.properties;
      expect(props.stream_output).toBeUndefined(); // the old template's variables are gone
      expect(props.cluster.default).toBe("arn:aws:ecs:us-east-1:123456789012:cluster/my-ecs-cluster");
      expect(api.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["PATCH 204"]);
    });
  });

  describe("GIVEN a self-hosted server with basic auth", () => {
    let api: PrefectApiDouble;
    const config: PrefectEcsWorkerConfigInput = {
      workPool: { name: "data team+1", description: "Team pool", concurrencyLimit: 5 },
      prefect: { server: "self-hosted", auth: "basic-auth" },
      eventsQueue: { name: "data-team-events", deadLetterQueueName: "data-team-events-dlq", ruleName: "data-team-rule" },
      ecr: { repositoryName: "data-team-flows" },
      logs: { groupName: "/ecs/prefect-worker/data-team" },
      flowRunLogs: { groupName: "/ecs/prefect-flow-runs/data-team" },
    };
    beforeAll(async () => {
      api = await PrefectApiDouble.start({ mode: "self-hosted", authString: AUTH_STRING });
    });
    afterAll(() => api.stop());

    it("WHEN applied with the wrong auth string THEN it fails with a one-line hint and writes nothing", () => {
      const deployment = deploy(config, awsOutputs(api.url));
      const result = deployment.apply({ PREFECT_API_AUTH_STRING: "admin:wrong" });
      expect(result.status).not.toBe(0);
      expect(result.stderr.replace(/[\s│]+/g, " ")).toContain(
        "401 Unauthorized from " + api.url + ": check PREFECT_API_KEY (Prefect Cloud) or PREFECT_API_AUTH_STRING (self-hosted)",
      );
      expect(api.pool("data team+1")).toBeUndefined();
      expect(result.stdout + result.stderr).not.toContain("wrong");

      // THEN the next apply, with the right credentials, does the work.
      expectOk(deployment.apply({ PREFECT_API_AUTH_STRING: AUTH_STRING }));
      expect(api.pool("data team+1")).toMatchObject({ description: "Team pool", concurrency_limit: 5 });
      const props = (api.pool("data team+1")!.base_job_template as Template).variables.properties;
      expect(props.prefect_api_auth_string_secret_arn.default).toMatch(/^arn:aws:secretsmanager:/);
      expect(props.prefect_api_key_secret_arn.default).toBeNull();
    });
  });

  describe("GIVEN a flaky server", () => {
    let api: PrefectApiDouble;
    beforeAll(async () => {
      api = await PrefectApiDouble.start({ mode: "cloud", apiKey: API_KEY });
    });
    afterAll(() => api.stop());

    it("WHEN it answers 500 twice and 429 once THEN the apply succeeds after retries", () => {
      api.injectFaults([{ status: 500, times: 2 }, { status: 429, retryAfter: 1, times: 1 }]);
      const deployment = deploy({}, awsOutputs(api.url));
      const result = deployment.apply({ PREFECT_API_KEY: API_KEY });
      expectOk(result);
      expect(api.pool("my-ecs-pool")).toBeDefined();
      expect(api.requests.map((r) => r.status)).toEqual([500, 500, 429, 404, 201]);
      expect(result.stdout + result.stderr).toContain("retrying");
    });

    it("WHEN it drops the connection once THEN the apply succeeds after a retry", () => {
      api.injectFaults([{ drop: true, times: 1 }]);
      const deployment = deploy({ workPool: { name: "second-pool" } }, awsOutputs(api.url));
      expectOk(deployment.apply({ PREFECT_API_KEY: API_KEY }));
      expect(api.pool("second-pool")).toBeDefined();
    });

    it("WHEN it keeps answering 503 THEN the apply fails within a bounded time", () => {
      api.injectFaults([{ status: 503, times: 100 }]);
      const deployment = deploy({ workPool: { name: "third-pool" } }, awsOutputs(api.url));
      const started = Date.now();
      const result = deployment.apply({ PREFECT_API_KEY: API_KEY, PREFECT_HTTP_MAX_ATTEMPTS: "3" });
      const seconds = (Date.now() - started) / 1000;
      expect(result.status).not.toBe(0);
      expect(result.stderr.replace(/[\s│]+/g, " ")).toContain("HTTP 503 from");
      expect(api.requests.filter((r) => r.status === 503).length).toBeLessThanOrEqual(3);
      expect(seconds).toBeLessThan(60);
      api.injectFaults([]);
    });
  });

  describe("GIVEN a pool that a worker creates between our PATCH and POST", () => {
    it("WHEN POST answers 409 THEN the pool is PATCHed", async () => {
      const api = await PrefectApiDouble.start({ mode: "cloud", apiKey: API_KEY });
      try {
        api.seedPool({ name: "my-ecs-pool", type: "ecs", base_job_template: {} });
        api.injectFaults([{ status: 404, times: 1, match: { method: "PATCH" } }]);
        const deployment = deploy({}, awsOutputs(api.url));
        expectOk(deployment.apply({ PREFECT_API_KEY: API_KEY }));
        expect(api.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["PATCH 404", "POST 409", "PATCH 204"]);
        expect((api.pool("my-ecs-pool")!.base_job_template as Template).variables.properties.cluster.default).toMatch(/cluster\//);
      } finally {
        await api.stop();
      }
    });
  });

  describe("GIVEN a CSRF-protected server without auth and deleteOnDestroy", () => {
    it("WHEN applied and destroyed THEN the pool is created with CSRF headers and deleted", async () => {
      const api = await PrefectApiDouble.start({ mode: "self-hosted", csrf: true });
      try {
        const deployment = deploy(
          { prefect: { server: "self-hosted", auth: "none" }, workPool: { csrf: true, deleteOnDestroy: true } },
          awsOutputs(api.url),
        );
        expectOk(deployment.apply());
        expect(api.pool("my-ecs-pool")).toBeDefined();
        expectOk(deployment.destroy());
        expect(api.pool("my-ecs-pool")).toBeUndefined();
      } finally {
        await api.stop();
      }
    });
  });
});
