/**
 * Real Python peers for the tests (never shipped): a Prefect server and CLI, the prefect-aws ECS
 * worker, moto's AWS API emulator and Checkov, each pinned in __tests__/peers/*.requirements.txt.
 *
 * The test command sets them up itself: jest's global setup (support/global-setup.ts) creates one
 * virtual environment per requirements file on first use and reuses it afterwards. Where they live
 * and which Python makes them comes from the environment:
 *   PEERS_VENV_ROOT  folder of the virtual environments (default: ~/.cache/prefect-ecs-worker-cdktf/venvs);
 *                    each is named after its requirements file's hash, so a changed pin makes a new one
 *   PYTHON_BIN       the Python 3 that creates them (default: python3 on PATH)
 * Without them the peer gates skip with a loud reason, except under CI=true, where they fail.
 * SKIP_TERRAFORM_GATES=1 (npm run test:unit) skips them on purpose, as it does the Terraform gates.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

export type PeerEnvironment = "prefect" | "checkov";
export const PEER_ENVIRONMENTS: readonly PeerEnvironment[] = ["prefect", "checkov"];

const REQUIREMENTS_DIR = join(__dirname, "..", "peers");
/** Set by the global setup when an environment could not be made; read by the gates in the test workers. */
const UNAVAILABLE_VARIABLE = "PEERS_UNAVAILABLE";
const READY_MARKER = ".ready";

const pythonBin = (): string => process.env.PYTHON_BIN || "python3";
export const peersSkipped = (): boolean => process.env.SKIP_TERRAFORM_GATES === "1";

function requirementsFile(name: PeerEnvironment): string {
  return join(REQUIREMENTS_DIR, `${name}.requirements.txt`);
}

/** The virtual environment's folder: named after the requirements and the Python version that made it. */
export function venvDir(name: PeerEnvironment): string {
  const root = process.env.PEERS_VENV_ROOT || join(homedir(), ".cache", "prefect-ecs-worker-cdktf", "venvs");
  const version = spawnSync(pythonBin(), ["--version"], { encoding: "utf8" });
  const hash = createHash("sha256")
    .update(readFileSync(requirementsFile(name)))
    .update(`${version.stdout}${version.stderr}`)
    .digest("hex")
    .slice(0, 12);
  return join(root, `${name}-${hash}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ status: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", (error) => resolve({ status: -1, output: String(error) }));
    child.on("close", (status) => resolve({ status: status ?? -1, output }));
  });
}

/**
 * Creates the virtual environment unless it is ready; returns the reason when it cannot.
 * A lock folder keeps two test runs from building the same one at once.
 */
export async function ensureVenv(name: PeerEnvironment, log: (line: string) => void = () => {}): Promise<string | undefined> {
  const dir = venvDir(name);
  if (existsSync(join(dir, READY_MARKER))) return undefined;
  const lock = `${dir}.lock`;
  mkdirSync(join(dir, ".."), { recursive: true });
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(join(dir, READY_MARKER))) return undefined;
      if (Date.now() > deadline) return `timed out waiting for ${lock} (remove it if no test run is creating ${dir})`;
      await sleep(1000);
    }
  }
  try {
    if (existsSync(join(dir, READY_MARKER))) return undefined;
    log(`Creating the ${name} test peers' virtual environment in ${dir} (first run only)...`);
    const started = Date.now();
    rmSync(dir, { recursive: true, force: true });
    const venv = await run(pythonBin(), ["-m", "venv", dir]);
    if (venv.status !== 0) return `cannot create a virtual environment with ${pythonBin()}: ${venv.output.trim().slice(-500)}`;
    const pip = await run(join(dir, "bin", "pip"), ["install", "--quiet", "--disable-pip-version-check", "-r", requirementsFile(name)], {
      ...process.env,
      PIP_NO_INPUT: "1",
    });
    if (pip.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      const errors = pip.output.split("\n").filter((line) => !line.startsWith("WARNING: Location"));
      return `pip cannot install ${requirementsFile(name)}: ${errors.join("\n").trim().slice(-800)}`;
    }
    writeFileSync(join(dir, READY_MARKER), `${new Date().toISOString()}\n`);
    log(`Created the ${name} test peers in ${Math.round((Date.now() - started) / 1000)} s.`);
    return undefined;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** What the global setup found: environment name → reason it is unavailable. */
export function recordUnavailable(reasons: Partial<Record<PeerEnvironment, string>>): void {
  process.env[UNAVAILABLE_VARIABLE] = JSON.stringify(reasons);
}

/** The environment's bin folder, or why it cannot be used. */
export function findPeer(name: PeerEnvironment): { bin: string } | string {
  const recorded = JSON.parse(process.env[UNAVAILABLE_VARIABLE] || "{}") as Partial<Record<PeerEnvironment, string>>;
  if (recorded[name]) return recorded[name];
  const dir = venvDir(name);
  if (!existsSync(join(dir, READY_MARKER))) return `the ${name} virtual environment ${dir} is not ready (jest's global setup creates it)`;
  return { bin: join(dir, "bin") };
}

/**
 * `describe` for tests that need real Python peers: runs them when the environments are ready;
 * otherwise skips loudly, or fails under CI=true.
 */
export function describeWithPeers(name: string, needs: readonly PeerEnvironment[], body: () => void): void {
  if (peersSkipped()) {
    describe.skip(name, body);
    return;
  }
  const missing = needs.map(findPeer).filter((found): found is string => typeof found === "string");
  if (missing.length > 0) {
    if (process.env.CI === "true") {
      describe(name, () => {
        it("needs the Python test peers (CI=true makes this a failure)", () => {
          throw new Error(`Peer gate cannot run: ${missing.join("; ")}`);
        });
      });
      return;
    }
    console.warn(`\n!!! SKIPPING peer gate "${name}": ${missing.join("; ")} !!!\n`);
    describe.skip(name, body);
    return;
  }
  describe(name, body);
}

/** The path of a command in a peer's virtual environment (`prefect`, `python`, `moto_server`, `checkov`). */
export function peerCommand(name: PeerEnvironment, command: string): string {
  const found = findPeer(name);
  if (typeof found === "string") throw new Error(found);
  return join(found.bin, command);
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** A process started in a group of its own, so stopping it also stops what it started. */
export class PeerProcess {
  private output = "";
  private exited = false;

  constructor(
    public readonly description: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on("data", (chunk) => (this.output = (this.output + chunk).slice(-20_000)));
    child.stderr?.on("data", (chunk) => (this.output = (this.output + chunk).slice(-20_000)));
    child.on("exit", () => (this.exited = true));
  }

  static start(description: string, command: string, args: string[], env: NodeJS.ProcessEnv): PeerProcess {
    const child = spawn(command, args, { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    return new PeerProcess(description, child);
  }

  /** The last 20,000 characters it printed. */
  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Waits until `ready()` holds; fails with the process's output when it exits or time runs out. */
  async waitFor(ready: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`${this.description} exited while starting:\n${this.output}`);
      if (await ready().catch(() => false)) return;
      await sleep(250);
    }
    await this.stop();
    throw new Error(`${this.description} was not ready after ${timeoutMs / 1000} s:\n${this.output}`);
  }

  /** SIGTERM to the whole group, then SIGKILL after a grace period (the worker may ignore one SIGTERM). */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.exited || this.child.pid === undefined) return;
    const pid = this.child.pid;
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(-pid, name);
      } catch {
        // Already gone.
      }
    };
    signal("SIGTERM");
    const deadline = Date.now() + graceMs;
    while (!this.exited && Date.now() < deadline) await sleep(100);
    signal("SIGKILL");
    while (!this.exited) await sleep(50);
  }
}

export interface PrefectServerOptions {
  /** Basic auth (`user:password`) the server enforces: PREFECT_SERVER_API_AUTH_STRING. */
  readonly authString?: string;
  /** CSRF protection on (PREFECT_SERVER_CSRF_PROTECTION_ENABLED). */
  readonly csrf?: boolean;
}

export interface PrefectServer {
  /** The API base, `http://127.0.0.1:<port>/api`. */
  readonly url: string;
  /** Environment for the `prefect` CLI and Python client against this server (credentials included). */
  readonly clientEnv: NodeJS.ProcessEnv;
  readonly process: PeerProcess;
  stop(): Promise<void>;
}

/** Environment for the peers' Python processes: nothing from the user's Prefect profile, no telemetry. */
export function peerEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    LANG: "C.UTF-8",
    PREFECT_HOME: join(home, ".prefect"),
    PREFECT_SERVER_ANALYTICS_ENABLED: "false",
    DO_NOT_TRACK: "1",
    PYTHONDONTWRITEBYTECODE: "1",
    ...extra,
  };
}

/**
 * `prefect server start` on loopback with SQLite in a temporary folder: the API only (no UI, no
 * background services), a free port. About 10 s to start.
 */
export async function startPrefectServer(options: PrefectServerOptions = {}): Promise<PrefectServer> {
  const home = mkdtempSync(join(tmpdir(), "prefect-server-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/api`;
  const env = peerEnv(home, {
    PREFECT_SERVER_API_HOST: "127.0.0.1",
    PREFECT_SERVER_API_PORT: String(port),
    PREFECT_SERVER_UI_ENABLED: "false",
    PREFECT_SERVER_LOGGING_LEVEL: "WARNING",
    ...(options.authString ? { PREFECT_SERVER_API_AUTH_STRING: options.authString } : {}),
    ...(options.csrf ? { PREFECT_SERVER_CSRF_PROTECTION_ENABLED: "true" } : {}),
  });
  const server = PeerProcess.start(`prefect server on ${url}`, peerCommand("prefect", "prefect"), ["server", "start", "--no-services", "--no-ui", "--analytics-off"], env);
  const authorization = options.authString ? { Authorization: `Basic ${Buffer.from(options.authString).toString("base64")}` } : undefined;
  await server.waitFor(async () => (await fetch(`${url}/health`, { headers: authorization })).ok);
  const clientHome = mkdtempSync(join(tmpdir(), "prefect-client-"));
  const clientEnv = peerEnv(clientHome, {
    PREFECT_API_URL: url,
    ...(options.authString ? { PREFECT_API_AUTH_STRING: options.authString } : {}),
    ...(options.csrf ? { PREFECT_CLIENT_CSRF_SUPPORT_ENABLED: "true" } : {}),
  });
  return {
    url,
    clientEnv,
    process: server,
    stop: async () => {
      await server.stop();
      rmSync(home, { recursive: true, force: true });
      rmSync(clientHome, { recursive: true, force: true });
    },
  };
}

export interface MotoServer {
  /** `http://127.0.0.1:<port>`: the endpoint for every AWS service. */
  readonly url: string;
  /** Environment for boto3 (and the worker) against this moto: its endpoint, region us-east-1, fake keys. */
  readonly clientEnv: NodeJS.ProcessEnv;
  readonly process: PeerProcess;
  /** Empties moto's request recorder and starts recording every AWS request that reaches moto. */
  startRecording(): Promise<void>;
  /** The AWS requests recorded since `startRecording()`, in order. */
  recordedRequests(): Promise<RecordedAwsRequest[]>;
  stop(): Promise<void>;
}

/** One AWS request as moto's recorder saw it. */
export interface RecordedAwsRequest {
  readonly method: string;
  readonly url: string;
  /** `X-Amz-Target` of JSON-protocol services, e.g. `AmazonEC2ContainerServiceV20141113.RunTask`. */
  readonly target?: string;
  readonly body: string;
}

/** Starts moto through this wrapper, which fixes RunTask of Fargate task definitions in moto's process. */
const MOTO_SERVER_SCRIPT = join(REQUIREMENTS_DIR, "moto_server.py");

/**
 * moto's AWS API emulator on loopback, with AWS's managed policies loaded (the stacks attach some),
 * RunTask working for Fargate task definitions (see peers/moto_server.py) and its request recorder
 * ready but off.
 */
export async function startMotoServer(): Promise<MotoServer> {
  const home = mkdtempSync(join(tmpdir(), "moto-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = PeerProcess.start(`moto server on ${url}`, peerCommand("prefect", "python"), [MOTO_SERVER_SCRIPT, "-H", "127.0.0.1", "-p", String(port)], {
    ...peerEnv(home),
    MOTO_IAM_LOAD_MANAGED_POLICIES: "true",
    MOTO_RECORDER_FILEPATH: join(home, "recording.jsonl"),
  });
  await server.waitFor(async () => (await fetch(`${url}/moto-api/data.json`)).ok);
  const recorder = async (action: string): Promise<string> => {
    const response = await fetch(`${url}/moto-api/recorder/${action}`, { method: "POST" });
    if (!response.ok) throw new Error(`moto recorder ${action} answered ${response.status}`);
    return response.text();
  };
  return {
    url,
    clientEnv: {
      AWS_ENDPOINT_URL: url,
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_REGION: "us-east-1",
      // moto accepts any keys; fake ones make sure nothing here can reach AWS.
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_EC2_METADATA_DISABLED: "true",
    },
    process: server,
    startRecording: async () => {
      await recorder("reset-recording");
      await recorder("start-recording");
    },
    recordedRequests: async () =>
      (await recorder("download-recording"))
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => {
          const entry = JSON.parse(line) as { method: string; url: string; headers: Record<string, string>; body: string | null; body_encoded: boolean };
          const target = Object.entries(entry.headers).find(([name]) => name.toLowerCase() === "x-amz-target")?.[1];
          const body = entry.body_encoded ? Buffer.from(entry.body ?? "", "base64").toString("utf8") : (entry.body ?? "");
          return { method: entry.method, url: entry.url, ...(target ? { target } : {}), body };
        }),
    stop: async () => {
      await server.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Runs a Python script (or `-c` code) in a peer's environment; returns its exit status and output. */
export function runPython(
  name: PeerEnvironment,
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: string,
): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(peerCommand(name, "python"), args, { env, input, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Upstream data from the pinned prefect and prefect-aws packages (see __tests__/peers/prefect-reference.py). */
export interface PrefectReference {
  /** The installed versions, e.g. `{ prefect: "3.9.1", "prefect-aws": "0.7.12" }`. */
  readonly versions: Readonly<Record<"prefect" | "prefect-aws", string>>;
  /** `ECSWorker.get_default_base_job_template()`: what an ECS pool gets when created without a template. */
  readonly ecsDefaultTemplate: Record<string, unknown>;
  /** The older ECS template a self-hosted server hands out when it cannot reach the collection registry. */
  readonly serverFallbackTemplate: Record<string, unknown>;
  /** The server's OpenAPI document, cut down to the work-pool component schemas and what they reference. */
  readonly openapi: { readonly openapi: string; readonly components: { readonly schemas: Record<string, Record<string, unknown>> } };
}

const REFERENCE_SCRIPT = join(REQUIREMENTS_DIR, "prefect-reference.py");
let reference: PrefectReference | undefined;

/**
 * The pinned packages' upstream data, dumped by Python once per virtual environment and script
 * version (about 7 s) and cached beside the environment, so later calls and runs read a file.
 * Synchronous, so that test files can use it while they declare their tests.
 */
export function prefectReference(): PrefectReference {
  if (reference) return reference;
  const script = readFileSync(REFERENCE_SCRIPT);
  const cache = join(venvDir("prefect"), `prefect-reference-${createHash("sha256").update(script).digest("hex").slice(0, 12)}.json`);
  if (!existsSync(cache)) {
    const home = mkdtempSync(join(tmpdir(), "prefect-reference-"));
    try {
      const result = runPython("prefect", [REFERENCE_SCRIPT], peerEnv(home));
      if (result.status !== 0) throw new Error(`${REFERENCE_SCRIPT} failed (${result.status}):\n${result.stderr.slice(-2000)}`);
      JSON.parse(result.stdout); // only a whole document is cached
      // Written aside and renamed: parallel test workers never read half a file.
      const partial = `${cache}.${process.pid}.tmp`;
      writeFileSync(partial, result.stdout);
      renameSync(partial, cache);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }
  reference = JSON.parse(readFileSync(cache, "utf8")) as PrefectReference;
  return reference;
}
