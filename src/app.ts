/**
 * createApp(config, deps) builds the whole service without listening, so tests drive it with
 * `app.handle(request)` and src/server.ts owns the socket.
 * @module
 */
import { Elysia } from "elysia";
import type { Config } from "../lib/config.ts";
import { type Logger, silentLogger } from "../lib/log.ts";
import type { Database } from "./db/database.ts";
import { openGate, type SchemaGate } from "./db/schema-gate.ts";
import { HttpError } from "./errors.ts";
import { errorHandler } from "./plugins/errors.ts";
import { type AccessLogRecord, requestContext } from "./plugins/request-context.ts";
import { healthRoutes } from "./routes/health.ts";

export interface AppDeps {
  db: Database;
  logger?: Logger;
  /** Production passes a gate that refuses service while the schema is behind; elsewhere it is always open. */
  schema?: SchemaGate;
  startedAt?: number;
  onRequestFinished?: (record: AccessLogRecord) => void;
}

export function createApp(config: Config, deps: AppDeps) {
  const logger = deps.logger ?? silentLogger;
  const schema = deps.schema ?? openGate;
  const app = new Elysia({ name: "flightdeck" })
    .use(requestContext(logger, deps.onRequestFinished))
    .use(errorHandler(config.appEnv, logger));
  if (schema !== openGate) {
    app.onRequest(async function schemaGuard({ request }) {
      // Health stays reachable so Fly's check and operators can see why the machine refuses.
      if (new URL(request.url).pathname.startsWith("/health")) return;
      const status = await schema.status();
      if (!status.upToDate) throw new HttpError(503, "schema_behind", status.reason ?? "database schema is behind");
    });
  }
  return app
    .use(healthRoutes(config, { db: deps.db, schema, startedAt: deps.startedAt ?? Date.now() }));
}

export type App = ReturnType<typeof createApp>;
