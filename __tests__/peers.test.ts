/**
 * The Python test peers are real and pinned: the versions that answer are the ones the
 * requirements files name, and a server, the emulator and Checkov actually run.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { describeWithPeers, MotoServer, peerCommand, peerEnv, prefectReference, PrefectServer, runPython, startMotoServer, startPrefectServer } from "./support/peers";

function pinned(file: string, name: string): string {
  const line = readFileSync(join(__dirname, "peers", file), "utf8")
    .split("\n")
    .find((entry) => entry.replace(/\[.*\]/, "").startsWith(`${name}==`));
  if (!line) throw new Error(`${name} is not pinned in ${file}`);
  return line.split("==")[1];
}

describeWithPeers("Peer gate: the pinned Python peers", ["prefect", "checkov"], () => {
  it("GIVEN the prefect environment WHEN asked for versions THEN prefect, prefect-aws and moto are the pinned ones", () => {
    const result = runPython(
      "prefect",
      ["-c", "import json, importlib.metadata as m; print(json.dumps({n: m.version(n) for n in ['prefect', 'prefect-aws', 'moto']}))"],
      peerEnv(tmpdir()),
    );
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      prefect: pinned("prefect.requirements.txt", "prefect"),
      "prefect-aws": pinned("prefect.requirements.txt", "prefect-aws"),
      moto: pinned("prefect.requirements.txt", "moto"),
    });
  });

  it("GIVEN the cached upstream data WHEN read THEN it comes from the pinned prefect and prefect-aws and holds the work-pool schemas", () => {
    const reference = prefectReference();
    expect(reference.versions).toEqual({
      prefect: pinned("prefect.requirements.txt", "prefect"),
      "prefect-aws": pinned("prefect.requirements.txt", "prefect-aws"),
    });
    expect(Object.keys(reference.openapi.components.schemas)).toEqual(
      expect.arrayContaining(["WorkPoolCreate", "WorkPoolUpdate", "WorkPoolResponse"]),
    );
    expect(Object.keys(reference.ecsDefaultTemplate).sort()).toEqual(["job_configuration", "variables"]);
    expect(Object.keys(reference.serverFallbackTemplate).sort()).toEqual(["job_configuration", "variables"]);
  });

  it("GIVEN the checkov environment WHEN asked for its version THEN it is the pinned one", () => {
    const result = spawnSync(peerCommand("checkov", "checkov"), ["--version"], { encoding: "utf8", env: peerEnv(tmpdir()) });
    expect(result.stdout.trim()).toBe(pinned("checkov.requirements.txt", "checkov"));
  });

  describe("GIVEN a Prefect server with basic auth", () => {
    let server: PrefectServer;
    beforeAll(async () => {
      server = await startPrefectServer({ authString: "admin:peer-test" });
    });
    afterAll(() => server?.stop());

    it("WHEN called without credentials THEN it answers 401, and with them 200", async () => {
      expect((await fetch(`${server.url}/work_pools/filter`, { method: "POST" })).status).toBe(401);
      const authorized = await fetch(`${server.url}/work_pools/filter`, {
        method: "POST",
        headers: { Authorization: `Basic ${Buffer.from("admin:peer-test").toString("base64")}` },
      });
      expect(authorized.status).toBe(200);
    });
  });

  describe("GIVEN a moto server", () => {
    let moto: MotoServer;
    beforeAll(async () => {
      moto = await startMotoServer();
    });
    afterAll(() => moto?.stop());

    it("WHEN boto3 creates a queue there THEN moto lists it", () => {
      const code = [
        "import boto3, os",
        "sqs = boto3.client('sqs', region_name='us-east-1', endpoint_url=os.environ['ENDPOINT'])",
        "sqs.create_queue(QueueName='peer-check')",
        "print(sqs.list_queues()['QueueUrls'][0].rsplit('/', 1)[1])",
      ].join("\n");
      const result = runPython("prefect", ["-c", code], {
        ...peerEnv(tmpdir()),
        ENDPOINT: moto.url,
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
      });
      expect(result.stderr).toBe("");
      expect(result.stdout.trim()).toBe("peer-check");
    });

    it("WHEN a Fargate task definition with task-level memory only is run THEN RunTask succeeds and the recorder holds the request", async () => {
      // moto 5.2.5 answers this RunTask with 500 unless peers/moto_server.py patches it.
      await moto.startRecording();
      const code = [
        "import boto3",
        "ecs, ec2 = boto3.client('ecs'), boto3.client('ec2')",
        "subnet = ec2.describe_subnets()['Subnets'][0]",
        "group = ec2.create_security_group(GroupName='peer-check', Description='peer check', VpcId=subnet['VpcId'])['GroupId']",
        "ecs.create_cluster(clusterName='peer-check')",
        "arn = ecs.register_task_definition(family='peer-check', requiresCompatibilities=['FARGATE'], networkMode='awsvpc',",
        "    cpu='1024', memory='2048', containerDefinitions=[{'name': 'prefect', 'image': 'prefecthq/prefect:3-latest'}])['taskDefinition']['taskDefinitionArn']",
        "network = {'awsvpcConfiguration': {'subnets': [subnet['SubnetId']], 'securityGroups': [group]}}",
        "task = ecs.run_task(cluster='peer-check', taskDefinition=arn, launchType='FARGATE', networkConfiguration=network)['tasks'][0]",
        "print(task['taskDefinitionArn'])",
      ].join("\n");
      const result = runPython("prefect", ["-c", code], { ...peerEnv(tmpdir()), ...moto.clientEnv });
      expect(result.stderr).toBe("");
      expect(result.stdout.trim()).toBe("arn:aws:ecs:us-east-1:123456789012:task-definition/peer-check:1");
      const runTasks = (await moto.recordedRequests()).filter((request) => request.target === "AmazonEC2ContainerServiceV20141113.RunTask");
      expect(runTasks.map((request) => JSON.parse(request.body).cluster)).toEqual(["peer-check"]);
    });
  });
});
