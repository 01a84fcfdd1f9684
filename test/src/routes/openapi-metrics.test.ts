import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../../support/app.ts";
import { bearer, createProject, DIALECTS, signUp, TEST_ENV } from "../api-helpers.ts";

type Operation = { responses: Record<string, unknown>; security?: unknown };

describe.each(DIALECTS)("OpenAPI and metrics on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, TEST_ENV);
  });
  afterAll(() => t.close());

  test("/openapi.json documents every API route with its success and error responses", async () => {
    const res = await t.request("/openapi.json");
    expect(res.status).toBe(200);
    const spec = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, Operation>>;
      components: { securitySchemes: object };
    };
    expect(spec.openapi).toStartWith("3.");
    expect(spec.components.securitySchemes).toHaveProperty("bearerAuth");
    const expected: [string, string, string[]][] = [
      ["/v1/auth/register", "post", ["201", "409", "422", "429"]],
      ["/v1/auth/login", "post", ["200", "401", "422", "429"]],
      ["/v1/me", "get", ["200", "401"]],
      ["/v1/projects", "post", ["201", "401", "409", "422"]],
      ["/v1/projects", "get", ["200", "401", "422"]],
      ["/v1/projects/{id}", "get", ["200", "401", "404"]],
      ["/v1/projects/{id}", "patch", ["200", "404", "409", "422"]],
      ["/v1/projects/{id}", "delete", ["204", "404"]],
      ["/v1/projects/{id}/files", "get", ["200", "404"]],
      ["/v1/projects/{id}/files/{path}", "put", ["201", "400", "404", "413"]],
      ["/v1/projects/{id}/files/{path}", "get", ["200", "206", "304", "400", "404", "416"]],
      ["/v1/projects/{id}/files/{path}", "delete", ["204", "404"]],
      ["/metrics", "get", ["200", "401"]],
    ];
    for (const [path, method, statuses] of expected) {
      const op = spec.paths[path]?.[method];
      expect([path, method, op ? "documented" : "missing"]).toEqual([path, method, "documented"]);
      for (const status of statuses)
        expect([path, method, status, status in op!.responses]).toEqual([path, method, status, true]);
    }
    // Every /v1 operation documents at least one error.
    for (const [path, ops] of Object.entries(spec.paths).filter(([p]) => p.startsWith("/v1"))) {
      for (const [method, op] of Object.entries(ops)) {
        expect([path, method, Object.keys(op.responses).some((s) => Number(s) >= 400)]).toEqual([path, method, true]);
      }
    }
  });

  test("/docs serves the HTML viewer with a CSP that lets it load", async () => {
    const res = await t.request("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("openapi.json");
    expect(res.headers.get("content-security-policy")).toContain("script-src");
  });

  test("/metrics counts requests by route template and status, with duration, in-flight, pool and memory", async () => {
    const user = await signUp(t);
    const project = await createProject(t, user);
    await t.request(`/v1/projects/${project.id}`, bearer(user.token));
    await t.request(`/v1/projects/${crypto.randomUUID()}`, bearer(user.token));
    // Elysia runs afterResponse hooks after the response is handed over; let them finish.
    await Bun.sleep(50);
    const res = await t.request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/v1\/projects\/:id",status="200"\} 1/);
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/v1\/projects\/:id",status="404"\} 1/);
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/v1\/projects",status="201"\} 1/,
    );
    expect(text).not.toContain(project.id);
    // Only the /metrics request itself is in flight while it renders.
    expect(text).toMatch(/http_requests_in_flight 1\b/);
    expect(text).toMatch(new RegExp(`db_pool_max_connections\\{dialect="${dialect}"\\} \\d+`));
    expect(text).toMatch(/process_memory_bytes\{kind="rss"\} \d+/);
  });

  test("with METRICS_TOKEN, /metrics requires that bearer token", async () => {
    const guarded = await createTestApp(dialect, { ...TEST_ENV, METRICS_TOKEN: "scrape-me-please" });
    try {
      expect((await guarded.request("/metrics")).status).toBe(401);
      expect((await guarded.request("/metrics", bearer("wrong"))).status).toBe(401);
      const ok = await guarded.request("/metrics", bearer("scrape-me-please"));
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain("http_requests_total");
    } finally {
      await guarded.close();
    }
  });
});
