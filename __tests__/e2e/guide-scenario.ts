/**
 * One run of the guide, offline: a moto server (behind a call-recording proxy) and a real Prefect server
 * on loopback, the synthesized stacks applied and destroyed with real Terraform. Keeps the numbers the
 * report needs: wall time and AWS calls per step, resources created and destroyed.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { PrefectEcsWorkerConfigInput } from "../../src/config/schema";
import { workPoolStackName } from "../../src/work-pool/work-pool-stack";
import { AwsCallRecorder, countCalls, motoInventory, MotoInventory } from "../support/moto-stack";
import { describeWithPeers, MotoServer, PrefectServer, PrefectServerOptions, startMotoServer, startPrefectServer } from "../support/peers";
import { synthesize, Synthesized } from "../support/synth";
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

export interface StackFolders {
  readonly synthesized: Synthesized;
  readonly awsDir: string;
  readonly workPoolDir: string;
}

export class GuideScenario {
  private readonly steps: StepRecord[] = [];
  private readonly started = Date.now();
  private readonly cleanups: (() => void)[] = [];
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
    return {
      synthesized,
      awsDir: synthesized.stackDir,
      workPoolDir: join(synthesized.outdir, "stacks", workPoolStackName(basename(synthesized.stackDir))),
    };
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

  inventory(): MotoInventory {
    return motoInventory(this.moto.url, this.region);
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
    await Promise.all([this.aws.stop(), this.moto.stop(), this.prefect.stop()]);
    for (const cleanup of this.cleanups) cleanup();
    rmSync(this.scratchDir, { recursive: true, force: true });
  }
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
 * secrets scheduled for deletion (the recovery window).
 */
export function liveResources(inventory: MotoInventory): MotoInventory {
  const active = <T extends { status: string }>(entries: Record<string, T>) =>
    Object.fromEntries(Object.entries(entries).filter(([, entry]) => entry.status !== "INACTIVE"));
  return {
    ...inventory,
    clusters: active(inventory.clusters),
    services: active(inventory.services),
    secrets: Object.fromEntries(Object.entries(inventory.secrets).filter(([, secret]) => !secret.deletedDate)),
  };
}
