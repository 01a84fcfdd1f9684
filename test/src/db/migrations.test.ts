import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { openDatabase } from "../../../src/db/database.ts";
import { compareSchema, journalTimestamps } from "../../../src/db/migrations.ts";
import { createScratchDatabase, postgresAvailable } from "../../support/postgres.ts";

const pg = await postgresAvailable();

test("compareSchema counts pending migrations", () => {
  expect(compareSchema([1, 2, 3], undefined)).toMatchObject({ upToDate: false, pending: 3 });
  expect(compareSchema([1, 2, 3], 2)).toMatchObject({
    upToDate: false,
    pending: 1,
    reason: expect.stringContaining("bun run migrate"),
  });
  expect(compareSchema([1, 2, 3], 3)).toEqual({ upToDate: true, pending: 0 });
});

describe("SQLite migrations", () => {
  const dir = mkdtempSync(join(tmpdir(), "flightdeck-migrate-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("fresh database: behind, then migrated, then a re-run is a no-op that keeps data", async () => {
    const url = `sqlite:${join(dir, "fresh.db")}`;
    const db = await openDatabase({ databaseUrl: url, dbPoolSize: 1 });
    expect((await db.schemaStatus()).upToDate).toBe(false);
    expect((await db.migrate()).applied).toBeGreaterThan(0);
    expect((await db.schemaStatus()).upToDate).toBe(true);
    const created = await db.repo.users.create({ email: "a@example.com", passwordHash: "h" });
    expect(created.ok).toBe(true);
    await db.close();

    const again = await openDatabase({ databaseUrl: url, dbPoolSize: 1 });
    expect(await again.migrate()).toEqual({ applied: 0 });
    expect(await again.repo.users.findByEmail("a@example.com")).toMatchObject({ email: "a@example.com" });
    await again.close();
  });
});

describe.skipIf(!pg)("PostgreSQL migrations", () => {
  test("fresh database: migrated once, re-run is a no-op", async () => {
    const scratch = await createScratchDatabase("migrate_fresh");
    try {
      const db = await openDatabase({ databaseUrl: scratch.url, dbPoolSize: 2 });
      expect((await db.schemaStatus()).upToDate).toBe(false);
      expect((await db.migrate()).applied).toBe((await journalTimestamps("postgres")).length);
      expect(await db.migrate()).toEqual({ applied: 0 });
      expect((await db.schemaStatus()).upToDate).toBe(true);
      await db.close();
    } finally {
      await scratch.drop();
    }
  });

  test("two concurrent migrators: the advisory lock serialises them and the schema is applied once", async () => {
    const scratch = await createScratchDatabase("migrate_lock");
    const observer = postgres(scratch.url, { max: 2, onnotice: () => {} });
    try {
      // Hold the migration lock from outside first, so both migrators provably queue behind it.
      const holder = await observer.reserve();
      await holder`select pg_advisory_lock(${0x666c6463})`;
      const a = await openDatabase({ databaseUrl: scratch.url, dbPoolSize: 2 });
      const b = await openDatabase({ databaseUrl: scratch.url, dbPoolSize: 2 });
      const both = Promise.all([a.migrate(), b.migrate()]);
      await Bun.sleep(300);
      const [waiting] =
        await observer`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`;
      expect(waiting?.n).toBe(2);
      await holder`select pg_advisory_unlock(${0x666c6463})`;
      holder.release();
      const results = await both;
      expect(results.map((r) => r.applied).sort()).toEqual([0, (await journalTimestamps("postgres")).length]);
      const [rows] = await observer`select count(*)::int as n from drizzle.__drizzle_migrations`;
      expect(rows?.n).toBe((await journalTimestamps("postgres")).length);
      await a.close();
      await b.close();
    } finally {
      await observer.end();
      await scratch.drop();
    }
  }, 20_000);
});
