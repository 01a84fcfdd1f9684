/**
 * `bun run migrate`: the production release command (fly.toml [deploy] release_command). Safe to run
 * concurrently (advisory lock) and a no-op when the schema is up to date. Exit 0 done, 1 failed, 2 bad config.
 * @module
 */
import { loadConfig } from "../../lib/config.ts";
import { createLogger } from "../../lib/log.ts";
import { openDatabase } from "./database.ts";

const loaded = loadConfig();
if (!loaded.ok) {
  process.stderr.write(`${loaded.error.message}\n`);
  process.exit(2);
}
const { config } = loaded;
const log = createLogger({ level: config.logLevel, fields: { component: "migrate" } });
const db = await openDatabase(config);
try {
  const { applied } = await db.migrate();
  log.info(applied === 0 ? "schema up to date" : "migrations applied", { applied, dialect: db.dialect });
} catch (error) {
  log.error("migration failed", { error });
  process.exitCode = 1;
} finally {
  await db.close();
}
