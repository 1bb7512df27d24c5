import { App } from "cdktf";
import { ResolvedConfig } from "./config/resolve";
import { awsStackName, WorkerAwsStack } from "./stacks/worker-aws-stack";
import { WorkPoolStack, workPoolStackName } from "./work-pool/work-pool-stack";

/** One work pool's stacks. */
export interface PoolStacks {
  readonly awsStack: WorkerAwsStack;
  /** Undefined when workPool.manage is false. */
  readonly workPoolStack?: WorkPoolStack;
}

export interface SynthesizedApp extends PoolStacks {
  readonly app: App;
}

export interface BuildAppsOptions {
  /**
   * Resolve each element of every stack once (SelfContainedStackProps.resolveOnce): on at the
   * app's edge, where nothing but this app's constructs is in the stacks.
   * @default false
   */
  readonly resolveOnce?: boolean;
}

export interface SynthesizedApps {
  readonly app: App;
  /** The stacks of each configuration, in the order given. */
  readonly pools: readonly PoolStacks[];
}

/** Builds the app's stacks for a resolved configuration. */
export function buildApp(config: ResolvedConfig, outdir: string): SynthesizedApp {
  const { app, pools } = buildApps([config], outdir);
  return { app, ...pools[0] };
}

/**
 * Builds the stacks of several work pools in one app: each configuration gets
 * its `<pool>-aws` and `<pool>-work-pool` stacks. Stack names derive from the
 * pool names, so the pools must map to distinct stack names; account-global
 * AWS names (roles, cluster, secret, ...) are the configurations' business.
 */
export function buildApps(configs: readonly ResolvedConfig[], outdir: string, options: BuildAppsOptions = {}): SynthesizedApps {
  const byStack = new Map<string, string>();
  for (const config of configs) {
    const name = awsStackName(config);
    const other = byStack.get(name);
    if (other !== undefined) {
      throw new Error(`work pools "${other}" and "${config.workPoolName}" both map to stack ${name}; give them distinct names`);
    }
    byStack.set(name, config.workPoolName);
  }
  // No stack traces in the output (they hold absolute paths), and no validation: cdktf's would run
  // `terraform version` for every terraform_data resource, making synthesis need Terraform; the
  // stacks declare required_version and the test suite validates them with real Terraform.
  const app = new App({ outdir, stackTraces: false, skipValidation: true });
  const pools = configs.map((config) => addPoolStacks(app, config, options));
  // A pool that uses a cluster another pool creates applies after that pool's AWS stack.
  configs.forEach((config, i) => {
    const owner = config.cluster.mode === "existing" ? config.cluster.createdByPool : undefined;
    const ownerIndex = owner === undefined ? -1 : configs.findIndex((c) => c.workPoolName === owner);
    if (ownerIndex >= 0) pools[i].awsStack.addDependency(pools[ownerIndex].awsStack);
  });
  return { app, pools };
}

function addPoolStacks(app: App, config: ResolvedConfig, { resolveOnce }: BuildAppsOptions): PoolStacks {
  const awsName = awsStackName(config);
  const awsStack = new WorkerAwsStack(app, awsName, { config, resolveOnce });
  if (!config.workPool.manage) return { awsStack };
  const workPoolStack = new WorkPoolStack(app, workPoolStackName(awsName), { config, awsStackName: awsName, resolveOnce });
  // Apply order: the pool defaults come from the AWS stack's outputs.
  workPoolStack.addDependency(awsStack);
  return { awsStack, workPoolStack };
}
