/**
 * Database errors say what a reader needs: `bun run migrate` needs only DATABASE_URL (no SECRET_KEY); a
 * database that cannot be reached is named by host and port, never with its password; a background task's
 * failure carries PostgreSQL's own message and SQLSTATE, not only drizzle's "Failed query: ...".
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createLogger } from "../../../lib/log.ts";
import { createApp } from "../../../src/app.ts";
import { openDatabase } from "../../../src/db/database.ts";
import { startUpkeep } from "../../../src/upkeep.ts";
import { testConfig } from "../../support/app.ts";
import { createScratchDatabase, postgresAvailable, type ScratchDatabase } from "../../support/postgres.ts";

const pg = await postgresAvailable();
const ROOT = join(import.meta.dir, "..", "..", "..");
const PASSWORD = "pw-never-in-output";
// Nothing listens on port 9 (discard) of the loopback here: connections are refused at once.
const UNREACHABLE = `postgres://app:${PASSWORD}@127.0.0.1:9/flightdeck`;

function migrate(env: Record<string, string>) {
  const { PATH, HOME } = process.env;
  const run = Bun.spawnSync(["bun", "src/db/migrate.ts"], {
    cwd: ROOT,
    env: { PATH: PATH ?? "", HOME: HOME ?? "", APP_ENV: "production", ...env },
  });
  return { exitCode: run.exitCode, output: `${run.stdout.toString()}${run.stderr.toString()}` };
}

test("an unreachable database: migrate exits 1 naming host and port, never the password", () => {
  const run = migrate({ DATABASE_URL: UNREACHABLE });
  expect(run.exitCode).toBe(1);
  expect(run.output).toContain("127.0.0.1:9/flightdeck");
  expect(run.output).not.toContain(PASSWORD);
});

test("/health names the database it cannot reach", async () => {
  const config = testConfig({ DATABASE_URL: UNREACHABLE, MEDIA_DIR: join(ROOT, "data", "test-media-dberrors") });
  const db = await openDatabase(config);
  try {
    const res = await createApp(config, { db }).handle(new Request("http://localhost/health"));
    expect(res.status).toBe(503);
    const body = (await res.json()) as { reason: string };
    expect(body.reason).toContain("(database 127.0.0.1:9/flightdeck)");
    expect(JSON.stringify(body)).not.toContain(PASSWORD);
  } finally {
    await db.close();
  }
});

describe.skipIf(!pg)("on PostgreSQL", () => {
  let scratch: ScratchDatabase;
  beforeAll(async () => {
    scratch = await createScratchDatabase("dberrors");
  });
  afterAll(() => scratch?.drop());

  test("migrate needs only DATABASE_URL: production without SECRET_KEY migrates", () => {
    const run = migrate({ DATABASE_URL: scratch.url });
    expect(run.output).not.toContain("SECRET_KEY");
    expect(run.exitCode).toBe(0);
  });

  test("a background task's failure carries PostgreSQL's message and SQLSTATE", async () => {
    const other = await createScratchDatabase("dberrors_empty");
    const db = await openDatabase({ databaseUrl: other.url, dbPoolSize: 2 });
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ write: (line) => lines.push(JSON.parse(line)) });
    try {
      // No migrations applied: the table is missing, as while the schema is behind.
      const upkeep = startUpkeep([{ name: "volume heartbeat", run: () => db.repo.volumes.all() }], 60_000, logger);
      await upkeep.runOnce();
      await upkeep.stop();
      const failed = lines.find((l) => l.msg === "upkeep task failed; retrying next tick");
      expect(failed).toMatchObject({ task: "volume heartbeat", sqlstate: "42P01" });
      expect(failed?.cause).toMatch(/relation "volumes" does not exist/);
    } finally {
      await db.close();
      await other.drop();
    }
  });
});
