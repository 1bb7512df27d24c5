/**
 * The guide end to end, offline, configured as a Prefect Cloud team would: an API key (in SSM Parameter
 * Store), an explicit network (moto's default VPC, two subnets, an extra security group, no public IP),
 * a named pool deleted on destroy, and both stacks' state in an S3 bucket (in moto) with S3-native
 * locking; the work-pool stack reads the AWS outputs from there. The Prefect server is a real local one
 * without auth (it ignores the key the script sends), since the pool's API must be on loopback.
 */
import { MOTO_OVERRIDE_FILE, MotoInventory, boto3, pointProviderAt, pointRemoteStateAt, s3BackendConfigFile } from "../support/moto-stack";
import { StackOutputs, describeGuideE2E, GuideScenario, liveResources, resourceCounts, shippedFiles, StackFolders } from "./guide-scenario";

const API_KEY = "pnu_e2eFAKEfakeFAKEfakeFAKEfake000042";
const POOL = "data-team";
const STATE_BUCKET = "e2e-terraform-state";
const STATE_KEY = (stack: string) => `prefect-ecs-worker/${stack}/terraform.tfstate`;

interface DefaultNetwork {
  readonly vpcId: string;
  readonly subnetIds: string[];
  readonly defaultSecurityGroupId: string;
}

describeGuideE2E("E2E: a Cloud-style configuration with explicit network, SSM and S3 state against moto and a real Prefect server", () => {
  let scenario: GuideScenario;
  let stacks: StackFolders;
  let network: DefaultNetwork;
  let baseline: MotoInventory;
  let outputs: StackOutputs;
  let backendConfig: string;
  let created = 0;
  let synthesizedFiles: string[][];
  const awsEnv = () => ({ TF_VAR_prefect_api_url: scenario.prefect.url, TF_VAR_prefect_api_key: API_KEY });
  const prefectEnv = { PREFECT_API_KEY: API_KEY };
  const s3 = <T>(code: string) => boto3<T>(scenario.moto.url, scenario.region, `s3 = aws("s3")\n${code}`);
  const stateObject = (stack: string) => s3<string>(`print(json.dumps(s3.get_object(Bucket="${STATE_BUCKET}", Key="${STATE_KEY(stack)}")["Body"].read().decode()))`);

  beforeAll(async () => {
    scenario = await GuideScenario.start("Cloud-style: explicit network, SSM, S3 state");
    network = boto3<DefaultNetwork>(
      scenario.moto.url,
      scenario.region,
      [
        'ec2 = aws("ec2")',
        'vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]',
        'subnets = sorted(s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"])[:2]',
        'group = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]',
        'aws("s3").create_bucket(Bucket="' + STATE_BUCKET + '")',
        'print(json.dumps({"vpcId": vpc, "subnetIds": subnets, "defaultSecurityGroupId": group}))',
      ].join("\n"),
    );
    stacks = scenario.synthesize({
      workPool: { name: POOL, deleteOnDestroy: true },
      prefect: { server: "self-hosted", auth: "api-key" },
      secret: { store: "ssm" },
      network: { vpcId: network.vpcId, subnetIds: network.subnetIds, securityGroupIds: [network.defaultSecurityGroupId], assignPublicIp: false },
      backend: { type: "s3", bucket: STATE_BUCKET },
    });
    synthesizedFiles = [shippedFiles(stacks.awsDir), shippedFiles(stacks.workPoolDir)];
    pointProviderAt(stacks.awsDir, scenario.aws.url);
    pointRemoteStateAt(stacks.workPoolDir, "aws_stack", scenario.aws.url);
    baseline = scenario.inventory();
    backendConfig = s3BackendConfigFile(scenario.aws.url, scenario.scratchDir);
  }, 180_000);
  afterAll(() => scenario?.stop());

  it("GIVEN the synthesized stacks THEN their backend is the bucket, with no endpoint, and the moto settings are the test's own files", () => {
    expect(stacks.synthesized.json.terraform.backend).toEqual({
      s3: { bucket: STATE_BUCKET, key: STATE_KEY(`${POOL}-aws`), region: "us-east-1", encrypt: true, use_lockfile: true },
    });
    expect(synthesizedFiles).toEqual([["cdk.tf.json"], ["assets", "cdk.tf.json"]]);
    expect(shippedFiles(stacks.awsDir)).toEqual(["cdk.tf.json", MOTO_OVERRIDE_FILE]);
    expect(shippedFiles(stacks.workPoolDir)).toEqual(["assets", "cdk.tf.json", MOTO_OVERRIDE_FILE]);
  });

  it("WHEN the AWS stack is applied THEN its state is in the bucket, locked while it ran, and moto holds the resources in our network", async () => {
    await scenario.terraform("aws: init (S3 backend)", stacks.awsDir, ["init", `-backend-config=${backendConfig}`]);
    const mark = scenario.aws.mark();
    const applied = await scenario.terraform("aws: apply", stacks.awsDir, ["apply", "-auto-approve"], awsEnv());
    created = resourceCounts(applied).added;
    expect(created).toBeGreaterThan(20);
    outputs = await scenario.outputs(stacks.awsDir);

    // S3-native locking: the lock object was written and removed again; the state is in the bucket only.
    const lockKey = `${STATE_KEY(`${POOL}-aws`)}.tflock`;
    const lockCalls = scenario.aws.since(mark).filter((call) => call.key === lockKey).map((call) => call.action);
    expect(lockCalls).toEqual(expect.arrayContaining(["PUT object", "DELETE object"]));
    expect(shippedFiles(stacks.awsDir)).toEqual(["cdk.tf.json", MOTO_OVERRIDE_FILE]);
    const moto = scenario.inventory();
    expect(moto.buckets[STATE_BUCKET]).toEqual([STATE_KEY(`${POOL}-aws`)]);
    const state = stateObject(`${POOL}-aws`);
    expect(state).not.toContain(API_KEY);
    const parameter = (JSON.parse(state) as { resources: { type: string; instances: { attributes: Record<string, unknown> }[] }[] }).resources.find(
      (resource) => resource.type === "aws_ssm_parameter",
    );
    expect(parameter?.instances[0].attributes).toMatchObject({ value_wo: null, value: "" });

    // The key went into an SSM SecureString through the write-only attribute; only the execution role reads it.
    expect(moto.parameters).toEqual({ [`/prefect/${POOL}/api/key`]: { type: "SecureString", value: API_KEY, keyId: "alias/aws/ssm" } });
    const executionRole = moto.roles.ecsTaskExecutionRole;
    expect(Object.values(executionRole.inlinePolicies).flatMap((policy) => policy.Statement)).toContainEqual(
      expect.objectContaining({ Effect: "Allow", Action: "ssm:GetParameters", Resource: outputs.secret_arn }),
    );

    // The worker service runs in the given subnets with its own group and the extra one, without a public IP.
    const service = Object.values(moto.services).find((s) => s.status === "ACTIVE");
    const vpcConfiguration = service!.networkConfiguration.awsvpcConfiguration;
    expect(vpcConfiguration.subnets.sort()).toEqual(network.subnetIds);
    expect(vpcConfiguration.assignPublicIp).toBe("DISABLED");
    expect(vpcConfiguration.securityGroups.sort()).toEqual([...(outputs.security_group_ids as string[])].sort());
    expect(outputs.security_group_ids).toContain(network.defaultSecurityGroupId);
    expect(outputs).toMatchObject({ vpc_id: network.vpcId, subnet_ids: network.subnetIds, assign_public_ip: false, secret_environment_name: "PREFECT_API_KEY" });
    const definition = Object.values(moto.taskDefinitions).find((d) => d.arn === service!.taskDefinition);
    expect(definition!.containerDefinitions[0].secrets).toEqual([{ name: "PREFECT_API_KEY", valueFrom: outputs.secret_arn }]);
    expect(moto.queues[`${POOL}-events`]).toBeDefined();
    expect(moto.rules[`${POOL}-task-state-changes`].targets).toEqual([{ Id: expect.any(String), Arn: outputs.events_queue_arn }]);
  }, 300_000);

  it("WHEN the work-pool stack is applied THEN it reads the AWS outputs from the bucket and the pool gets them as defaults", async () => {
    await scenario.terraform("work pool: init (S3 backend)", stacks.workPoolDir, ["init", `-backend-config=${backendConfig}`]);
    await scenario.terraform("work pool: apply", stacks.workPoolDir, ["apply", "-auto-approve"], prefectEnv);
    const response = await fetch(`${scenario.prefect.url}/work_pools/${POOL}`);
    expect(response.status).toBe(200);
    const pool = (await response.json()) as { base_job_template: { variables: { properties: Record<string, { default?: unknown }> } } };
    const defaults = Object.fromEntries(Object.entries(pool.base_job_template.variables.properties).map(([name, variable]) => [name, variable.default]));
    expect(defaults).toMatchObject({
      cluster: outputs.cluster_arn,
      vpc_id: network.vpcId,
      prefect_api_key_secret_arn: outputs.secret_arn,
      network_configuration: { subnets: network.subnetIds, securityGroups: outputs.security_group_ids, assignPublicIp: "DISABLED" },
    });
    expect(scenario.inventory().buckets[STATE_BUCKET]).toEqual([STATE_KEY(`${POOL}-aws`), STATE_KEY(`${POOL}-work-pool`)]);
    expect(stateObject(`${POOL}-work-pool`)).not.toContain(API_KEY);
  }, 120_000);

  it("WHEN both stacks are destroyed THEN nothing of ours is left in moto, no lock remains, and the pool is deleted", async () => {
    await scenario.terraform("work pool: destroy", stacks.workPoolDir, ["destroy", "-auto-approve"], prefectEnv);
    expect((await fetch(`${scenario.prefect.url}/work_pools/${POOL}`)).status).toBe(404);
    const destroyed = await scenario.terraform("aws: destroy", stacks.awsDir, ["destroy", "-auto-approve"], awsEnv());
    expect(resourceCounts(destroyed).destroyed).toBe(created);
    const moto = scenario.inventory();
    // The bucket is the test's; it keeps both (now empty) states and no lock object.
    expect(moto.buckets[STATE_BUCKET]).toEqual([STATE_KEY(`${POOL}-aws`), STATE_KEY(`${POOL}-work-pool`)]);
    expect(JSON.parse(stateObject(`${POOL}-aws`)).resources).toEqual([]);
    expect(liveResources({ ...moto, buckets: {} })).toEqual(liveResources({ ...baseline, buckets: {} }));
  }, 300_000);
});
