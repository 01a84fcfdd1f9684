/**
 * Real PostgreSQL for tests: each test file gets its own freshly created database, dropped afterwards, so
 * files run in parallel without interfering. When no server answers and CI is not set, Postgres suites are
 * skipped with one loud line; under CI=true a missing server fails the run.
 * @module
 */
import postgres from "postgres";

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

let available: Promise<boolean> | undefined;

export function postgresAvailable(): Promise<boolean> {
  available ??= (async () => {
    const sql = postgres(TEST_DATABASE_URL, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await sql`select 1`;
      return true;
    } catch (error) {
      if (process.env.CI)
        throw new Error(
          `CI is set but PostgreSQL at ${redactUrl(TEST_DATABASE_URL)} does not answer: ${(error as Error).message}`,
        );
      console.warn(
        `\n!!! PostgreSQL at ${redactUrl(TEST_DATABASE_URL)} does not answer: SKIPPING PostgreSQL tests (set CI=true to make this fatal) !!!\n`,
      );
      return false;
    } finally {
      await sql.end({ timeout: 1 }).catch(() => {});
    }
  })();
  return available;
}

/** Top-level-await friendly: `const pg = await postgresAvailable()` then `describe.skipIf(!pg)`. */
export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createScratchDatabase(label: string): Promise<ScratchDatabase> {
  const name = `fd_${label
    .replace(/[^a-z0-9]/gi, "_")
    .toLowerCase()
    .slice(0, 30)}_${crypto.randomUUID().slice(0, 8)}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const cleanup = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
      await cleanup.unsafe(`drop database if exists "${name}" with (force)`);
      await cleanup.end();
    },
  };
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, "//$1:***@");
}
