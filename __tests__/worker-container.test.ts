/**
 * The worker container as synthesized (non-root user, read-only root filesystem, one ephemeral
 * scratch volume) must still run the real `prefect worker start --with-healthcheck`. Without Docker,
 * the test recreates those conditions with Linux namespaces (util-linux unshare): a mount namespace
 * where `/` is read-only and only the container's mount path is a writable folder, and a user
 * namespace where the worker runs as the container's uid and gid. The worker talks to a real
 * Prefect server and, for its observer, to moto.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WORKER_HEALTH_CHECK } from "../src/constructs/worker-service";
import { describeWithPeers, freePort, MotoServer, PeerProcess, peerCommand, PrefectServer, startMotoServer, startPrefectServer } from "./support/peers";
import { synthesize } from "./support/synth";

interface Container {
  user?: string;
  readonlyRootFilesystem?: boolean;
  mountPoints?: { sourceVolume: string; containerPath: string; readOnly?: boolean }[];
  environment: { name: string; value: string }[];
  command: string[];
  healthCheck: { command: string[] };
}

/**
 * `unshare` arguments that run a command as `uid:gid` with `/` read-only and `scratch` mounted
 * read-write at `mountPath`. The outer user namespace (root inside) makes the mounts, the inner one
 * drops to the user.
 */
function sandbox(user: string, scratch: string, mountPath: string, command: string[]): string[] {
  const [uid, gid] = user.split(":");
  const script = 'mount --bind "$0" "$1" && mount -o remount,bind,ro / && shift && exec unshare --user --map-user="$UID_" --map-group="$GID_" "$@"';
  return ["--user", "--map-root-user", "--mount", "env", `UID_=${uid}`, `GID_=${gid ?? uid}`, "sh", "-c", script, scratch, mountPath, ...command];
}

function runSandboxed(args: string[], env: NodeJS.ProcessEnv) {
  const result = spawnSync("unshare", args, { env, encoding: "utf8", timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describeWithPeers("GIVEN the synthesized worker container and the real prefect worker (Python peer)", ["prefect"], () => {
  const container = synthesize({}).json.locals?.worker_container as Container;
  const writable = (container.mountPoints ?? []).filter((m) => m.readOnly === false);
  let scratch: string;
  let server: PrefectServer;
  let moto: MotoServer;
  let worker: PeerProcess | undefined;
  let env: NodeJS.ProcessEnv;
  let healthPort: number;

  it("WHEN its definition is read THEN it runs as a non-root user, on a read-only root, with exactly one writable mount", () => {
    expect(container.user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(container.readonlyRootFilesystem).toBe(true);
    expect(writable).toHaveLength(1);
    expect(container.environment.find((e) => e.name === "HOME")?.value).toBe(writable[0].containerPath);
  });

  describe("WHEN `prefect worker start --with-healthcheck` runs under those conditions", () => {
    beforeAll(async () => {
      scratch = mkdtempSync(join(tmpdir(), "worker-scratch-"));
      [server, moto] = await Promise.all([startPrefectServer(), startMotoServer()]);
      healthPort = await freePort();
      const bin = join(peerCommand("prefect", "prefect"), "..");
      // The sandbox covers the mount path with the scratch folder: a virtual environment below it would vanish.
      const mountPath = writable[0].containerPath;
      if (bin === mountPath || bin.startsWith(`${mountPath}/`)) {
        throw new Error(`the prefect virtual environment (${bin}) lies below ${mountPath}, which the sandbox covers: set PEERS_VENV_ROOT elsewhere`);
      }
      env = {
        // The container's own environment, with PREFECT_API_URL pointing at the test server.
        ...Object.fromEntries(container.environment.map((e) => [e.name, e.value])),
        PREFECT_API_URL: server.url,
        PATH: `${bin}:${process.env.PATH}`,
        LANG: "C.UTF-8",
        AWS_ENDPOINT_URL: moto.url,
        AWS_REGION: "us-east-1",
        AWS_DEFAULT_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        PREFECT_WORKER_WEBSERVER_PORT: String(healthPort),
        DO_NOT_TRACK: "1",
      };
      worker = PeerProcess.start("sandboxed prefect worker", "unshare", sandbox(container.user as string, scratch, writable[0].containerPath, container.command), env);
      await worker.waitFor(async () => (await fetch(`http://127.0.0.1:${healthPort}/health`)).ok, 120_000);
    }, 240_000);

    afterAll(async () => {
      await worker?.stop();
      await Promise.all([server?.stop(), moto?.stop()]);
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    });

    it("THEN the sandbox is what the container gets: the container's uid, / read-only, the mount path writable", () => {
      const probe = runSandboxed(
        sandbox(container.user as string, scratch, writable[0].containerPath, [
          "sh",
          "-c",
          `id -u; id -g; touch /usr/probe 2>/dev/null && echo root-writable; touch ${writable[0].containerPath}/probe && echo mount-writable`,
        ]),
        env,
      );
      expect(probe.output.trim().split("\n")).toEqual([...(container.user as string).split(":"), "mount-writable"]);
    });

    it("THEN the container's own health check command succeeds", () => {
      const command = WORKER_HEALTH_CHECK.command[1].replace("localhost:8080", `localhost:${healthPort}`);
      expect(container.healthCheck.command).toEqual([...WORKER_HEALTH_CHECK.command]);
      const check = runSandboxed(sandbox(container.user as string, scratch, writable[0].containerPath, ["sh", "-c", command]), env);
      expect(check).toEqual({ status: 0, output: "" });
    });

    it("THEN the worker creates its pool and registers with the Prefect server, and writes its home on the mount", async () => {
      const workers = async () => {
        const response = await fetch(`${server.url}/work_pools/my-ecs-pool/workers/filter`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: "{}",
        });
        return response.ok ? ((await response.json()) as { name: string }[]) : [];
      };
      await (worker as PeerProcess).waitFor(async () => (await workers()).length > 0, 90_000);
      expect(await workers()).toHaveLength(1);
      expect(readdirSync(scratch)).toContain(".prefect");
      expect(worker?.running).toBe(true);
    }, 120_000);
  });
});
