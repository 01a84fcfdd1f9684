/**
 * Production refuses to serve on a schema older than its code. The release command migrates before
 * machines are updated, so "behind" is normally transient; the gate re-checks at most every few seconds while
 * behind and stops checking once the schema has caught up.
 * @module
 */
import type { Database } from "./database.ts";
import type { SchemaStatus } from "./migrations.ts";

export interface SchemaGate {
  status(): Promise<SchemaStatus>;
}

export const openGate: SchemaGate = { status: async () => ({ upToDate: true, pending: 0 }) };

export function createSchemaGate(
  db: Pick<Database, "schemaStatus">,
  recheckMs = 5000,
  now = () => Date.now(),
): SchemaGate {
  let last: SchemaStatus | undefined;
  let checkedAt = 0;
  return {
    async status() {
      if (last?.upToDate) return last;
      if (last && now() - checkedAt < recheckMs) return last;
      checkedAt = now();
      try {
        last = await db.schemaStatus();
      } catch (error) {
        last = { upToDate: false, pending: 0, reason: `schema could not be checked: ${(error as Error).message}` };
      }
      return last;
    },
  };
}
