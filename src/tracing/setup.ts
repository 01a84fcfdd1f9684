/**
 * Tracing from the config: a Tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set, else nothing at all. The
 * OpenTelemetry SDK is imported only then, so a machine without a collector neither loads it at boot (cold
 * start, measured by `bun run bench`) nor runs a hook per request ("off is free", issue 23).
 * @module
 */
import type { Config } from "../../lib/config.ts";
import type { Logger } from "../../lib/log.ts";
import type { Database } from "../db/database.ts";
import type { AccessLogRecord } from "../plugins/request-context.ts";

export interface Tracing {
  /** The server's handler with one SERVER span per request, continuing an incoming W3C traceparent. */
  wrap(handle: (request: Request) => Response | Promise<Response>): (request: Request) => Promise<Response>;
  /** The same database, each repository call a CLIENT span of the request that made it. */
  traceDatabase(db: Database): Database;
  /** Names the request's span by its route template and records the answer (the access log's hook calls it). */
  finish(record: AccessLogRecord): void;
  /** Sends what is buffered; bounded, never throws. */
  shutdown(timeoutMs: number): Promise<void>;
}

export async function tracingFromConfig(config: Config, logger: Logger): Promise<Tracing | undefined> {
  if (config.otelEndpoint === undefined) return undefined;
  const { startTracing } = await import("./otel.ts");
  return startTracing(
    {
      endpoint: config.otelEndpoint,
      headers: config.otelHeaders,
      sampleRatio: config.otelSampleRatio,
      serviceName: config.fly.appName ?? "flightdeck",
      serviceVersion: config.appVersion,
      environment: config.appEnv,
      region: config.fly.region,
      machineId: config.fly.machineId,
    },
    logger,
  );
}
