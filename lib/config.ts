/**
 * The unified config: one typed schema for every setting, read by the service at boot and by the deploy
 * library's preflight. Validation collects every problem and reports them together; values of secret
 * settings never appear in a message.
 * @module
 */

import { type Env, SettingReader } from "./config/setting-reader.ts";
import { checkObservability, readObservability, type Observability } from "./config/observability.ts";

export type AppEnv = "development" | "test" | "preview" | "production";
export type LogLevel = "debug" | "info" | "warn" | "error";
export type Dialect = "postgres" | "sqlite";

export interface Config extends Observability {
  appEnv: AppEnv;
  port: number;
  host: string;
  databaseUrl: string;
  dialect: Dialect;
  mediaDir: string;
  /**
   * MEDIA_DIR must be a mount point (the Fly volume) before files are stored; default true in production only.
   * Tests and local runs of production mode opt out with MEDIA_REQUIRE_MOUNT=false.
   */
  mediaRequireMount: boolean;
  secretKey: string;
  allowedOrigins: string[];
  rateLimitPerMinute: number;
  authRateLimitPerMinute: number;
  /** Access token lifetime (production settings name ACCESS_TOKEN_EXPIRE_MINUTES=30, issue 22). */
  accessTokenExpireMinutes: number;
  /** Refresh token (session) lifetime, REFRESH_TOKEN_EXPIRE_DAYS=7 in the production settings. */
  refreshTokenExpireDays: number;
  enableRegistration: boolean;
  logLevel: LogLevel;
  maxUploadBytes: number;
  dbPoolSize: number;
  /** Seconds a PostgreSQL connection lives before it is replaced (src/db/postgres.ts). */
  dbMaxLifetimeS: number;
  /** Seconds an unused PostgreSQL connection stays open. */
  dbIdleTimeoutS: number;
  metricsToken: string | undefined;
  trustProxy: boolean;
  /** Migrations at boot: development/test/preview apply them; production only checks (release command migrates). */
  migrateOnBoot: boolean;
  shutdownTimeoutMs: number;
  /** How often a machine refreshes its volume's record and drains deletion work; a volume is "running" for 3x this. */
  volumeHeartbeatMs: number;
  appVersion: string;
  /** Error reporting and tracing: SENTRY_DSN, SENTRY_TRACES_SAMPLE_RATE, OTEL_EXPORTER_OTLP_* (config/observability.ts). */
  fly: { appName?: string; region?: string; machineId?: string; primaryRegion?: string };
}

export interface ConfigProblem {
  setting: string;
  problem: string;
  fix: string;
}

export class ConfigError extends Error {
  readonly code = "config_invalid";
  constructor(readonly problems: ConfigProblem[]) {
    super(formatProblems(problems));
    this.name = "ConfigError";
  }
}

export type LoadConfigResult = { ok: true; config: Config; warnings: string[] } | { ok: false; error: ConfigError };

/** The value development uses when SECRET_KEY is unset; production and preview refuse it. */
export const DEV_SECRET_KEY = "flightdeck-development-secret-key-do-not-use-in-prod";
export const MIN_SECRET_KEY_LENGTH = 32;
/** Settings production reads from Fly secrets rather than fly.toml [env]. */
export const REQUIRED_PRODUCTION_SECRETS = ["DATABASE_URL", "SECRET_KEY"] as const;
/**
 * Fly advises recycling PostgreSQL connections (about every 10 minutes) so that after a failover or a proxy
 * change no pooled connection stays pinned to a primary that is gone.
 */
export const DEFAULT_DB_MAX_LIFETIME_S = 600;
export const DEFAULT_DB_IDLE_TIMEOUT_S = 30;
export const SECRET_SETTINGS = new Set([
  "SECRET_KEY",
  "DATABASE_URL",
  "METRICS_TOKEN",
  "SENTRY_DSN",
  // Collector credentials (an API key header for Honeycomb, Grafana Cloud, ...).
  "OTEL_EXPORTER_OTLP_HEADERS",
]);

const APP_ENVS: readonly AppEnv[] = ["development", "test", "preview", "production"];
const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

interface EnvDefaults {
  host: string;
  databaseUrl?: string;
  mediaDir?: string;
  allowedOrigins: string;
  trustProxy: boolean;
  logLevel: LogLevel;
  migrateOnBoot: boolean;
  /**
   * AUTH_RATE_LIMIT_PER_MINUTE. Five a minute guards passwords on the internet (previews are public too); a
   * developer logging in after each restart, or a frontend's hot reload, hits five at once on localhost.
   */
  authRateLimitPerMinute: number;
}

const DEFAULTS: Record<AppEnv, EnvDefaults> = {
  development: {
    host: "127.0.0.1",
    databaseUrl: "sqlite:./data/flightdeck.db",
    mediaDir: "./data/media",
    allowedOrigins: "*",
    trustProxy: false,
    logLevel: "info",
    migrateOnBoot: true,
    authRateLimitPerMinute: 60,
  },
  test: {
    host: "127.0.0.1",
    databaseUrl: "sqlite::memory:",
    mediaDir: "./data/test-media",
    allowedOrigins: "*",
    trustProxy: false,
    logLevel: "warn",
    migrateOnBoot: true,
    authRateLimitPerMinute: 5,
  },
  // Preview: SQLite and media on the machine's own disk (no volume), per fly.preview.toml.
  preview: {
    host: "0.0.0.0",
    databaseUrl: "sqlite:/app/data/flightdeck.db",
    mediaDir: "/app/data/media",
    allowedOrigins: "",
    trustProxy: true,
    logLevel: "info",
    migrateOnBoot: true,
    authRateLimitPerMinute: 5,
  },
  // Production: DATABASE_URL is a required secret; media lives on the volume.
  production: {
    host: "0.0.0.0",
    mediaDir: "/app/media",
    allowedOrigins: "",
    trustProxy: true,
    logLevel: "info",
    migrateOnBoot: false,
    authRateLimitPerMinute: 5,
  },
};

/** Reads, defaults and validates every setting; never throws. */
export function loadConfig(env: Env = process.env): LoadConfigResult {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const read = new SettingReader(env, problems, SECRET_SETTINGS);

  const appEnv = read.oneOf("APP_ENV", APP_ENVS, defaultAppEnv(env));
  const d = DEFAULTS[appEnv];

  const databaseUrl = read.string("DATABASE_URL", d.databaseUrl ?? "");
  const secretKey = read.string("SECRET_KEY", appEnv === "development" || appEnv === "test" ? DEV_SECRET_KEY : "");
  const allowedOrigins = parseList(read.string("ALLOWED_ORIGINS", d.allowedOrigins));

  const config: Config = {
    appEnv,
    port: read.integer("PORT", 3000, { min: 0, max: 65535 }),
    host: read.string("HOST", d.host),
    databaseUrl,
    dialect: databaseUrl.startsWith("sqlite:") ? "sqlite" : "postgres",
    mediaDir: read.string("MEDIA_DIR", d.mediaDir ?? "./data/media"),
    mediaRequireMount: read.boolean("MEDIA_REQUIRE_MOUNT", appEnv === "production"),
    secretKey,
    allowedOrigins,
    rateLimitPerMinute: read.integer("RATE_LIMIT_PER_MINUTE", 100, { min: 1, max: 1_000_000 }),
    authRateLimitPerMinute: read.integer("AUTH_RATE_LIMIT_PER_MINUTE", d.authRateLimitPerMinute, {
      min: 1,
      max: 10_000,
    }),
    accessTokenExpireMinutes: read.integer("ACCESS_TOKEN_EXPIRE_MINUTES", 30, { min: 1, max: 24 * 60 }),
    refreshTokenExpireDays: read.integer("REFRESH_TOKEN_EXPIRE_DAYS", 7, { min: 1, max: 365 }),
    enableRegistration: read.boolean("ENABLE_REGISTRATION", true),
    logLevel: read.oneOf("LOG_LEVEL", LOG_LEVELS, d.logLevel),
    maxUploadBytes: read.integer("MAX_UPLOAD_BYTES", 50 * 1024 * 1024, { min: 1, max: 10 * 1024 ** 3 }),
    dbPoolSize: read.integer("DB_POOL_SIZE", 10, { min: 1, max: 200 }),
    dbMaxLifetimeS: read.integer("DATABASE_MAX_LIFETIME_S", DEFAULT_DB_MAX_LIFETIME_S, { min: 1, max: 86_400 }),
    dbIdleTimeoutS: read.integer("DATABASE_IDLE_TIMEOUT_S", DEFAULT_DB_IDLE_TIMEOUT_S, { min: 1, max: 86_400 }),
    metricsToken: read.string("METRICS_TOKEN", "") || undefined,
    trustProxy: read.boolean("TRUST_PROXY", d.trustProxy),
    migrateOnBoot: d.migrateOnBoot,
    shutdownTimeoutMs: read.integer("SHUTDOWN_TIMEOUT_MS", 10_000, { min: 0, max: 300_000 }),
    volumeHeartbeatMs: read.integer("VOLUME_HEARTBEAT_MS", 15_000, { min: 100, max: 600_000 }),
    appVersion: env.APP_VERSION || "dev",
    ...readObservability(read, problems),
    fly: {
      appName: env.FLY_APP_NAME || undefined,
      region: env.FLY_REGION || undefined,
      machineId: env.FLY_MACHINE_ID || undefined,
      primaryRegion: env.PRIMARY_REGION || undefined,
    },
  };

  problems.push(...checkDatabaseUrl(appEnv, databaseUrl));
  problems.push(...checkSecretKey(appEnv, secretKey, env.SECRET_KEY !== undefined));
  if (appEnv === "production" && allowedOrigins.includes("*")) {
    problems.push({
      setting: "ALLOWED_ORIGINS",
      problem: "contains '*', which lets any web site call the API with a user's credentials",
      fix: "list the allowed origins explicitly, e.g. ALLOWED_ORIGINS=https://app.example.com",
    });
  }
  problems.push(...checkObservability(config));
  if (appEnv === "development" && env.SECRET_KEY === undefined) {
    warnings.push("SECRET_KEY is not set; using the fixed development key (never acceptable in production)");
  }

  if (problems.length > 0) return { ok: false, error: new ConfigError(problems) };
  return { ok: true, config, warnings };
}

export type DatabaseConfig = Pick<
  Config,
  "appEnv" | "databaseUrl" | "dbPoolSize" | "dbMaxLifetimeS" | "dbIdleTimeoutS" | "logLevel"
>;

/**
 * Only what `bun run migrate` (the release command) uses: the database and the log level. Migrations need no
 * SECRET_KEY, so a release command must not be refused for the lack of one.
 */
export function loadDatabaseConfig(
  env: Env = process.env,
): { ok: true; config: DatabaseConfig } | { ok: false; error: ConfigError } {
  const problems: ConfigProblem[] = [];
  const read = new SettingReader(env, problems, SECRET_SETTINGS);
  const appEnv = read.oneOf("APP_ENV", APP_ENVS, defaultAppEnv(env));
  const databaseUrl = read.string("DATABASE_URL", DEFAULTS[appEnv].databaseUrl ?? "");
  const config: DatabaseConfig = {
    appEnv,
    databaseUrl,
    dbPoolSize: read.integer("DB_POOL_SIZE", 10, { min: 1, max: 200 }),
    dbMaxLifetimeS: read.integer("DATABASE_MAX_LIFETIME_S", DEFAULT_DB_MAX_LIFETIME_S, { min: 1, max: 86_400 }),
    dbIdleTimeoutS: read.integer("DATABASE_IDLE_TIMEOUT_S", DEFAULT_DB_IDLE_TIMEOUT_S, { min: 1, max: 86_400 }),
    logLevel: read.oneOf("LOG_LEVEL", LOG_LEVELS, DEFAULTS[appEnv].logLevel),
  };
  problems.push(...checkDatabaseUrl(appEnv, databaseUrl));
  return problems.length > 0 ? { ok: false, error: new ConfigError(problems) } : { ok: true, config };
}

/**
 * The production rules applied to secret values about to be deployed (`secrets set`, preflight).
 * Missing keys are reported too, so a caller can pass the full intended set.
 */
export function checkProductionSecrets(values: Env): ConfigProblem[] {
  return [
    ...checkDatabaseUrl("production", values.DATABASE_URL ?? ""),
    ...checkSecretKey("production", values.SECRET_KEY ?? "", values.SECRET_KEY !== undefined),
  ];
}

export function formatProblems(problems: ConfigProblem[]): string {
  const lines = problems.map((p) => `  - ${p.setting}: ${p.problem}. Fix: ${p.fix}`);
  return `invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${lines.join("\n")}`;
}

/** `bun test` sets NODE_ENV=test; the embedded default otherwise is development. */
function defaultAppEnv(env: Env): AppEnv {
  return env.NODE_ENV === "test" ? "test" : "development";
}

function checkDatabaseUrl(appEnv: AppEnv, url: string): ConfigProblem[] {
  if (url === "") {
    return [
      {
        setting: "DATABASE_URL",
        problem: "is missing",
        fix: "set it to a postgres:// URL (as a Fly secret in production)",
      },
    ];
  }
  const isPostgres = url.startsWith("postgres://") || url.startsWith("postgresql://");
  const isSqlite = url.startsWith("sqlite:");
  if (appEnv === "production" && !isPostgres) {
    return [
      {
        setting: "DATABASE_URL",
        problem: `must be a PostgreSQL URL in production, got a ${describeUrlScheme(url)} URL`,
        fix: "set DATABASE_URL to postgres://user:password@host:5432/db (e.g. `bun deploy/run.ts secrets set DATABASE_URL=...`)",
      },
    ];
  }
  if (!isPostgres && !isSqlite) {
    return [
      {
        setting: "DATABASE_URL",
        problem: `has an unsupported scheme (${describeUrlScheme(url)})`,
        fix: "use postgres://..., postgresql://..., sqlite:./path/to.db or sqlite::memory:",
      },
    ];
  }
  if (isPostgres && !URL.canParse(url)) {
    return [
      {
        setting: "DATABASE_URL",
        problem: "is not a valid URL",
        fix: "check its format: postgres://user:password@host:5432/db",
      },
    ];
  }
  return [];
}

function checkSecretKey(appEnv: AppEnv, key: string, provided: boolean): ConfigProblem[] {
  if (appEnv !== "production" && appEnv !== "preview") return [];
  const fix = "generate one with `openssl rand -hex 32` and set it as a secret";
  if (!provided || key === "") return [{ setting: "SECRET_KEY", problem: "is missing", fix }];
  if (key.length < MIN_SECRET_KEY_LENGTH) {
    return [
      {
        setting: "SECRET_KEY",
        problem: `is too short (${key.length} characters, at least ${MIN_SECRET_KEY_LENGTH} needed)`,
        fix,
      },
    ];
  }
  if (key === DEV_SECRET_KEY) {
    return [{ setting: "SECRET_KEY", problem: "is the public development key", fix }];
  }
  return [];
}

function describeUrlScheme(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  return match ? `'${match[1]}:'` : "scheme-less";
}

function parseList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
