/**
 * Real server processes (`bun src/server.ts`, APP_ENV=production) on one PostgreSQL, each with its own media
 * directory (its "volume") and FLY_MACHINE_ID, registered with a replay proxy (./replay-proxy.ts) as they start
 * and detached as they stop: the multi-machine shape of production on one host.
 * @module
 */
import type { Subprocess } from "bun";
import { openDatabase } from "../../src/db/database.ts";
import { createScratchDatabase, type ScratchDatabase } from "./postgres.ts";
import type { ReplayProxy } from "./replay-proxy.ts";
import { type LogRecord, startServerProcess } from "./server-process.ts";

export interface Instance {
  machineId: string;
  mediaDir: string;
  url: string;
  process: Subprocess<"ignore", "pipe", "pipe">;
  /** Every JSON log line so far (for assertions and for diagnosing a failure). */
  logs: LogRecord[];
  /** SIGTERM: graceful shutdown (marks the volume stopped). */
  stop(): Promise<number>;
  /** SIGKILL: a crash, nothing runs after it. */
  kill(): Promise<number>;
}

export interface InstanceOptions {
  machineId: string;
  mediaDir: string;
  databaseUrl: string;
  proxy?: ReplayProxy;
  region?: string;
  env?: Record<string, string>;
}

/** A scratch PostgreSQL database with the schema applied: the release command's job in production. */
export async function migratedScratchDatabase(label: string): Promise<ScratchDatabase> {
  const scratch = await createScratchDatabase(label);
  const db = await openDatabase({ databaseUrl: scratch.url, dbPoolSize: 2 });
  try {
    await db.migrate();
  } finally {
    await db.close();
  }
  return scratch;
}

/** Fast heartbeats keep the tests short; "running" is then 3 x 500 ms, loose enough for a loaded test host. */
export const TEST_HEARTBEAT_MS = 500;

export async function startInstance(opts: InstanceOptions): Promise<Instance> {
  const server = await startServerProcess({
    APP_ENV: "production",
    HOST: "127.0.0.1",
    DATABASE_URL: opts.databaseUrl,
    SECRET_KEY: "fleet-test-secret-key-0123456789abcdef",
    ALLOWED_ORIGINS: "https://app.example.test",
    MEDIA_DIR: opts.mediaDir,
    // The fleet's media folders are plain directories on one host, not volumes.
    MEDIA_REQUIRE_MOUNT: "false",
    FLY_MACHINE_ID: opts.machineId,
    FLY_REGION: opts.region ?? "ewr",
    FLY_APP_NAME: "flightdeck-fleet-test",
    VOLUME_HEARTBEAT_MS: String(TEST_HEARTBEAT_MS),
    RATE_LIMIT_PER_MINUTE: "100000",
    LOG_LEVEL: "info",
    ...opts.env,
  });
  // Fly routes no traffic to a machine before its health check passes (fly.toml [[http_service.checks]]).
  if (
    !(await eventually(
      async () => (await fetch(`${server.url}/health`).catch(() => undefined))?.status === 200,
      10_000,
    ))
  ) {
    server.child.kill("SIGKILL");
    throw new Error(`instance ${opts.machineId} never passed /health:\n${JSON.stringify(server.logs.slice(-20))}`);
  }
  opts.proxy?.attach(opts.machineId, server.url, opts.region);
  const end = async (signal: "SIGTERM" | "SIGKILL") => {
    opts.proxy?.detach(opts.machineId);
    server.child.kill(signal);
    return server.child.exited;
  };
  return {
    machineId: opts.machineId,
    mediaDir: opts.mediaDir,
    url: server.url,
    process: server.child,
    logs: server.logs,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
  };
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last result. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  everyMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await Bun.sleep(everyMs);
  }
}
