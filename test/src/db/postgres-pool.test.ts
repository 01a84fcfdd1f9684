/** The PostgreSQL pool recycles its connections (src/db/postgres.ts): a real server, real backend pids. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { openPostgres } from "../../../src/db/postgres.ts";
import { createScratchDatabase, postgresAvailable, type ScratchDatabase } from "../../support/postgres.ts";

const pg = await postgresAvailable();

describe.skipIf(!pg)("connection lifetimes", () => {
  let scratch: ScratchDatabase;
  beforeAll(async () => {
    scratch = await createScratchDatabase("pool");
  });
  afterAll(async () => {
    await scratch?.drop();
  });

  /** The backend pid of every connection the pool holds, by asking on all of them at once. */
  async function backendPids(client: SQL, connections: number): Promise<Set<number>> {
    const rows = await Promise.all(
      Array.from({ length: connections }, () => client`select pg_backend_pid() as pid, pg_sleep(0.05)`),
    );
    return new Set(rows.map(([row]) => Number(row.pid)));
  }

  async function driverPids(maxLifetimeS: number, idleTimeoutS: number, sleepMs: number) {
    const driver = await openPostgres(scratch.url, { poolSize: 2, maxLifetimeS, idleTimeoutS });
    // The driver's own client, reached through drizzle, so the pool under test is the one production opens.
    const client = (driver.db as unknown as { $client: SQL }).$client;
    try {
      const before = await backendPids(client, 2);
      // Busy the whole time: the idle timeout cannot be what replaces them.
      const deadline = performance.now() + sleepMs;
      while (performance.now() < deadline) await client`select 1`;
      const after = await backendPids(client, 2);
      return { before, after };
    } finally {
      await driver.close();
    }
  }

  test("a connection older than the max lifetime is replaced by a new backend", async () => {
    const { before, after } = await driverPids(1, 60, 1500);
    expect(before.size).toBeGreaterThan(0);
    expect([...after].filter((pid) => before.has(pid))).toEqual([]);
  });

  test("within the max lifetime the same backends keep serving (the check above can fail)", async () => {
    const { before, after } = await driverPids(600, 60, 1500);
    expect([...after].filter((pid) => before.has(pid)).length).toBeGreaterThan(0);
  });

  test("an idle connection is closed after the idle timeout", async () => {
    const driver = await openPostgres(scratch.url, { poolSize: 2, maxLifetimeS: 600, idleTimeoutS: 1 });
    const client = (driver.db as unknown as { $client: SQL }).$client;
    const observer = new SQL(scratch.url, { max: 1 });
    try {
      const [{ pid }] = await client`select pg_backend_pid() as pid`;
      const alive = async () =>
        (await observer`select count(*)::int as n from pg_stat_activity where pid = ${pid}`)[0].n === 1;
      expect(await alive()).toBe(true);
      await Bun.sleep(2500);
      expect(await alive()).toBe(false);
    } finally {
      await observer.close();
      await driver.close();
    }
  });
});
