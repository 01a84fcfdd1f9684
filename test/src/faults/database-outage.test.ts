/**
 * A database outage under load, for real: the app talks to the shared PostgreSQL through a TCP proxy the test
 * cuts (every connection closed, new ones refused) and restores. Every answer during the outage is 503 JSON
 * `database_unavailable` with Retry-After and the request id; the service recovers without a restart; the
 * outage is logged once with host and port (never the password); logs and /metrics count it apart from bugs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../../lib/log.ts";
import { createApp } from "../../../src/app.ts";
import { type Database, openDatabase } from "../../../src/db/database.ts";
import { testConfig } from "../../support/app.ts";
import { createScratchDatabase, postgresAvailable, type ScratchDatabase } from "../../support/postgres.ts";
import { startTcpProxy, type TcpProxy } from "../../support/tcp-proxy.ts";
import { PASSWORD, TEST_ENV } from "../api-helpers.ts";

const pg = await postgresAvailable();
const DB_PASSWORD = "pw-that-must-never-be-logged";

describe.skipIf(!pg)("database outage", () => {
  let scratch: ScratchDatabase;
  let proxy: TcpProxy;
  let db: Database;
  let server: ReturnType<typeof Bun.serve>;
  let mediaDir: string;
  const lines: string[] = [];
  let base: string;
  let token: string;

  beforeAll(async () => {
    scratch = await createScratchDatabase("outage");
    const upstream = new URL(scratch.url);
    proxy = startTcpProxy(upstream.hostname, Number(upstream.port || 5432));
    const viaProxy = new URL(scratch.url);
    viaProxy.port = String(proxy.port);
    viaProxy.username = "postgres";
    // The shared server trusts local connections, so the password is never checked: it is here to be hidden.
    viaProxy.password = DB_PASSWORD;
    mediaDir = mkdtempSync(join(tmpdir(), "flightdeck-outage-"));
    const config = testConfig({
      ...TEST_ENV,
      DATABASE_URL: viaProxy.toString(),
      MEDIA_DIR: mediaDir,
      METRICS_TOKEN: "metrics-token-for-the-test",
      DB_POOL_SIZE: "4",
    });
    db = await openDatabase(config);
    await db.migrate();
    const logger = createLogger({ level: "info", write: (line) => lines.push(line) });
    const app = createApp(config, { db, logger });
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request) => app.handle(request) });
    base = `http://127.0.0.1:${server.port}`;
    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const email = `outage-${crypto.randomUUID().slice(0, 8)}@example.com`;
    expect((await post("/v1/auth/register", { email, password: PASSWORD })).status).toBe(201);
    token = ((await (await post("/v1/auth/login", { email, password: PASSWORD })).json()) as { access_token: string })
      .access_token;
  });

  afterAll(async () => {
    server?.stop(true);
    proxy?.restore();
    await db?.close();
    proxy?.stop();
    await scratch?.drop();
    rmSync(mediaDir, { recursive: true, force: true });
  });

  interface Answer {
    status: number;
    retryAfter: string | null;
    requestId: string | null;
    body: unknown;
  }

  const readProjects = async (): Promise<Answer> => {
    const res = await fetch(`${base}/v1/projects`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return {
      status: res.status,
      retryAfter: res.headers.get("retry-after"),
      requestId: res.headers.get("x-request-id"),
      body,
    };
  };

  /** Clients that each ask in a loop until `until` resolves, recording every answer. */
  async function underLoad(clients: number, until: Promise<unknown>): Promise<Answer[]> {
    const answers: Answer[] = [];
    let done = false;
    until.then(() => {
      done = true;
    });
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (!done) answers.push(await readProjects());
      }),
    );
    return answers;
  }

  test("every answer during the outage is 503 database_unavailable; recovery needs no restart", async () => {
    expect((await readProjects()).status).toBe(200);

    proxy.cut();
    const during = await underLoad(8, Bun.sleep(1500));
    expect(during.length).toBeGreaterThan(8);
    for (const answer of during) {
      expect(answer.status).toBe(503);
      expect(answer.retryAfter).toBe("2");
      const error = (answer.body as { error: { code: string; request_id: string } }).error;
      expect(error.code).toBe("database_unavailable");
      expect(error.request_id).toBe(answer.requestId!);
    }

    proxy.restore();
    // Recovery without a restart: the same app answers 200 again once the pool reconnects.
    const deadline = performance.now() + 15_000;
    let after = await readProjects();
    while (after.status !== 200 && performance.now() < deadline) {
      expect([200, 503]).toContain(after.status);
      await Bun.sleep(50);
      after = await readProjects();
    }
    expect(after.status).toBe(200);
    const steady = await underLoad(4, Bun.sleep(300));
    expect(steady.every((a) => a.status === 200)).toBe(true);

    // One line for the outage (with host:port and the cause), one for the recovery; none per request.
    const waitFor = async (msg: string) => {
      const until = performance.now() + 10_000;
      while (!lines.some((l) => JSON.parse(l).msg === msg) && performance.now() < until) await Bun.sleep(50);
      return lines.map((l) => JSON.parse(l)).filter((l) => l.msg === msg);
    };
    const down = await waitFor("database unavailable; answering 503 database_unavailable until it answers again");
    expect(down).toHaveLength(1);
    expect(down[0].database).toBe(`127.0.0.1:${proxy.port}${new URL(scratch.url).pathname}`);
    expect(down[0].cause).toMatch(/^ERR_POSTGRES_CONNECTION_|^57P0|^08/);
    const up = await waitFor("database available again");
    expect(up).toHaveLength(1);
    expect(up[0].refused_requests).toBeGreaterThanOrEqual(during.length);
    expect(lines.some((l) => JSON.parse(l).msg === "unhandled error")).toBe(false);
    expect(lines.join("\n")).not.toContain(DB_PASSWORD);

    // The access log and /metrics tell the outage apart from bugs.
    const refusedLines = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "request" && l.status === 503);
    expect(refusedLines.length).toBe(during.length);
    expect(refusedLines.every((l) => l.fault === "database_unavailable")).toBe(true);
    const metrics = await (
      await fetch(`${base}/metrics`, { headers: { authorization: "Bearer metrics-token-for-the-test" } })
    ).text();
    expect(metrics).toContain(`http_errors_total{kind="dependency",code="database_unavailable"} ${during.length}`);
    expect(metrics).not.toContain('kind="bug"');
  }, 60_000);
});
