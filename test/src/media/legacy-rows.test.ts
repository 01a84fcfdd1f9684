/**
 * Rows written before volumes were recorded: the migration keeps them (volume_id null, machine_id as written),
 * and the machine they name claims them for the volume it holds when it first boots with volumes.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { drizzle } from "drizzle-orm/bun-sql";
import { migrate } from "drizzle-orm/bun-sql/migrator";
import { silentLogger } from "../../../lib/log.ts";
import { openDatabase } from "../../../src/db/database.ts";
import { MIGRATIONS_FOLDER } from "../../../src/db/migrations.ts";
import { Volume } from "../../../src/media/volume.ts";
import { createScratchDatabase, postgresAvailable } from "../../support/postgres.ts";

const pg = await postgresAvailable();
const scratchDir = mkdtempSync(join(tmpdir(), "flightdeck-legacy-"));
afterAll(() => rmSync(scratchDir, { recursive: true, force: true }));

describe.skipIf(!pg)("rows from before volumes (PostgreSQL)", () => {
  test("survive the migration and are claimed by the volume their machine holds at its first boot", async () => {
    const scratch = await createScratchDatabase("legacy");
    const client = new SQL(scratch.url, { max: 1 });
    try {
      // The schema as the previous release left it: the first migration only.
      const before = join(scratchDir, "pg-before");
      mkdirSync(join(before, "meta"), { recursive: true });
      const journal = await Bun.file(join(MIGRATIONS_FOLDER.postgres, "meta/_journal.json")).json();
      const first = journal.entries[0];
      cpSync(join(MIGRATIONS_FOLDER.postgres, `${first.tag}.sql`), join(before, `${first.tag}.sql`));
      writeFileSync(join(before, "meta/_journal.json"), JSON.stringify({ ...journal, entries: [first] }));
      await migrate(drizzle({ client }), { migrationsFolder: before });
      const at = new Date();
      await client`insert into users (id, email, password_hash, created_at, updated_at) values ('u1', 'old@example.com', 'x', ${at}, ${at})`;
      await client`insert into projects (id, owner_id, name, created_at, updated_at) values ('p1', 'u1', 'old', ${at}, ${at})`;
      for (const [id, path, machine] of [
        ["f1", "a.txt", "m-old-a"],
        ["f2", "b.txt", "m-old-b"],
      ]) {
        await client`insert into files (id, project_id, path, size, sha256, content_type, machine_id, created_at, updated_at)
          values (${id}, 'p1', ${path}, 1, ${"0".repeat(64)}, 'text/plain', ${machine}, ${at}, ${at})`;
      }

      const db = await openDatabase({ databaseUrl: scratch.url, dbPoolSize: 2 });
      try {
        expect(await db.migrate()).toEqual({ applied: journal.entries.length - 1 });
        expect((await db.repo.files.get("p1", "a.txt"))?.volumeId).toBeNull();

        const volume = new Volume({
          mediaDir: join(scratchDir, "vol-a"),
          flyMachineId: "m-old-a",
          region: "ewr",
          repo: db.repo,
          heartbeatMs: 1000,
          clock: Date.now,
          logger: silentLogger,
        });
        const identity = await volume.identity();
        expect(await db.repo.files.get("p1", "a.txt")).toMatchObject({ volumeId: identity.id, machineId: "m-old-a" });
        // Another machine's rows wait for that machine.
        expect((await db.repo.files.get("p1", "b.txt"))?.volumeId).toBeNull();
        expect(await db.repo.volumes.get(identity.id)).toMatchObject({
          machineId: "m-old-a",
          region: "ewr",
          stoppedAt: null,
        });
      } finally {
        await db.close();
      }
    } finally {
      await client.close();
      await scratch.drop();
    }
  });
});
