/**
 * The cluster ARN's parts (partition, region, account, name) bound the trust policy, the worker's
 * policy and the event rule. They are split out of the ARN in exactly one place, `local.cluster`,
 * which every user reads (`local.cluster.account_id`); an ARN known at synthesis gives literals and
 * no local. Checked on the parsed JSON of every cluster shape, in the stacks and in the module.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfig } from "../src/config/resolve";
import { PrefectEcsWorkerConfigInput } from "../src/config/schema";
import { writeModule } from "../src/module/write-module";
import { interpolate } from "./support/policy-render";
import { CLOUD_API_URL, synthesize, synthesizePools } from "./support/synth";

type Json = Record<string, unknown>;

const EXISTING_CLUSTER_ARN = "arn:aws-us-gov:ecs:us-gov-west-1:210987654321:cluster/shared-cluster";
/** What a cluster ARN reference evaluates to in these tests. */
const EXAMPLE_ARN = "arn:aws:ecs:eu-central-1:123456789012:cluster/example";
const EXAMPLE_PARTS = { partition: "aws", region: "eu-central-1", account_id: "123456789012", name: "example" };

/** Every `split("<sep>", <expression>)` in every string of a document, with where it sits (`locals.cluster.region`). */
function splitsIn(document: unknown, path: string[] = []): { path: string; expression: string }[] {
  if (typeof document === "string") {
    return [...document.matchAll(/split\(\s*"(?:[^"\\]|\\.)*"\s*,\s*([^)]*)\)/g)].map((m) => ({ path: path.join("."), expression: m[1].trim() }));
  }
  if (Array.isArray(document)) return document.flatMap((value, i) => splitsIn(value, [...path, String(i)]));
  if (typeof document === "object" && document !== null) {
    return Object.entries(document).filter(([key]) => key !== "//").flatMap(([key, value]) => splitsIn(value, [...path, key]));
  }
  return [];
}

/** Every string of a document. */
function stringsIn(document: unknown): string[] {
  if (typeof document === "string") return [document];
  if (Array.isArray(document)) return document.flatMap(stringsIn);
  if (typeof document === "object" && document !== null) return Object.values(document).flatMap(stringsIn);
  return [];
}

function moduleDocument(input: PrefectEcsWorkerConfigInput): Json {
  return writeModule(resolveConfig(input), mkdtempSync(join(tmpdir(), "prefect-ecs-arn-parts-"))).document;
}

const stackOf = (input: PrefectEcsWorkerConfigInput) => () => synthesize(input).json as unknown as Json;
const poolStackOf = (index: number) => () =>
  synthesizePools({ pools: [{ workPool: { name: "dev" } }, { workPool: { name: "prod" } }] })[index].json as unknown as Json;

describe.each([
  { shape: "a created cluster, stack", document: stackOf({}), arn: "aws_ecs_cluster.cluster.arn" },
  { shape: "an existing cluster by name, stack", document: stackOf({ cluster: { existing: "shared-cluster" } }), arn: "data.aws_ecs_cluster.existing.arn" },
  { shape: "two pools sharing a cluster, the creating pool's stack", document: poolStackOf(0), arn: "aws_ecs_cluster.cluster.arn" },
  { shape: "two pools sharing a cluster, the second pool's stack (existing by name)", document: poolStackOf(1), arn: "data.aws_ecs_cluster.existing.arn" },
  { shape: "a created cluster, module", document: () => moduleDocument({ prefect: { apiUrl: CLOUD_API_URL } }), arn: "aws_ecs_cluster.cluster.arn" },
  {
    shape: "an existing cluster by ARN, module (the ARN is a variable)",
    document: () => moduleDocument({ prefect: { apiUrl: CLOUD_API_URL }, cluster: { existing: EXISTING_CLUSTER_ARN } }),
    arn: "var.cluster_arn",
  },
  {
    shape: "an existing cluster by name, module",
    document: () => moduleDocument({ prefect: { apiUrl: CLOUD_API_URL }, cluster: { existing: "shared-cluster" } }),
    arn: "data.aws_ecs_cluster.existing.arn",
  },
])("GIVEN $shape WHEN synthesized", ({ document, arn }) => {
  let json: Json;
  beforeAll(() => {
    json = document();
  });

  it(`THEN the ARN ${arn} is split in one place only: local.cluster, one part each`, () => {
    const byPath = (a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path);
    expect(splitsIn(json).sort(byPath)).toEqual(
      ["account_id", "name", "partition", "region"].map((part) => ({ path: `locals.cluster.${part}`, expression: arn })),
    );
  });

  it("THEN local.cluster's parts evaluate to the ARN's partition, region, account and name", () => {
    const local = (json.locals as Record<string, Record<string, string>>).cluster;
    const parts = Object.fromEntries(Object.entries(local).map(([key, template]) => [key, interpolate(template, { [arn]: EXAMPLE_ARN }, key)]));
    expect(parts).toEqual(EXAMPLE_PARTS);
  });

  it("THEN the trust policy's confused-deputy conditions read local.cluster, and every part has readers", () => {
    const trust = (json.data as Record<string, Record<string, { statement: { condition: unknown[] }[] }>>).aws_iam_policy_document.ecs_tasks_assume_role;
    expect(trust.statement[0].condition).toEqual([
      { test: "StringEquals", variable: "aws:SourceAccount", values: ["${local.cluster.account_id}"] },
      { test: "ArnLike", variable: "aws:SourceArn", values: ["arn:${local.cluster.partition}:ecs:${local.cluster.region}:${local.cluster.account_id}:*"] },
    ]);
    // The worker's policy and the event rule too (the name in the ARN of the cluster's tasks).
    const readers = (part: string) => stringsIn(json).filter((s) => s.includes(`local.cluster.${part}`)).length;
    expect(Object.fromEntries(["partition", "region", "account_id", "name"].map((part) => [part, readers(part) > 0]))).toEqual({
      partition: true,
      region: true,
      account_id: true,
      name: true,
    });
  });
});

describe("GIVEN an existing cluster by ARN, stack (the ARN is known at synthesis) WHEN synthesized", () => {
  const json = () => synthesize({ cluster: { existing: EXISTING_CLUSTER_ARN } }).json as unknown as Json & { locals?: Json; data: Json };

  it("THEN nothing is split and there is no local.cluster: the parts are literals", () => {
    expect(splitsIn(json())).toEqual([]);
    expect(json().locals ?? {}).not.toHaveProperty("cluster");
    expect(stringsIn(json()).filter((s) => s.includes("local.cluster"))).toEqual([]);
  });

  it("THEN the trust policy's confused-deputy conditions name the ARN's account, partition and region literally", () => {
    const trust = (json().data as Record<string, Record<string, { statement: { condition: unknown[] }[] }>>).aws_iam_policy_document.ecs_tasks_assume_role;
    expect(trust.statement[0].condition).toEqual([
      { test: "StringEquals", variable: "aws:SourceAccount", values: ["210987654321"] },
      { test: "ArnLike", variable: "aws:SourceArn", values: ["arn:aws-us-gov:ecs:us-gov-west-1:210987654321:*"] },
    ]);
  });
});
