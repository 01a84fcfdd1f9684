/** The real entry point: config refusal before a port opens, start-up, signals and graceful shutdown. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/app.ts";
import { openDatabase } from "../../src/db/database.ts";
import { startServer } from "../../src/server.ts";
import { silentLogger } from "../../lib/log.ts";
import { testConfig } from "../support/app.ts";
import { killLeftoverServers, spawnServer, startServerProcess } from "../support/server-process.ts";

const scratch = mkdtempSync(join(tmpdir(), "flightdeck-server-"));
afterAll(() => {
  killLeftoverServers();
  rmSync(scratch, { recursive: true, force: true });
});

describe("src/server.ts", () => {
  test("a bad production config exits 2 with every problem, before opening a port, without secret values", async () => {
    const { child, logs, logsComplete } = spawnServer({
      APP_ENV: "production",
      PORT: "0",
      DATABASE_URL: "sqlite:./x.db",
      SECRET_KEY: "short-secret-value",
      ALLOWED_ORIGINS: "*",
    });
    expect(await child.exited).toBe(2);
    const stderr = await new Response(child.stderr).text();
    await logsComplete;
    const stdout = JSON.stringify(logs);
    expect(stderr).toContain("DATABASE_URL");
    expect(stderr).toContain("SECRET_KEY");
    expect(stderr).toContain("ALLOWED_ORIGINS");
    expect(stderr).not.toContain("short-secret-value");
    expect(stdout).not.toContain("listening");
  });

  test("starts on SQLite with migrations applied, serves /health, and exits 0 on SIGTERM", async () => {
    const dir = join(scratch, "boot");
    const { child, waitForLog, url } = await startServerProcess({
      APP_ENV: "development",
      DATABASE_URL: `sqlite:${dir}/db.sqlite`,
      MEDIA_DIR: `${dir}/media`,
    });
    expect(JSON.stringify(await waitForLog((r) => r.msg === "listening"))).not.toContain("SECRET");
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { db: { dialect: string } }).db.dialect).toBe("sqlite");
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
  }, 20_000);

  test("graceful shutdown lets an in-flight request finish and refuses new connections", async () => {
    const config = { ...testConfig({ DATABASE_URL: "sqlite::memory:", MEDIA_DIR: join(scratch, "media") }), port: 0 };
    const db = await openDatabase(config);
    await db.migrate();
    const app = createApp(config, { db }).get("/slow", async () => {
      await Bun.sleep(400);
      return { finished: true };
    });
    const server = await startServer(config, db, silentLogger, app);
    const inFlight = fetch(`${server.url}/slow`);
    await Bun.sleep(50);
    const stopped = server.shutdown("test");
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ finished: true });
    await stopped;
    await expect(fetch(`${server.url}/health/live`)).rejects.toThrow();
    expect((await db.ping()).ok).toBe(false);
  });

  test("the step after the drain runs once every request is answered, with the database still open, and before it closes", async () => {
    const config = { ...testConfig({ DATABASE_URL: "sqlite::memory:", MEDIA_DIR: join(scratch, "media") }), port: 0 };
    const db = await openDatabase(config);
    await db.migrate();
    const events: string[] = [];
    const app = createApp(config, { db }).get("/slow", async () => {
      await Bun.sleep(300);
      events.push("slow request answered");
      return { finished: true };
    });
    const server = await startServer(config, db, silentLogger, app, {
      afterDrain: async () => {
        events.push(`after drain, database ${(await db.ping()).ok ? "open" : "closed"}`);
      },
    });
    const inFlight = fetch(`${server.url}/slow`);
    await Bun.sleep(50);
    const stopped = server.shutdown("test");
    expect((await inFlight).status).toBe(200);
    await stopped;
    expect(events).toEqual(["slow request answered", "after drain, database open"]);
    expect((await db.ping()).ok).toBe(false);
  });

  test("a step after the drain that hangs is cut off within the shutdown budget, and the database still closes", async () => {
    const config = {
      ...testConfig({ DATABASE_URL: "sqlite::memory:", MEDIA_DIR: join(scratch, "media") }),
      port: 0,
      shutdownTimeoutMs: 1500,
    };
    const db = await openDatabase(config);
    let stepStarted = false;
    const server = await startServer(config, db, silentLogger, undefined, {
      afterDrain: () => {
        stepStarted = true;
        return new Promise(() => {});
      },
    });
    const started = performance.now();
    await server.shutdown("test");
    const tookMs = performance.now() - started;
    expect(stepStarted).toBe(true);
    expect(tookMs).toBeLessThan(1500 + 250);
    expect((await db.ping()).ok).toBe(false);
  });

  test("shutdown is bounded: a request slower than the timeout is cut off", async () => {
    const config = {
      ...testConfig({ DATABASE_URL: "sqlite::memory:", MEDIA_DIR: join(scratch, "media") }),
      port: 0,
      shutdownTimeoutMs: 200,
    };
    const db = await openDatabase(config);
    const app = createApp(config, { db }).get("/stuck", () => Bun.sleep(10_000).then(() => "late"));
    const server = await startServer(config, db, silentLogger, app);
    const inFlight = fetch(`${server.url}/stuck`).then(
      (r) => r.status,
      () => "cut",
    );
    await Bun.sleep(50);
    const started = performance.now();
    await server.shutdown("test");
    expect(performance.now() - started).toBeLessThan(5000);
    expect(await inFlight).toBe("cut");
  });
});
