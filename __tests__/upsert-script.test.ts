/**
 * The work-pool script runs wherever Terraform runs, so it must be plain POSIX
 * sh that shellcheck accepts. shellcheck comes from Debian (.ci/run installs
 * it); without it this skips loudly, and fails under CI=true.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

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
