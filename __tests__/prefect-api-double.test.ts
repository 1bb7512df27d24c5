/**
 * The Prefect API test double behaves as ../shared/spec/prefect-api.md and the
 * OpenAPI schema in ../shared/reference say, so that tests of the work-pool
 * script can trust it. Requests go over real HTTP with Node's fetch.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020";
import type { ValidateFunction } from "ajv";
import { PrefectApiDouble, REFERENCE_DIR, validateAgainstPrefectSchema, type WorkPoolResponse } from "./support/prefect-api-double";

type Json = Record<string, any>;

const readReference = (file: string): Json => JSON.parse(readFileSync(join(REFERENCE_DIR, file), "utf8")) as Json;
const ECS_TEMPLATE = readReference("prefect-aws-0.7.11-ecs-base-job-template.json");
const FALLBACK_TEMPLATE = readReference("prefect-server-fallback-ecs-base-job-template.json");

/** WorkPoolResponse from the OpenAPI file, compiled independently of the double's own loader. */
function responseValidator(): ValidateFunction {
  const document = readReference("prefect-openapi-work-pools.json");
  const ajv = new Ajv2020({ strictSchema: false, allErrors: true });
  ajv.addFormat("uuid", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  ajv.addFormat("date-time", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  ajv.addSchema({ ...document, $id: "https://openapi.invalid/prefect.json" });
  return ajv.getSchema("https://openapi.invalid/prefect.json#/components/schemas/WorkPoolResponse")!;
}
const validateResponse = responseValidator();

function expectValidWorkPoolResponse(body: unknown): void {
  const ok = validateResponse(body);
  if (!ok) throw new Error(`not a WorkPoolResponse: ${JSON.stringify(validateResponse.errors)}`);
  expect(validateAgainstPrefectSchema("WorkPoolResponse", body)).toBeNull();
  // every field the schema knows is present, none it does not
  const properties = Object.keys(readReference("prefect-openapi-work-pools.json").components.schemas.WorkPoolResponse.properties);
  expect(Object.keys(body as object).sort()).toEqual([...properties].sort());
}

const JSON_HEADERS = { "content-type": "application/json" };
const enc = encodeURIComponent;

async function call(
  api: PrefectApiDouble,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string; json: Json | undefined }> {
  const response = await fetch(api.url + path, {
    method,
    headers: body === undefined ? headers : { ...JSON_HEADERS, ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    redirect: "manual",
  });
  const text = await response.text();
  let json: Json | undefined;
  try {
    json = text ? (JSON.parse(text) as Json) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** A minimal valid template whose job configuration uses the given variables. */
function template(variables: Record<string, Json>, extraPlaceholders: string[] = []): Json {
  const names = [...Object.keys(variables), ...extraPlaceholders];
  return {
    job_configuration: Object.fromEntries(names.map((name) => [name, `{{ ${name} }}`])),
    variables: { type: "object", properties: variables },
  };
}

describe("PrefectApiDouble", () => {
  describe("GIVEN a self-hosted server without auth", () => {
    let api: PrefectApiDouble;
    beforeAll(async () => {
      api = await PrefectApiDouble.start({ mode: "self-hosted" });
    });
    afterAll(() => api.stop());
    beforeEach(() => api.resetLog());

    it("WHEN started THEN it listens on loopback with the /api base", () => {
      expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
      expect(api.port).toBeGreaterThan(0);
    });

    it("WHEN a pool is created THEN 201 with a body that validates against WorkPoolResponse", async () => {
      const { status, json } = await call(api, "POST", "/work_pools/", { name: "create-me", type: "ecs", description: "d", concurrency_limit: 3 });
      expect(status).toBe(201);
      expectValidWorkPoolResponse(json);
      expect(json).toMatchObject({
        name: "create-me",
        type: "ecs",
        description: "d",
        base_job_template: {},
        is_paused: false,
        concurrency_limit: 3,
        status: "NOT_READY",
        active_slots: 0,
        storage_configuration: { bundle_upload_step: null, bundle_execution_step: null, default_result_storage_block_id: null },
      });
      expect(json!.created).toBe(json!.updated);
      expect(json!.default_queue_id).not.toBe(json!.id);
      expect(api.pool("create-me")).toEqual(json);
      const [logged] = api.requests;
      expect(logged).toMatchObject({ method: "POST", path: "/work_pools/", status: 201, body: { name: "create-me" } });
      expect(logged!.headers["content-type"]).toBe("application/json");
    });

    it("WHEN a pool is created with defaults only THEN type is prefect-agent and status null", async () => {
      const { status, json } = await call(api, "POST", "/work_pools/", { name: "agent-pool" });
      expect(status).toBe(201);
      expectValidWorkPoolResponse(json);
      expect(json).toMatchObject({ type: "prefect-agent", status: null, active_slots: null, description: null });
    });

    it("WHEN a client sends the prefect-aws 0.7.11 ECS template THEN it is accepted and stored verbatim", async () => {
      const body = { name: "my-ecs-pool", type: "ecs", base_job_template: ECS_TEMPLATE };
      const created = await call(api, "POST", "/work_pools/", body);
      expect(created.status).toBe(201);
      expectValidWorkPoolResponse(created.json);
      const read = await call(api, "GET", "/work_pools/my-ecs-pool");
      expect(read.status).toBe(200);
      expectValidWorkPoolResponse(read.json);
      expect(read.json!.base_job_template).toEqual(ECS_TEMPLATE);
      // key order survives too (what a client sends is what it reads back)
      expect(JSON.stringify(read.json!.base_job_template)).toBe(JSON.stringify(ECS_TEMPLATE));
      expect(JSON.stringify(api.pool("my-ecs-pool")!.base_job_template)).toBe(JSON.stringify(ECS_TEMPLATE));
    });

    it("WHEN a client sends the server's fallback ECS template THEN it is accepted too", async () => {
      const { status } = await call(api, "POST", "/work_pools/", { name: "fallback-pool", type: "ecs", base_job_template: FALLBACK_TEMPLATE });
      expect(status).toBe(201);
    });

    it("WHEN the name is taken THEN 409 and the pool is unchanged", async () => {
      await call(api, "POST", "/work_pools/", { name: "taken", type: "ecs", description: "first" });
      const { status, json } = await call(api, "POST", "/work_pools/", { name: "taken", type: "ecs", description: "second" });
      expect(status).toBe(409);
      expect(json).toEqual({ detail: 'Work pool "taken" already exists.' });
      expect(api.pool("taken")!.description).toBe("first");
    });

    it("WHEN the name starts with prefect in any case THEN create is 403", async () => {
      const { status, json } = await call(api, "POST", "/work_pools/", { name: "PreFect-managed-pool", type: "ecs" });
      expect(status).toBe(403);
      expect(json!.detail).toContain("reserved for internal use");
      expect(api.pool("PreFect-managed-pool")).toBeUndefined();
    });

    it("WHEN a reserved pool is patched or deleted THEN only is_paused/concurrency_limit go through", async () => {
      api.seedPool({ name: "prefect-managed", type: "prefect:managed" });
      expect((await call(api, "PATCH", "/work_pools/prefect-managed", { description: "x" })).status).toBe(403);
      expect((await call(api, "PATCH", "/work_pools/prefect-managed", { is_paused: true, concurrency_limit: 2 })).status).toBe(204);
      expect(api.pool("prefect-managed")).toMatchObject({ is_paused: true, concurrency_limit: 2, status: "PAUSED", description: null });
      expect((await call(api, "DELETE", "/work_pools/prefect-managed")).status).toBe(403);
    });

    it("WHEN a pool is read before and after creation THEN 404 then 200", async () => {
      const missing = await call(api, "GET", "/work_pools/later");
      expect(missing.status).toBe(404);
      expect(missing.json).toEqual({ detail: 'Work pool "later" not found.' });
      await call(api, "POST", "/work_pools/", { name: "later", type: "ecs" });
      const found = await call(api, "GET", "/work_pools/later");
      expect(found.status).toBe(200);
      expectValidWorkPoolResponse(found.json);
    });

    it("WHEN the template is PATCHed THEN 204 without body and the whole template is replaced", async () => {
      const original = { ...template({ cluster: { type: "string", default: "a" }, cpu: { type: "integer", default: 256 } }), note: "old" };
      await call(api, "POST", "/work_pools/", { name: "patch-me", type: "ecs", base_job_template: original, description: "keep" });
      const before = api.pool("patch-me")!;
      const replacement = template({ memory: { type: "integer", default: 512 } });
      const patched = await call(api, "PATCH", "/work_pools/patch-me", { base_job_template: replacement });
      expect(patched.status).toBe(204);
      expect(patched.text).toBe("");
      const after = (await call(api, "GET", "/work_pools/patch-me")).json as WorkPoolResponse;
      expectValidWorkPoolResponse(after);
      expect(after.base_job_template).toEqual(replacement); // no merge: cluster and cpu are gone
      expect(after).toMatchObject({ description: "keep", type: "ecs", id: before.id, created: before.created, is_paused: false });
      expect(Date.parse(after.updated)).toBeGreaterThanOrEqual(Date.parse(before.updated));
    });

    it("WHEN only some fields are PATCHed THEN the others are left as they were", async () => {
      await call(api, "POST", "/work_pools/", { name: "partial", type: "ecs", base_job_template: ECS_TEMPLATE, concurrency_limit: 4 });
      expect((await call(api, "PATCH", "/work_pools/partial", { description: null, concurrency_limit: null })).status).toBe(204);
      expect(api.pool("partial")).toMatchObject({ base_job_template: ECS_TEMPLATE, description: null, concurrency_limit: null, active_slots: null });
    });

    it("WHEN a PATCH carries name or type THEN 422 extra_forbidden and nothing changes", async () => {
      await call(api, "POST", "/work_pools/", { name: "fixed", type: "ecs" });
      const { status, json } = await call(api, "PATCH", "/work_pools/fixed", { name: "renamed", type: "process", description: "x" });
      expect(status).toBe(422);
      expect(json).toEqual({
        exception_message: "Invalid request received.",
        exception_detail: [
          { type: "extra_forbidden", loc: ["body", "name"], msg: "Extra inputs are not permitted", input: "renamed" },
          { type: "extra_forbidden", loc: ["body", "type"], msg: "Extra inputs are not permitted", input: "process" },
        ],
        request_body: { name: "renamed", type: "process", description: "x" },
      });
      expect(api.pool("fixed")).toMatchObject({ name: "fixed", type: "ecs", description: null });
    });

    it("WHEN fields have the wrong types THEN 422 names each field like pydantic", async () => {
      const { status, json } = await call(api, "POST", "/work_pools/", {
        name: "typed",
        concurrency_limit: -1,
        is_paused: "yes",
        storage_configuration: { default_result_storage_block_id: "not-a-uuid" },
      });
      expect(status).toBe(422);
      const detail = json!.exception_detail as Json[];
      expect(detail.map((d) => [d.loc, d.type])).toEqual([
        [["body", "is_paused"], "bool_parsing"],
        [["body", "concurrency_limit"], "greater_than_equal"],
        [["body", "storage_configuration", "default_result_storage_block_id"], "uuid_parsing"],
      ]);
      const missing = await call(api, "POST", "/work_pools/", { type: "ecs" });
      expect(missing.json!.exception_detail).toEqual([{ type: "missing", loc: ["body", "name"], msg: "Field required", input: { type: "ecs" } }]);
      const badName = await call(api, "POST", "/work_pools/", { name: "a/b" });
      expect(badName.json!.exception_detail[0]).toMatchObject({ type: "string_pattern_mismatch", loc: ["body", "name"] });
    });

    it("WHEN the job configuration uses an undeclared placeholder THEN create and PATCH are 422 naming it", async () => {
      const bad = template({ cluster: { type: "string" } }, ["cluster_arn"]);
      const created = await call(api, "POST", "/work_pools/", { name: "undeclared", type: "ecs", base_job_template: bad });
      expect(created.status).toBe(422);
      const [error] = created.json!.exception_detail as Json[];
      expect(error).toMatchObject({ type: "value_error", loc: ["body", "base_job_template"] });
      expect(error!.msg).toContain("undeclared variable(s): cluster_arn");
      expect(api.pool("undeclared")).toBeUndefined();

      await call(api, "POST", "/work_pools/", { name: "undeclared", type: "ecs" });
      const nested = { job_configuration: { task_run_request: { overrides: [{ cpu: "{{cpu}}x{{ memory }}" }] } }, variables: { properties: { cpu: {} } } };
      const patched = await call(api, "PATCH", "/work_pools/undeclared", { base_job_template: nested });
      expect(patched.status).toBe(422);
      expect(patched.json!.exception_detail[0].msg).toContain("undeclared variable(s): memory.");
      expect(api.pool("undeclared")!.base_job_template).toEqual({});
    });

    it("WHEN the template lacks job_configuration or variables THEN 422; an empty template is fine", async () => {
      const half = await call(api, "POST", "/work_pools/", { name: "half", base_job_template: { variables: { properties: { a: {} } } } });
      expect(half.status).toBe(422);
      expect(half.json!.exception_detail[0].msg).toContain("must contain both a `job_configuration` key and a `variables` key");
      expect((await call(api, "POST", "/work_pools/", { name: "empty-template", base_job_template: {} })).status).toBe(201);
    });

    it("WHEN a variable default does not fit its schema THEN create is 422 but PATCH accepts it", async () => {
      const invalidDefault = template({ cpu: { anyOf: [{ type: "integer" }, { type: "null" }], default: "lots" } });
      const created = await call(api, "POST", "/work_pools/", { name: "bad-default", type: "ecs", base_job_template: invalidDefault });
      expect(created.status).toBe(422);
      expect(created.json!.detail).toBe(
        "Validation failed for work pool's job variable defaults: Validation failed for field 'cpu'. Failure reason: 'lots' is not valid under any of the given schemas",
      );
      const badEnum = template({ launch_type: { type: "string", enum: ["FARGATE", "EC2"], default: "FOO" } });
      const enumCreated = await call(api, "POST", "/work_pools/", { name: "bad-default", type: "ecs", base_job_template: badEnum });
      expect(enumCreated.json!.detail).toContain("'FOO' is not one of ['FARGATE', 'EC2']");
      await call(api, "POST", "/work_pools/", { name: "bad-default", type: "ecs" });
      expect((await call(api, "PATCH", "/work_pools/bad-default", { base_job_template: invalidDefault })).status).toBe(204);
    });

    it("WHEN a default references a block document that does not exist THEN create is 404", async () => {
      const withBlock = template({
        aws_credentials: { type: "object", default: { $ref: { block_document_id: "6f1d0c1e-3c1e-4a57-9d0e-4b8c2a3b1f00" } } },
      });
      const { status, json } = await call(api, "POST", "/work_pools/", { name: "block-ref", type: "ecs", base_job_template: withBlock });
      expect(status).toBe(404);
      expect(json).toEqual({ detail: "Block not found." });
    });

    it("WHEN the body is not JSON THEN 422 like FastAPI (including curl's default form content type)", async () => {
      const invalid = await call(api, "POST", "/work_pools/", '{"name": ');
      expect(invalid.status).toBe(422);
      expect(invalid.json!.exception_detail[0]).toMatchObject({ type: "json_invalid", msg: "JSON decode error" });
      expect(invalid.json!.request_body).toBe('{"name": ');

      const form = await fetch(`${api.url}/work_pools/`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: JSON.stringify({ name: "form" }),
      });
      expect(form.status).toBe(422);
      expect(((await form.json()) as Json).exception_detail[0].type).toBe("model_attributes_type");

      const empty = await call(api, "POST", "/work_pools/", "");
      expect(empty.json!.exception_detail).toEqual([{ type: "missing", loc: ["body"], msg: "Field required", input: null }]);
      expect((await call(api, "POST", "/work_pools/", [])).json!.exception_detail[0].type).toBe("model_attributes_type");
      expect(api.pool("form")).toBeUndefined();
    });

    it("WHEN an explicit null is PATCHed into a NOT NULL column THEN 500 as on the real server", async () => {
      await call(api, "POST", "/work_pools/", { name: "nulls", type: "ecs" });
      expect((await call(api, "PATCH", "/work_pools/nulls", { base_job_template: null })).status).toBe(500);
      expect((await call(api, "PATCH", "/work_pools/nulls", { is_paused: null })).status).toBe(500);
    });

    it("WHEN pool names need URL-encoding THEN the encoded path reaches the decoded name", async () => {
      const name = "data team #1";
      expect((await call(api, "POST", "/work_pools/", { name, type: "ecs" })).status).toBe(201);
      const read = await call(api, "GET", `/work_pools/${enc(name)}`);
      expect(read.status).toBe(200);
      expect(read.json!.name).toBe(name);
      expect((await call(api, "PATCH", `/work_pools/${enc(name)}`, { description: "encoded" })).status).toBe(204);
      expect(api.pool(name)!.description).toBe("encoded");
      const logged = api.requests.filter((r) => r.method !== "POST");
      expect(logged.map((r) => [r.url, r.path, r.poolName])).toEqual([
        ["/api/work_pools/data%20team%20%231", "/work_pools/data team #1", name],
        ["/api/work_pools/data%20team%20%231", "/work_pools/data team #1", name],
      ]);
      // unencoded, '#' starts a fragment and never reaches the server
      const unencoded = await fetch(`${api.url}/work_pools/${name}`);
      expect(unencoded.status).toBe(404);
      expect(api.requests.at(-1)!.poolName).toBe("data team ");
      expect((await call(api, "DELETE", `/work_pools/${enc(name)}`)).status).toBe(204);
      expect(api.pool(name)).toBeUndefined();
    });

    it("WHEN a pool is deleted THEN 204, then reads and deletes are 404", async () => {
      await call(api, "POST", "/work_pools/", { name: "doomed", type: "ecs" });
      const deleted = await call(api, "DELETE", "/work_pools/doomed");
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe("");
      expect((await call(api, "GET", "/work_pools/doomed")).status).toBe(404);
      expect((await call(api, "DELETE", "/work_pools/doomed")).json).toEqual({ detail: 'Work pool "doomed" not found.' });
    });

    it("WHEN the pool is paused and resumed THEN status follows PAUSED / NOT_READY / READY", async () => {
      await call(api, "POST", "/work_pools/", { name: "pausable", type: "ecs", is_paused: true });
      expect(api.pool("pausable")!.status).toBe("PAUSED");
      await call(api, "PATCH", "/work_pools/pausable", { is_paused: false });
      expect(api.pool("pausable")!.status).toBe("NOT_READY");
      api.setWorkersOnline("pausable", true);
      expect(api.pool("pausable")!.status).toBe("READY");
      await call(api, "PATCH", "/work_pools/pausable", { is_paused: true });
      await call(api, "PATCH", "/work_pools/pausable", { is_paused: false });
      expect(api.pool("pausable")!.status).toBe("READY");
    });

    it("WHEN routes are off the map THEN health is true, unknown paths 404, wrong methods 405, a missing slash 307", async () => {
      const health = await call(api, "GET", "/health");
      expect([health.status, health.json]).toEqual([200, true]);
      expect((await fetch(`${api.origin}/work_pools/x`)).status).toBe(404);
      expect((await call(api, "GET", "/flows/")).status).toBe(404);
      expect((await call(api, "PUT", "/work_pools/x", {})).status).toBe(405);
      const noSlash = await call(api, "POST", "/work_pools", { name: "slashless" });
      expect(noSlash.status).toBe(307);
      expect(noSlash.headers.get("location")).toBe(`${api.url}/work_pools/`);
      expect(api.pool("slashless")).toBeUndefined();
      expect((await call(api, "GET", "/work_pools/x", undefined, { "X-PREFECT-API-VERSION": "0.8.4" })).status).toBe(404);
    });

    it("WHEN pools are seeded and the log reset THEN helpers reflect it", async () => {
      const seeded = api.seedPool({ name: "worker-made", type: "ecs", base_job_template: FALLBACK_TEMPLATE }, { status: "READY" });
      expectValidWorkPoolResponse(seeded);
      expect(api.pool("worker-made")).toEqual(seeded);
      expect(api.poolNames()).toContain("worker-made");
      expect(() => api.seedPool({ name: "worker-made" })).toThrow(/already exists/);
      expect(() => api.seedPool({ name: "x", bogus: 1 })).toThrow(/extra_forbidden/);
      await call(api, "GET", "/work_pools/worker-made");
      expect(api.requests).toHaveLength(1);
      api.resetLog();
      expect(api.requests).toEqual([]);
      expect(api.pool("nope")).toBeUndefined();
    });

    it("WHEN the test's main thread is blocked in spawnSync THEN the double still answers", () => {
      api.seedPool({ name: "sync-pool", type: "ecs" });
      const script = `fetch(process.argv[1]).then(async (r) => console.log(r.status, (await r.json()).name))`;
      const child = spawnSync(process.execPath, ["-e", script, `${api.url}/work_pools/sync-pool`], { encoding: "utf8", timeout: 20000 });
      expect(child.stdout.trim()).toBe("200 sync-pool");
    });
  });

  describe("GIVEN a Prefect Cloud workspace", () => {
    const apiKey = "pnu_cloudTESTkeyTESTkeyTESTkeyTEST1234";
    let api: PrefectApiDouble;
    beforeAll(async () => {
      api = await PrefectApiDouble.start({ mode: "cloud", apiKey });
    });
    afterAll(() => api.stop());

    it("WHEN started THEN the base is /api/accounts/<uuid>/workspaces/<uuid>", () => {
      const uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
      expect(api.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/api/accounts/${uuid}/workspaces/${uuid}$`));
      expect(api.url).toBe(`${api.origin}/api/accounts/${api.accountId}/workspaces/${api.workspaceId}`);
      expect(api.apiKey).toBe(apiKey);
    });

    it("WHEN the right Bearer key is sent THEN requests go through", async () => {
      const auth = { Authorization: `Bearer ${apiKey}` };
      expect((await call(api, "POST", "/work_pools/", { name: "cloud-pool", type: "ecs" }, auth)).status).toBe(201);
      expect((await call(api, "GET", "/work_pools/cloud-pool", undefined, auth)).status).toBe(200);
    });

    it("WHEN the key is wrong, missing or Basic THEN 401 Unauthorized", async () => {
      const attempts: Record<string, string>[] = [{ Authorization: "Bearer pnu_wrong" }, {}, { Authorization: `Basic ${Buffer.from(apiKey).toString("base64")}` }];
      for (const headers of attempts) {
        const { status, json } = await call(api, "GET", "/work_pools/cloud-pool", undefined, headers);
        expect([status, json]).toEqual([401, { exception_message: "Unauthorized" }]);
      }
    });

    it("WHEN a request misses the workspace prefix THEN 404", async () => {
      const response = await fetch(`${api.origin}/api/work_pools/cloud-pool`, { headers: { Authorization: `Bearer ${apiKey}` } });
      expect(response.status).toBe(404);
    });

    it("WHEN no key is configured THEN one is generated", async () => {
      const other = await PrefectApiDouble.start({ mode: "cloud" });
      try {
        expect(other.apiKey).toMatch(/^pnu_/);
        expect((await call(other, "GET", "/health", undefined, { Authorization: `Bearer ${other.apiKey}` })).status).toBe(200);
      } finally {
        await other.stop();
      }
    });
  });

  describe("GIVEN a self-hosted server with basic auth", () => {
    const authString = "admin:s3cret:with:colons";
    const basic = (value: string) => ({ Authorization: `Basic ${Buffer.from(value).toString("base64")}` });
    let api: PrefectApiDouble;
    beforeAll(async () => {
      api = await PrefectApiDouble.start({ mode: "self-hosted", authString });
    });
    afterAll(() => api.stop());

    it("WHEN the right credentials are sent THEN requests go through", async () => {
      expect((await call(api, "POST", "/work_pools/", { name: "basic-pool", type: "ecs" }, basic(authString))).status).toBe(201);
      expect((await call(api, "GET", "/work_pools/basic-pool", undefined, basic(authString))).status).toBe(200);
    });

    it("WHEN credentials are wrong, missing or Bearer THEN 401 and nothing happens", async () => {
      const attempts: Record<string, string>[] = [basic("admin:wrong"), {}, { Authorization: `Bearer ${authString}` }, { Authorization: "Basic" }];
      for (const headers of attempts) {
        const { status, json } = await call(api, "POST", "/work_pools/", { name: "intruder", type: "ecs" }, headers);
        expect([status, json]).toEqual([401, { exception_message: "Unauthorized" }]);
      }
      expect(api.pool("intruder")).toBeUndefined();
    });

    it("WHEN health is probed without credentials THEN it answers", async () => {
      expect((await call(api, "GET", "/health")).status).toBe(200);
    });
  });

  describe("GIVEN a self-hosted server with CSRF protection", () => {
    let api: PrefectApiDouble;
    beforeAll(async () => {
      api = await PrefectApiDouble.start({ mode: "self-hosted", csrf: true });
    });
    afterAll(() => api.stop());

    it("WHEN a client fetches a token and sends it with its id THEN mutations go through", async () => {
      const issued = await call(api, "GET", "/csrf-token?client=script-1");
      expect(issued.status).toBe(200);
      expect(issued.json).toMatchObject({ client: "script-1", token: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(Date.parse(issued.json!.expiration)).toBeGreaterThan(Date.now());
      const headers = { "Prefect-Csrf-Token": issued.json!.token as string, "Prefect-Csrf-Client": "script-1" };
      expect((await call(api, "POST", "/work_pools/", { name: "csrf-pool", type: "ecs" }, headers)).status).toBe(201);
      expect((await call(api, "PATCH", "/work_pools/csrf-pool", { description: "x" }, headers)).status).toBe(204);
      expect((await call(api, "GET", "/work_pools/csrf-pool")).status).toBe(200); // reads need no token
      expect((await call(api, "DELETE", "/work_pools/csrf-pool", undefined, headers)).status).toBe(204);
    });

    it("WHEN the headers are missing or do not match THEN 403 and nothing changes", async () => {
      const token = (await call(api, "GET", "/csrf-token?client=script-2")).json!.token as string;
      const cases: [Record<string, string>, string][] = [
        [{}, "Missing CSRF token."],
        [{ "Prefect-Csrf-Token": token }, "Missing client identifier."],
        [{ "Prefect-Csrf-Token": "0".repeat(64), "Prefect-Csrf-Client": "script-2" }, "Invalid CSRF token or client identifier."],
        [{ "Prefect-Csrf-Token": token, "Prefect-Csrf-Client": "someone-else" }, "Invalid CSRF token or client identifier."],
      ];
      for (const [headers, detail] of cases) {
        const { status, json } = await call(api, "POST", "/work_pools/", { name: "csrf-denied", type: "ecs" }, headers);
        expect([status, json]).toEqual([403, { detail }]);
      }
      expect(api.pool("csrf-denied")).toBeUndefined();
    });

    it("WHEN a client asks again THEN the new token replaces the old one", async () => {
      const first = (await call(api, "GET", "/csrf-token?client=rotating")).json!.token as string;
      const second = (await call(api, "GET", "/csrf-token?client=rotating")).json!.token as string;
      expect(second).not.toBe(first);
      const withFirst = await call(api, "POST", "/work_pools/", { name: "rotated" }, { "Prefect-Csrf-Token": first, "Prefect-Csrf-Client": "rotating" });
      expect(withFirst.status).toBe(403);
    });

    it("WHEN the client id is missing THEN the token route is 422", async () => {
      expect((await call(api, "GET", "/csrf-token")).status).toBe(422);
    });

    it("WHEN CSRF protection is off THEN the token route is 422 and no headers are needed", async () => {
      const plain = await PrefectApiDouble.start({ mode: "self-hosted" });
      try {
        const { status, json } = await call(plain, "GET", "/csrf-token?client=x");
        expect([status, json]).toEqual([422, { detail: "CSRF protection is disabled." }]);
        expect((await call(plain, "POST", "/work_pools/", { name: "no-csrf" })).status).toBe(201);
      } finally {
        await plain.stop();
      }
    });

    it("WHEN a token has expired THEN it is refused", async () => {
      const shortLived = await PrefectApiDouble.start({ mode: "self-hosted", csrf: true, csrfTokenTtlMs: 50 });
      try {
        const token = (await call(shortLived, "GET", "/csrf-token?client=c")).json!.token as string;
        await new Promise((resolve) => setTimeout(resolve, 120));
        const { status } = await call(shortLived, "POST", "/work_pools/", { name: "late" }, { "Prefect-Csrf-Token": token, "Prefect-Csrf-Client": "c" });
        expect(status).toBe(403);
      } finally {
        await shortLived.stop();
      }
    });
  });

  describe("GIVEN injected faults", () => {
    let api: PrefectApiDouble;
    beforeAll(async () => {
      api = await PrefectApiDouble.start({ mode: "self-hosted" });
    });
    afterAll(() => api.stop());
    beforeEach(() => {
      api.injectFaults([]);
      api.resetLog();
    });

    it("WHEN a 500 is queued THEN the first request fails without effect and the retry succeeds", async () => {
      api.injectFaults([{ status: 500 }]);
      const failed = await call(api, "POST", "/work_pools/", { name: "flaky", type: "ecs" });
      expect([failed.status, failed.json]).toEqual([500, { exception_message: "Internal Server Error" }]);
      expect(api.pool("flaky")).toBeUndefined();
      expect((await call(api, "POST", "/work_pools/", { name: "flaky", type: "ecs" })).status).toBe(201);
      expect(api.requests.map((r) => [r.status, r.fault])).toEqual([
        [500, { status: 500 }],
        [201, undefined],
      ]);
      expect(api.pendingFaults).toEqual([]);
    });

    it("WHEN a 429 with Retry-After is queued THEN the header is sent", async () => {
      api.injectFaults([{ status: 429, retryAfter: 2 }]);
      const limited = await call(api, "GET", "/work_pools/flaky");
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toBe("2");
      expect((await call(api, "GET", "/work_pools/flaky")).status).toBe(200);
    });

    it("WHEN a 503 is queued twice for PATCH only THEN other requests pass and the queue drains", async () => {
      api.injectFaults([{ status: 503, times: 2, match: { method: "patch", pathIncludes: "/work_pools/flaky" } }]);
      expect((await call(api, "GET", "/work_pools/flaky")).status).toBe(200);
      expect((await call(api, "PATCH", "/work_pools/flaky", { description: "1" })).status).toBe(503);
      expect(api.pendingFaults).toEqual([{ status: 503, times: 1, match: { method: "patch", pathIncludes: "/work_pools/flaky" } }]);
      expect((await call(api, "PATCH", "/work_pools/flaky", { description: "2" })).status).toBe(503);
      expect(api.pool("flaky")!.description).toBeNull();
      expect((await call(api, "PATCH", "/work_pools/flaky", { description: "3" })).status).toBe(204);
      expect(api.pool("flaky")!.description).toBe("3");
    });

    it("WHEN a delay is queued THEN the response is measurably slow", async () => {
      api.injectFaults([{ delayMs: 400 }]);
      const started = Date.now();
      const slow = await call(api, "GET", "/work_pools/flaky");
      const elapsed = Date.now() - started;
      expect(slow.status).toBe(200);
      expect(elapsed).toBeGreaterThanOrEqual(380);
      const fastStarted = Date.now();
      await call(api, "GET", "/work_pools/flaky");
      expect(Date.now() - fastStarted).toBeLessThan(380);
      const [logged] = api.requests;
      expect(logged!.respondedAt - logged!.receivedAt).toBeGreaterThanOrEqual(380);
    });

    it("WHEN a delayed request is aborted by the client THEN the server has already committed it", async () => {
      api.injectFaults([{ delayMs: 1000 }]);
      const aborted = fetch(`${api.url}/work_pools/`, {
        method: "POST",
        headers: JSON_HEADERS,
        body: JSON.stringify({ name: "committed-then-timed-out" }),
        signal: AbortSignal.timeout(200),
      });
      await expect(aborted).rejects.toThrow();
      expect(api.pool("committed-then-timed-out")).toBeDefined();
      expect((await call(api, "POST", "/work_pools/", { name: "committed-then-timed-out" })).status).toBe(409);
    });

    it("WHEN processAfterDelay is set THEN state changes only after the delay", async () => {
      api.injectFaults([{ delayMs: 300, processAfterDelay: true }]);
      const pending = call(api, "POST", "/work_pools/", { name: "late-commit" });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(api.pool("late-commit")).toBeUndefined();
      expect((await pending).status).toBe(201);
    });

    it("WHEN a drop is queued THEN fetch rejects, nothing changes and the next request works", async () => {
      api.injectFaults([{ drop: true }]);
      await expect(fetch(`${api.url}/work_pools/`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ name: "dropped" }) })).rejects.toThrow();
      expect(api.pool("dropped")).toBeUndefined();
      expect(api.requests.map((r) => [r.method, r.status, r.fault])).toEqual([["POST", null, { drop: true }]]);
      expect((await call(api, "POST", "/work_pools/", { name: "dropped" })).status).toBe(201);
    });

    it("WHEN faults are replaced by an empty list THEN none are left", async () => {
      api.injectFaults([{ status: 503, times: 100 }]);
      expect((await call(api, "GET", "/health")).status).toBe(503);
      api.injectFaults([]);
      expect(api.pendingFaults).toEqual([]);
      expect((await call(api, "GET", "/health")).status).toBe(200);
      expect(() => api.injectFaults([{ status: 500, times: 0 }])).toThrow(/positive integer/);
    });
  });

  describe("GIVEN a stopped double", () => {
    it("WHEN used THEN helpers throw and the port refuses connections", async () => {
      const api = await PrefectApiDouble.start({ mode: "self-hosted" });
      const url = api.url;
      await api.stop();
      await api.stop(); // idempotent
      expect(() => api.requests).toThrow(/stopped/);
      await expect(fetch(`${url}/health`)).rejects.toThrow();
    });

    it("WHEN options mix Cloud and self-hosted settings THEN start refuses", async () => {
      await expect(PrefectApiDouble.start({ mode: "cloud", authString: "a:b" })).rejects.toThrow(/self-hosted/);
      await expect(PrefectApiDouble.start({ mode: "self-hosted", apiKey: "k" })).rejects.toThrow(/Cloud/);
    });
  });
});
