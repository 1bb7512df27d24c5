/**
 * Configurations of N work pools that can live in one AWS account and region,
 * written the way a user would: one file with `pools`. Each pool gets its own
 * cluster; account-wide names carry the pool name (src/config/pools.ts).
 */
import { resolveConfigs } from "../src/config/pools";
import { ResolvedConfig } from "../src/config/resolve";

/** Name of the i-th pool (1-based): pool-001, pool-002, ... */
export function poolName(i: number): string {
  return `pool-${String(i).padStart(3, "0")}`;
}

/** n resolved configurations, pools 1..n. */
export function poolConfigs(n: number): ResolvedConfig[] {
  const pools = Array.from({ length: n }, (_, i) => {
    const pool = poolName(i + 1);
    return { workPool: { name: pool }, cluster: { name: `prefect-${pool}` } };
  });
  return resolveConfigs({ pools });
}
