/**
 * Where each dialect's migrations live and whether a database is up to date with them. drizzle's migrators
 * record each applied migration's folder timestamp (`when` in meta/_journal.json) in __drizzle_migrations,
 * so "behind" means the newest recorded timestamp is older than the newest journal entry.
 * @module
 */
import type { Dialect } from "../../lib/config.ts";

export const MIGRATIONS_FOLDER: Record<Dialect, string> = {
  postgres: new URL("../../drizzle/pg", import.meta.url).pathname,
  sqlite: new URL("../../drizzle/sqlite", import.meta.url).pathname,
};

export interface SchemaStatus {
  upToDate: boolean;
  /** Migrations in the journal that the database has not recorded. */
  pending: number;
  reason?: string;
}

interface Journal {
  entries: { when: number; tag: string }[];
}

export async function journalTimestamps(dialect: Dialect): Promise<number[]> {
  const journal = (await Bun.file(`${MIGRATIONS_FOLDER[dialect]}/meta/_journal.json`).json()) as Journal;
  return journal.entries.map((e) => e.when);
}

export function compareSchema(journal: number[], lastApplied: number | undefined): SchemaStatus {
  const pending = journal.filter((when) => lastApplied === undefined || when > lastApplied).length;
  if (pending === 0) return { upToDate: true, pending: 0 };
  return {
    upToDate: false,
    pending,
    reason: `database schema is behind: ${pending} migration(s) not applied; run \`bun run migrate\` (the release command)`,
  };
}
