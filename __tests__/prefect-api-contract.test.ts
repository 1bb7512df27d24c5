/**
 * One contract, two servers: the same requests to the work-pool routes the upsert script uses
 * (POST /work_pools/, GET|PATCH|DELETE /work_pools/{name}, GET /csrf-token) get the same status
 * codes and body shapes from the Prefect API double as from the real, pinned `prefect server`.
 * The double is kept only for the faults a real server cannot be made to produce (5xx, 429,
 * dropped connections, slow answers); this file is what stops it from drifting from the real one.
 * Every expectation is on the server's answers over HTTP, never on the double's helpers.
 */
import { PrefectApiDouble, validateAgainstPrefectSchema } from "./support/prefect-api-double";
import { callApi, Json } from "./support/prefect-http";
import { describeWithPeers, prefectReference, PrefectServer, startPrefectServer } from "./support/peers";
import { ecsBaseJobTemplate } from "../src/work-pool/ecs-base-job-template";

interface Variant {
  readonly authString?: string;
  readonly csrf?: boolean;
}

/** A running server of either kind: its API base and how to stop it. */
interface Target {
  readonly url: string;
  stop(): Promise<void>;
}

const AUTH_STRING = "admin:contract:with:colons";
const basic = (value: string) => ({ Authorization: `Basic ${Buffer.from(value).toString("base64")}` });

const KINDS: Record<string, (variant: Variant) => Promise<Target>> = {
  "the API double": (variant) => PrefectApiDouble.start({ mode: "self-hosted", ...variant }),
  "the real Prefect server": (variant): Promise<PrefectServer> => startPrefectServer(variant),
};

const call = (api: Target, method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  callApi(api.url, method, path, body, headers);

/** The fields of WorkPoolResponse in the pinned server's OpenAPI document. */
const responseFields = () => Object.keys(prefectReference().openapi.components.schemas.WorkPoolResponse!.properties as object).sort();

/** A work-pool answer's shape: every field the schema names, each of the right kind. */
function expectWorkPoolShape(body: Json | undefined): void {
  expect(validateAgainstPrefectSchema("WorkPoolResponse", body)).toBeNull();
  expect(Object.keys(body ?? {}).sort()).toEqual(responseFields());
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const timestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
  expect(body).toMatchObject({
    id: expect.stringMatching(uuid),
    default_queue_id: expect.stringMatching(uuid),
    created: expect.stringMatching(timestamp),
    updated: expect.stringMatching(timestamp),
    storage_configuration: { bundle_upload_step: null, bundle_execution_step: null, default_result_storage_block_id: null },
  });
}

/** A minimal valid template whose job configuration uses the given variables. */
function template(variables: Record<string, Json>, extraPlaceholders: string[] = []): Json {
  const names = [...Object.keys(variables), ...extraPlaceholders];
  return {
    job_configuration: Object.fromEntries(names.map((name) => [name, `{{ ${name} }}`])),
    variables: { type: "object", properties: variables },
  };
}

/** A pool name no other test of this run uses. */
let counter = 0;
const unique = (stem: string) => `${stem}-${++counter}`;

const VARIANTS: Record<string, Variant> = { "without auth": {}, "with basic auth": { authString: AUTH_STRING }, "with CSRF protection": { csrf: true } };

describeWithPeers("Peer gate: the Prefect API double and the real server answer the same", ["prefect"], () => {
  // Every server of the file starts at once (a real one takes about 10 s), then each block picks its own.
  const started = new Map<string, Target>();
  beforeAll(async () => {
    await Promise.all(
      Object.entries(KINDS).flatMap(([kind, start]) =>
        Object.entries(VARIANTS).map(async ([variant, options]) => started.set(`${kind} ${variant}`, await start(options))),
      ),
    );
  }, 180_000);
  afterAll(() => Promise.all([...started.values()].map((target) => target.stop())));
  const serverFor = (kind: string, variant: string): Target => {
    const target = started.get(`${kind} ${variant}`);
    if (!target) throw new Error(`${kind} ${variant} did not start`);
    return target;
  };

  describe.each(Object.keys(KINDS))("GIVEN %s without auth", (kind) => {
    let api: Target;
    beforeAll(() => {
      api = serverFor(kind, "without auth");
    });

    it("WHEN a pool is created THEN 201 with the whole WorkPoolResponse, and GET returns the same pool", async () => {
      const name = unique("create-me");
      const { status, json } = await call(api, "POST", "/work_pools/", { name, type: "ecs", description: "d", concurrency_limit: 3 });
      expect(status).toBe(201);
      expectWorkPoolShape(json);
      expect(json).toMatchObject({
        name,
        type: "ecs",
        description: "d",
        base_job_template: {},
        is_paused: false,
        concurrency_limit: 3,
        status: "NOT_READY",
      });
      expect(Date.parse(json!.updated)).toBeGreaterThanOrEqual(Date.parse(json!.created));
      expect(json!.default_queue_id).not.toBe(json!.id);
      const read = await call(api, "GET", `/work_pools/${name}`);
      expect(read.status).toBe(200);
      expectWorkPoolShape(read.json);
      expect(read.json).toMatchObject({ id: json!.id, name, description: "d", concurrency_limit: 3, type: "ecs" });
    });

    it("WHEN a pool is created with the name only THEN type is prefect-agent and status null", async () => {
      const { status, json } = await call(api, "POST", "/work_pools/", { name: unique("agent-pool") });
      expect(status).toBe(201);
      expectWorkPoolShape(json);
      expect(json).toMatchObject({ type: "prefect-agent", status: null, description: null });
    });

    it("WHEN the pinned prefect-aws's default ECS template, our template and the server's fallback are sent THEN each is stored verbatim, key order included", async () => {
      const templates = [prefectReference().ecsDefaultTemplate, ecsBaseJobTemplate(), prefectReference().serverFallbackTemplate];
      for (const sent of templates) {
        const name = unique("verbatim");
        expect((await call(api, "POST", "/work_pools/", { name, type: "ecs", base_job_template: sent })).status).toBe(201);
        const read = await call(api, "GET", `/work_pools/${name}`);
        expect(JSON.stringify(read.json!.base_job_template)).toBe(JSON.stringify(sent));
      }
    });

    it("WHEN the name is taken THEN 409 and the pool is unchanged", async () => {
      const name = unique("taken");
      await call(api, "POST", "/work_pools/", { name, type: "ecs", description: "first" });
      const { status, json } = await call(api, "POST", "/work_pools/", { name, type: "ecs", description: "second" });
      expect([status, json]).toEqual([409, { detail: "A work pool with this name already exists." }]);
      expect((await call(api, "GET", `/work_pools/${name}`)).json!.description).toBe("first");
    });

    it("WHEN the name starts with prefect in any case THEN create is 403 and nothing is made", async () => {
      const name = unique("PreFect-managed");
      const { status, json } = await call(api, "POST", "/work_pools/", { name, type: "ecs" });
      expect([status, json]).toEqual([403, { detail: "Work pools starting with 'Prefect' are reserved for internal use." }]);
      expect((await call(api, "GET", `/work_pools/${name}`)).status).toBe(404);
    });

    it("WHEN a missing pool is read, patched or deleted THEN 404 naming it", async () => {
      const name = unique("missing");
      const expected = { detail: `Work pool "${name}" not found.` };
      for (const [method, body] of [["GET"], ["PATCH", { description: "x" }], ["DELETE"]] as const) {
        const answer = await call(api, method, `/work_pools/${name}`, body);
        expect([method, answer.status, answer.json]).toEqual([method, 404, expected]);
      }
    });

    it("WHEN the template is PATCHed THEN 204 without body and the whole template is replaced, the rest kept", async () => {
      const name = unique("patch-me");
      const original = template({ cluster: { type: "string", default: "a" }, cpu: { type: "integer", default: 256 } });
      const created = (await call(api, "POST", "/work_pools/", { name, type: "ecs", base_job_template: original, description: "keep" })).json!;
      const replacement = template({ memory: { type: "integer", default: 512 } });
      const patched = await call(api, "PATCH", `/work_pools/${name}`, { base_job_template: replacement });
      expect([patched.status, patched.text]).toEqual([204, ""]);
      const after = (await call(api, "GET", `/work_pools/${name}`)).json!;
      expectWorkPoolShape(after);
      expect(after.base_job_template).toEqual(replacement); // no merge: cluster and cpu are gone
      expect(after).toMatchObject({ description: "keep", type: "ecs", id: created.id, created: created.created, is_paused: false });
      expect(Date.parse(after.updated)).toBeGreaterThan(Date.parse(created.updated));
    });

    it("WHEN only some fields are PATCHed THEN the others are left as they were", async () => {
      const name = unique("partial");
      const ecs = prefectReference().ecsDefaultTemplate;
      await call(api, "POST", "/work_pools/", { name, type: "ecs", base_job_template: ecs, concurrency_limit: 4, description: "d" });
      expect((await call(api, "PATCH", `/work_pools/${name}`, { description: null, concurrency_limit: null })).status).toBe(204);
      expect((await call(api, "GET", `/work_pools/${name}`)).json).toMatchObject({ base_job_template: ecs, description: null, concurrency_limit: null });
    });

    it("WHEN a PATCH carries name or type THEN 422 extra_forbidden for each and nothing changes", async () => {
      const name = unique("fixed");
      await call(api, "POST", "/work_pools/", { name, type: "ecs" });
      const { status, json } = await call(api, "PATCH", `/work_pools/${name}`, { name: "renamed", type: "process", description: "x" });
      expect(status).toBe(422);
      expect(json).toEqual({
        exception_message: "Invalid request received.",
        exception_detail: [
          { type: "extra_forbidden", loc: ["body", "name"], msg: "Extra inputs are not permitted", input: "renamed" },
          { type: "extra_forbidden", loc: ["body", "type"], msg: "Extra inputs are not permitted", input: "process" },
        ],
        request_body: { name: "renamed", type: "process", description: "x" },
      });
      expect((await call(api, "GET", `/work_pools/${name}`)).json).toMatchObject({ name, type: "ecs", description: null });
    });

    it("WHEN fields have the wrong types THEN 422 names each field like pydantic", async () => {
      const { status, json } = await call(api, "POST", "/work_pools/", {
        name: unique("typed"),
        concurrency_limit: -1,
        is_paused: "maybe",
        storage_configuration: { default_result_storage_block_id: "not-a-uuid" },
      });
      expect(status).toBe(422);
      expect((json!.exception_detail as Json[]).map((d) => [d.loc, d.type])).toEqual([
        [["body", "is_paused"], "bool_parsing"],
        [["body", "concurrency_limit"], "greater_than_equal"],
        [["body", "storage_configuration", "default_result_storage_block_id"], "uuid_parsing"],
      ]);
      const missing = await call(api, "POST", "/work_pools/", { type: "ecs" });
      expect(missing.json!.exception_detail).toEqual([{ type: "missing", loc: ["body", "name"], msg: "Field required", input: { type: "ecs" } }]);
      const badName = await call(api, "POST", "/work_pools/", { name: "a/b" });
      expect(badName.json!.exception_detail[0]).toMatchObject({ type: "string_pattern_mismatch", loc: ["body", "name"] });
    });

    it("WHEN is_paused is a word pydantic reads as a boolean THEN it is taken as that boolean", async () => {
      const name = unique("lax");
      const created = await call(api, "POST", "/work_pools/", { name, type: "ecs", is_paused: "yes" });
      expect([created.status, created.json!.is_paused]).toEqual([201, true]);
      expect((await call(api, "PATCH", `/work_pools/${name}`, { is_paused: "Off" })).status).toBe(204);
      expect((await call(api, "GET", `/work_pools/${name}`)).json!.is_paused).toBe(false);
    });

    it("WHEN the job configuration uses an undeclared placeholder THEN create and PATCH are 422 naming it", async () => {
      const name = unique("undeclared");
      const bad = template({ cluster: { type: "string" } }, ["cluster_arn"]);
      const created = await call(api, "POST", "/work_pools/", { name, type: "ecs", base_job_template: bad });
      expect(created.status).toBe(422);
      const [error] = created.json!.exception_detail as Json[];
      expect(error).toMatchObject({ type: "value_error", loc: ["body", "base_job_template"] });
      expect(error!.msg).toContain("undeclared variable(s): cluster_arn");
      expect((await call(api, "GET", `/work_pools/${name}`)).status).toBe(404);

      await call(api, "POST", "/work_pools/", { name, type: "ecs" });
      const nested = { job_configuration: { task_run_request: { overrides: [{ cpu: "{{cpu}}x{{ memory }}" }] } }, variables: { properties: { cpu: {} } } };
      const patched = await call(api, "PATCH", `/work_pools/${name}`, { base_job_template: nested });
      expect(patched.status).toBe(422);
      expect(patched.json!.exception_detail[0].msg).toContain("undeclared variable(s): memory.");
      expect((await call(api, "GET", `/work_pools/${name}`)).json!.base_job_template).toEqual({});
    });

    it("WHEN the template lacks job_configuration or variables THEN 422; an empty template is fine", async () => {
      const half = await call(api, "POST", "/work_pools/", { name: unique("half"), base_job_template: { variables: { properties: { a: {} } } } });
      expect(half.status).toBe(422);
      expect(half.json!.exception_detail[0].msg).toContain("must contain both a `job_configuration` key and a `variables` key");
      expect((await call(api, "POST", "/work_pools/", { name: unique("empty-template"), base_job_template: {} })).status).toBe(201);
    });

    it("WHEN a variable default does not fit its schema THEN create is 422 but PATCH accepts it", async () => {
      const name = unique("bad-default");
      const invalidDefault = template({ cpu: { anyOf: [{ type: "integer" }, { type: "null" }], default: "lots" } });
      const created = await call(api, "POST", "/work_pools/", { name, type: "ecs", base_job_template: invalidDefault });
      expect([created.status, created.json]).toEqual([
        422,
        {
          detail:
            "Validation failed for work pool's job variable defaults: Validation failed for field 'cpu'. Failure reason: 'lots' is not valid under any of the given schemas",
        },
      ]);
      const badEnum = template({ launch_type: { type: "string", enum: ["FARGATE", "EC2"], default: "FOO" } });
      const enumCreated = await call(api, "POST", "/work_pools/", { name, type: "ecs", base_job_template: badEnum });
      expect(enumCreated.json!.detail).toContain("'FOO' is not one of ['FARGATE', 'EC2']");
      await call(api, "POST", "/work_pools/", { name, type: "ecs" });
      expect((await call(api, "PATCH", `/work_pools/${name}`, { base_job_template: invalidDefault })).status).toBe(204);
    });

    it("WHEN a default references a block document that does not exist THEN create is 404", async () => {
      const withBlock = template({
        aws_credentials: { type: "object", default: { $ref: { block_document_id: "6f1d0c1e-3c1e-4a57-9d0e-4b8c2a3b1f00" } } },
      });
      const { status, json } = await call(api, "POST", "/work_pools/", { name: unique("block-ref"), type: "ecs", base_job_template: withBlock });
      expect([status, json]).toEqual([404, { detail: "Block not found." }]);
    });

    it("WHEN the body is not JSON THEN 422 like FastAPI (including curl's default form content type)", async () => {
      const invalid = await call(api, "POST", "/work_pools/", '{"name": ');
      expect(invalid.status).toBe(422);
      expect(invalid.json!.exception_detail[0]).toMatchObject({ type: "json_invalid", msg: "JSON decode error" });
      expect(invalid.json!.request_body).toBe('{"name": ');

      const name = unique("form");
      const form = await fetch(`${api.url}/work_pools/`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: JSON.stringify({ name }),
      });
      expect(form.status).toBe(422);
      expect(((await form.json()) as Json).exception_detail[0].type).toBe("model_attributes_type");

      const empty = await call(api, "POST", "/work_pools/", "");
      expect(empty.json!.exception_detail).toEqual([{ type: "missing", loc: ["body"], msg: "Field required", input: null }]);
      expect((await call(api, "POST", "/work_pools/", [])).json!.exception_detail[0].type).toBe("model_attributes_type");
      expect((await call(api, "GET", `/work_pools/${name}`)).status).toBe(404);
    });

    it("WHEN pool names need URL-encoding THEN the encoded path reaches the decoded name", async () => {
      const name = unique("data team #1 ü");
      const path = `/work_pools/${encodeURIComponent(name)}`;
      expect((await call(api, "POST", "/work_pools/", { name, type: "ecs" })).status).toBe(201);
      const read = await call(api, "GET", path);
      expect([read.status, read.json!.name]).toEqual([200, name]);
      expect((await call(api, "PATCH", path, { description: "encoded" })).status).toBe(204);
      expect((await call(api, "GET", path)).json!.description).toBe("encoded");
      expect((await call(api, "DELETE", path)).status).toBe(204);
      expect((await call(api, "GET", path)).status).toBe(404);
    });

    it("WHEN a pool is deleted THEN 204 without body, then reads and deletes are 404", async () => {
      const name = unique("doomed");
      await call(api, "POST", "/work_pools/", { name, type: "ecs" });
      const deleted = await call(api, "DELETE", `/work_pools/${name}`);
      expect([deleted.status, deleted.text]).toEqual([204, ""]);
      expect((await call(api, "GET", `/work_pools/${name}`)).status).toBe(404);
      expect((await call(api, "DELETE", `/work_pools/${name}`)).json).toEqual({ detail: `Work pool "${name}" not found.` });
    });

    it("WHEN a pool is created paused and resumed THEN status goes PAUSED, then NOT_READY", async () => {
      const name = unique("pausable");
      expect((await call(api, "POST", "/work_pools/", { name, type: "ecs", is_paused: true })).json!.status).toBe("PAUSED");
      await call(api, "PATCH", `/work_pools/${name}`, { is_paused: false });
      expect((await call(api, "GET", `/work_pools/${name}`)).json).toMatchObject({ is_paused: false, status: "NOT_READY" });
    });

    it("WHEN health is probed, a route is unknown, a method wrong or the slash missing THEN true, 404, 405 and 307", async () => {
      const health = await call(api, "GET", "/health");
      expect([health.status, health.json]).toEqual([200, true]);
      expect((await call(api, "GET", "/no-such-route/")).status).toBe(404);
      expect((await call(api, "PUT", "/work_pools/x", {})).status).toBe(405);
      const name = unique("slashless");
      const noSlash = await call(api, "POST", "/work_pools", { name });
      expect(noSlash.status).toBe(307);
      expect(noSlash.headers.get("location")).toBe(`${api.url}/work_pools/`);
      expect((await call(api, "GET", `/work_pools/${name}`)).status).toBe(404);
    });

    it("WHEN a CSRF token is asked for THEN 422: protection is off", async () => {
      const { status, json } = await call(api, "GET", "/csrf-token?client=x");
      expect([status, json]).toEqual([422, { detail: "CSRF protection is disabled." }]);
    });
  });

  describe.each(Object.keys(KINDS))("GIVEN %s with basic auth", (kind) => {
    let api: Target;
    beforeAll(() => {
      api = serverFor(kind, "with basic auth");
    });

    it("WHEN the right credentials are sent THEN requests go through", async () => {
      const name = unique("basic-pool");
      expect((await call(api, "POST", "/work_pools/", { name, type: "ecs" }, basic(AUTH_STRING))).status).toBe(201);
      expect((await call(api, "GET", `/work_pools/${name}`, undefined, basic(AUTH_STRING))).status).toBe(200);
    });

    it("WHEN credentials are wrong, missing or Bearer THEN 401 Unauthorized and nothing happens", async () => {
      const name = unique("intruder");
      const attempts: Record<string, string>[] = [basic("admin:wrong"), {}, { Authorization: `Bearer ${AUTH_STRING}` }, { Authorization: "Basic" }];
      for (const headers of attempts) {
        const { status, json } = await call(api, "POST", "/work_pools/", { name, type: "ecs" }, headers);
        expect([status, json]).toEqual([401, { exception_message: "Unauthorized" }]);
      }
      expect((await call(api, "GET", `/work_pools/${name}`, undefined, basic(AUTH_STRING))).status).toBe(404);
    });

    it("WHEN health is probed without credentials THEN it answers", async () => {
      expect((await call(api, "GET", "/health")).status).toBe(200);
    });
  });

  describe.each(Object.keys(KINDS))("GIVEN %s with CSRF protection", (kind) => {
    let api: Target;
    beforeAll(() => {
      api = serverFor(kind, "with CSRF protection");
    });

    it("WHEN a client fetches a token and sends it with its id THEN mutations go through", async () => {
      const issued = await call(api, "GET", "/csrf-token?client=script-1");
      expect(issued.status).toBe(200);
      expect(Object.keys(issued.json!).sort()).toEqual(["client", "created", "expiration", "id", "token", "updated"]);
      expect(issued.json).toMatchObject({ client: "script-1", token: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(Date.parse(issued.json!.expiration)).toBeGreaterThan(Date.now());
      const headers = { "Prefect-Csrf-Token": issued.json!.token as string, "Prefect-Csrf-Client": "script-1" };
      const name = unique("csrf-pool");
      expect((await call(api, "POST", "/work_pools/", { name, type: "ecs" }, headers)).status).toBe(201);
      expect((await call(api, "PATCH", `/work_pools/${name}`, { description: "x" }, headers)).status).toBe(204);
      expect((await call(api, "GET", `/work_pools/${name}`)).status).toBe(200); // reads need no token
      expect((await call(api, "DELETE", `/work_pools/${name}`, undefined, headers)).status).toBe(204);
    });

    it("WHEN the headers are missing or do not match THEN 403 and nothing changes", async () => {
      const token = (await call(api, "GET", "/csrf-token?client=script-2")).json!.token as string;
      const name = unique("csrf-denied");
      const cases: [Record<string, string>, string][] = [
        [{}, "Missing CSRF token."],
        [{ "Prefect-Csrf-Token": token }, "Missing client identifier."],
        [{ "Prefect-Csrf-Token": "0".repeat(64), "Prefect-Csrf-Client": "script-2" }, "Invalid CSRF token or client identifier."],
        [{ "Prefect-Csrf-Token": token, "Prefect-Csrf-Client": "someone-else" }, "Invalid CSRF token or client identifier."],
      ];
      for (const [headers, detail] of cases) {
        const { status, json } = await call(api, "POST", "/work_pools/", { name, type: "ecs" }, headers);
        expect([status, json]).toEqual([403, { detail }]);
      }
      expect((await call(api, "GET", `/work_pools/${name}`)).status).toBe(404);
    });

    it("WHEN a client asks again THEN the new token replaces the old one", async () => {
      const first = (await call(api, "GET", "/csrf-token?client=rotating")).json!.token as string;
      const second = (await call(api, "GET", "/csrf-token?client=rotating")).json!.token as string;
      expect(second).not.toBe(first);
      const withFirst = await call(api, "POST", "/work_pools/", { name: unique("rotated") }, { "Prefect-Csrf-Token": first, "Prefect-Csrf-Client": "rotating" });
      expect(withFirst.status).toBe(403);
    });

    it("WHEN the client id is missing THEN the token route is 422 naming the query parameter", async () => {
      const { status, json } = await call(api, "GET", "/csrf-token");
      expect([status, json]).toEqual([
        422,
        {
          exception_message: "Invalid request received.",
          exception_detail: [{ type: "missing", loc: ["query", "client"], msg: "Field required", input: null }],
          request_body: null,
        },
      ]);
    });
  });
});
