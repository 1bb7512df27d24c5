/**
 * End to end with the real worker: Terraform applies the work-pool stack against a real Prefect server,
 * a deployment and a flow run are made through the real Prefect client, and the real prefect-aws ECS
 * worker (`prefect worker start --type ecs --run-once`) renders the flow run's job from our template and
 * calls ECS, in moto. What reached moto is what a real ECS would have been asked to run.
 *
 * The AWS stack's outputs come from a prepared state file whose values are resources seeded in moto, so
 * that moto can place the task (cluster, subnets and security group must exist there).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PrefectEcsWorkerConfigInput } from "../src/config/schema";
import { awsOutputsState } from "./support/aws-state";
import { describeWithPeers, MotoServer, PrefectServer, RecordedAwsRequest, startMotoServer, startPrefectServer } from "./support/peers";
import { FlowRunAwsNames, FlowRunSubmission, runTaskTag, seedFlowRunAws, submissionOf, submitFlowRuns } from "./support/prefect-worker";
import { synthesize } from "./support/synth";
import { describeWithTerraform, init, terraformOk } from "./support/terraform";

const API_KEY = "pnu_realWORKERfakeFAKEfakeFAKE123456";
const AUTH_STRING = "admin:real-worker-not-a-password";
/** A scenario's setup starts a server, applies with Terraform and runs the worker: minutes on a loaded 2-core machine. */
const SETUP_TIMEOUT_MS = 300_000;

/** Synthesizes the configuration, gives the work-pool stack the AWS outputs and applies it. */
function applyWorkPoolStack(config: PrefectEcsWorkerConfigInput, awsOutputs: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  const { stackDir } = synthesize(config);
  writeFileSync(join(stackDir, "terraform.tfstate"), awsOutputsState(awsOutputs));
  const workPoolDir = stackDir.replace(/-aws$/, "-work-pool");
  init(workPoolDir);
  terraformOk(workPoolDir, ["apply", "-auto-approve", "-input=false", "-no-color"], env);
}

/** Names of the resources seeded in moto for a pool (what its AWS stack would have created). */
function namesFor(pool: string): FlowRunAwsNames {
  return {
    cluster_name: `${pool}-cluster`,
    security_group_name: `${pool}-flow-runs`,
    execution_role_name: `${pool}-execution`,
    task_role_name: `${pool}-runner`,
    secret_name: `${pool}-credential`,
    log_group_name: `/ecs/prefect-flow-runs/${pool}`,
  };
}

/** The names of the environment variables the flow run's container gets from the RunTask overrides. */
function overriddenEnvironment({ runTask }: FlowRunSubmission): string[] {
  return runTask.overrides.containerOverrides.flatMap((override) => override.environment ?? []).map((variable) => variable.name);
}

describeWithPeers("Peer gate: the real prefect-aws worker submits flow runs of our pool to ECS (moto)", ["prefect"], () => {
  describeWithTerraform("with the work-pool stack applied by Terraform", () => {
    let moto: MotoServer;
    beforeAll(async () => {
      moto = await startMotoServer();
    });
    afterAll(() => moto?.stop());

    describe("GIVEN an api-key pool (Prefect Cloud's auth) applied to a real Prefect server", () => {
      const pool = "cloud-pool";
      const image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/flows:2026-11-30";
      let server: PrefectServer;
      let outputs: Record<string, unknown>;
      let defaults: FlowRunSubmission;
      let ownImage: FlowRunSubmission;
      let deploymentIds: string[];
      let requests: RecordedAwsRequest[];

      beforeAll(async () => {
        server = await startPrefectServer();
        outputs = { ...seedFlowRunAws(moto, namesFor(pool)), prefect_api_url: server.url, assign_public_ip: true };
        // The local server ignores the key; the pool's template carries the secret's ARN for the flow runs.
        applyWorkPoolStack({ workPool: { name: pool } }, outputs, { PREFECT_API_KEY: API_KEY });
        // WHEN the worker (with its own API key, as on ECS) submits a flow run of each deployment
        const submissions = await submitFlowRuns(server, moto, {
          pool,
          cluster: outputs.cluster_arn as string,
          deployments: [{ name: "pool-defaults" }, { name: "own-image", jobVariables: { image } }],
          workerEnv: { PREFECT_API_KEY: API_KEY },
        });
        [defaults, ownImage] = submissions.flowRuns.map((flowRun) => submissionOf(submissions, flowRun));
        deploymentIds = submissions.flowRuns.map((flowRun) => flowRun.deploymentId);
        requests = [...submissions.requests];
      }, SETUP_TIMEOUT_MS);
      afterAll(() => server?.stop());

      it("WHEN a deployment sets nothing THEN its task definition has the default image, the key from our secret, logs to our group and our execution role", () => {
        expect(defaults.taskDefinition).toMatchObject({
          family: `prefect_${pool}_${deploymentIds[0]}`,
          executionRoleArn: outputs.flow_run_execution_role_arn,
          requiresCompatibilities: ["FARGATE"],
          networkMode: "awsvpc",
        });
        const [container] = defaults.taskDefinition.containerDefinitions;
        expect(container.name).toBe("prefect");
        expect(container.image).toMatch(/^prefecthq\/prefect:3\.9\.1-python3\.\d+$/);
        expect(container.secrets).toEqual([{ name: "PREFECT_API_KEY", valueFrom: outputs.secret_arn }]);
        expect(container.logConfiguration).toEqual({
          logDriver: "awslogs",
          options: {
            "awslogs-group": outputs.flow_run_log_group_name,
            "awslogs-create-group": "false",
            "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": `prefect-logs_${pool}_${deploymentIds[0]}`,
          },
        });
      });

      it("WHEN a deployment sets nothing THEN RunTask gets our cluster, subnets, security group, public IP, task role and the flow run's tags", () => {
        expect(defaults.runTask).toMatchObject({
          cluster: outputs.cluster_arn,
          taskDefinition: defaults.taskDefinition.taskDefinitionArn,
          launchType: "FARGATE",
          networkConfiguration: {
            awsvpcConfiguration: { subnets: outputs.subnet_ids, securityGroups: outputs.security_group_ids, assignPublicIp: "ENABLED" },
          },
          overrides: { taskRoleArn: outputs.flow_run_task_role_arn },
        });
        expect(runTaskTag(defaults.runTask, "prefect.io/work-pool-name")).toBe(pool);
        expect(runTaskTag(defaults.runTask, "prefect.io/deployment-id")).toBe(deploymentIds[0]);
        // The key travels only as the secret's ARN, never as a plain variable of the flow run's container.
        expect(overriddenEnvironment(defaults)).not.toContain("PREFECT_API_KEY");
        expect(defaults.task).toMatchObject({ clusterArn: outputs.cluster_arn, launchType: "FARGATE" });
      });

      it("WHEN a deployment overrides the image THEN its task definition runs that image with the pool's other defaults", () => {
        const [container] = ownImage.taskDefinition.containerDefinitions;
        expect(container.image).toBe(image);
        expect(container.secrets).toEqual([{ name: "PREFECT_API_KEY", valueFrom: outputs.secret_arn }]);
        expect(container.logConfiguration?.options["awslogs-group"]).toBe(outputs.flow_run_log_group_name);
        expect(ownImage.taskDefinition.executionRoleArn).toBe(outputs.flow_run_execution_role_arn);
        expect(ownImage.runTask).toMatchObject({
          cluster: outputs.cluster_arn,
          networkConfiguration: { awsvpcConfiguration: { subnets: outputs.subnet_ids, securityGroups: outputs.security_group_ids } },
          overrides: { taskRoleArn: outputs.flow_run_task_role_arn },
        });
      });

      it("THEN no AWS request carries the worker's API key", () => {
        expect(requests.length).toBeGreaterThan(0);
        for (const request of requests) expect(request.body).not.toContain(API_KEY);
      });
    });

    describe("GIVEN a basic-auth pool applied to a self-hosted Prefect server that enforces it", () => {
      const pool = "self-hosted-pool";
      let server: PrefectServer;
      let outputs: Record<string, unknown>;
      let submission: FlowRunSubmission;
      let requests: RecordedAwsRequest[];

      beforeAll(async () => {
        server = await startPrefectServer({ authString: AUTH_STRING });
        outputs = { ...seedFlowRunAws(moto, namesFor(pool)), prefect_api_url: server.url, assign_public_ip: false };
        applyWorkPoolStack({ workPool: { name: pool }, prefect: { server: "self-hosted", auth: "basic-auth" } }, outputs, {
          PREFECT_API_AUTH_STRING: AUTH_STRING,
        });
        // WHEN the worker (with the server's auth string, as on ECS) submits a flow run of a deployment that sets nothing
        const submissions = await submitFlowRuns(server, moto, { pool, cluster: outputs.cluster_arn as string, deployments: [{ name: "pool-defaults" }] });
        submission = submissionOf(submissions, submissions.flowRuns[0]);
        requests = [...submissions.requests];
      }, SETUP_TIMEOUT_MS);
      afterAll(() => server?.stop());

      it("THEN the task definition takes the auth string from our secret, logs to our group and uses our execution role", () => {
        const [container] = submission.taskDefinition.containerDefinitions;
        expect(container.secrets).toEqual([{ name: "PREFECT_API_AUTH_STRING", valueFrom: outputs.secret_arn }]);
        expect(container.logConfiguration?.options).toMatchObject({
          "awslogs-group": outputs.flow_run_log_group_name,
          "awslogs-create-group": "false",
        });
        expect(submission.taskDefinition.executionRoleArn).toBe(outputs.flow_run_execution_role_arn);
        expect(overriddenEnvironment(submission)).not.toContain("PREFECT_API_AUTH_STRING");
      });

      it("THEN RunTask gets our cluster, subnets, security group, no public IP and our task role", () => {
        expect(submission.runTask).toMatchObject({
          cluster: outputs.cluster_arn,
          networkConfiguration: {
            awsvpcConfiguration: { subnets: outputs.subnet_ids, securityGroups: outputs.security_group_ids, assignPublicIp: "DISABLED" },
          },
          overrides: { taskRoleArn: outputs.flow_run_task_role_arn },
        });
        expect(runTaskTag(submission.runTask, "prefect.io/work-pool-name")).toBe(pool);
      });

      it("THEN no AWS request carries the auth string's password", () => {
        expect(requests.length).toBeGreaterThan(0);
        for (const request of requests) expect(request.body).not.toContain(AUTH_STRING.split(":")[1]);
      });
    });
  });
});
