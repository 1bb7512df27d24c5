/**
 * The app's edge synthesizes the fast way (synthesizeApps: each element
 * resolved once, shallow token stack traces). It must write exactly what
 * cdktf's own synthesis writes, for every kind of configuration.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Fn, IResolvable, Lazy, TerraformLocal, TerraformOutput, TerraformVariable } from "cdktf";
import { SelfContainedStack } from "../src/stacks/self-contained-stack";
import { buildApps } from "../src/app";
import { resolveConfigs } from "../src/config/pools";
import { synthesizeApps, withoutTokenCreationStacks } from "../src/synthesize";
import { expectSameFiles } from "./support/files";
import { CLOUD_API_URL } from "./support/synth";

const CONFIGURATIONS: Record<string, unknown> = {
  "the defaults": {},
  "Prefect Cloud, an existing secret, explicit network, tags and flow-run statements with conditions": {
    prefect: { apiUrl: CLOUD_API_URL },
    secret: { existing: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prefect-key-AbCdEf" },
    network: { vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0123456789abcdef0"], assignPublicIp: false },
    tags: { team: "data-platform", "cost-center": "42" },
    flowRunTaskRole: {
      s3Buckets: ["acme-flows"],
      statements: [
        {
          sid: "ReadParams",
          actions: ["ssm:GetParameter"],
          resources: ["arn:aws:ssm:*:*:parameter/flows/*"],
          conditions: [{ test: "StringLike", variable: "aws:PrincipalTag/team", values: ["data-*", 'say "hi" \\ \n back'] }],
        },
      ],
    },
  },
  "self-hosted with basic auth in SSM, pool deleted on destroy": {
    prefect: { server: "self-hosted", apiUrl: "http://prefect.internal:4200/api", auth: "basic-auth" },
    secret: { store: "ssm" },
    workPool: { deleteOnDestroy: true, description: "Data team's pool", concurrencyLimit: 5 },
  },
  "an S3 backend (raw overrides on every stack)": {
    backend: { type: "s3", bucket: "acme-terraform-state", keyPrefix: "platform/prefect" },
  },
  "a Terraform Cloud backend": {
    backend: { type: "cloud", organization: "acme", project: "prefect", workspacePrefix: "prod-" },
  },
  "three pools sharing one cluster (stack dependencies)": {
    prefect: { apiUrl: CLOUD_API_URL },
    pools: [{ workPool: { name: "team-1" } }, { workPool: { name: "team-2" } }, { workPool: { name: "team-3", manage: false } }],
  },
};

describe.each(Object.entries(CONFIGURATIONS))("GIVEN %s", (_name, raw) => {
  it("WHEN synthesized the fast way THEN every file is byte-identical to cdktf's own synthesis", () => {
    const configs = resolveConfigs(raw);
    const cdktfWay = mkdtempSync(join(tmpdir(), "prefect-ecs-cdktf-way-"));
    buildApps(configs, cdktfWay).app.synth();
    const fastWay = mkdtempSync(join(tmpdir(), "prefect-ecs-fast-way-"));
    synthesizeApps(configs, fastWay);

    expectSameFiles(fastWay, cdktfWay, "the fast way against cdktf's own synthesis");
  });
});

describe("GIVEN a stack whose values mix plain data with every kind of token", () => {
  const stackJson = (resolveOnce: boolean): unknown => {
    const stack = new SelfContainedStack(new App({ outdir: mkdtempSync(join(tmpdir(), "prefect-ecs-tokens-")) }), "tokens", { resolveOnce });
    const count = new TerraformVariable(stack, "count", { type: "number" });
    const names = new TerraformVariable(stack, "names", { type: "list(string)" });
    const tags = new TerraformVariable(stack, "tags", { type: "map(string)" });
    new TerraformLocal(stack, "mixed", {
      plain: { text: "no token, 1e5 and ${var.x} as text", unset: undefined, list: [1, undefined, "a", null, true] },
      numberInString: `${count.numberValue} workers`,
      number: count.numberValue,
      list: names.listValue,
      listInArray: [Fn.element(names.listValue, 0), "b"],
      map: tags.value,
      lazy: Lazy.anyValue({ produce: () => ({ produced: count.stringValue, unset: undefined }) }),
      joined: Fn.join(",", names.listValue),
    });
    new TerraformLocal(stack, "token_key", { [`key-${count.stringValue}`]: "token in a key", plain: { unset: undefined } });
    new TerraformOutput(stack, "out", { value: { first: Fn.element(names.listValue, 0), count: count.numberValue } });
    stack.addOverride("terraform.required_version", Lazy.stringValue({ produce: () => ">= 1.11.0" }));
    return stack.toTerraform();
  };

  it("WHEN it resolves each element once THEN its document equals cdktf's three-pass resolution", () => {
    expect(stackJson(true)).toEqual(stackJson(false));
    expect(JSON.stringify(stackJson(true))).toBe(JSON.stringify(stackJson(false)));
  });
});

describe("GIVEN tokens created deep in a call stack (cdktf records each one's creation stack)", () => {
  const tokenAtDepth = (depth: number): IResolvable => (depth > 0 ? tokenAtDepth(depth - 1) : Lazy.anyValue({ produce: () => 1 }));

  it("WHEN created inside withoutTokenCreationStacks THEN none records a creation stack", () => {
    expect(tokenAtDepth(40).creationStack.length).toBeGreaterThan(40);
    expect(withoutTokenCreationStacks(() => tokenAtDepth(40)).creationStack).toEqual([]);
  });

  it("WHEN withoutTokenCreationStacks returns or throws THEN cdktf records full creation stacks again and errors keep their stacks", () => {
    withoutTokenCreationStacks(() => undefined);
    expect(tokenAtDepth(40).creationStack.length).toBeGreaterThan(40);
    let thrown: Error | undefined;
    try {
      withoutTokenCreationStacks(() => {
        throw new Error("boom");
      });
    } catch (error) {
      thrown = error as Error;
    }
    expect(thrown?.message).toBe("boom");
    expect(thrown?.stack).toContain("synthesize.test.ts");
    expect(tokenAtDepth(40).creationStack.length).toBeGreaterThan(40);
  });
});
