/**
 * Entry point: load and validate config (exit 2 with every problem before opening a port), open the
 * database, migrate where the environment allows, listen, and shut down gracefully on SIGINT/SIGTERM.
 * @module
 */
import { mkdirSync } from "node:fs";
import { type Config, loadConfig } from "../lib/config.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { createApp } from "./app.ts";
import { createDrain } from "./drain.ts";
import { type Database, openDatabase } from "./db/database.ts";
import { createSchemaGate, openGate } from "./db/schema-gate.ts";

export interface RunningServer {
  url: string;
  /** Answers every request already received, then stops accepting and closes (bounded by shutdownTimeoutMs; see drain.ts), then closes the database. */
  shutdown(reason: string): Promise<void>;
}

/** Starts the service on an app the caller built (tests add routes), or on the standard one. */
export async function startServer(config: Config, db: Database, logger: Logger, app = createStandardApp(config, db, logger)): Promise<RunningServer> {
  const drain = createDrain((request) => app.handle(request));
  const server = Bun.serve({
    port: config.port,
    hostname: config.host,
    fetch: drain.fetch,
    // Uploads are bounded by MAX_UPLOAD_BYTES in the files route; Bun's own cap must not be lower.
    maxRequestBodySize: config.maxUploadBytes + 1024 * 1024,
    // Large uploads and slow clients: let the Fly proxy's own timeouts govern.
    idleTimeout: 120,
  });
  // Bun.serve's `server` is needed by routes that read the socket address (client IP when no proxy).
  (app as unknown as { server: unknown }).server = server;
  const url = `http://${config.host}:${server.port}`;
  logger.info("listening", {
    url, app_env: config.appEnv, dialect: db.dialect, version: config.appVersion,
    region: config.fly.region ?? "local", machine: config.fly.machineId ?? "local",
  });

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      logger.info("shutting down", { reason, timeout_ms: config.shutdownTimeoutMs });
      const drained = await drain.run(server, config.shutdownTimeoutMs);
      if (drained.cut) logger.warn("in-flight requests did not finish in time; closed them", { timeout_ms: config.shutdownTimeoutMs });
      await db.close();
      logger.info("stopped", { reason, held_requests: drained.held, listening_ms: drained.listeningMs });
    })();
    return stopping;
  };
  return { url, shutdown };
}

function createStandardApp(config: Config, db: Database, logger: Logger) {
  const schema = config.migrateOnBoot ? openGate : createSchemaGate(db);
  return createApp(config, { db, logger, schema });
}

async function main() {
  // A closed log pipe (a supervisor restarting, `| head`) must not take the service down with EPIPE.
  process.stdout.on("error", () => {});
  const loaded = loadConfig();
  if (!loaded.ok) {
    process.stderr.write(`flightdeck: refusing to start: ${loaded.error.message}\n`);
    process.exit(2);
  }
  const { config, warnings } = loaded;
  const logger = createLogger({ level: config.logLevel, fields: { component: "server" } });
  for (const warning of warnings) logger.warn(warning);

  mkdirSync(config.mediaDir, { recursive: true });
  const db = await openDatabase(config);
  if (config.migrateOnBoot) {
    const { applied } = await db.migrate();
    if (applied > 0) logger.info("migrations applied", { applied });
  } else {
    const status = await db.schemaStatus().catch(() => undefined);
    if (status && !status.upToDate) logger.error("schema is behind; /health answers 503 until `bun run migrate` runs", { pending: status.pending });
  }

  const running = await startServer(config, db, logger);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      running.shutdown(signal).then(() => process.exit(0), () => process.exit(1));
    });
  }
}

if (import.meta.main) await main();
