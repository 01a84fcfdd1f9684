/** The service core on both dialects, through `app.handle`: health, request ids, JSON errors, the schema gate. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp } from "../../src/app.ts";
import type { Database } from "../../src/db/database.ts";
import type { AccessLogRecord } from "../../src/plugins/request-context.ts";
import { createTestApp, json, type TestApp, type TestDialect, testConfig } from "../support/app.ts";
import { postgresAvailable } from "../support/postgres.ts";
import { createProject, signUp } from "./api-helpers.ts";

const dialects: TestDialect[] = ["sqlite", ...((await postgresAvailable()) ? (["postgres"] as const) : [])];

describe.each(dialects)("service core on %s", (dialect) => {
  let t: TestApp;
  const log: AccessLogRecord[] = [];
  beforeAll(async () => {
    t = await createTestApp(
      dialect,
      { FLY_REGION: "ewr", FLY_MACHINE_ID: "m-1", APP_VERSION: "v42" },
      { onRequestFinished: (r) => log.push(r) },
    );
  });
  afterAll(() => t.close());

  test("GET /health answers 200 with database, media and identity", async () => {
    const res = await t.request("/health");
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({
      status: "ok",
      db: { ok: true, dialect },
      media: { writable: true },
      region: "ewr",
      machine: "m-1",
      version: "v42",
    });
    expect(body.db.latency_ms).toBeGreaterThanOrEqual(0);
    expect(typeof body.uptime_s).toBe("number");
  });

  test("GET /health/live answers without the database", async () => {
    const res = await t.request("/health/live");
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: "ok" });
  });

  test("request ids: Fly-Request-Id wins, then X-Request-Id, else generated; unsafe ids are replaced", async () => {
    expect(
      (
        await t.request("/health/live", { headers: { "fly-request-id": "fly-abc", "x-request-id": "client" } })
      ).headers.get("x-request-id"),
    ).toBe("fly-abc");
    expect(
      (await t.request("/health/live", { headers: { "x-request-id": "client-1" } })).headers.get("x-request-id"),
    ).toBe("client-1");
    const generated = (await t.request("/health/live")).headers.get("x-request-id");
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    const injected = (await t.request("/health/live", { headers: { "x-request-id": "bad id <script>" } })).headers.get(
      "x-request-id",
    );
    expect(injected).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("unknown routes are a JSON 404 with code, message and the request id", async () => {
    const res = await t.request("/nope", { headers: { "x-request-id": "rid-404" } });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await json(res)).toEqual({
      error: { code: "not_found", message: "no route for GET /nope", request_id: "rid-404" },
    });
  });

  test("the access log has one record per request with the route template, never headers", async () => {
    await t.request("/health", {
      headers: { authorization: "Bearer super-secret", cookie: "s=1", "x-request-id": "rid-log" },
    });
    await Bun.sleep(10);
    expect(log.filter((r) => r.request_id === "rid-log")).toEqual([
      expect.objectContaining({ method: "GET", route: "/health", status: 200, request_id: "rid-log" }),
    ]);
    expect(JSON.stringify(log)).not.toContain("super-secret");
  });

  test("the access log records the status a returned Response carried (a download's 206 and 304)", async () => {
    const user = await signUp(t);
    const project = await createProject(t, user);
    const file = (headers: Record<string, string>, id: string, method = "GET", body?: string) =>
      t.request(`/v1/projects/${project.id}/files/log.txt`, {
        method,
        body,
        headers: { authorization: `Bearer ${user.token}`, "x-request-id": id, ...headers },
      });
    const etag = (await file({}, "rid-put", "PUT", "logged")).headers.get("etag")!;
    expect((await file({ range: "bytes=0-0" }, "rid-206")).status).toBe(206);
    expect((await file({ "if-none-match": etag }, "rid-304")).status).toBe(304);
    const statuses = Object.fromEntries(
      log.filter((r) => r.request_id.startsWith("rid-")).map((r) => [r.request_id, r.status]),
    );
    expect(statuses).toMatchObject({ "rid-206": 206, "rid-304": 304 });
  });
});

describe("health when things break", () => {
  test("503 with a reason when the database does not answer, and never throws", async () => {
    const t = await createTestApp("sqlite");
    await t.db.close();
    const res = await t.request("/health");
    expect(res.status).toBe(503);
    const body = await json(res);
    expect(body).toMatchObject({
      status: "unavailable",
      db: { ok: false },
      reason: expect.stringContaining("database unavailable"),
    });
    await t.close().catch(() => {});
  });

  test("a database that hangs is reported within the ping timeout", async () => {
    const hanging = {
      dialect: "postgres",
      ping: (timeoutMs = 2000) =>
        new Promise((r) => setTimeout(() => r({ ok: false, latencyMs: timeoutMs, error: "timeout" }), 20)),
    } as unknown as Database;
    const app = createApp(testConfig(), { db: hanging });
    const res = await app.handle(new Request("http://localhost/health"));
    expect(res.status).toBe(503);
  });

  test("media not writable is reported (and the database still decides the status)", async () => {
    // A path below a regular file is unwritable even for root, who ignores permission bits.
    const t = await createTestApp("sqlite", { MEDIA_DIR: "/etc/hostname/media" });
    const res = await t.request("/health");
    expect(res.status).toBe(200);
    expect((await json(res)).media.writable).toBe(false);
    await t.close();
  });

  test("production refuses to serve while the schema is behind: /health 503 with the reason, routes 503", async () => {
    const t = await createTestApp("sqlite");
    const behind = {
      status: async () => ({
        upToDate: false,
        pending: 1,
        reason: "database schema is behind: 1 migration(s) not applied; run `bun run migrate` (the release command)",
      }),
    };
    const app = createApp(t.config, { db: t.db, schema: behind });
    const health = await app.handle(new Request("http://localhost/health"));
    expect(health.status).toBe(503);
    expect((await json(health)).reason).toContain("bun run migrate");
    expect((await app.handle(new Request("http://localhost/health/live"))).status).toBe(200);
    const other = await app.handle(new Request("http://localhost/v1/anything"));
    expect(other.status).toBe(503);
    expect((await json(other)).error.code).toBe("schema_behind");
    await t.close();
  });
});
