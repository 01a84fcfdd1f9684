/**
 * A machine being replaced drops no request (src/drain.ts): real server processes under keep-alive load,
 * signalled with SIGTERM as Fly stops a machine, every request counted (test/support/keep-alive-load.ts).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../lib/log.ts";
import { openDatabase } from "../../src/db/database.ts";
import { DRAIN_QUIET_MS } from "../../src/drain.ts";
import { startServer } from "../../src/server.ts";
import { testConfig } from "../support/app.ts";
import { Balancer } from "../support/balancer.ts";
import { Http1Connection } from "../support/http1-connection.ts";
import { startKeepAliveLoad } from "../support/keep-alive-load.ts";
import { createScratchDatabase, postgresAvailable } from "../support/postgres.ts";
import { killLeftoverServers, type ListeningServer, startServerProcess } from "../support/server-process.ts";

const scratch = mkdtempSync(join(tmpdir(), "flightdeck-drain-"));
afterAll(() => {
  killLeftoverServers();
  rmSync(scratch, { recursive: true, force: true });
});

/** Load well past the per-IP limit comes from one address here; the limiter is not what is under test. */
const serverEnv = (databaseUrl: string, name: string) => ({
  APP_ENV: "development",
  DATABASE_URL: databaseUrl,
  MEDIA_DIR: join(scratch, name, "media"),
  RATE_LIMIT_PER_MINUTE: "1000000",
  LOG_LEVEL: "info",
});

const stoppedLine = (server: ListeningServer) => server.waitForLog((r) => r.msg === "stopped");

/** Bun.serve answering after an await, as every route does; `connection: close` when asked to. */
function serveAsync(options: { delayMs?: number; closing?: boolean } = {}) {
  return Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch() {
      await Bun.sleep(options.delayMs ?? 0);
      return new Response("x".repeat(1000), { headers: options.closing ? { connection: "close" } : {} });
    },
  });
}

async function connectTo(port: number): Promise<Http1Connection> {
  const connection = await Http1Connection.open(port);
  if (connection === "refused") throw new Error(`connection to ${port} refused`);
  return connection;
}

// The drain is built on these; if a Bun upgrade changes one, this says which before a deploy drops requests.
describe("what src/drain.ts relies on in Bun.serve", () => {
  test("stop(false) resets a keep-alive connection whose next request is already written (why the drain exists)", async () => {
    const server = serveAsync();
    const connection = await connectTo(server.port ?? 0);
    expect(await connection.send("/")).toMatchObject({ kind: "response", closing: false });
    const next = connection.send("/");
    void server.stop(false);
    expect(await next).toMatchObject({ kind: "lost" });
  });

  test("stop(false) keeps a connection whose response is pending open until that response is sent (held requests survive)", async () => {
    const server = serveAsync({ delayMs: 100 });
    const connection = await connectTo(server.port ?? 0);
    const pending = connection.send("/");
    await Bun.sleep(20);
    const stopped = server.stop(false);
    expect(await Http1Connection.open(server.port ?? 0)).toBe("refused");
    expect(await pending).toMatchObject({ kind: "response", status: 200 });
    await stopped;
  });

  test("a handler's Connection: close makes Bun close the connection after the full response", async () => {
    const server = serveAsync({ closing: true });
    const connection = await connectTo(server.port ?? 0);
    const outcome = await connection.send("/");
    expect(outcome).toMatchObject({ kind: "response", status: 200, closing: true });
    await Bun.sleep(20);
    expect(await connection.send("/")).toEqual({ kind: "closed-before-send" });
    await server.stop(true);
  });
});

describe("one connection at a time", () => {
  test("a request arriving during the drain waits for the listener to close, then is answered with Connection: close; an idle connection is closed before anything is sent on it", async () => {
    const config = { ...testConfig({ DATABASE_URL: "sqlite::memory:", MEDIA_DIR: join(scratch, "media") }), port: 0 };
    const db = await openDatabase(config);
    await db.migrate();
    const server = await startServer(config, db, silentLogger);
    const port = Number(new URL(server.url).port);
    const idle = await connectTo(port);
    const busy = await connectTo(port);
    expect(await idle.send("/health/live")).toMatchObject({ kind: "response", status: 200, closing: false });
    expect(await busy.send("/health/live")).toMatchObject({ kind: "response", status: 200, closing: false });

    const stopping = server.shutdown("test");
    const sent = performance.now();
    expect(await busy.send("/health/live")).toMatchObject({ kind: "response", status: 200, closing: true });
    expect(performance.now() - sent).toBeGreaterThanOrEqual(DRAIN_QUIET_MS * 0.9);
    await stopping;
    await Bun.sleep(20);
    expect(await idle.send("/health/live")).toEqual({ kind: "closed-before-send" });
    expect(await Http1Connection.open(port)).toBe("refused");
  });
});

describe("keep-alive load through SIGTERM", () => {
  test("the load client does see requests lost by a plain server.stop(false) (the check can fail)", async () => {
    const server = await startServerProcess({}, "test/fixtures/stop-false-server.ts");
    const load = startKeepAliveLoad(server.port, { connections: 64, paths: ["/"] });
    await Bun.sleep(300);
    server.child.kill("SIGTERM");
    expect(await server.child.exited).toBe(0);
    await Bun.sleep(50);
    const counts = await load.stop();
    expect(counts.answered).toBeGreaterThan(0);
    expect(counts.lost).toBeGreaterThan(0);
  });

  test("every request written gets a full response; after the signal they say Connection: close, then connects are refused", async () => {
    const server = await startServerProcess(serverEnv(`sqlite:${join(scratch, "single.sqlite")}`, "single"));
    const load = startKeepAliveLoad(server.port, { connections: 64, paths: ["/health/live", "/health"] });
    await Bun.sleep(500);
    const beforeSignal = { ...load.counts };
    const signalled = performance.now();
    server.child.kill("SIGTERM");
    expect(await server.child.exited).toBe(0);
    const exitMs = performance.now() - signalled;
    await Bun.sleep(50);
    const counts = await load.stop();

    expect(beforeSignal.answered).toBeGreaterThan(64);
    expect({ lost: counts.lost, reasons: counts.lostReasons, non200: counts.non200 }).toEqual({
      lost: 0,
      reasons: [],
      non200: 0,
    });
    // Requests kept coming after the signal and were answered, each connection told to close ...
    expect(counts.answered).toBeGreaterThan(beforeSignal.answered);
    expect(counts.closing).toBeGreaterThanOrEqual(1);
    // ... and only then did the listener close: later connects were refused, nothing sent.
    expect(counts.refused).toBeGreaterThan(0);
    const stopped = await stoppedLine(server);
    expect(stopped.held_requests as number).toBeGreaterThan(0);
    expect(exitMs).toBeLessThan(5000);
  }, 20_000);
});

const pg = await postgresAvailable();

describe.skipIf(!pg)("rolling replacement behind a balancer, on PostgreSQL", () => {
  // Without a cordon first (a stop by flyctl or by hand), Fly's proxy learns of a stop after the signal, not
  // before it. A balancer that never learns sees only the closed listener: refused connects, which it may retry
  // (nothing was sent).
  test.each([
    ["learns of each stop 100 ms after the signal", 100],
    ["never learns of a stop", undefined],
  ])(
    "replacing both machines one at a time under load fails no request: the balancer %s",
    async (_, cordonAfterMs) => {
      const database = await createScratchDatabase("drain_rollout");
      const balancer = new Balancer();
      const started: ListeningServer[] = [];
      try {
        const start = async (name: string) => {
          const server = await startServerProcess(serverEnv(database.url, name));
          started.push(server);
          balancer.add(name, server.port);
          return server;
        };
        // Sequential first boots: both migrate at boot in development.
        const machines = [await start("v1-a"), await start("v1-b")];
        const load = startKeepAliveLoad(balancer.port, { connections: 16, paths: ["/health", "/health/live"] });
        await Bun.sleep(300);

        const drained = [];
        for (const [i, old] of machines.entries()) {
          const oldName = `v1-${"ab"[i]}`;
          await start(`v2-${"ab"[i]}`);
          old.child.kill("SIGTERM");
          if (cordonAfterMs !== undefined) {
            await Bun.sleep(cordonAfterMs);
            balancer.cordon(oldName);
          }
          expect(await old.child.exited).toBe(0);
          drained.push({ ...balancer.remove(oldName), held: (await stoppedLine(old)).held_requests });
          await Bun.sleep(200);
        }
        const counts = await load.stop();

        expect({
          lost: balancer.stats.lost,
          reasons: balancer.stats.lostReasons,
          unrouted: balancer.stats.unrouted,
        }).toEqual({ lost: 0, reasons: [], unrouted: 0 });
        expect({ lost: counts.lost, non200: counts.non200 }).toEqual({ lost: 0, non200: 0 });
        expect(counts.answered).toBeGreaterThan(100);
        if (cordonAfterMs === undefined) expect(balancer.stats.retriedUnsent).toBeGreaterThan(0);
        for (const machine of drained) {
          // Each old machine was under load when signalled: it held requests and answered them with Connection: close.
          expect(machine.held as number).toBeGreaterThan(0);
          expect(machine.closing).toBeGreaterThan(0);
        }
      } finally {
        for (const server of started) if (server.child.exitCode === null) server.child.kill("SIGKILL");
        await balancer.stop();
        await database.drop();
      }
    },
    30_000,
  );
});
