import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeCollector, type OtlpSpan, startFakeCollector } from "../../fakes/otlp.ts";
import { killLeftoverServers, type ListeningServer, startServerProcess } from "../../support/server-process.ts";

// The real entry point with tracing on, exporting to a real HTTP collector: what a request's trace holds, what it
// must never hold, and that the caller's trace is continued.
const SECRET_KEY = "tracing-test-secret-key-0123456789abcdef";
const API_KEY = "collector-api-key-never-in-a-span";
const PASSWORD = "correct horse battery staple";
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";

let collector: FakeCollector;
let server: ListeningServer;
let dir: string;
let token: string;
let projectId: string;

beforeAll(async () => {
  collector = startFakeCollector({ "x-api-key": API_KEY });
  dir = mkdtempSync(join(tmpdir(), "flightdeck-tracing-"));
  server = await startServerProcess({
    APP_ENV: "test",
    DATABASE_URL: `sqlite:${dir}/db.sqlite`,
    MEDIA_DIR: `${dir}/media`,
    SECRET_KEY,
    LOG_LEVEL: "info",
    APP_VERSION: "v7-tracing",
    FLY_APP_NAME: "flightdeck-tracing",
    FLY_REGION: "ams",
    FLY_MACHINE_ID: "e2865013d45e86",
    OTEL_EXPORTER_OTLP_ENDPOINT: `${collector.url}/`,
    OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${API_KEY}`,
  });
  const post = async (path: string, body: unknown, auth?: string) => {
    const res = await fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
      body: JSON.stringify(body),
    });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as Record<string, string>;
  };
  await post("/v1/auth/register", { email: "tracer@example.com", password: PASSWORD });
  token = (await post("/v1/auth/login", { email: "tracer@example.com", password: PASSWORD })).access_token!;
  projectId = (await post("/v1/projects", { name: "traced", description: null }, token)).id!;
});

afterAll(async () => {
  server?.child.kill("SIGTERM");
  await server?.child.exited;
  killLeftoverServers();
  collector?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The first defined value `find` gives within `timeoutMs` (spans leave in batches, every second). */
async function eventually<T>(find: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline)
      throw new Error(`not seen within ${timeoutMs} ms; spans: ${collector.spans.map((s) => s.name).join(", ")}`);
    await Bun.sleep(50);
  }
}

const serverSpan = (name: string) => (s: OtlpSpan) => s.kind === 2 && s.name === name;

describe("tracing to an OTLP/HTTP collector", () => {
  test("a request continues the caller's trace, named by its route, with its database calls beneath it", async () => {
    const res = await fetch(`${server.url}/v1/projects/${projectId}?secret=query-never-in-a-span`, {
      headers: { authorization: `Bearer ${token}`, traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` },
    });
    expect(res.status).toBe(200);
    const requestId = res.headers.get("x-request-id");
    const span = await eventually(() => collector.spans.find((s) => s.traceId === TRACE_ID && s.kind === 2), 10_000);
    expect(span.name).toBe("GET /v1/projects/:id");
    expect(span.parentSpanId).toBe(CALLER_SPAN);
    expect(span.attributes).toMatchObject({
      "http.request.method": "GET",
      "http.route": "/v1/projects/:id",
      "http.response.status_code": 200,
      "url.path": `/v1/projects/${projectId}`,
      "flightdeck.request_id": requestId!,
    });
    expect(span.resource).toMatchObject({
      "service.name": "flightdeck-tracing",
      "service.version": "v7-tracing",
      "deployment.environment.name": "test",
      "cloud.region": "ams",
      "service.instance.id": "e2865013d45e86",
    });
    const db = await eventually(() => {
      const found = collector.spans.filter((s) => s.parentSpanId === span.spanId);
      return found.length > 0 ? found : undefined;
    }, 10_000);
    expect(db.map((s) => s.name)).toEqual(["projects.getWithAccount"]);
    expect(db[0]!.kind).toBe(3);
    expect(db[0]!.traceId).toBe(TRACE_ID);
    expect(db[0]!.attributes).toMatchObject({
      "db.system.name": "sqlite",
      "db.operation.name": "projects.getWithAccount",
    });
  });

  test("an unmatched path is named by its method, and a 4xx is not an error span", async () => {
    const res = await fetch(`${server.url}/v1/nowhere/at/all`, {
      headers: { traceparent: `00-${TRACE_ID.replace(/^4/, "5")}-${CALLER_SPAN}-01` },
    });
    expect(res.status).toBe(404);
    const span = await eventually(
      () => collector.spans.find((s) => s.traceId === TRACE_ID.replace(/^4/, "5") && s.kind === 2),
      10_000,
    );
    expect(span.name).toBe("GET");
    expect(span.attributes["http.response.status_code"]).toBe(404);
    expect(span.attributes["http.route"]).toBeUndefined();
    expect(span.status?.code ?? 0).not.toBe(2);
  });

  test("no token, password, query string, header or key leaves the machine, and the collector's key was sent", async () => {
    await eventually(() => collector.spans.find(serverSpan("POST /v1/auth/login")), 10_000);
    const everything = collector.raw.join("\n");
    for (const secret of [token, PASSWORD, SECRET_KEY, API_KEY, "query-never-in-a-span", "Bearer", "authorization"])
      expect(everything).not.toContain(secret);
    expect(collector.refused).toEqual([]);
  });
});
