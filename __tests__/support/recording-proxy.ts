/**
 * A loopback HTTP proxy in front of a real server that writes one line per request it forwards,
 * so a test can say what a client sent ("the second apply sends nothing") without a double.
 * It runs as a child process: tests block in spawnSync while Terraform runs, and a proxy in the
 * test's own event loop would not answer then.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, PeerProcess } from "./peers";

/** One forwarded request. */
export interface ProxiedRequest {
  readonly method: string;
  /** The request target as received, e.g. "/api/work_pools/my-pool". */
  readonly url: string;
  /** The server's status; null when the server could not be reached. */
  readonly status: number | null;
  /** The Authorization scheme sent ("Bearer", "Basic"), never the credential; null without one. */
  readonly authScheme: string | null;
  /** Whether Prefect's CSRF headers came along. */
  readonly csrf: boolean;
}

const PROXY_SCRIPT = `
const http = require("node:http");
const fs = require("node:fs");
const [target, port, log] = process.argv.slice(1);
const upstream = new URL(target);
const record = (req, status) =>
  fs.appendFileSync(log, JSON.stringify({
    method: req.method,
    url: req.url,
    status,
    authScheme: (req.headers.authorization || "").split(" ")[0] || null,
    csrf: "prefect-csrf-token" in req.headers && "prefect-csrf-client" in req.headers,
  }) + "\\n");
http
  .createServer((req, res) => {
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        record(req, answer.statusCode);
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => {
      record(req, null);
      res.destroy();
    });
    req.pipe(forward);
  })
  .listen(Number(port), "127.0.0.1");
`;

export class RecordingProxy {
  private constructor(
    /** e.g. "http://127.0.0.1:43210": the same paths as the server, through the proxy. */
    readonly origin: string,
    private readonly dir: string,
    private readonly child: PeerProcess,
  ) {}

  /** Starts a proxy to `target` (an origin such as "http://127.0.0.1:4200"); `readyPath` is a GET that answers 200. */
  static async start(target: string, readyPath: string): Promise<RecordingProxy> {
    const dir = mkdtempSync(join(tmpdir(), "recording-proxy-"));
    const log = join(dir, "requests.jsonl");
    writeFileSync(log, "");
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const child = PeerProcess.start(`recording proxy on ${origin}`, process.execPath, ["-e", PROXY_SCRIPT, target, String(port), log], {
      PATH: process.env.PATH,
    });
    await child.waitFor(async () => (await fetch(origin + readyPath)).ok, 30_000);
    const proxy = new RecordingProxy(origin, dir, child);
    proxy.reset();
    return proxy;
  }

  /** Every request forwarded since start or the last reset, oldest first. */
  get requests(): ProxiedRequest[] {
    return readFileSync(join(this.dir, "requests.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ProxiedRequest);
  }

  /** The requests as "METHOD status" lines, the way tests usually compare them. */
  get summary(): string[] {
    return this.requests.map((request) => `${request.method} ${request.status}`);
  }

  reset(): void {
    writeFileSync(join(this.dir, "requests.jsonl"), "");
  }

  async stop(): Promise<void> {
    await this.child.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
