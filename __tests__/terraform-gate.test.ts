/**
 * The Terraform gates and the Python peer gates skip loudly where their tools are missing, and
 * fail under CI=true, so CI can never go green without running them.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..");

interface FixtureRun {
  readonly status: number | null;
  readonly output: string;
}

/** Runs the fixture gate in its own jest; the runs of a file start at once (each is a second of jest start-up). */
function runFixture(env: NodeJS.ProcessEnv, fixture = "terraform-gate"): Promise<FixtureRun> {
  const { SKIP_TERRAFORM_GATES: _skip, ...inherited } = process.env;
  return new Promise((resolve) => {
    const child = spawn("npx", ["jest", "--ci", "--testMatch", `**/fixtures/${fixture}.fixture.ts`, "--", "__tests__/fixtures"], {
      cwd: ROOT,
      env: { ...inherited, ...env },
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("close", (status) => resolve({ status, output }));
  });
}

const noTerraform = { TERRAFORM_BIN: join(ROOT, "no-such-terraform") };
/** No Python to make the virtual environments with, in an empty place for them. */
const noPython = { PYTHON_BIN: join(ROOT, "no-such-python"), PEERS_VENV_ROOT: mkdtempSync(join(tmpdir(), "no-peers-")) };
const runs = {
  outsideCi: runFixture({ ...noTerraform, CI: "" }),
  underCi: runFixture({ ...noTerraform, CI: "true" }),
  skippedByChoice: runFixture({ SKIP_TERRAFORM_GATES: "1", CI: "true" }),
  peersOutsideCi: runFixture({ ...noPython, CI: "" }, "peers-gate"),
  peersUnderCi: runFixture({ ...noPython, CI: "true" }, "peers-gate"),
  peersSkippedByChoice: runFixture({ ...noPython, SKIP_TERRAFORM_GATES: "1", CI: "true" }, "peers-gate"),
};

describe("GIVEN a machine without Terraform", () => {
  it("WHEN the suite runs outside CI THEN the gate is skipped with a loud reason", async () => {
    const { status, output } = await runs.outsideCi;
    expect(status).toBe(0);
    expect(output).toContain('SKIPPING Terraform gate "fixture gate"');
    expect(output).toMatch(/Tests:\s+1 skipped, 1 total/);
  });

  it("WHEN the suite runs with CI=true THEN the gate fails", async () => {
    const { status, output } = await runs.underCi;
    expect(status).not.toBe(0);
    expect(output).toContain("Terraform gate cannot run: no Terraform binary");
  });
});

describe("GIVEN SKIP_TERRAFORM_GATES=1 (npm run test:unit)", () => {
  it("WHEN the suite runs, even with CI=true THEN the gate is skipped, by choice", async () => {
    const { status, output } = await runs.skippedByChoice;
    expect(status).toBe(0);
    expect(output).toMatch(/Tests:\s+1 skipped, 1 total/);
  });
});

describe("GIVEN a machine where the Python test peers cannot be installed", () => {
  it("WHEN the suite runs outside CI THEN the peer gate is skipped with a loud reason", async () => {
    const { status, output } = await runs.peersOutsideCi;
    expect(status).toBe(0);
    expect(output).toContain('SKIPPING peer gate "fixture peer gate"');
    expect(output).toMatch(/Tests:\s+1 skipped, 1 total/);
  });

  it("WHEN the suite runs with CI=true THEN the peer gate fails, naming the reason", async () => {
    const { status, output } = await runs.peersUnderCi;
    expect(status).not.toBe(0);
    expect(output).toContain("Peer gate cannot run: cannot create a virtual environment");
  });

  it("WHEN SKIP_TERRAFORM_GATES=1, even with CI=true THEN the peer gate is skipped, by choice, without trying to install", async () => {
    const { status, output } = await runs.peersSkippedByChoice;
    expect(status).toBe(0);
    expect(output).not.toContain("Creating the prefect test peers");
    expect(output).toMatch(/Tests:\s+1 skipped, 1 total/);
  });
});
