/**
 * A stopping machine keeps serving its volume until the drain is over, and only then marks the volume
 * stopped (src/server.ts): marking it first would make other machines answer 503 for files this one still
 * serves. A real server process on PostgreSQL, signalled as Fly stops a machine.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Database, openDatabase } from "../../../src/db/database.ts";
import { migratedScratchDatabase, startInstance } from "../../support/fleet.ts";
import { Http1Connection } from "../../support/http1-connection.ts";
import { postgresAvailable } from "../../support/postgres.ts";
import { killLeftoverServers } from "../../support/server-process.ts";

const pg = await postgresAvailable();
const root = mkdtempSync(join(tmpdir(), "flightdeck-shutdown-order-"));
afterAll(() => {
  killLeftoverServers();
  rmSync(root, { recursive: true, force: true });
});

async function onlyVolume(db: Database) {
  const rows = await db.repo.volumes.all();
  expect(rows).toHaveLength(1);
  return rows[0] as NonNullable<(typeof rows)[0]>;
}

describe.skipIf(!pg)("SIGTERM on a machine with a volume", () => {
  test("requests during the drain are answered while the volume is still recorded running; it is marked stopped after, before exit", async () => {
    const scratch = await migratedScratchDatabase("shutdown_order");
    const db = await openDatabase({ databaseUrl: scratch.url, dbPoolSize: 1 });
    try {
      const instance = await startInstance({
        machineId: "m-order",
        mediaDir: join(root, "vol"),
        databaseUrl: scratch.url,
      });
      expect((await onlyVolume(db)).stoppedAt).toBeNull();
      const connection = await Http1Connection.open(Number(new URL(instance.url).port));
      if (connection === "refused") throw new Error("server refused the connection");
      expect(await connection.send("/health/live")).toMatchObject({ kind: "response", status: 200, closing: false });

      instance.process.kill("SIGTERM");
      await Bun.sleep(50);
      // The drain holds this response until the listener closes (src/drain.ts), so it is in flight meanwhile.
      const inFlight = connection.send("/health");
      await Bun.sleep(50);
      const duringDrain = await onlyVolume(db);
      const answered = await inFlight;
      expect(await instance.process.exited).toBe(0);
      const afterExit = await onlyVolume(db);

      expect(duringDrain.stoppedAt).toBeNull();
      expect(answered).toMatchObject({ kind: "response", status: 200, closing: true });
      expect(afterExit).toMatchObject({ machineId: "m-order", stoppedAt: expect.any(Date) });
      const messages = instance.logs.map((r) => r.msg);
      expect(messages.indexOf("volume marked stopped")).toBeGreaterThan(messages.indexOf("shutting down"));
      expect(messages.indexOf("stopped")).toBeGreaterThan(messages.indexOf("volume marked stopped"));
    } finally {
      await db.close();
      await scratch.drop();
    }
  }, 30_000);
});
