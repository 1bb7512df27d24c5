/**
 * One run of the guide, offline: a moto server (behind a call-recording proxy) and a real Prefect server
 * on loopback, the synthesized stacks applied and destroyed with real Terraform. Keeps the numbers the
 * report needs: wall time and AWS calls per step, resources created and destroyed.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { PrefectEcsWorkerConfigInput } from "../../src/config/schema";
import { workPoolStackName } from "../../src/work-pool/work-pool-stack";
import { spawn } from "node:child_process";
import { AwsCallRecorder, boto3, countCalls, MOTO_CREDENTIALS, motoInventory, MotoInventory, TaskDefinitionDescription } from "../support/moto-stack";
import {
  describeWithPeers,
  freePort,
  MotoServer,
  peerCommand,
  peerEnv,
  PeerProcess,
  PrefectServer,
  PrefectServerOptions,
  startMotoServer,
  startPrefectServer,
} from "../support/peers";
import { synthesize, TerraformJson } from "../support/synth";
import { resolveConfigs } from "../../src/config/pools";
import { ResolvedConfig } from "../../src/config/resolve";
import { awsStackName } from "../../src/stacks/worker-aws-stack";
import { synthesizeApps } from "../../src/synthesize";
import { describeWithTerraform, terraformOkAsync, TerraformResult } from "../support/terraform";

/** A Terraform gate that also needs the Python peers (moto, Prefect). */
export function describeGuideE2E(name: string, body: () => void): void {
  describeWithTerraform(name, () => describeWithPeers("with moto and a Prefect server", ["prefect"], body));
}

interface StepRecord {
  readonly step: string;
  readonly seconds: number;
  readonly awsCalls: number;
  readonly byAction: Record<string, number>;
  /** Terraform's own count, e.g. "24 added, 0 changed, 0 destroyed". */
  readonly resources?: string;
}

export type StackOutputs = Record<string, string | string[] | boolean>;

export interface StackFolders {
  readonly config: ResolvedConfig;
  readonly awsDir: string;
  readonly workPoolDir: string;
}

export class GuideScenario {
  private readonly steps: StepRecord[] = [];
  private readonly started = Date.now();
  private readonly cleanups: (() => void)[] = [];
  private readonly workers: PeerProcess[] = [];
  /** A folder for the test's own files (backend settings), removed by `stop`. */
  public readonly scratchDir = mkdtempSync(join(tmpdir(), "guide-e2e-"));

  private constructor(
    public readonly name: string,
    public readonly moto: MotoServer,
    /** moto behind the recorder: the endpoint Terraform and the worker use. */
    public readonly aws: AwsCallRecorder,
    public readonly prefect: PrefectServer,
    public readonly region: string,
  ) {}

  static async start(name: string, prefectOptions: PrefectServerOptions = {}, region = "us-east-1"): Promise<GuideScenario> {
    const [moto, prefect] = await Promise.all([startMotoServer(), startPrefectServer(prefectOptions)]);
    const aws = await AwsCallRecorder.start(moto.url);
    return new GuideScenario(name, moto, aws, prefect, region);
  }

  /** Synthesizes the configuration as `node synth.js` does; the folders are removed by `stop`. */
  synthesize(config: PrefectEcsWorkerConfigInput): StackFolders {
    const synthesized = synthesize(config);
    this.cleanups.push(() => rmSync(synthesized.outdir, { recursive: true, force: true }));
    return { config: synthesized.config, awsDir: synthesized.stackDir, workPoolDir: workPoolDirOf(synthesized.stackDir) };
  }

  /** Synthesizes a configuration with `pools` as `node synth.js` does: the folders of each pool, in order. */
  synthesizePools(config: PrefectEcsWorkerConfigInput & { readonly pools: readonly PrefectEcsWorkerConfigInput[] }): StackFolders[] {
    const outdir = mkdtempSync(join(tmpdir(), "prefect-ecs-synth-"));
    this.cleanups.push(() => rmSync(outdir, { recursive: true, force: true }));
    const configs = resolveConfigs(config);
    synthesizeApps(configs, outdir);
    return configs.map((pool) => {
      const awsDir = join(outdir, "stacks", awsStackName(pool));
      return { config: pool, awsDir, workPoolDir: workPoolDirOf(awsDir) };
    });
  }

  /** Runs a step, recording its wall time and the AWS calls moto received meanwhile. */
  async step<T>(step: string, run: () => Promise<T>, resources?: (result: T) => string | undefined): Promise<T> {
    const mark = this.aws.mark();
    const start = Date.now();
    let result: T | undefined;
    try {
      result = await run();
      return result;
    } finally {
      const { total, byAction } = countCalls(this.aws.since(mark));
      const counted = result !== undefined && resources ? resources(result) : undefined;
      this.steps.push({ step, seconds: (Date.now() - start) / 1000, awsCalls: total, byAction, ...(counted ? { resources: counted } : {}) });
    }
  }

  /** `terraform <args>` in a stack folder as a recorded step; fails with Terraform's output. */
  terraform(step: string, dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<TerraformResult> {
    return this.step(
      step,
      () => terraformOkAsync(dir, [...args, "-input=false", "-no-color"], env),
      (result) => /Resources: ([^.]+)\./.exec(result.stdout)?.[1],
    );
  }

  /** `terraform output -json` of a stack, as name → value. */
  async outputs(dir: string): Promise<StackOutputs> {
    const outputs = JSON.parse((await terraformOkAsync(dir, ["output", "-json"])).stdout) as Record<string, { value: StackOutputs[string] }>;
    return Object.fromEntries(Object.entries(outputs).map(([name, output]) => [name, output.value]));
  }

  inventory(): MotoInventory {
    return motoInventory(this.moto.url, this.region);
  }

  /**
   * Starts the worker the way ECS would start the task definition's container, as a local process: its
   * exact command (resolved in the peers' environment, which stands in for the image) and environment,
   * each `secrets[].valueFrom` resolved from moto as the execution role would, and what Fargate adds
   * (region, credentials: fake ones, with every AWS call going to moto through the recorder). One change:
   * the health server listens on loopback and a free port instead of 0.0.0.0:8080.
   */
  async startWorker(definition: TaskDefinitionDescription): Promise<EcsStyleWorker> {
    const [container] = definition.containerDefinitions;
    if (!container.command || container.command.length === 0) throw new Error(`${definition.arn} has no command`);
    const port = await freePort();
    const home = mkdtempSync(join(tmpdir(), "guide-worker-"));
    this.cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    const env: NodeJS.ProcessEnv = {
      ...peerEnv(home),
      ...Object.fromEntries((container.environment ?? []).map(({ name, value }) => [name, value])),
      ...this.resolveSecrets(container.secrets ?? []),
      AWS_REGION: this.region,
      AWS_DEFAULT_REGION: this.region,
      ...MOTO_CREDENTIALS,
      AWS_ENDPOINT_URL: this.aws.url,
      PREFECT_WORKER_WEBSERVER_HOST: "127.0.0.1",
      PREFECT_WORKER_WEBSERVER_PORT: String(port),
    };
    const [command, ...args] = container.command;
    const worker = PeerProcess.start(`worker of ${definition.arn}`, peerCommand("prefect", command), args, env);
    const probe = container.healthCheck?.command;
    if (!probe || probe[0] !== "CMD-SHELL") throw new Error(`${definition.arn} has no CMD-SHELL health check`);
    // The task definition's own probe, on the port the worker got.
    const healthCheck = () => shell(probe[1].replace("localhost:8080", `127.0.0.1:${port}`), { ...env, PATH: `${dirname(peerCommand("prefect", "python"))}:${env.PATH}` });
    this.workers.push(worker);
    return { process: worker, env, healthCheck };
  }

  /** `secrets[].valueFrom` as ECS resolves it: Secrets Manager secret or SSM parameter, by ARN. */
  private resolveSecrets(secrets: readonly { name: string; valueFrom: string }[]): Record<string, string> {
    if (secrets.length === 0) return {};
    return boto3<Record<string, string>>(
      this.moto.url,
      this.region,
      [
        `secrets = json.loads(${JSON.stringify(JSON.stringify(secrets))})`,
        "def value(arn):",
        "    if ':secretsmanager:' in arn: return aws('secretsmanager').get_secret_value(SecretId=arn)['SecretString']",
        "    return aws('ssm').get_parameters(Names=[arn], WithDecryption=True)['Parameters'][0]['Value']",
        "print(json.dumps({s['name']: value(s['valueFrom']) for s in secrets}))",
      ].join("\n"),
    );
  }

  /** The numbers for the report, printed once at the end. */
  report(): string {
    const lines = this.steps.map(
      (s) =>
        `  ${s.step.padEnd(44)} ${s.seconds.toFixed(1).padStart(6)} s ${String(s.awsCalls).padStart(4)} AWS calls` +
        (s.resources ? `  resources: ${s.resources}` : "") +
        (s.awsCalls > 0 ? `  ${Object.entries(s.byAction).map(([action, n]) => `${action}×${n}`).join(" ")}` : ""),
    );
    return [`E2E scenario "${this.name}": ${((Date.now() - this.started) / 1000).toFixed(1)} s in all`, ...lines].join("\n");
  }

  async stop(): Promise<void> {
    console.log(this.report());
    await Promise.all(this.workers.map((worker) => worker.stop()));
    await Promise.all([this.aws.stop(), this.moto.stop(), this.prefect.stop()]);
    for (const cleanup of this.cleanups) cleanup();
    rmSync(this.scratchDir, { recursive: true, force: true });
  }
}

export interface EcsStyleWorker {
  readonly process: PeerProcess;
  /** The environment it runs with (the resolved secret included). */
  readonly env: NodeJS.ProcessEnv;
  /** Runs the task definition's health check command; resolves to its exit status. */
  healthCheck(): Promise<number>;
}

function shell(command: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", command], { env, stdio: "ignore" });
    child.on("error", () => resolve(-1));
    child.on("close", (status) => resolve(status ?? -1));
  });
}

/** A stack's synthesized `cdk.tf.json`. */
export function stackJson(dir: string): TerraformJson {
  return JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8")) as TerraformJson;
}

function workPoolDirOf(awsDir: string): string {
  return join(dirname(awsDir), workPoolStackName(basename(awsDir)));
}

/** `Resources: N added` / `N destroyed` from an apply or destroy. */
export function resourceCounts(result: TerraformResult): { added: number; destroyed: number } {
  const added = /Resources: (\d+) added/.exec(result.stdout);
  const destroyed = /Resources: (?:\d+ added, \d+ changed, )?(\d+) destroyed/.exec(result.stdout);
  return { added: Number(added?.[1] ?? 0), destroyed: Number(destroyed?.[1] ?? 0) };
}

/** What a stack folder holds apart from what Terraform itself adds (.terraform, lock file, state). */
export function shippedFiles(dir: string): string[] {
  const terraformOwn = new Set([".terraform", ".terraform.lock.hcl", "terraform.tfstate", "terraform.tfstate.backup"]);
  return existsSync(dir) ? readdirSync(dir).filter((name) => !terraformOwn.has(name)).sort() : [];
}

/**
 * The inventory without what AWS (and moto) keep after a delete: INACTIVE clusters and services, and
 * secrets scheduled for deletion (the recovery window); nor the task definitions the worker registered
 * for flow runs (not Terraform's).
 */
export function liveResources(inventory: MotoInventory, workerTaskDefinitions: readonly string[] = []): MotoInventory {
  const active = <T extends { status: string }>(entries: Record<string, T>) =>
    Object.fromEntries(Object.entries(entries).filter(([, entry]) => entry.status !== "INACTIVE"));
  return {
    ...inventory,
    clusters: active(inventory.clusters),
    services: active(inventory.services),
    secrets: Object.fromEntries(Object.entries(inventory.secrets).filter(([, secret]) => !secret.deletedDate)),
    taskDefinitions: Object.fromEntries(Object.entries(inventory.taskDefinitions).filter(([, definition]) => !workerTaskDefinitions.includes(definition.arn))),
  };
}

/** Stops an ECS task in moto, as a finished flow run's task would stop. */
export function stopTask(scenario: GuideScenario, cluster: string, task: string): void {
  boto3(scenario.moto.url, scenario.region, `aws("ecs").stop_task(cluster=${JSON.stringify(cluster)}, task=${JSON.stringify(task)})\nprint("{}")`);
}
