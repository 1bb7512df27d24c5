/**
 * Pool isolation rests on two things prefect-aws does when it starts a flow run: the task-definition
 * family it registers (`prefect_<pool>_<id>`, which the worker policy and the EventBridge rule match)
 * and the `prefect.io/work-pool-name` tag it puts on RunTask (which the policy's tag conditions
 * compare). This checks our copies of both against the pinned prefect-aws itself.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flowRunFamilyPrefix, prefectAwsTagValue, WORK_POOL_TAG_KEY } from "../src/constructs/worker-policy";
import { describeWithPeers, peerEnv, runPython } from "./support/peers";

/** Pool names the configuration accepts, including characters prefect-aws replaces in tags. */
const POOL_NAMES = ["my-ecs-pool", "Data Team", "team  a", "x.y:z=1+2@3", "-edge-", "dev_x", "a--b", "Équipe données", "ｆｕｌｌ"];

/** For each pool name (stdin, JSON): the tag prefect-aws writes for it, and the family it generates. */
const PYTHON = `
import json, sys, uuid
from types import SimpleNamespace
from slugify import slugify
from prefect.workers.base import BaseJobConfiguration
from prefect_aws.workers.ecs_worker import ECSWorker, _TAG_REGEX

out = []
for name in json.load(sys.stdin):
    labels = BaseJobConfiguration._base_work_pool_labels(SimpleNamespace(name=name, id=uuid.uuid4()))
    # As _prepare_task_run_request slugifies every tag key and value.
    tags = {slugify(k, regex_pattern=_TAG_REGEX, allow_unicode=True, lowercase=False):
            slugify(v, regex_pattern=_TAG_REGEX, allow_unicode=True, lowercase=False) for k, v in labels.items()}
    worker = ECSWorker.__new__(ECSWorker)
    worker._work_pool_name = name
    deployment = uuid.uuid4()
    family = ECSWorker._get_or_generate_family(worker, {}, SimpleNamespace(deployment_id=deployment, flow_id=uuid.uuid4()))
    out.append({"tags": tags, "family": family, "deployment": str(deployment)})
print(json.dumps(out))
`;

describeWithPeers("GIVEN the pinned prefect-aws ECS worker (Python peer)", ["prefect"], () => {
  let results: { tags: Record<string, string>; family: string; deployment: string }[];
  let home: string;

  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), "prefect-aws-tags-"));
    const run = runPython("prefect", ["-c", PYTHON], peerEnv(home), JSON.stringify(POOL_NAMES));
    if (run.status !== 0) throw new Error(`python failed (${run.status}): ${run.stderr}`);
    results = JSON.parse(run.stdout);
  }, 120_000);

  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it.each(POOL_NAMES.map((name, i) => [name, i]))("WHEN pool %j starts a flow run THEN its pool tag is what the policy's tag conditions expect", (name, i) => {
    expect(results[i as number].tags[WORK_POOL_TAG_KEY]).toBe(prefectAwsTagValue(name as string));
  });

  it.each(POOL_NAMES.map((name, i) => [name, i]))("WHEN pool %j registers a task definition THEN its family is our prefix plus the deployment id", (name, i) => {
    const { family, deployment } = results[i as number];
    expect(family).toBe(`${flowRunFamilyPrefix(name as string)}${deployment}`);
  });
});
