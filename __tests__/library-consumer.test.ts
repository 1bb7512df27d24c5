/**
 * The project is a construct library too: a cdktf user adds a Prefect ECS
 * worker to a stack of their own, importing only the public entry point.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, TerraformStack, TerraformVariable } from "cdktf";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, PrefectEcsWorker, resolveConfig } from "../src/index";
import { CLOUD_API_URL } from "./support/synth";

describe("GIVEN an external cdktf app that imports only the public entry point", () => {
  const outdir = mkdtempSync(join(tmpdir(), "prefect-ecs-library-"));
  const app = new App({ outdir, skipValidation: true });
  const stack = new TerraformStack(app, "platform");
  new AwsProvider(stack, "aws", { region: "eu-central-1" });
  const imageTag = new TerraformVariable(stack, "prefect_worker_image_tag", { type: "string", default: "0.7.11-python3.12" });
  const worker = new PrefectEcsWorker(stack, "worker", {
    config: resolveConfig({
      workPool: { name: "platform-pool" },
      aws: { region: "eu-central-1" },
      prefect: { apiUrl: CLOUD_API_URL },
      secret: { valueSource: "external" },
      network: { vpcId: "vpc-0a1b2c3d4e5f60718", subnetIds: ["subnet-0a1b2c3d4e5f60718"] },
    }),
    settings: { imageTag: imageTag.stringValue, desiredCount: 2 },
  });
  app.synth();
  const json = JSON.parse(readFileSync(join(outdir, "stacks", "platform", "cdk.tf.json"), "utf8"));

  it("WHEN synthesized THEN the worker's resources are in the consumer's stack, with its own settings", () => {
    expect(json.resource.aws_ecs_service.worker.desired_count).toBe(2);
    expect(json.locals.worker_container.image).toBe("prefecthq/prefect-aws:${var.prefect_worker_image_tag}");
    expect(json.resource.aws_ecs_service.worker.network_configuration.subnets).toEqual(["subnet-0a1b2c3d4e5f60718"]);
    expect(json.resource.aws_secretsmanager_secret.prefect_api_secret.name).toBe("PrefectECSWorkerAPIKey");
  });

  it("THEN the construct exposes what it created", () => {
    expect(worker.service.service.name).toBeDefined();
    expect(worker.eventsQueue.queue.name).toBeDefined();
    expect(worker.flowRunTaskRole).toBeDefined();
    expect(worker.apiSecret?.environmentName).toBe("PREFECT_API_KEY");
  });

  it("WHEN the consumer's configuration is invalid THEN resolveConfig throws a ConfigError naming the field", () => {
    expect(() => resolveConfig({ worker: { cpu: 512, memory: 512 } })).toThrow(ConfigError);
    expect(() => resolveConfig({ worker: { cpu: 512, memory: 512 } })).toThrow(/worker\.memory/);
  });
});
