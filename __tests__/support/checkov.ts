/**
 * The real Checkov (pinned in __tests__/peers/checkov.requirements.txt, see support/peers.ts),
 * run offline on a folder and read back as its JSON report.
 *
 * Offline: BC_SKIP_MAPPING stops the download of Prisma Cloud's guidelines, and
 * CKV_SKIP_PACKAGE_UPDATE_CHECK the PyPI version check; no API key, no external modules.
 * Checkov runs through peers/checkov_offline.py, which records (and refuses) every DNS lookup or
 * connection it still attempts, so the tests can prove that it attempted none.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { peerCommand, peerEnv } from "./peers";

/** The environment that keeps Checkov off the network. */
export const CHECKOV_OFFLINE_ENV = { BC_SKIP_MAPPING: "TRUE", CKV_SKIP_PACKAGE_UPDATE_CHECK: "TRUE" } as const;

/** One check on one resource, as `-o json` reports it. */
export interface CheckovResult {
  readonly check_id: string;
  readonly check_name: string;
  /** The Terraform address, e.g. `aws_ecr_repository.flow_images`. */
  readonly resource: string;
  /** Relative to the scanned folder, with a leading `/`. */
  readonly file_path: string;
}

export interface CheckovReport {
  /** The framework: `terraform` (HCL), `terraform_plan`, `terraform_json`, ... */
  readonly check_type: string;
  readonly results: {
    readonly passed_checks: readonly CheckovResult[];
    readonly failed_checks: readonly CheckovResult[];
    readonly skipped_checks: readonly CheckovResult[];
    /** Files it could not parse (absolute paths). */
    readonly parsing_errors: readonly string[];
  };
  readonly summary: { readonly resource_count: number; readonly parsing_errors: number; readonly checkov_version: string };
}

export interface CheckovRun {
  /** One report per framework that found files to scan. */
  readonly reports: readonly CheckovReport[];
  /** Every DNS lookup or connection Checkov attempted (refused). */
  readonly networkAttempts: readonly Record<string, string>[];
  readonly seconds: number;
}

/**
 * `checkov -d <root> --framework <frameworks> -o json` with no skips of its own: what to accept is
 * the tests' decision (checkov-skips.json). Fails when Checkov crashes (`--soft-fail` makes
 * findings exit 0).
 */
export function runCheckov(root: string, frameworks: readonly string[]): CheckovRun {
  const home = mkdtempSync(join(tmpdir(), "checkov-home-"));
  const networkLog = join(home, "network.jsonl");
  const started = Date.now();
  const result = spawnSync(
    peerCommand("checkov", "python"),
    [
      join(__dirname, "..", "peers", "checkov_offline.py"),
      "--directory", root,
      "--framework", ...frameworks,
      "--output", "json",
      "--compact",
      "--soft-fail",
      "--download-external-modules", "false",
    ],
    { cwd: root, env: peerEnv(home, { ...CHECKOV_OFFLINE_ENV, CHECKOV_NETWORK_LOG: networkLog }), encoding: "utf8", maxBuffer: 512 * 1024 * 1024 },
  );
  const seconds = (Date.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`checkov failed (${result.status}):\n${result.stderr.slice(-4000)}`);
  const parsed = JSON.parse(result.stdout) as unknown;
  // A list when several frameworks report; without any file to scan, a bare summary.
  const reports = (Array.isArray(parsed) ? parsed : [parsed]).filter((report): report is CheckovReport => "check_type" in (report as object));
  const networkAttempts = existsSync(networkLog)
    ? readFileSync(networkLog, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, string>)
    : [];
  return { reports, networkAttempts, seconds };
}

/** The report of one framework; fails when Checkov produced none. */
export function reportOf(run: CheckovRun, framework: string): CheckovReport {
  const report = run.reports.find((candidate) => candidate.check_type === framework);
  if (!report) throw new Error(`no ${framework} report; have: ${run.reports.map((r) => r.check_type).join(", ")}`);
  return report;
}
