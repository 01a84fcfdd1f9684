/**
 * Opens the database the config names (PostgreSQL through Bun's built-in `Bun.sql`, see postgres.ts; or
 * bun:sqlite) behind one interface: the repository, a ping for /health, migrations and the schema check. Nothing
 * above src/db/ sees the dialect except as a label.
 * @module
 */
import { type Config, DEFAULT_DB_IDLE_TIMEOUT_S, DEFAULT_DB_MAX_LIFETIME_S, type Dialect } from "../../lib/config.ts";
import { databaseTarget } from "../faults/outage.ts";
import type { RunAtomic } from "./atomic.ts";
import { compareSchema, journalTimestamps, type SchemaStatus } from "./migrations.ts";
import { type NameReport, normalizeFilePaths } from "./nfc-paths.ts";
import { createRepository, type Repository } from "./repository.ts";

export interface PingResult {
  ok: boolean;
  latencyMs: number;
  error?: string;
}
export interface PoolStats {
  size: number;
  dialect: Dialect;
}

export interface Database {
  readonly dialect: Dialect;
  readonly repo: Repository;
  ping(timeoutMs?: number): Promise<PingResult>;
  /**
   * Applies pending migrations, then puts file paths in NFC (./nfc-paths.ts; `names` only when it found any);
   * PostgreSQL holds an advisory lock so concurrent runs are safe.
   */
  migrate(): Promise<{ applied: number; names?: NameReport }>;
  schemaStatus(): Promise<SchemaStatus>;
  poolStats(): PoolStats;
  close(): Promise<void>;
}

/** The low-level half each driver module provides. */
export interface Driver {
  dialect: Dialect;
  // biome-ignore lint/suspicious/noExplicitAny: drizzle handle, see repository.ts
  db: any;
  tables: Parameters<typeof createRepository>[1];
  isUniqueViolation(error: unknown): boolean;
  /** Runs a transaction body the dialect's way (./atomic.ts). */
  atomic: RunAtomic;
  ping(): Promise<void>;
  lastAppliedMigration(): Promise<number | undefined>;
  /** Runs `migrate` inside whatever lock the dialect needs, so counting and applying see the same state. */
  withMigrationLock<T>(migrate: () => Promise<T>): Promise<T>;
  runMigrations(): Promise<void>;
  poolSize: number;
  close(): Promise<void>;
}

/** Connection lifetimes default to the config's defaults for callers that only have a URL (tests, tools). */
export type DatabaseSettings = Pick<Config, "databaseUrl" | "dbPoolSize"> &
  Partial<Pick<Config, "dbMaxLifetimeS" | "dbIdleTimeoutS">>;

export async function openDatabase(config: DatabaseSettings): Promise<Database> {
  // Each driver is loaded only when used: a SQLite preview machine does not pay for the PostgreSQL modules at
  // boot, nor production for SQLite's (cold start is measured by `bun run bench`).
  const driver = config.databaseUrl.startsWith("sqlite:")
    ? (await import("./sqlite.ts")).openSqlite(config.databaseUrl.slice("sqlite:".length))
    : await (await import("./postgres.ts")).openPostgres(config.databaseUrl, {
        poolSize: config.dbPoolSize,
        maxLifetimeS: config.dbMaxLifetimeS ?? DEFAULT_DB_MAX_LIFETIME_S,
        idleTimeoutS: config.dbIdleTimeoutS ?? DEFAULT_DB_IDLE_TIMEOUT_S,
      });
  return wrapDriver(driver, databaseTarget(config.databaseUrl));
}

function wrapDriver(driver: Driver, target: string): Database {
  const schemaStatus = async () =>
    compareSchema(await journalTimestamps(driver.dialect), await driver.lastAppliedMigration());
  return {
    dialect: driver.dialect,
    repo: createRepository(driver.db, driver.tables, driver.isUniqueViolation, driver.atomic),
    async ping(timeoutMs = 2000) {
      const started = performance.now();
      let timer: Timer | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        });
        await Promise.race([driver.ping(), timeout]);
        return { ok: true, latencyMs: round(performance.now() - started) };
      } catch (error) {
        return { ok: false, latencyMs: round(performance.now() - started), error: describeDbError(error, target) };
      } finally {
        clearTimeout(timer);
      }
    },
    migrate: () =>
      driver.withMigrationLock(async () => {
        const before = await schemaStatus();
        let applied = 0;
        if (!before.upToDate) {
          await driver.runMigrations();
          applied = before.pending - (await schemaStatus()).pending;
        }
        // Every run, not only the one applying 0003: a run cut short between the two still finishes the rows.
        const names = await normalizeFilePaths(driver.db, driver.tables, driver.isUniqueViolation);
        return names.renamed + names.collisions.length > 0 ? { applied, names } : { applied };
      }),
    schemaStatus,
    poolStats: () => ({ size: driver.poolSize, dialect: driver.dialect }),
    close: () => driver.close(),
  };
}

/**
 * Driver errors can carry connection strings; keep the class of failure and say where (host:port/database,
 * never the password): Bun.sql's "Failed to connect" alone does not name the server it tried.
 */
function describeDbError(error: unknown, target: string): string {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  const safe = message.replace(/[a-z]+:\/\/\S+/gi, "[url]").slice(0, 200);
  return `${typeof code === "string" ? `${code}: ${safe}` : safe} (database ${target})`;
}

const round = (ms: number) => Math.round(ms * 100) / 100;
