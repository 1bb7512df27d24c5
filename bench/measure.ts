/**
 * Runs a command and measures its wall time and peak resident set size.
 *
 * Peak RSS comes from GNU time (`/usr/bin/time -f %M`) when present: the
 * largest single process of the command's tree (wait4 semantics), not the
 * sum of the tree. Without GNU time, every Node process of the tree reports
 * its own `process.resourceUsage().maxRSS` through a preloaded script
 * (bench/report-rss.js, via NODE_OPTIONS), and the largest is taken; non-Node
 * commands (Terraform) then have no RSS.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export type RssMethod = "gnu-time" | "node-preload";

export interface Sample {
  readonly wallMs: number;
  /** Peak RSS in KiB, when measurable. */
  readonly rssKb?: number;
  readonly stdout: string;
}

export interface Command {
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
}

const GNU_TIME = "/usr/bin/time";
const RSS_PRELOAD = resolve(__dirname, "report-rss.js");

/** GNU time if it works here (BusyBox and BSD time lack -f/-o), else the Node preload. */
export function detectRssMethod(): RssMethod {
  if (!existsSync(GNU_TIME)) return "node-preload";
  const dir = mkdtempSync(join(tmpdir(), "bench-time-"));
  try {
    const file = join(dir, "rss");
    const result = spawnSync(GNU_TIME, ["-f", "%M", "-o", file, "true"]);
    return result.status === 0 && /^\d+\s*$/.test(readFileSync(file, "utf8")) ? "gnu-time" : "node-preload";
  } catch {
    return "node-preload";
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function runMeasured(command: Command, method: RssMethod): Sample {
  const dir = mkdtempSync(join(tmpdir(), "bench-rss-"));
  const rssFile = join(dir, "rss");
  try {
    let file: string;
    let args: string[];
    let env: NodeJS.ProcessEnv = { ...(command.env ?? process.env) };
    if (method === "gnu-time") {
      file = GNU_TIME;
      args = ["-f", "%M", "-o", rssFile, ...command.argv];
    } else {
      [file, ...args] = command.argv;
      writeFileSync(rssFile, "");
      env = { ...env, BENCH_RSS_FILE: rssFile, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ""} --require ${RSS_PRELOAD}`.trim() };
    }
    const start = process.hrtime.bigint();
    const result = spawnSync(file, args, { cwd: command.cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.error) throw result.error;
    if (result.status !== 0) {
      throw new Error(
        `${command.argv.join(" ")} failed (exit ${result.status}, signal ${result.signal}):\n${result.stdout}\n${result.stderr}`,
      );
    }
    const values = readFileSync(rssFile, "utf8")
      .split("\n")
      .filter((line) => /^\d+$/.test(line.trim()))
      .map(Number);
    return { wallMs, rssKb: values.length > 0 ? Math.max(...values) : undefined, stdout: result.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Stats {
  readonly runs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** Largest peak RSS over the runs (KiB). */
  readonly peakRssKb?: number;
  /** Median peak RSS over the runs (KiB). */
  readonly medianRssKb?: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function stats(samples: readonly Sample[]): Stats {
  const walls = samples.map((s) => s.wallMs);
  const rss = samples.map((s) => s.rssKb).filter((v): v is number => v !== undefined);
  return {
    runs: samples.length,
    medianMs: median(walls),
    minMs: Math.min(...walls),
    maxMs: Math.max(...walls),
    peakRssKb: rss.length > 0 ? Math.max(...rss) : undefined,
    medianRssKb: rss.length > 0 ? median(rss) : undefined,
  };
}
