/**
 * What only the Prefect API test double does: injected faults (5xx, 429 with Retry-After,
 * dropped connections, slow answers), a Cloud-shaped API base with Bearer keys, CSRF tokens that
 * expire on demand, pools seeded in states a client cannot create (reserved names, workers
 * online), its request log, and answering while the test's main thread blocks in spawnSync.
 * How it answers ordinary requests is specified once, for it and the real server alike, in
 * prefect-api-contract.test.ts. Its bodies are validated against the pinned prefect's OpenAPI
 * schemas, so it needs the prefect test peer.
 */
import { spawnSync } from "node:child_process";
import { PrefectApiDouble, validateAgainstPrefectSchema } from "./support/prefect-api-double";
import { callApi } from "./support/prefect-http";
import { describeWithPeers, prefectReference } from "./support/peers";

function expectValidWorkPoolResponse(body: unknown): void {
  expect(validateAgainstPrefectSchema("WorkPoolResponse", body)).toBeNull();
  // every field the schema knows is present, none it does not
  const properties = Object.keys(prefectReference().openapi.components.schemas.WorkPoolResponse!.properties as object);
  expect(Object.keys(body as object).sort()).toEqual([...properties].sort());
}

const enc = encodeURIComponent;

const call = (api: PrefectApiDouble, method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  callApi(api.url, method, path, body, headers);

describeWithPeers("Peer gate: what only the PrefectApiDouble does", ["prefect"], () => {
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

    it("WHEN a reserved pool is patched or deleted THEN only is_paused/concurrency_limit go through", async () => {
      api.seedPool({ name: "prefect-managed", type: "prefect:managed" });
      expect((await call(api, "PATCH", "/work_pools/prefect-managed", { description: "x" })).status).toBe(403);
      expect((await call(api, "PATCH", "/work_pools/prefect-managed", { is_paused: true, concurrency_limit: 2 })).status).toBe(204);
      expect(api.pool("prefect-managed")).toMatchObject({ is_paused: true, concurrency_limit: 2, status: "PAUSED", description: null });
      expect((await call(api, "DELETE", "/work_pools/prefect-managed")).status).toBe(403);
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

    it("WHEN pools are seeded and the log reset THEN helpers reflect it", async () => {
      const seeded = api.seedPool({ name: "worker-made", type: "ecs", base_job_template: prefectReference().serverFallbackTemplate }, { status: "READY" });
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

  describe("GIVEN a self-hosted server with CSRF protection", () => {
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
        headers: { "content-type": "application/json" },
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
      await expect(fetch(`${api.url}/work_pools/`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "dropped" }) })).rejects.toThrow();
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
