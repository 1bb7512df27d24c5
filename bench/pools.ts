/**
 * Configurations of N work pools that can live in one AWS account and region,
 * written the way a user would: one file with `pools`. Each pool gets its own
 * cluster; account-wide names carry the pool name (src/config/pools.ts).
 */
import { writeFileSync } from "node:fs";
import { resolveConfigs } from "../src/config/pools";
import { ResolvedConfig } from "../src/config/resolve";

/** Name of the i-th pool (1-based): pool-001, pool-002, ... */
export function poolName(i: number): string {
  return `pool-${String(i).padStart(3, "0")}`;
}

/** The configuration file's content for pools 1..n. */
export function poolsConfig(n: number): { pools: object[] } {
  const pools = Array.from({ length: n }, (_, i) => {
    const pool = poolName(i + 1);
    return { workPool: { name: pool }, cluster: { name: `prefect-${pool}` } };
  });
  return { pools };
}

/** Writes the configuration file of pools 1..n to `path`; returns `path`. */
export function writePoolsConfig(n: number, path: string): string {
  writeFileSync(path, `${JSON.stringify(poolsConfig(n), null, 2)}\n`);
  return path;
}

/** n resolved configurations, pools 1..n. */
export function poolConfigs(n: number): ResolvedConfig[] {
  return resolveConfigs(poolsConfig(n));
}
