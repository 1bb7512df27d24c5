/**
 * The work-pool script by itself, without Terraform: it runs wherever Terraform runs, so it must be
 * plain POSIX sh that shellcheck accepts (shellcheck comes from Debian; .ci/run installs it; without
 * it this skips loudly, and fails under CI=true). Its answers to the real Prefect server (created,
 * updated, deleted, already absent, 401, CSRF turned off, names with spaces and unicode as Terraform
 * encodes them) and, for faults a real server cannot be made to produce, to the API double.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ecsBaseJobTemplate } from "../src/work-pool/ecs-base-job-template";
import { encodedPoolName } from "../src/work-pool/work-pool-stack";
import { describeWithPeers, PrefectServer, startPrefectServer } from "./support/peers";
import { PrefectApiDouble } from "./support/prefect-api-double";
import { describeWithTerraform, findToolchain } from "./support/terraform";

const SCRIPT = join(__dirname, "..", "src", "work-pool", "upsert-work-pool.sh");
const shellcheck = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
const available = shellcheck.status === 0;

describe("GIVEN the work-pool script", () => {
  if (!available && process.env.CI !== "true") {
    console.warn("\n!!! SKIPPING shellcheck of upsert-work-pool.sh: shellcheck is not installed (apt-get install shellcheck) !!!\n");
  }
  (available || process.env.CI === "true" ? it : it.skip)("WHEN shellcheck reads it as POSIX sh THEN it finds nothing", () => {
    if (!available) throw new Error("shellcheck is not installed (apt-get install shellcheck)");
    const result = spawnSync("shellcheck", ["--shell=sh", "--severity=style", SCRIPT], { encoding: "utf8" });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("WHEN run without its inputs THEN it fails with a one-line message and touches no network", () => {
    const result = spawnSync("sh", [SCRIPT, "upsert"], { encoding: "utf8", env: { PATH: process.env.PATH } });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('Prefect work pool "?": PREFECT_API_URL is not set');
  });

  it("WHEN the key is missing from the environment THEN it says which variable to set", () => {
    const result = spawnSync("sh", [SCRIPT, "upsert"], {
      encoding: "utf8",
      env: {
        PATH: process.env.PATH,
        PREFECT_API_URL: "http://127.0.0.1:9/api",
        WORK_POOL_NAME: "my-ecs-pool",
        WORK_POOL_NAME_ENCODED: "my-ecs-pool",
        PREFECT_AUTH: "api-key",
      },
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      'Prefect work pool "my-ecs-pool": PREFECT_API_KEY is not set in the environment of the Terraform run',
    );
  });
});

const UPDATE_BODY = JSON.stringify({ description: null, is_paused: false, concurrency_limit: null, base_job_template: ecsBaseJobTemplate() });

/** Runs the script as Terraform's local-exec does: everything in the environment. */
function runScript(action: string, apiUrl: string, name: string, encoded: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync("sh", [SCRIPT, action], {
    encoding: "utf8",
    env: {
      PATH: process.env.PATH,
      PREFECT_API_URL: apiUrl,
      WORK_POOL_NAME: name,
      WORK_POOL_NAME_ENCODED: encoded,
      PREFECT_AUTH: "none",
      WORK_POOL_UPDATE_BODY: UPDATE_BODY,
      WORK_POOL_CREATE_BODY: JSON.stringify({ ...JSON.parse(UPDATE_BODY), name, type: "ecs" }),
      ...env,
    },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.trim() };
}

/** The pool name encoded by the very expression the work-pool stack gives Terraform. */
function terraformEncoded(names: readonly string[]): string[] {
  const toolchain = findToolchain();
  if (typeof toolchain === "string") throw new Error(toolchain);
  const dir = mkdtempSync(join(tmpdir(), "encode-"));
  try {
    const input = names.map((name) => `${encodedPoolName(JSON.stringify(name))}\n`).join("");
    const result = spawnSync(toolchain.bin, ["console"], { cwd: dir, input, encoding: "utf8", env: toolchain.env });
    return result.stdout.trim().split("\n").map((line) => JSON.parse(line) as string);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describeWithTerraform("Terraform gate: the script's answers", () => {
  describeWithPeers("against a real Prefect server", ["prefect"], () => {
    let server: PrefectServer;
    beforeAll(async () => {
      server = await startPrefectServer();
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
    });

    const names = ["Data Team", "Équipe données", "a+b c", "x:y=z@w.v", "名前 ü", "what?#now"];

    it.each(names)("GIVEN the pool name %j encoded as Terraform does WHEN created, updated, deleted and deleted again THEN each step reaches that pool", async (name) => {
      const [encoded] = terraformEncoded([name]);
      expect(encoded).not.toContain("+");

      expect(runScript("upsert", server.url, name, encoded)).toMatchObject({ status: 0, stdout: `Prefect work pool "${name}" created\n` });
      expect(runScript("upsert", server.url, name, encoded)).toMatchObject({ status: 0, stdout: `Prefect work pool "${name}" updated\n` });
      const pool = await fetch(`${server.url}/work_pools/${encodeURIComponent(name)}`);
      expect(((await pool.json()) as { name: string }).name).toBe(name);
      expect(runScript("delete", server.url, name, encoded)).toMatchObject({ status: 0, stdout: `Prefect work pool "${name}" deleted\n` });
      expect((await fetch(`${server.url}/work_pools/${encodeURIComponent(name)}`)).status).toBe(404);
      expect(runScript("delete", server.url, name, encoded)).toEqual({ status: 0, stdout: `Prefect work pool "${name}" was already absent\n`, stderr: "" });
    });

    it("GIVEN a space encoded as + (Terraform's urlencode alone) WHEN updated THEN it misses the pool: the reason for %20", () => {
      expect(runScript("upsert", server.url, "plus test", "plus%20test").status).toBe(0);
      const result = runScript("delete", server.url, "plus test", "plus+test");
      expect(result.stdout).toBe('Prefect work pool "plus test" was already absent\n');
    });

    it("GIVEN workPool.csrf on a server whose CSRF protection is off WHEN run THEN it says to remove workPool.csrf", () => {
      const result = runScript("upsert", server.url, "csrf-pool", "csrf-pool", { PREFECT_CSRF: "true" });
      expect(result).toMatchObject({ status: 1, stdout: "" });
      expect(result.stderr).toBe(
        `Prefect work pool "csrf-pool": the server at ${server.url} has CSRF protection turned off: remove workPool.csrf from the configuration`,
      );
    });
  });

  describeWithPeers("against a real Prefect server with basic auth", ["prefect"], () => {
    let server: PrefectServer;
    beforeAll(async () => {
      server = await startPrefectServer({ authString: "admin:right-password" });
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
    });

    it.each(["upsert", "delete", "check"])("GIVEN a wrong auth string WHEN %s runs THEN it fails with the 401 hint and never shows the credential", (action) => {
      const result = runScript(action, server.url, "auth-pool", "auth-pool", { PREFECT_AUTH: "basic-auth", PREFECT_API_AUTH_STRING: "admin:wrong-password" });
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(
        `Prefect work pool "auth-pool": 401 Unauthorized from ${server.url}: check PREFECT_API_KEY (Prefect Cloud) or PREFECT_API_AUTH_STRING (self-hosted) in the environment of the Terraform run`,
      );
      expect(result.stdout + result.stderr).not.toContain("wrong-password");
    });
  });
});

describe("GIVEN the API double's injected faults (a real server cannot be made to send them)", () => {
  let api: PrefectApiDouble;
  beforeAll(async () => {
    api = await PrefectApiDouble.start({ mode: "self-hosted" });
  });
  afterAll(() => api?.stop());

  it("WHEN the server answers 503 with Retry-After: 3 THEN the script waits 3 s (not its 1 s backoff) and succeeds", () => {
    api.injectFaults([{ status: 503, retryAfter: 3, times: 1 }]);
    const started = Date.now();
    const result = runScript("upsert", api.url, "retry-pool", "retry-pool");
    const seconds = (Date.now() - started) / 1000;
    expect(result).toMatchObject({ status: 0, stdout: 'Prefect work pool "retry-pool" created\n' });
    expect(result.stderr).toBe('Prefect work pool "retry-pool": PATCH /work_pools/retry-pool answered 503; retrying in 3s (attempt 2 of 5)');
    expect(seconds).toBeGreaterThanOrEqual(3);
  });

  it("WHEN Retry-After asks for more than 60 s THEN the script keeps its own backoff", () => {
    api.injectFaults([{ status: 429, retryAfter: 3600, times: 1 }]);
    const result = runScript("delete", api.url, "retry-pool", "retry-pool");
    expect(result).toMatchObject({ status: 0, stdout: 'Prefect work pool "retry-pool" deleted\n' });
    expect(result.stderr).toBe('Prefect work pool "retry-pool": DELETE /work_pools/retry-pool answered 429; retrying in 1s (attempt 2 of 5)');
  });
});
