/**
 * PostgreSQL for production, through Bun's built-in client (`Bun.sql`).
 *
 * Departure from DESIGN.md's chosen driver (postgres.js), measured: under Bun, postgres.js runs on the
 * node:net compatibility layer and became the top of the CPU profile of an authenticated read; Bun's native
 * client answers the same queries about 2.5x faster in process and keeps peak RSS lower under load
 * (`bun run bench:api`, figures in the closing note of issue 3). drizzle supports both with the same query
 * builder, so nothing above this file changed.
 * @module
 */
import { SQL } from "bun";
import { drizzle } from "drizzle-orm/bun-sql";
import { migrate } from "drizzle-orm/bun-sql/migrator";
import { postgresAtomic } from "./atomic.ts";
import type { Driver } from "./database.ts";
import { MIGRATIONS_FOLDER } from "./migrations.ts";
import * as tables from "./schema/pg.ts";

/** Any constant works as long as every migrator uses the same one: it names the lock, not a row. */
const MIGRATION_LOCK_KEY = 0x666c6463; // "fldc"

export interface PoolSettings {
  poolSize: number;
  /**
   * Seconds before a connection is replaced by a new one (Bun finishes a busy connection's work first). Without
   * it a connection lives for ever, so after a failover or a proxy change it can stay on a primary that is gone.
   */
  maxLifetimeS: number;
  idleTimeoutS: number;
}

export async function openPostgres(
  url: string,
  { poolSize, maxLifetimeS, idleTimeoutS }: PoolSettings,
): Promise<Driver> {
  const client = new SQL(url, {
    // At least two: migrations hold the advisory lock on one reserved connection and run on another.
    max: Math.max(2, poolSize),
    maxLifetime: maxLifetimeS,
    idleTimeout: idleTimeoutS,
    connectionTimeout: 5,
  });
  const db = drizzle({ client });
  return {
    dialect: "postgres",
    db,
    tables,
    // Bun's PostgresError keeps the SQLSTATE in `errno` (its `code` is Bun's own ERR_POSTGRES_SERVER_ERROR).
    isUniqueViolation: (error) => (error as { errno?: unknown })?.errno === "23505",
    atomic: postgresAtomic(db),
    ping: async () => {
      await client`select 1`;
    },
    lastAppliedMigration: async () => {
      const [exists] = await client`select to_regclass('drizzle.__drizzle_migrations') as t`;
      if (!exists?.t) return undefined;
      const [row] = await client`select max(created_at) as last from drizzle.__drizzle_migrations`;
      return row?.last == null ? undefined : Number(row.last);
    },
    runMigrations: () => migrate(db, { migrationsFolder: MIGRATIONS_FOLDER.postgres }),
    withMigrationLock: async (run) => {
      // A session-level advisory lock on one reserved connection serialises concurrent release commands:
      // the second waits, then finds nothing pending. See https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
      const lock = await client.reserve();
      try {
        await lock`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
        return await run();
      } finally {
        await lock`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
        lock.release();
      }
    },
    poolSize,
    close: () => client.close({ timeout: 5 }),
  };
}
