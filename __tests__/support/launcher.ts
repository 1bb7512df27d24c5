/**
 * Running `node synth.js` as a user does, in a copy of the project (so a test may edit sources
 * or fill the folder around the output without touching the checkout).
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");

/** A copy of what `node synth.js` and `cdktf synth` need, sharing this project's node_modules unless told not to. */
export function projectCopy({ installed = true } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-launcher-"));
  for (const entry of ["main.ts", "synth.js", "tsconfig.json", "package.json", "cdktf.json", "src"]) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  if (installed) symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

/** The environment without the app's own settings, as in a user's shell. */
export function userEnv(): NodeJS.ProcessEnv {
  const { PREFECT_ECS_WORKER_CONFIG: _config, CDKTF_OUTDIR: _outdir, SYNTH_HCL_OUTPUT: _hcl, ...env } = process.env;
  return env;
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `argv` in `cwd` with the user's environment plus `env`. */
export function run(cwd: string, argv: readonly string[], env: NodeJS.ProcessEnv = {}): RunResult {
  const result = spawnSync(argv[0], argv.slice(1), { cwd, encoding: "utf8", env: { ...userEnv(), ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `node synth.js <args>` in `project`. */
export function synthJs(project: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): RunResult {
  return run(project, [process.execPath, "synth.js", ...args], env);
}
