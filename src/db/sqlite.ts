/**
 * bun:sqlite driver for development, tests and previews.
 * @module
 */
import { Database as SqliteDatabase } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import { sqliteAtomic } from "./atomic.ts";
import type { Driver } from "./database.ts";
import { MIGRATIONS_FOLDER } from "./migrations.ts";
import * as tables from "./schema/sqlite.ts";

export function openSqlite(path: string): Driver {
  const file = path === "" ? ":memory:" : path;
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const client = new SqliteDatabase(file, { create: true, strict: true });
  // WAL lets /health read while a write is in progress; foreign keys make project deletes cascade to files.
  client.exec(
    "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;",
  );
  const db = drizzle({ client });
  return {
    dialect: "sqlite",
    db,
    // The repository is written against the PostgreSQL table types; the SQLite tables have identical columns.
    tables: tables as unknown as Driver["tables"],
    isUniqueViolation: (error) =>
      String((error as { code?: unknown })?.code ?? "").startsWith("SQLITE_CONSTRAINT_UNIQUE") ||
      /UNIQUE constraint failed/.test(String((error as Error)?.message)),
    atomic: sqliteAtomic(db),
    ping: async () => {
      client.query("select 1").get();
    },
    lastAppliedMigration: async () => {
      const table = client
        .query("select name from sqlite_master where type = 'table' and name = '__drizzle_migrations'")
        .get();
      if (!table) return undefined;
      const row = client.query("select max(created_at) as last from __drizzle_migrations").get() as {
        last: number | null;
      };
      return row.last === null ? undefined : Number(row.last);
    },
    runMigrations: async () => migrate(db, { migrationsFolder: MIGRATIONS_FOLDER.sqlite }),
    // One process owns a SQLite file (previews run one machine), and drizzle wraps the run in a transaction.
    withMigrationLock: (run) => run(),
    poolSize: 1,
    close: async () => client.close(),
  };
}
