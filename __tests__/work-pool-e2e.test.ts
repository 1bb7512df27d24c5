/**
 * End to end: real Terraform applies the work-pool stack, whose local-exec runs the shipped
 * sh + curl script against a real `prefect server` (the pinned test peer) on loopback; a
 * recording proxy in front of it says which requests the script sent. The AWS stack's outputs
 * come from a prepared local state file. Only the faults a real server cannot be made to produce
 * on demand (5xx, 429, dropped connections, a pool created between two requests) use the API
 * double, whose answers prefect-api-contract.test.ts keeps equal to the real server's.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PrefectEcsWorkerConfigInput } from "../src/config/schema";
import { ecsBaseJobTemplate } from "../src/work-pool/ecs-base-job-template";
import { awsOutputsState, exampleAwsOutputs as awsOutputs } from "./support/aws-state";
import { describeWithPeers, peerCommand, prefectReference, PrefectServer, startPrefectServer } from "./support/peers";
import { PrefectApiDouble } from "./support/prefect-api-double";
import { RecordingProxy } from "./support/recording-proxy";
import { synthesize } from "./support/synth";
import { describeWithTerraform, init, terraform, TerraformResult } from "./support/terraform";

const API_KEY = "pnu_e2eFAKEfakeFAKEfakeFAKEfake123456";
const AUTH_STRING = "admin:e2e-not-a-real-password";

type Json = Record<string, any>;
type Template = { variables: { properties: Record<string, Record<string, unknown>> }; job_configuration: unknown };

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

/** Terraform's error output as one line (it wraps and frames long messages). */
const oneLine = (text: string) => text.replace(/[\s│]+/g, " ");

/** A real server with a recording proxy in front: Terraform talks to `proxy`, tests read `server` directly. */
interface ServerUnderTest {
  readonly server: PrefectServer;
  readonly proxy: RecordingProxy;
  /** The API base through the proxy: what the AWS stack's `prefect_api_url` output says. */
  readonly apiUrl: string;
  /** Credentials for reading the server directly. */
  readonly headers: Record<string, string>;
}

async function startServerUnderTest(options: { authString?: string; csrf?: boolean } = {}): Promise<ServerUnderTest> {
  const server = await startPrefectServer(options);
  const headers: Record<string, string> = options.authString ? { Authorization: `Basic ${Buffer.from(options.authString).toString("base64")}` } : {};
  const origin = new URL(server.url).origin;
  let proxy: RecordingProxy;
  try {
    proxy = await RecordingProxy.start(origin, "/api/health");
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { server, proxy, apiUrl: `${proxy.origin}/api`, headers };
}

/** The pool as the real server returns it, or undefined when it answers 404. */
async function poolOn(target: ServerUnderTest, name: string): Promise<Json | undefined> {
  const url = `${target.server.url}/work_pools/${encodeURIComponent(name)}`;
  // Once more on a network error: while this thread blocked in spawnSync, the server may have
  // closed the idle keep-alive connection fetch is about to reuse.
  const response = await fetch(url, { headers: target.headers }).catch(() => fetch(url, { headers: target.headers }));
  if (response.status === 404) return undefined;
  if (response.status !== 200) throw new Error(`GET pool ${name}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as Json;
}

const propertiesOf = (pool: Json | undefined) => (pool!.base_job_template as Template).variables.properties;

describeWithTerraform("Terraform gate: the work-pool stack", () => {
  describeWithPeers("Peer gate: against a real Prefect server", ["prefect"], () => {
    // One server per variant for the whole file, started at once (each takes about 10 s).
    let plain: ServerUnderTest;
    let basicAuth: ServerUnderTest;
    let csrf: ServerUnderTest;
    beforeAll(async () => {
      [plain, basicAuth, csrf] = await Promise.all([
        startServerUnderTest(),
        startServerUnderTest({ authString: AUTH_STRING }),
        startServerUnderTest({ csrf: true }),
      ]);
    }, 180_000);
    afterAll(async () => {
      await Promise.all(
        [plain, basicAuth, csrf].filter(Boolean).flatMap((target) => [target.proxy.stop(), target.server.stop()]),
      );
    });

    describe("GIVEN a server without the pool and the default (Prefect Cloud, API key) configuration", () => {
      const cloudEnv = { PREFECT_API_KEY: API_KEY };
      let deployment: Deployment;
      beforeAll(() => {
        deployment = deploy({ prefect: { apiUrl: undefined } }, awsOutputs(plain.apiUrl));
      });

      it("WHEN applied THEN the pool exists with our template and the AWS stack's values as top-level defaults", async () => {
        plain.proxy.reset();
        expectOk(deployment.apply(cloudEnv));
        const pool = await poolOn(plain, "my-ecs-pool");
        expect(pool).toMatchObject({ name: "my-ecs-pool", type: "ecs", is_paused: false, concurrency_limit: null });
        const template = pool!.base_job_template as Template;
        const ours = ecsBaseJobTemplate() as unknown as Template;
        expect(template.job_configuration).toEqual(ours.job_configuration);
        const props = template.variables.properties;
        // Terraform's jsonencode sorts object keys; JSON objects have no order, so neither does the comparison.
        expect(Object.keys(props).sort()).toEqual(Object.keys(ours.variables.properties).sort());
        expect(props.cluster.default).toBe("arn:aws:ecs:us-east-1:123456789012:cluster/my-ecs-cluster");
        expect(props.vpc_id.default).toBe("vpc-12345678");
        expect(props.execution_role_arn.default).toBe("arn:aws:iam::123456789012:role/PrefectECSRunnerExecutionRole");
        expect(props.task_role_arn.default).toBe("arn:aws:iam::123456789012:role/PrefectECSRunnerTaskRole");
        expect(props.prefect_api_key_secret_arn.default).toBe("arn:aws:secretsmanager:us-east-1:123456789012:secret:PrefectECSWorkerAPIKey-AbCdEf");
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
        // The other job variables keep the template file's defaults (nulls included): Terraform's merge leaves them alone.
        const fed = new Set(["cluster", "vpc_id", "execution_role_arn", "task_role_arn", "prefect_api_key_secret_arn", "network_configuration", "configure_cloudwatch_logs", "cloudwatch_logs_options"]);
        for (const [name, schema] of Object.entries(ours.variables.properties).filter(([n]) => !fed.has(n))) {
          expect({ name, default: props[name]!.default }).toEqual({ name, default: schema.default });
        }
        // The property schemas stay intact: only `default` is added.
        for (const [name, schema] of Object.entries(ours.variables.properties)) {
          const { default: _set, ...stored } = props[name]!;
          const { default: _original, ...original } = schema;
          expect({ name, schema: stored }).toEqual({ name, schema: original });
        }
        expect(plain.proxy.summary).toEqual(["PATCH 404", "POST 201"]);
        expect(plain.proxy.requests.map((r) => r.authScheme)).toEqual(["Bearer", "Bearer"]);
      });

      it("WHEN applied again unchanged THEN Terraform has nothing to do, nothing is sent and the pool is untouched", async () => {
        const before = await poolOn(plain, "my-ecs-pool");
        plain.proxy.reset();
        const result = deployment.apply(cloudEnv);
        expectOk(result);
        expect(result.stdout).toContain("No changes.");
        expect(plain.proxy.requests).toEqual([]);
        expect(await poolOn(plain, "my-ecs-pool")).toEqual(before);
      });

      it("WHEN a subnet changes in the AWS stack THEN the pool is PATCHed with the whole new template and keeps its id", async () => {
        const before = await poolOn(plain, "my-ecs-pool");
        plain.proxy.reset();
        deployment.setAwsOutputs(awsOutputs(plain.apiUrl, { subnet_ids: ["subnet-0a0a0a0a"], assign_public_ip: false }));
        expectOk(deployment.apply(cloudEnv));
        expect(plain.proxy.summary).toEqual(["PATCH 204"]);
        const after = await poolOn(plain, "my-ecs-pool");
        expect(after!.id).toBe(before!.id);
        expect(Date.parse(after!.updated)).toBeGreaterThan(Date.parse(before!.updated));
        expect(propertiesOf(after).network_configuration.default).toEqual({
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

    describe("GIVEN a pool the real CLI created (`prefect work-pool create --type ecs`) with its own template", () => {
      const name = "cli-made";
      it("WHEN applied THEN the pool is kept and its template replaced as a whole by ours", async () => {
        const cli = spawnSync(peerCommand("prefect", "prefect"), ["work-pool", "create", "--type", "ecs", name], {
          env: plain.server.clientEnv,
          encoding: "utf8",
        });
        expect({ status: cli.status, stderr: cli.status === 0 ? "" : cli.stderr }).toEqual({ status: 0, stderr: "" });
        const before = await poolOn(plain, name);
        expect(before).toMatchObject({ name, type: "ecs" });
        const theirs = propertiesOf(before);
        expect(theirs.cluster!.default ?? null).toBeNull();

        plain.proxy.reset();
        const deployment = deploy({ workPool: { name } }, awsOutputs(plain.apiUrl));
        expectOk(deployment.apply({ PREFECT_API_KEY: API_KEY }));
        expect(plain.proxy.summary).toEqual(["PATCH 204"]);
        const after = await poolOn(plain, name);
        expect(after!.id).toBe(before!.id);
        const ours = ecsBaseJobTemplate() as unknown as Template;
        const props = propertiesOf(after);
        expect(Object.keys(props).sort()).toEqual(Object.keys(ours.variables.properties).sort());
        // Whole replacement: our descriptions, not the CLI's, and the AWS defaults.
        expect(props.cluster!.description).toBe(ours.variables.properties.cluster!.description);
        expect(props.cluster!.default).toBe("arn:aws:ecs:us-east-1:123456789012:cluster/my-ecs-cluster");
        expect((after!.base_job_template as Template).job_configuration).toEqual(ours.job_configuration);
      });
    });

    describe("GIVEN a pool made with the server's own fallback ECS template (as a worker that cannot reach the registry makes it)", () => {
      it("WHEN applied THEN the old template's variables are gone and ours are set", async () => {
        const name = "fallback-made";
        const made = await fetch(`${plain.server.url}/work_pools/`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name, type: "ecs", base_job_template: prefectReference().serverFallbackTemplate }),
        });
        expect(made.status).toBe(201);
        expect(propertiesOf(await poolOn(plain, name)).stream_output).toBeDefined();

        plain.proxy.reset();
        const deployment = deploy({ workPool: { name } }, awsOutputs(plain.apiUrl));
        expectOk(deployment.apply({ PREFECT_API_KEY: API_KEY }));
        expect(plain.proxy.summary).toEqual(["PATCH 204"]);
        const props = propertiesOf(await poolOn(plain, name));
        expect(props.stream_output).toBeUndefined();
        expect(props.prefect_api_key_secret_arn!.default).toMatch(/^arn:aws:secretsmanager:/);
      });
    });

    describe("GIVEN deleteOnDestroy", () => {
      it("WHEN applied and destroyed THEN the pool is created, then deleted", async () => {
        const name = "destroy-me";
        const deployment = deploy({ workPool: { name, deleteOnDestroy: true } }, awsOutputs(plain.apiUrl));
        expectOk(deployment.apply({ PREFECT_API_KEY: API_KEY }));
        expect(await poolOn(plain, name)).toBeDefined();
        plain.proxy.reset();
        expectOk(deployment.destroy({ PREFECT_API_KEY: API_KEY }));
        expect(plain.proxy.summary).toEqual(["DELETE 204"]);
        expect(await poolOn(plain, name)).toBeUndefined();
      });
    });

    describe("GIVEN a self-hosted server with basic auth", () => {
      const name = "data-team";
      const config: PrefectEcsWorkerConfigInput = {
        workPool: { name, description: "Team pool", concurrencyLimit: 5 },
        prefect: { server: "self-hosted", auth: "basic-auth" },
        eventsQueue: { name: "data-team-events", deadLetterQueueName: "data-team-events-dlq", ruleName: "data-team-rule" },
        ecr: { repositoryName: "data-team-flows" },
        logs: { groupName: "/ecs/prefect-worker/data-team" },
        flowRunLogs: { groupName: "/ecs/prefect-flow-runs/data-team" },
      };
      let deployment: Deployment;
      beforeAll(() => {
        deployment = deploy(config, awsOutputs(basicAuth.apiUrl));
      });

      const expectUnauthorized = (result: TerraformResult) => {
        expect(result.status).not.toBe(0);
        expect(oneLine(result.stderr)).toContain(
          `401 Unauthorized from ${basicAuth.apiUrl}: check PREFECT_API_KEY (Prefect Cloud) or PREFECT_API_AUTH_STRING (self-hosted)`,
        );
        expect(result.stdout + result.stderr).not.toContain("wrong-password");
      };

      it("WHEN applied with the wrong auth string THEN it fails with a one-line hint and creates nothing; the next apply with the right one does", async () => {
        basicAuth.proxy.reset();
        expectUnauthorized(deployment.apply({ PREFECT_API_AUTH_STRING: "admin:wrong-password" }));
        expect(basicAuth.proxy.summary).toEqual(["PATCH 401"]);
        expect(await poolOn(basicAuth, name)).toBeUndefined();

        expectOk(deployment.apply({ PREFECT_API_AUTH_STRING: AUTH_STRING }));
        const pool = await poolOn(basicAuth, name);
        expect(pool).toMatchObject({ description: "Team pool", concurrency_limit: 5 });
        expect(propertiesOf(pool).prefect_api_auth_string_secret_arn!.default).toMatch(/^arn:aws:secretsmanager:/);
        expect(propertiesOf(pool).prefect_api_key_secret_arn!.default).toBeNull();
        expect(basicAuth.proxy.requests.every((request) => request.authScheme === "Basic")).toBe(true);
      });

      it("WHEN an AWS output changes and the apply has the wrong auth string THEN the pool is unchanged, and the next apply recovers", async () => {
        const before = await poolOn(basicAuth, name);
        deployment.setAwsOutputs(awsOutputs(basicAuth.apiUrl, { vpc_id: "vpc-0b0b0b0b" }));
        expectUnauthorized(deployment.apply({ PREFECT_API_AUTH_STRING: "admin:wrong-password" }));
        expect(await poolOn(basicAuth, name)).toEqual(before);

        basicAuth.proxy.reset();
        expectOk(deployment.apply({ PREFECT_API_AUTH_STRING: AUTH_STRING }));
        expect(basicAuth.proxy.summary).toEqual(["PATCH 204"]);
        expect(propertiesOf(await poolOn(basicAuth, name)).vpc_id!.default).toBe("vpc-0b0b0b0b");
      });
    });

    describe("GIVEN a CSRF-protected server without auth and deleteOnDestroy", () => {
      it("WHEN applied and destroyed THEN every change carries a fresh CSRF token, the pool is created and deleted", async () => {
        const name = "csrf-pool";
        const deployment = deploy(
          { prefect: { server: "self-hosted", auth: "none" }, workPool: { name, csrf: true, deleteOnDestroy: true } },
          awsOutputs(csrf.apiUrl),
        );
        csrf.proxy.reset();
        expectOk(deployment.apply());
        expect(csrf.proxy.summary).toEqual(["GET 200", "PATCH 404", "POST 201"]);
        expect(csrf.proxy.requests.map((r) => [r.url.split("?")[0], r.csrf])).toEqual([
          ["/api/csrf-token", false],
          [`/api/work_pools/${name}`, true],
          ["/api/work_pools/", true],
        ]);
        expect(await poolOn(csrf, name)).toBeDefined();

        csrf.proxy.reset();
        expectOk(deployment.destroy());
        expect(csrf.proxy.summary).toEqual(["GET 200", "DELETE 204"]);
        expect(await poolOn(csrf, name)).toBeUndefined();
      });

      it("WHEN the configuration lacks workPool.csrf THEN the apply fails naming the setting and creates nothing", async () => {
        const name = "csrf-forgotten";
        const deployment = deploy({ prefect: { server: "self-hosted", auth: "none" }, workPool: { name } }, awsOutputs(csrf.apiUrl));
        const result = deployment.apply();
        expect(result.status).not.toBe(0);
        expect(oneLine(result.stderr)).toContain("403 Forbidden from");
        expect(oneLine(result.stderr)).toContain("a server with CSRF protection needs workPool.csrf");
        expect(await poolOn(csrf, name)).toBeUndefined();
      });
    });
  });

  // A real server cannot be made to fail on demand: these faults come from the API double.
  describeWithPeers("Peer gate: against the API double's injected faults", ["prefect"], () => {
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
        expect(oneLine(result.stderr)).toContain("HTTP 503 from");
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
          expect((api.pool("my-ecs-pool")!.base_job_template as Template).variables.properties.cluster!.default).toMatch(/cluster\//);
        } finally {
          await api.stop();
        }
      });
    });
  });
});
