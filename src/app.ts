/**
 * createApp(config, deps) builds the whole service without listening, so tests drive it with
 * `app.handle(request)` and src/server.ts owns the socket.
 * @module
 */
import { type AnyElysia, Elysia } from "elysia";
import type { Config } from "../lib/config.ts";
import { type Logger, silentLogger } from "../lib/log.ts";
import { createLoginLimiter, type LoginLimiter } from "./auth/login-limiter.ts";
import { createAuthService } from "./auth/service.ts";
import type { Database } from "./db/database.ts";
import { openGate, type SchemaGate } from "./db/schema-gate.ts";
import { createOutageWatch, databaseTarget } from "./faults/outage.ts";
import type { Reporter } from "./reporting/reporter.ts";
import { reporterFromConfig } from "./reporting/setup.ts";
import { MediaStore } from "./media/store.ts";
import { Volume } from "./media/volume.ts";
import { allowedMethods } from "./plugins/allowed-methods.ts";
import { cors, corsUsualHeaders } from "./plugins/cors.ts";
import { errorHandler } from "./plugins/errors.ts";
import { createResponder, type Responder } from "./plugins/json-response.ts";
import { createMetrics, requestMetrics } from "./plugins/metrics.ts";
import { apiDocs } from "./plugins/openapi.ts";
import { rateLimit, type SocketServer } from "./plugins/rate-limit.ts";
import { type AccessLogRecord, requestContext, requestIdOf } from "./plugins/request-context.ts";
import { schemaGuard } from "./plugins/schema-guard.ts";
import { securityHeaderSet } from "./plugins/security-headers.ts";
import { authRoutes } from "./routes/auth.ts";
import { fileRoutes } from "./routes/files.ts";
import { healthRoutes } from "./routes/health.ts";
import { meRoutes } from "./routes/me.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { projectRoutes } from "./routes/projects.ts";

export interface AppDeps {
  db: Database;
  logger?: Logger;
  /** Production passes a gate that refuses service while the schema is behind; elsewhere it is always open. */
  schema?: SchemaGate;
  startedAt?: number;
  onRequestFinished?: (record: AccessLogRecord) => void;
  /** Milliseconds since the epoch; tests move time to expire tokens and rate-limit windows. */
  clock?: () => number;
  /** File storage and this machine's volume; default to config.mediaDir (see createMediaServices). */
  media?: MediaStore;
  volume?: Volume;
  /** Error reporting; defaults to one from SENTRY_DSN (none when unset). */
  reporter?: Reporter;
  /** The login limit; defaults to counting in deps.db. */
  loginLimiter?: LoginLimiter;
}

export interface MediaServices {
  media: MediaStore;
  volume: Volume;
}

/** The volume and its file store, shared by the routes and the server's upkeep (heartbeat, deletion work). */
export function createMediaServices(
  config: Config,
  db: Database,
  logger: Logger,
  clock: () => number = Date.now,
): MediaServices {
  return {
    media: new MediaStore(config.mediaDir),
    volume: new Volume({
      mediaDir: config.mediaDir,
      flyMachineId: config.fly.machineId,
      region: config.fly.region ?? "local",
      repo: db.repo,
      heartbeatMs: config.volumeHeartbeatMs,
      requireMount: config.mediaRequireMount,
      clock,
      logger,
    }),
  };
}

/** The headers every response carries (security, CORS's Vary, the CSP by path), prebuilt once (see src/plugins/json-response.ts). */
export function usualResponder(config: Pick<Config, "appEnv" | "allowedOrigins">): Responder {
  const security = securityHeaderSet(config.appEnv);
  return createResponder({ ...security.usual, ...corsUsualHeaders(config.allowedOrigins) }, security.byPath);
}

/**
 * Typed as AnyElysia: Elysia's generics are invariant, and callers (server.ts, tests adding routes) need one
 * stable app type rather than the full route map.
 */
export function createApp(config: Config, deps: AppDeps): AnyElysia {
  const logger = deps.logger ?? silentLogger;
  const schema = deps.schema ?? openGate;
  const clock = deps.clock ?? Date.now;
  const repo = deps.db.repo;
  const defaults = deps.media && deps.volume ? undefined : createMediaServices(config, deps.db, logger, clock);
  const media = deps.media ?? (defaults as MediaServices).media;
  const volume = deps.volume ?? (defaults as MediaServices).volume;
  const loginLimiter = deps.loginLimiter ?? createLoginLimiter(repo, config.authRateLimitPerMinute, clock);
  const auth = createAuthService({
    repo,
    secretKey: config.secretKey,
    clock,
    accessLifetimeSeconds: config.accessTokenExpireMinutes * 60,
    refreshLifetimeSeconds: config.refreshTokenExpireDays * 86_400,
  });

  const metrics = createMetrics(deps.db, config.mediaDir);
  const countRequests = requestMetrics(metrics);
  const db = deps.db;
  const reporter = deps.reporter ?? reporterFromConfig(config, logger);
  const onBug =
    reporter === undefined
      ? undefined
      : (error: unknown, request: Request, route: string | undefined) =>
          reporter.captureRequestError(error, { requestId: requestIdOf(request), method: request.method, route });
  const outages = createOutageWatch({ logger, target: databaseTarget(config.databaseUrl), ping: () => db.ping() });

  // onRequest hooks run in this order: request id, CORS (answers preflights, with the usual headers), metrics,
  // rate limit, schema guard. The usual headers (security, Vary, CSP) go on every answer from request-context's
  // mapResponse hook, which Elysia also runs for errors raised by those hooks (a 429, a 503).
  // normalize: false makes `additionalProperties: false` reject unknown fields (422) instead of dropping them.
  const app = new Elysia({ name: "flightdeck", normalize: false });
  const respond = usualResponder(config);
  // src/server.ts sets `server` on the app it mounts.
  const server = () => (app as { server?: SocketServer | null }).server;
  return app
    .use(
      requestContext(
        logger,
        deps.onRequestFinished ? [countRequests.finish, deps.onRequestFinished] : [countRequests.finish],
        respond,
      ),
    )
    .use(errorHandler(config.appEnv, logger, { outages, onBug, allowedMethods: allowedMethods(() => app.routes) }))
    .use(cors(config.allowedOrigins, respond.headersFor))
    .use(countRequests.plugin)
    .use(rateLimit(config, clock, server))
    .use(schemaGuard(schema))
    .use(apiDocs(config.appVersion))
    .use(healthRoutes(config, { db: deps.db, schema, volume, startedAt: deps.startedAt ?? Date.now() }))
    .use(metricsRoutes(metrics, config.metricsToken))
    .use(authRoutes(config, auth, loginLimiter))
    .use(meRoutes({ repo, auth, limiter: loginLimiter, media, volume, logger }))
    .use(projectRoutes({ repo, auth, media, volume, logger }))
    .use(fileRoutes({ config, repo, auth, media, volume, logger }));
}

export type App = AnyElysia;
