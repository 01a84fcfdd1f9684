/**
 * Entry point: load and validate config (exit 2 with every problem before opening a port), open the
 * database, migrate where the environment allows, listen, and shut down gracefully on SIGINT/SIGTERM.
 * @module
 */
import { mkdirSync } from "node:fs";
import { type Config, loadConfig } from "../lib/config.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { createApp, createMediaServices, type MediaServices } from "./app.ts";
import { createLoginLimiter } from "./auth/login-limiter.ts";
import { createDrain } from "./drain.ts";
import { type Database, openDatabase } from "./db/database.ts";
import { logNameReport } from "./db/nfc-paths.ts";
import { createSchemaGate, openGate } from "./db/schema-gate.ts";
import { drainDeletions, pruneDeletions } from "./media/deletions.ts";
import { applyRenames } from "./media/renames.ts";
import type { Reporter } from "./reporting/reporter.ts";
import { reporterFromConfig, reportUnhandled } from "./reporting/setup.ts";
import { type Tracing, tracingFromConfig } from "./tracing/setup.ts";
import { atMostEvery, startUpkeep, type Upkeep } from "./upkeep.ts";

export interface RunningServer {
  url: string;
  /**
   * Answers every request already received, then stops accepting and closes (see drain.ts), then runs
   * `afterDrain` (bounded), then closes the database. The whole of it fits in shutdownTimeoutMs.
   */
  shutdown(reason: string): Promise<void>;
}

export interface ShutdownSteps {
  /**
   * Work that needs the database once no request is being served any more (stop upkeep, mark the volume
   * stopped). Bounded by AFTER_DRAIN_BUDGET_MS and by what is left of shutdownTimeoutMs; a failure is logged.
   */
  afterDrain?: () => Promise<void>;
  /** Spans for every request (src/tracing/); sent after the drain, within the same budget. */
  tracing?: Tracing;
}

const AFTER_DRAIN_BUDGET_MS = 1000;

/**
 * What the drain leaves of shutdownTimeoutMs for the steps after it: at most 1 s, and never more than a tenth of
 * the budget, so a short budget still drains. A slow tick or a hung database must not eat the time Fly gives a
 * stopping machine (kill_timeout).
 */
function afterDrainBudgetMs(shutdownTimeoutMs: number): number {
  return Math.min(AFTER_DRAIN_BUDGET_MS, Math.floor(shutdownTimeoutMs / 10));
}

/** Starts the service on an app the caller built (tests add routes), or on the standard one. */
export async function startServer(
  config: Config,
  db: Database,
  logger: Logger,
  app = createStandardApp(config, db, logger, createMediaServices(config, db, logger)),
  steps: ShutdownSteps = {},
): Promise<RunningServer> {
  const handle = (request: Request) => app.handle(request);
  const drain = createDrain(steps.tracing ? steps.tracing.wrap(handle) : handle);
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
    url,
    app_env: config.appEnv,
    dialect: db.dialect,
    version: config.appVersion,
    region: config.fly.region ?? "local",
    machine: config.fly.machineId ?? "local",
  });

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      logger.info("shutting down", { reason, timeout_ms: config.shutdownTimeoutMs });
      const deadline = performance.now() + config.shutdownTimeoutMs;
      const drainMs = config.shutdownTimeoutMs - (steps.afterDrain ? afterDrainBudgetMs(config.shutdownTimeoutMs) : 0);
      const drained = await drain.run(server, drainMs);
      if (drained.cut) logger.warn("in-flight requests did not finish in time; closed them", { timeout_ms: drainMs });
      if (steps.afterDrain) {
        const budgetMs = Math.max(0, Math.min(AFTER_DRAIN_BUDGET_MS, deadline - performance.now()));
        const finished = await Promise.race([
          steps.afterDrain().then(
            () => true,
            (error) => {
              logger.warn("shutdown step after the drain failed", { error });
              return true;
            },
          ),
          Bun.sleep(budgetMs).then(() => false),
        ]);
        if (!finished)
          logger.warn("shutdown step after the drain did not finish in time; closing the database anyway", {
            budget_ms: Math.round(budgetMs),
          });
      }
      await steps.tracing?.shutdown(Math.max(100, deadline - performance.now()));
      await db.close();
      logger.info("stopped", { reason, held_requests: drained.held, listening_ms: drained.listeningMs });
    })();
    return stopping;
  };
  return { url, shutdown };
}

function createStandardApp(
  config: Config,
  db: Database,
  logger: Logger,
  services: MediaServices,
  observers: { reporter?: Reporter; tracing?: Tracing } = {},
) {
  const schema = config.migrateOnBoot ? openGate : createSchemaGate(db);
  const { reporter, tracing } = observers;
  return createApp(config, {
    db: tracing ? tracing.traceDatabase(db) : db,
    logger,
    schema,
    reporter,
    onRequestFinished: tracing?.finish,
    ...services,
  });
}

/** How long a boot waits for its first drain before opening the port anyway (the drain goes on behind it). */
const BOOT_DRAIN_BUDGET_MS = 10_000;

/**
 * The volume's record and deletion work: registered and drained before the port opens (a machine that was
 * stopped catches up first; a long backlog continues in the background after BOOT_DRAIN_BUDGET_MS, so Fly's
 * health check is not kept waiting), then refreshed and drained every VOLUME_HEARTBEAT_MS. A failure
 * (database down, schema behind) is logged and retried on the next tick; file requests answer 503 until the
 * volume is registered.
 */
async function startMediaUpkeep(
  config: Config,
  db: Database,
  logger: Logger,
  { media, volume }: MediaServices,
): Promise<Upkeep> {
  const loginLimiter = createLoginLimiter(db.repo, config.authRateLimitPerMinute, Date.now);
  const upkeep = startUpkeep(
    [
      { name: "volume heartbeat", run: () => volume.heartbeat() },
      // Before the deletion work: old deletions name old paths, which must no longer hold a renamed file's bytes.
      {
        name: "NFC renames",
        run: async () => applyRenames({ repo: db.repo, media, volumeId: (await volume.identity()).id, logger }),
      },
      {
        name: "deletion work",
        run: async () =>
          drainDeletions({ repo: db.repo, media, volumeId: (await volume.identity()).id, clock: Date.now, logger }),
      },
      { name: "prune login windows", run: () => loginLimiter.prune() },
      { name: "prune done deletions", run: atMostEvery(3600_000, () => pruneDeletions(db.repo, Date.now)) },
    ],
    config.volumeHeartbeatMs,
    logger,
  );
  await Promise.race([upkeep.runOnce(), Bun.sleep(BOOT_DRAIN_BUDGET_MS)]);
  return upkeep;
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

  // Where a mount is required, MEDIA_DIR is the volume's mount point and is never made here: made, it would sit
  // on the root filesystem (src/media/mount.ts). Uploads then answer 503 volume_missing and /health says why.
  if (!config.mediaRequireMount) mkdirSync(config.mediaDir, { recursive: true });
  const db = await openDatabase(config);
  if (config.migrateOnBoot) {
    const { applied, names } = await db.migrate();
    if (applied > 0) logger.info("migrations applied", { applied });
    if (names) logNameReport(logger, names);
  } else {
    const status = await db.schemaStatus().catch(() => undefined);
    if (status && !status.upToDate)
      logger.error("schema is behind; /health answers 503 until `bun run migrate` runs", { pending: status.pending });
  }

  const reporter = reporterFromConfig(config, logger);
  if (reporter) reportUnhandled(reporter, logger);
  const tracing = await tracingFromConfig(config, logger);
  const services = createMediaServices(config, db, logger);
  await services.media.sweepTemp();
  // A marker that exists but cannot be read stops the boot: a new identity would orphan the volume's files.
  await services.volume.identity().catch((error) => {
    if ((error as { code?: string }).code === "volume_marker_unreadable") {
      logger.error("refusing to start", { error });
      process.exit(1);
    }
    // Served anyway (reads can replay to other machines), but said loudly: /health answers 503 with the reason.
    if ((error as { code?: string }).code === "volume_missing")
      logger.error("volume missing; uploads answer 503 volume_missing", { reason: (error as Error).message });
  });
  const upkeep = await startMediaUpkeep(config, db, logger, services);
  const running = await startServer(
    config,
    db,
    logger,
    createStandardApp(config, db, logger, services, { reporter, tracing }),
    {
      tracing,
      // Only once the drain has answered everything: until then this machine still serves its volume's files,
      // and marking it stopped earlier makes other machines answer 503 for them instead of replaying here.
      // Upkeep stops first so a heartbeat tick cannot mark the volume running again after the mark.
      afterDrain: async () => {
        await upkeep.stop();
        await services.volume.markStopped();
        logger.info("volume marked stopped");
        await reporter?.flush(500);
      },
    },
  );
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      running.shutdown(signal).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

if (import.meta.main) await main();
