/**
 * The Terraform gates skip loudly where Terraform is missing, and fail under
 * CI=true, so CI can never go green without running them.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const ROOT = join(__dirname, "..");

function runFixture(env: NodeJS.ProcessEnv) {
  const result = spawnSync(
    "npx",
    ["jest", "--ci", "--testMatch", "**/fixtures/terraform-gate.fixture.ts", "--", "__tests__/fixtures"],
    { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env } },
  );
  return { status: result.status, output: result.stdout + result.stderr };
}

describe("GIVEN a machine without Terraform", () => {
  const noTerraform = { TERRAFORM_BIN: join(ROOT, "no-such-terraform") };

  it("WHEN the suite runs outside CI THEN the gate is skipped with a loud reason", () => {
    const { status, output } = runFixture({ ...noTerraform, CI: "" });
    expect(status).toBe(0);
    expect(output).toContain('SKIPPING Terraform gate "fixture gate"');
    expect(output).toMatch(/Tests:\s+1 skipped, 1 total/);
  });

  it("WHEN the suite runs with CI=true THEN the gate fails", () => {
    const { status, output } = runFixture({ ...noTerraform, CI: "true" });
    expect(status).not.toBe(0);
    expect(output).toContain("Terraform gate cannot run: no Terraform binary");
  });
});
