/**
 * Applies the synthesized stacks against moto's AWS API emulator on loopback (test only, never shipped):
 * an override file beside a stack points the AWS provider at moto, a recording proxy in front of moto
 * counts the AWS calls each step makes, and a boto3 script reads back what exists in moto.
 */
import { createServer, request, Server } from "node:http";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { peerEnv, runPython } from "./peers";

/** Fake credentials: moto accepts any. */
export const MOTO_CREDENTIALS = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" } as const;
/** moto's default account. */
export const MOTO_ACCOUNT_ID = "123456789012";
/** Every service the AWS stack calls (s3 for the state backend). */
export const MOTO_SERVICES = ["iam", "sts", "sqs", "events", "ecs", "ecr", "logs", "secretsmanager", "ssm", "ec2", "kms", "s3"] as const;
/** The test-only file that points a stack at moto; Terraform merges `*_override.tf.json` into the stack's files. */
export const MOTO_OVERRIDE_FILE = "moto_override.tf.json";

/** Settings the provider and the S3 backend share: no credential, account or region lookups against real AWS. */
const SKIP_AWS_LOOKUPS = {
  skip_credentials_validation: true,
  skip_requesting_account_id: true,
  skip_metadata_api_check: true,
  skip_region_validation: true,
} as const;

/**
 * Points the stack's `provider "aws"` at the endpoint (Terraform merges the override into the shipped
 * block, so `region` and `default_tags` stay the stack's own).
 */
export function pointProviderAt(stackDir: string, endpoint: string): void {
  const endpoints = Object.fromEntries(MOTO_SERVICES.map((service) => [service, endpoint]));
  writeOverride(stackDir, {
    provider: {
      aws: {
        access_key: MOTO_CREDENTIALS.AWS_ACCESS_KEY_ID,
        secret_key: MOTO_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
        ...SKIP_AWS_LOOKUPS,
        s3_use_path_style: true,
        endpoints: [endpoints],
      },
    },
  });
}

/** S3 backend and `terraform_remote_state` settings that reach a bucket in moto. */
function s3Settings(endpoint: string): Record<string, unknown> {
  return {
    endpoints: { s3: endpoint },
    use_path_style: true,
    access_key: MOTO_CREDENTIALS.AWS_ACCESS_KEY_ID,
    secret_key: MOTO_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
    ...SKIP_AWS_LOOKUPS,
  };
}

/**
 * A `-backend-config` file for `terraform init` that sends the shipped S3 backend to moto (partial
 * configuration merges into the backend block; an override file would replace it whole). Written into
 * `dir`, a folder of the test's, never beside the stack.
 */
export function s3BackendConfigFile(endpoint: string, dir: string): string {
  const hcl = Object.entries(s3Settings(endpoint))
    .map(([name, value]) => (typeof value === "object" ? `${name} = { s3 = ${JSON.stringify((value as { s3: string }).s3)} }` : `${name} = ${JSON.stringify(value)}`))
    .join("\n");
  const file = join(dir, "moto.s3.tfbackend");
  writeFileSync(file, `${hcl}\n`);
  return file;
}

/**
 * Sends the work-pool stack's `terraform_remote_state` (S3) to moto: the override repeats the shipped
 * `config` (an attribute is replaced whole) and adds the endpoint settings.
 */
export function pointRemoteStateAt(stackDir: string, dataSource: string, endpoint: string): void {
  const shipped = JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8")) as {
    data: { terraform_remote_state: Record<string, { backend: string; config: Record<string, unknown> }> };
  };
  const source = shipped.data.terraform_remote_state[dataSource];
  if (source?.backend !== "s3") throw new Error(`data.terraform_remote_state.${dataSource} does not read S3`);
  writeOverride(stackDir, { data: { terraform_remote_state: { [dataSource]: { config: { ...source.config, ...s3Settings(endpoint) } } } } });
}

function writeOverride(stackDir: string, content: Record<string, unknown>): void {
  writeFileSync(join(stackDir, MOTO_OVERRIDE_FILE), `${JSON.stringify(content, null, 2)}\n`);
}

/** One AWS API call as the recording proxy saw it. */
export interface AwsCall {
  /** The signing name from the SigV4 credential scope: `iam`, `sqs`, `ecs`, ... */
  readonly service: string;
  /** The operation (`CreateRole`, `RunTask`); for S3 the method and what it addresses (`PUT object`). */
  readonly action: string;
  /** S3 only: the key addressed. */
  readonly key?: string;
  /** JSON-protocol calls only (ECS, Logs, ...): the request, parsed. */
  readonly request?: Record<string, unknown>;
}

/**
 * An HTTP proxy on loopback in front of moto that records each call's service and operation, so a test
 * can say how many calls each step made (moto keeps no such count).
 */
export class AwsCallRecorder {
  private readonly recorded: AwsCall[] = [];
  /** Indexes into `recorded` of the calls moto has answered. */
  private readonly answered = new Set<number>();

  private constructor(
    private readonly server: Server,
    /** The endpoint to give clients: `http://127.0.0.1:<port>`. */
    public readonly url: string,
  ) {}

  static async start(target: string): Promise<AwsCallRecorder> {
    const upstream = new URL(target);
    let recorder: AwsCallRecorder | undefined;
    const server = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("end", () => {
        const body = Buffer.concat(chunks);
        const index = (recorder?.recorded.push(classify(incoming.method ?? "GET", incoming.url ?? "/", incoming.headers, body)) ?? 0) - 1;
        outgoing.on("finish", () => recorder?.answered.add(index));
        const forwarded = request(
          { hostname: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
          (answer) => {
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(outgoing);
          },
        );
        forwarded.on("error", (error) => {
          outgoing.writeHead(502);
          outgoing.end(String(error));
        });
        forwarded.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (typeof address !== "object" || !address) throw new Error("the recording proxy has no address");
    recorder = new AwsCallRecorder(server, `http://127.0.0.1:${address.port}`);
    return recorder;
  }

  /** A position in the record, for `since`. */
  mark(): number {
    return this.recorded.length;
  }

  /** The calls recorded after `mark`. */
  since(mark: number): AwsCall[] {
    return this.recorded.slice(mark);
  }

  /** Resolves once moto has answered a call after `mark` that `matches`; fails after `timeoutMs`. */
  async answeredCall(mark: number, matches: (call: AwsCall) => boolean, timeoutMs = 300_000): Promise<AwsCall> {
    return (await this.answeredCalls(mark, matches, 1, timeoutMs))[0];
  }

  /** Resolves once moto has answered `count` calls after `mark` that `matches`; fails after `timeoutMs`. */
  async answeredCalls(mark: number, matches: (call: AwsCall) => boolean, count: number, timeoutMs = 300_000): Promise<AwsCall[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.recorded.filter((call, at) => at >= mark && this.answered.has(at) && matches(call));
      if (found.length >= count) return found;
      if (Date.now() > deadline) throw new Error(`moto answered ${found.length} of ${count} matching calls within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

function classify(method: string, url: string, headers: NodeJS.Dict<string | string[]>, body: Buffer): AwsCall {
  const authorization = String(headers.authorization ?? "");
  const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(authorization)?.[1] ?? "unsigned";
  const target = headers["x-amz-target"];
  if (typeof target === "string") {
    return { service, action: target.split(".").pop() ?? target, request: parsedJson(body) };
  }
  const query = new URL(url, "http://localhost");
  const form = new URLSearchParams(String(headers["content-type"] ?? "").includes("x-www-form-urlencoded") ? body.toString("utf8") : "");
  const action = form.get("Action") ?? query.searchParams.get("Action");
  if (action) return { service, action };
  if (service === "s3") {
    const [, bucket, ...key] = query.pathname.split("/");
    const what = key.length > 0 ? "object" : bucket ? "bucket" : "service";
    return { service, action: `${method} ${what}`, ...(key.length > 0 ? { key: decodeURIComponent(key.join("/")) } : {}) };
  }
  return { service, action: `${method} ${query.pathname}` };
}

function parsedJson(body: Buffer): Record<string, unknown> {
  try {
    return body.length > 0 ? (JSON.parse(body.toString("utf8")) as Record<string, unknown>) : {};
  } catch {
    return { unparsed: body.toString("utf8") };
  }
}

/** Calls counted by `service:action`, sorted by name, and their total. */
export function countCalls(calls: readonly AwsCall[]): { total: number; byAction: Record<string, number> } {
  const byAction: Record<string, number> = {};
  for (const call of calls) byAction[`${call.service}:${call.action}`] = (byAction[`${call.service}:${call.action}`] ?? 0) + 1;
  return { total: calls.length, byAction: Object.fromEntries(Object.entries(byAction).sort(([a], [b]) => a.localeCompare(b))) };
}

/** What exists in moto's account, read with boto3 (support/moto_inventory.py). */
export interface MotoInventory {
  readonly roles: Record<
    string,
    {
      trustedServices: string[];
      /** Each trust statement's Condition ({} when it has none). */
      trustConditions: Record<string, Record<string, string | string[]>>[];
      attachedPolicies: string[]; inlinePolicies: Record<string, PolicyDocument>;
      tags: Record<string, string>;
    }
  >;
  readonly policies: Record<string, PolicyDocument>;
  readonly queues: Record<string, { attributes: Record<string, string>; tags: Record<string, string> }>;
  readonly rules: Record<string, { eventPattern: unknown; state: string; targets: { Id: string; Arn: string }[]; tags: Record<string, string> }>;
  readonly clusters: Record<string, { status: string; settings: { name: string; value: string }[] }>;
  readonly services: Record<string, ServiceDescription>;
  readonly taskDefinitions: Record<string, TaskDefinitionDescription>;
  readonly repositories: Record<string, { imageTagMutability: string; lifecyclePolicy: unknown }>;
  readonly logGroups: Record<string, { retentionInDays?: number }>;
  readonly secrets: Record<string, { value?: string; deletedDate?: string }>;
  readonly parameters: Record<string, { type: string; value: string; keyId?: string }>;
  readonly securityGroups: Record<string, { id: string; vpcId: string; ingress: unknown[]; egress: { IpProtocol: string; FromPort?: number; ToPort?: number }[] }>;
  readonly buckets: Record<string, string[]>;
}

export interface PolicyDocument {
  readonly Statement: { Sid?: string; Effect: string; Action: string | string[]; Resource: string | string[]; Principal?: unknown; Condition?: unknown }[];
}

export interface ServiceDescription {
  readonly cluster: string;
  readonly status: string;
  readonly desiredCount: number;
  readonly launchType: string;
  readonly taskDefinition: string;
  readonly networkConfiguration: { awsvpcConfiguration: { subnets: string[]; securityGroups: string[]; assignPublicIp: string } };
  readonly tags: Record<string, string>;
}

export interface ContainerDefinition {
  readonly name: string;
  readonly image: string;
  readonly command?: string[];
  readonly environment?: { name: string; value: string }[];
  readonly secrets?: { name: string; valueFrom: string }[];
  readonly logConfiguration?: { logDriver: string; options: Record<string, string> };
  readonly healthCheck?: { command: string[]; interval?: number; timeout?: number; retries?: number; startPeriod?: number };
  readonly user?: string;
  readonly readonlyRootFilesystem?: boolean;
  readonly mountPoints?: { sourceVolume: string; containerPath: string; readOnly?: boolean }[];
}

export interface TaskDefinitionDescription {
  readonly arn: string;
  readonly family: string;
  readonly status: string;
  readonly cpu: string;
  readonly memory: string;
  readonly networkMode: string;
  readonly requiresCompatibilities: string[];
  readonly executionRoleArn?: string;
  readonly taskRoleArn?: string;
  readonly containerDefinitions: ContainerDefinition[];
  readonly volumes: { name: string }[];
  readonly tags: Record<string, string>;
}

/** Reads everything in moto's account for the region, straight from moto (not through the recorder). */
export function motoInventory(motoUrl: string, region: string): MotoInventory {
  const result = runPython("prefect", [join(__dirname, "moto_inventory.py")], {
    ...peerEnv(tmpdir()),
    ...MOTO_CREDENTIALS,
    AWS_ENDPOINT_URL: motoUrl,
    AWS_DEFAULT_REGION: region,
  });
  if (result.status !== 0) throw new Error(`moto_inventory.py failed (${result.status}):\n${result.stderr}`);
  return JSON.parse(result.stdout) as MotoInventory;
}

/** Runs boto3 code against moto (`aws(service)` makes a client); returns what it prints as JSON. */
export function boto3<T>(motoUrl: string, region: string, code: string): T {
  const prelude = "import boto3, json, os\naws = lambda service: boto3.client(service)\n";
  const result = runPython("prefect", ["-c", prelude + code], {
    ...peerEnv(tmpdir()),
    ...MOTO_CREDENTIALS,
    AWS_ENDPOINT_URL: motoUrl,
    AWS_DEFAULT_REGION: region,
  });
  if (result.status !== 0) throw new Error(`boto3 code failed (${result.status}):\n${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
