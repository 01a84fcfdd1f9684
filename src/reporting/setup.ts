/**
 * Error reporting from the config: a Reporter when SENTRY_DSN is set, else nothing at all (no module state, no
 * hook: "off" costs nothing). And the process-wide handlers that report an error nothing caught, then keep
 * the runtime's own behaviour for it (exit 1), after a bounded flush so the event gets out.
 * @module
 */
import type { Config } from "../../lib/config.ts";
import type { Logger } from "../../lib/log.ts";
import { parseDsn } from "./dsn.ts";
import { createReporter, type Reporter } from "./reporter.ts";
import { urlSecrets } from "./scrub.ts";

export function reporterFromConfig(config: Config, logger: Logger): Reporter | undefined {
  if (config.sentryDsn === undefined) return undefined;
  const parsed = parseDsn(config.sentryDsn);
  if (!parsed.ok) {
    logger.error("SENTRY_DSN not usable; errors are not reported", { problem: parsed.problem });
    return undefined;
  }
  if (config.sentryTracesSampleRate > 0)
    logger.warn("SENTRY_TRACES_SAMPLE_RATE is above 0, but only errors are reported (no performance traces)", {
      rate: config.sentryTracesSampleRate,
    });
  return createReporter({
    dsn: parsed.dsn,
    environment: config.appEnv,
    release: config.appVersion,
    machineId: config.fly.machineId ?? "local",
    region: config.fly.region ?? "local",
    appName: config.fly.appName ?? "flightdeck",
    secrets: [config.secretKey, ...urlSecrets(config.databaseUrl), config.metricsToken, config.sentryDsn],
    logger,
  });
}

/** Reports uncaught exceptions and unhandled rejections, logs them, flushes (at most 2 s) and exits 1. */
export function reportUnhandled(reporter: Reporter, logger: Logger, exit: (code: number) => void = process.exit) {
  const fatal = (mechanism: "uncaughtException" | "unhandledRejection") => (error: unknown) => {
    logger.error(mechanism === "uncaughtException" ? "uncaught exception" : "unhandled rejection", { error });
    reporter.captureUnhandled(error, mechanism);
    reporter.flush(2000).finally(() => exit(1));
  };
  process.on("uncaughtException", fatal("uncaughtException"));
  process.on("unhandledRejection", fatal("unhandledRejection"));
}
