/**
 * One configuration, several work pools (teams, environments): each pool gets
 * its own stacks, account-wide names never clash, and pools that name the
 * same cluster share it.
 */
import { problemsFrom } from "./support/config-errors";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesizeApps } from "../src/synthesize";
import { loadConfigs } from "../src/config/load";
import { resolveConfigs } from "../src/config/pools";
import { CLOUD_API_URL, TerraformJson } from "./support/synth";

function poolsConfig(count: number, extra: Record<string, unknown> = {}) {
  return {
    prefect: { apiUrl: CLOUD_API_URL },
    pools: Array.from({ length: count }, (_, i) => ({ workPool: { name: `team-${i + 1}` } })),
    ...extra,
  };
}

function synthesizePools(raw: unknown): { outdir: string; stacks: Map<string, TerraformJson>; manifest: Record<string, { dependencies: string[] }> } {
  const outdir = mkdtempSync(join(tmpdir(), "prefect-ecs-pools-"));
  synthesizeApps(resolveConfigs(raw), outdir);
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")).stacks as Record<string, { dependencies: string[] }>;
  const stacks = new Map(
    Object.keys(manifest).map((name) => [name, JSON.parse(readFileSync(join(outdir, "stacks", name, "cdk.tf.json"), "utf8")) as TerraformJson]),
  );
  return { outdir, stacks, manifest };
}

/** Every account-wide name a stack claims, by kind. */
function claimedNames(stacks: Map<string, TerraformJson>): Map<string, string[]> {
  const attribute: Record<string, string> = {
    aws_iam_role: "name",
    aws_iam_policy: "name",
    aws_sqs_queue: "name",
    aws_ecs_cluster: "name",
    aws_secretsmanager_secret: "name",
    aws_cloudwatch_event_rule: "name",
    aws_cloudwatch_log_group: "name",
    aws_ecr_repository: "name",
    aws_ecs_task_definition: "family",
    aws_security_group: "name_prefix",
  };
  const names = new Map<string, string[]>();
  for (const json of stacks.values()) {
    for (const [type, attr] of Object.entries(attribute)) {
      for (const body of Object.values(json.resource?.[type] ?? {})) {
        names.set(type, [...(names.get(type) ?? []), String(body[attr])]);
      }
    }
  }
  return names;
}

describe.each([1, 3, 10])("GIVEN %i pools in one configuration", (count) => {
  const { stacks, manifest } = synthesizePools(poolsConfig(count));

  it("THEN each pool gets its AWS and work-pool stacks, the work-pool stack after its AWS stack", () => {
    expect(stacks.size).toBe(count * 2);
    for (let i = 1; i <= count; i++) {
      expect(manifest[`team-${i}-work-pool`].dependencies).toContain(`team-${i}-aws`);
    }
  });

  it("THEN no account-wide name is claimed twice", () => {
    for (const [type, names] of claimedNames(stacks)) {
      expect({ type, duplicates: names.filter((n, i) => names.indexOf(n) !== i) }).toEqual({ type, duplicates: [] });
    }
  });

  it("THEN the pools share the guide's cluster: the first creates it, the others look it up and apply after it", () => {
    const creators = [...stacks].filter(([, json]) => json.resource.aws_ecs_cluster !== undefined).map(([name]) => name);
    expect(creators).toEqual(["team-1-aws"]);
    for (let i = 2; i <= count; i++) {
      const cluster = stacks.get(`team-${i}-aws`)!.data?.aws_ecs_cluster?.existing;
      expect(cluster).toMatchObject({ cluster_name: "my-ecs-cluster" });
      expect(manifest[`team-${i}-aws`].dependencies).toEqual(["team-1-aws"]);
    }
  });
});

describe("GIVEN pools that override the shared settings", () => {
  const { stacks } = synthesizePools({
    prefect: { apiUrl: CLOUD_API_URL },
    worker: { desiredCount: 2 },
    pools: [
      { workPool: { name: "dev" }, worker: { desiredCount: 1 }, cluster: { name: "dev" } },
      { workPool: { name: "prod" }, aws: { region: "eu-west-1" } },
    ],
  });

  it("THEN each entry is merged over the top level", () => {
    expect(stacks.get("dev-aws")!.variable.worker_desired_count.default).toBe(1);
    expect(stacks.get("prod-aws")!.variable.worker_desired_count.default).toBe(2);
    expect(stacks.get("prod-aws")!.variable.aws_region.default).toBe("eu-west-1");
  });

  it("THEN pools with their own cluster names get their own clusters", () => {
    expect(stacks.get("dev-aws")!.resource.aws_ecs_cluster.cluster.name).toBe("dev");
    expect(stacks.get("prod-aws")!.resource.aws_ecs_cluster.cluster.name).toBe("my-ecs-cluster");
  });

  it("THEN names the user did not choose carry the pool name", () => {
    expect(stacks.get("dev-aws")!.resource.aws_iam_role.execution_role.name).toBe("ecsTaskExecutionRole-dev");
    expect(stacks.get("prod-aws")!.resource.aws_iam_policy.worker_task_policy.name).toBe("ecsTaskPolicy-prod");
    expect(stacks.get("prod-aws")!.resource.aws_secretsmanager_secret.prefect_api_secret.name).toBe("PrefectECSWorkerAPIKey-prod");
  });
});

describe("GIVEN pools on a self-hosted server without auth", () => {
  it("WHEN resolved THEN no pool gets a secret (the file has no secret section to contradict prefect.auth none)", () => {
    const configs = resolveConfigs({
      prefect: { server: "self-hosted", apiUrl: "http://prefect.internal:4200/api", auth: "none" },
      pools: [{ workPool: { name: "dev" } }, { workPool: { name: "prod" } }],
    });
    expect(configs.map((c) => [c.workPoolName, c.secret])).toEqual([
      ["dev", undefined],
      ["prod", undefined],
    ]);
  });
});

describe("GIVEN pools with long names and names that start with - or _", () => {
  const long = `${"a".repeat(200)}-team`;
  const { stacks } = synthesizePools({
    prefect: { apiUrl: CLOUD_API_URL },
    pools: [{ workPool: { name: long } }, { workPool: { name: `${long}2` } }, { workPool: { name: "-dash_" } }, { workPool: { name: "__" } }],
  });

  it("THEN no stack folder starts with -", () => {
    const names = [...stacks.keys()];
    expect(names).toEqual(expect.arrayContaining(["dash-aws", "dash-work-pool", "pool-aws", "pool-work-pool"]));
    for (const name of names) expect(name).toMatch(/^[a-z0-9]/);
  });

  it("THEN every suffixed account-wide name fits AWS's limits and each pool's differs", () => {
    const configs = resolveConfigs({ prefect: { apiUrl: CLOUD_API_URL }, pools: [{ workPool: { name: long } }, { workPool: { name: `${long}2` } }] });
    for (const config of configs) {
      expect(config.roles.executionRoleName.length).toBeLessThanOrEqual(64);
      expect(config.flowRunTaskRole.enabled && config.flowRunTaskRole.name.length).toBeLessThanOrEqual(64);
    }
    expect(configs[0].roles.executionRoleName).not.toBe(configs[1].roles.executionRoleName);
  });
});

describe("GIVEN pools whose names would clash", () => {
  const problemsOf = (raw: unknown) => problemsFrom(() => resolveConfigs(raw));

  it("WHEN two pools set the same role name THEN the second is reported, naming the first", () => {
    const problems = problemsOf(poolsConfig(2, { roles: { executionRoleName: "shared-execution" } }));
    expect(problems).toEqual([
      expect.objectContaining({
        field: "pools[1].roles.executionRoleName",
        value: "shared-execution",
        message: expect.stringContaining("is also pools[0].roles.executionRoleName"),
      }),
    ]);
  });

  it("WHEN one pool's name is another's plus \"_\" in the same cluster THEN it is reported (the other's event rule would capture its runs); in separate clusters it is not", () => {
    const pools = (clusters: [string | undefined, string | undefined]) => ({
      pools: [
        { workPool: { name: "dev" }, ...(clusters[0] ? { cluster: { name: clusters[0] } } : {}) },
        { workPool: { name: "dev_x" }, ...(clusters[1] ? { cluster: { name: clusters[1] } } : {}) },
      ],
    });
    expect(problemsOf(pools([undefined, undefined]))).toEqual([
      expect.objectContaining({ field: "pools[1].workPool.name", value: "dev_x", message: expect.stringContaining('pools[0] ("dev") plus "_"') }),
    ]);
    expect(resolveConfigs(pools(["dev-cluster", "x-cluster"]))).toHaveLength(2);
  });

  it("WHEN two pool names map to the same stack name THEN it is reported", () => {
    const problems = problemsOf({
      prefect: { apiUrl: CLOUD_API_URL },
      pools: [{ workPool: { name: "team_a" }, ecr: { enabled: false }, eventsQueue: { name: "q1", deadLetterQueueName: "d1", ruleName: "r1" }, logs: { groupName: "/l1" }, flowRunLogs: { enabled: false } }, { workPool: { name: "team-a" } }],
    });
    expect(problems.map((p) => p.field)).toContain("pools[1].workPool.name");
  });

  it("WHEN a pool has no name or a bad value THEN the problem names the pool entry", () => {
    expect(problemsOf({ pools: [{ workPool: { name: "a" } }, {}] }).map((p) => p.field)).toEqual(["pools[1].workPool.name"]);
    expect(problemsOf({ pools: [{ workPool: { name: "a" }, worker: { cpu: 300 } }] }).map((p) => p.field)).toEqual(["pools[0].worker.cpu"]);
    expect(problemsOf({ pools: [] }).map((p) => p.field)).toEqual(["pools"]);
  });
});

describe("GIVEN a configuration file with pools", () => {
  it("WHEN loaded THEN every pool is resolved, with template files read relative to the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "prefect-ecs-pools-file-"));
    writeFileSync(join(dir, "config.json"), JSON.stringify(poolsConfig(2)));
    expect(loadConfigs(join(dir, "config.json")).map((c) => c.workPoolName)).toEqual(["team-1", "team-2"]);
  });
});
