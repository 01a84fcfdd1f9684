/**
 * `bun run migrate`: the production release command (fly.toml [deploy] release_command). Safe to run
 * concurrently (advisory lock) and a no-op when the schema is up to date. Exit 0 done, 1 failed, 2 bad config.
 * @module
 */
import { loadDatabaseConfig } from "../../lib/config.ts";
import { createLogger } from "../../lib/log.ts";
import { databaseCause } from "../faults/classify.ts";
import { databaseTarget } from "../faults/outage.ts";
import { openDatabase } from "./database.ts";
import { logNameReport } from "./nfc-paths.ts";

// Only DATABASE_URL (and the pool and log settings): migrations use no other setting.
const loaded = loadDatabaseConfig();
if (!loaded.ok) {
  process.stderr.write(`${loaded.error.message}\n`);
  process.exit(2);
}
const { config } = loaded;
const log = createLogger({ level: config.logLevel, fields: { component: "migrate" } });
const db = await openDatabase(config);
try {
  const { applied, names } = await db.migrate();
  log.info(applied === 0 ? "schema up to date" : "migrations applied", { applied, dialect: db.dialect });
  if (names) logNameReport(log, names);
} catch (error) {
  // Where (host:port/db, never the password) and PostgreSQL's own words, not just drizzle's "Failed query".
  log.error("migration failed", { database: databaseTarget(config.databaseUrl), ...causeFields(error), error });
  process.exitCode = 1;
} finally {
  await db.close();
}

function causeFields(error: unknown): Record<string, unknown> {
  const cause = databaseCause(error);
  return cause ? { cause: cause.message, sqlstate: cause.code } : { cause: (error as Error)?.message };
}
