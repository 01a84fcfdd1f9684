/**
 * One transaction body for both dialects. drizzle's PostgreSQL transactions are asynchronous, but its bun:sqlite
 * ones are synchronous: the callback's return value is committed at once, so an `async` body would commit at its
 * first `await` and run the rest outside the transaction, interleaved with other requests on the one connection.
 * A body is therefore written as a generator that yields drizzle queries and receives their rows; each driver
 * module runs it its own way (`await` inside `db.transaction` for PostgreSQL, `.all()` inside an IMMEDIATE
 * transaction for SQLite), and the repositories above stay dialect-free.
 * @module
 */

/**
 * Row locks: PostgreSQL needs `SELECT ... FOR UPDATE` (or `FOR KEY SHARE`) to hold a row against concurrent
 * writers under READ COMMITTED (https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-ROWS);
 * FOR UPDATE conflicts with every other row lock, FOR KEY SHARE only with FOR UPDATE, so many refreshes of one
 * account run side by side while a password change or a deletion waits for them (and they for it). An IMMEDIATE
 * SQLite transaction already holds the whole database's write lock, so there it changes nothing.
 */
export type LockRows = <Q>(query: Q, strength?: "update" | "key share") => Q;

/** A drizzle transaction of either dialect, typed loosely for the reason given in repository.ts. */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type AtomicTx = any;

/** Yields drizzle queries (select, or insert/update/delete with `.returning()`); each yield answers the rows. */
// biome-ignore lint/suspicious/noExplicitAny: rows of either dialect
export type AtomicBody<T> = (tx: AtomicTx, lockRows: LockRows) => Generator<unknown, T, any[]>;

/** Runs a body in one transaction: every query commits together, or none does (a throw rolls back). */
export type RunAtomic = <T>(body: AtomicBody<T>) => Promise<T>;

function driveSync<T>(steps: Generator<unknown, T, unknown[]>, run: (query: unknown) => unknown[]): T {
  let step = steps.next();
  while (!step.done) step = steps.next(run(step.value));
  return step.value;
}

async function driveAsync<T>(steps: Generator<unknown, T, unknown[]>): Promise<T> {
  let step = steps.next();
  while (!step.done) step = steps.next((await step.value) as unknown[]);
  return step.value;
}

const noLock: LockRows = (query) => query;

/**
 * bun:sqlite: BEGIN IMMEDIATE takes the write lock up front, so two bodies cannot both read then write
 * (https://www.sqlite.org/lang_transaction.html); the body runs synchronously, nothing else can interleave.
 */
// biome-ignore lint/suspicious/noExplicitAny: drizzle's bun-sqlite database
export function sqliteAtomic(db: any): RunAtomic {
  return async (body) =>
    db.transaction((tx: unknown) => driveSync(body(tx, noLock), (query) => (query as { all(): unknown[] }).all()), {
      behavior: "immediate",
    });
}

/** Bun.sql through drizzle: BEGIN on one reserved connection, COMMIT when the body returns, ROLLBACK on a throw. */
// biome-ignore lint/suspicious/noExplicitAny: drizzle's bun-sql database
export function postgresAtomic(db: any): RunAtomic {
  const forUpdate: LockRows = (query, strength = "update") =>
    (query as { for(strength: "update" | "key share"): typeof query }).for(strength);
  return (body) => db.transaction((tx: unknown) => driveAsync(body(tx, forUpdate)));
}
