import { App } from "cdktf";
import { ResolvedConfig } from "./config/resolve";
import { awsStackName, WorkerAwsStack } from "./stacks/worker-aws-stack";

export interface SynthesizedApp {
  readonly app: App;
  readonly awsStack: WorkerAwsStack;
}

/** Builds the app's stacks for a resolved configuration. */
export function buildApp(config: ResolvedConfig, outdir: string): SynthesizedApp {
  // No stack traces in the output: they hold absolute paths of this machine.
  const app = new App({ outdir, stackTraces: false });
  const awsStack = new WorkerAwsStack(app, awsStackName(config), { config });
  return { app, awsStack };
}
