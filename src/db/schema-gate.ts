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
  /**
   * The last verdict, synchronously (undefined before the first check): the schema guard answers from it, so
   * the API and /health, which awaits status(), never disagree.
   */
  current?(): SchemaStatus | undefined;
}

const UP_TO_DATE: SchemaStatus = { upToDate: true, pending: 0 };
export const openGate: SchemaGate = { status: async () => UP_TO_DATE, current: () => UP_TO_DATE };

export function createSchemaGate(
  db: Pick<Database, "schemaStatus">,
  recheckMs = 5000,
  now = () => Date.now(),
): SchemaGate {
  let last: SchemaStatus | undefined;
  let checkedAt = 0;
  return {
    current: () => last,
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
