import { App } from "cdktf";
import { ResolvedConfig } from "./config/resolve";
import { awsStackName, WorkerAwsStack } from "./stacks/worker-aws-stack";
import { WorkPoolStack, workPoolStackName } from "./work-pool/work-pool-stack";

export interface SynthesizedApp {
  readonly app: App;
  readonly awsStack: WorkerAwsStack;
  /** Undefined when workPool.manage is false. */
  readonly workPoolStack?: WorkPoolStack;
}

/** Builds the app's stacks for a resolved configuration. */
export function buildApp(config: ResolvedConfig, outdir: string): SynthesizedApp {
  // No stack traces in the output: they hold absolute paths of this machine.
  const app = new App({ outdir, stackTraces: false });
  const awsName = awsStackName(config);
  const awsStack = new WorkerAwsStack(app, awsName, { config });
  if (!config.workPool.manage) return { app, awsStack };
  const workPoolStack = new WorkPoolStack(app, workPoolStackName(awsName), { config, awsStackName: awsName });
  // Apply order: the pool defaults come from the AWS stack's outputs.
  workPoolStack.addDependency(awsStack);
  return { app, awsStack, workPoolStack };
}
