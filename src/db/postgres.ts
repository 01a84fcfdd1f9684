/**
 * PostgreSQL through postgres.js, for production.
 * @module
 */
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import type { Driver } from "./database.ts";
import { MIGRATIONS_FOLDER } from "./migrations.ts";
import * as tables from "./schema/pg.ts";

/** Any constant works as long as every migrator uses the same one: it names the lock, not a row. */
const MIGRATION_LOCK_KEY = 0x666c6463; // "fldc"

export async function openPostgres(url: string, poolSize: number): Promise<Driver> {
  const client = postgres(url, {
    // At least two: migrations hold the advisory lock on one reserved connection and run on another.
    max: Math.max(2, poolSize),
    idle_timeout: 30,
    connect_timeout: 5,
    onnotice: () => {},
  });
  const db = drizzle({ client });
  return {
    dialect: "postgres",
    db,
    tables,
    isUniqueViolation: (error) => (error as { code?: unknown })?.code === "23505",
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
    close: () => client.end({ timeout: 5 }),
  };
}
