/**
 * dependencyFault() on errors real PostgreSQL and Bun.sql raise (no hand-made error objects where a real one
 * can be had): refused connections, an administrator's termination (57P01, as a restart), a write in a
 * read-only transaction (25006, as after a failover), each also wrapped as drizzle wraps it.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { databaseCause, dependencyFault } from "../../../src/faults/classify.ts";
import { postgresAvailable, TEST_DATABASE_URL } from "../../support/postgres.ts";

const pg = await postgresAvailable();

async function caught(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

/** As drizzle-orm's DrizzleQueryError wraps a driver error. */
const wrapped = (error: unknown) => new Error("Failed query: select 1\nparams: ", { cause: error });

describe("dependencyFault", () => {
  test("a refused connection is database_unavailable", async () => {
    // Port 9 (discard) on loopback: nothing listens there in the test machine.
    const client = new SQL("postgres://postgres:secret@127.0.0.1:9/none", { max: 1, connectionTimeout: 2 });
    const error = await caught(() => client`select 1`);
    expect(dependencyFault(error)).toMatchObject({ status: 503, code: "database_unavailable" });
    expect(dependencyFault(wrapped(error))?.cause).toMatch(/^ERR_POSTGRES_CONNECTION_/);
  });

  describe.skipIf(!pg)("on a real server", () => {
    const client = new SQL(TEST_DATABASE_URL, { max: 2 });
    afterAll(() => client.close());

    test("57P01 (terminated by an administrator, as in a restart)", async () => {
      const error = await caught(() => client`select pg_terminate_backend(pg_backend_pid())`);
      expect(dependencyFault(wrapped(error))).toMatchObject({ kind: "database", cause: "57P01" });
    });

    test("25006 (a write in a read-only transaction, as after a failover)", async () => {
      const error = await caught(() =>
        client.begin(async (tx) => {
          await tx`set transaction read only`;
          await tx`create temp table never_made (a int)`;
        }),
      );
      expect(dependencyFault(wrapped(error))).toMatchObject({ kind: "database", cause: "25006" });
      expect(databaseCause(wrapped(error))).toEqual({
        message: "cannot execute CREATE TABLE in a read-only transaction",
        code: "25006",
      });
    });

    test("a bug in a query (undefined column) is not a dependency fault", async () => {
      const error = await caught(() => client`select no_such_column from pg_class`);
      expect(dependencyFault(wrapped(error))).toBeUndefined();
      expect(databaseCause(wrapped(error))?.code).toBe("42703");
    });
  });

  test("ENOSPC and EDQUOT are insufficient_storage; other fs errors are not faults", () => {
    for (const code of ["ENOSPC", "EDQUOT"]) {
      const error = Object.assign(new Error(`${code}: write`), { code });
      expect(dependencyFault(error)).toMatchObject({ status: 507, code: "insufficient_storage", cause: code });
    }
    expect(dependencyFault(Object.assign(new Error("EACCES"), { code: "EACCES" }))).toBeUndefined();
    expect(dependencyFault(new TypeError("undefined is not a function"))).toBeUndefined();
  });
});
