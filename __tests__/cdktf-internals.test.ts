/**
 * The fast synthesis copies parts of cdktf 0.21.0 and reads what it keeps
 * private (src/stacks/cdktf-internals.ts). With another cdktf, or one lacking
 * a helper or a field, it must fall back to cdktf's own synthesis, say so in
 * a warning, and write exactly what cdktf's own synthesis writes.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, TerraformStack } from "cdktf";
import { buildApps } from "../src/app";
import { resolveConfigs } from "../src/config/pools";
import { cdktfInternals, fastSynthesisProblem, tokenStackTraces } from "../src/stacks/cdktf-internals";
import { synthesizeApps } from "../src/synthesize";
import { WorkerAwsStack } from "../src/stacks/worker-aws-stack";
import { resolveConfig } from "../src/config/resolve";
import { expectSameFiles } from "./support/files";
import { CLOUD_API_URL } from "./support/synth";

const RAW = { prefect: { apiUrl: CLOUD_API_URL }, workPool: { deleteOnDestroy: true } };
const FALLBACK = /synthesizing the standard \(slower\) way: (.*)\. The fast way copies cdktf 0\.21\.0/;

/** The warnings of every stack, from the manifest cdktf wrote. */
function warningsOf(outdir: string): string[] {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as {
    stacks: Record<string, { annotations: { level: string; message: string }[] }>;
  };
  return Object.values(manifest.stacks).flatMap(({ annotations }) => annotations.filter((a) => a.level.endsWith("warn")).map((a) => a.message));
}

const temp = (name: string) => mkdtempSync(join(tmpdir(), `prefect-ecs-${name}-`));

test("GIVEN cdktf 0.21.0 as installed WHEN synthesized the fast way THEN no stack warns of a fallback", () => {
  const outdir = temp("fast");
  synthesizeApps(resolveConfigs(RAW), outdir);
  expect(warningsOf(outdir).filter((message) => FALLBACK.test(message))).toEqual([]);
});

describe("GIVEN another cdktf version", () => {
  /** The AWS stack in an app whose cdktf calls itself `version`, resolving once or not. */
  function synthesizeAs(version: string, resolveOnce: boolean): string {
    const outdir = temp("version");
    const app = new App({ outdir, stackTraces: false, skipValidation: true });
    app.node.setContext("cdktfVersion", version);
    new WorkerAwsStack(app, "pool-aws", { config: resolveConfig(RAW), resolveOnce });
    app.synth();
    return outdir;
  }

  it("WHEN the stacks are built to resolve once THEN they say why they do not, and write what cdktf's own synthesis writes", () => {
    const fallback = synthesizeAs("0.22.0", true);
    expect(warningsOf(fallback).map((message) => FALLBACK.exec(message)?.[1])).toEqual(['cdktf "0.22.0" is not 0.21.0, the version it copies']);
    expectSameFiles(join(fallback, "stacks"), join(synthesizeAs("0.22.0", false), "stacks"), "the fallback must be cdktf's own synthesis");
  });
});

describe("GIVEN a stack that lacks a private field or a helper the fast toTerraform() reads", () => {
  const stackWith = (fields: Record<string, unknown>) => Object.assign(Object.create(TerraformStack.prototype) as TerraformStack, fields);
  const complete = { cdktfVersion: "0.21.0", rawOverrides: {} };

  it("WHEN rawOverrides is missing THEN the problem names it", () => {
    expect(fastSynthesisProblem(stackWith({ cdktfVersion: "0.21.0" }))).toBe("TerraformStack has no rawOverrides object");
  });
  it("WHEN cdktfVersion is missing THEN the problem names the version it found", () => {
    expect(fastSynthesisProblem(stackWith({ rawOverrides: {} }))).toBe("cdktf undefined is not 0.21.0, the version it copies");
  });
  it("WHEN cdktf/lib/util has no deepMerge() (or _tokens no resolve()) THEN the problem names them", () => {
    expect(fastSynthesisProblem(stackWith(complete), { traces: tokenStackTraces() })).toBe("cdktf/lib/_tokens resolve() or cdktf/lib/util deepMerge() is missing");
  });
  it("WHEN the token stack-trace module is missing THEN the problem names it", () => {
    expect(fastSynthesisProblem(stackWith(complete), { internals: cdktfInternals() })).toBe("cdktf/lib/tokens/private/stack-trace captureStackTrace() is missing");
  });
  it("WHEN everything is there THEN there is no problem", () => {
    expect(fastSynthesisProblem(stackWith(complete))).toBeUndefined();
  });
});

test("GIVEN the pools of a configuration WHEN built without resolveOnce THEN no fallback is checked or reported", () => {
  const outdir = temp("plain");
  buildApps(resolveConfigs(RAW), outdir).app.synth();
  expect(warningsOf(outdir).filter((message) => FALLBACK.test(message))).toEqual([]);
});
