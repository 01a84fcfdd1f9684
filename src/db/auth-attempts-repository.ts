/**
 * The login/registration limit's counters, in the database every machine shares, so a client spreading its
 * attempts over machines gets one allowance, not one per machine. One atomic statement per attempt: insert,
 * or on conflict either count the attempt in the open window or start a new one (PostgreSQL takes the row
 * lock; SQLite has one writer). Both dialects evaluate SET expressions against the existing row.
 * @module
 */
import { lt, sql } from "drizzle-orm";
import type * as pgSchema from "./schema/pg.ts";

export interface AttemptWindow {
  count: number;
  windowStart: number;
}

export interface AuthAttemptsRepository {
  /** Counts one attempt for `clientKey` at `now` (ms) in a window of `windowMs` that opens at its first attempt. */
  hit(clientKey: string, now: number, windowMs: number): Promise<AttemptWindow>;
  /** Deletes windows that closed before `before` (ms); returns how many. */
  prune(before: number): Promise<number>;
}

// biome-ignore lint/suspicious/noExplicitAny: the drizzle handle of either dialect, see repository.ts
export function createAuthAttemptsRepository(db: any, t: typeof pgSchema): AuthAttemptsRepository {
  const a = t.authAttempts;
  return {
    hit: async (clientKey, now, windowMs) => {
      const expired = sql`${a.windowStart} <= ${now - windowMs}`;
      const [row] = await db
        .insert(a)
        .values({ clientKey, windowStart: now, count: 1 })
        .onConflictDoUpdate({
          target: a.clientKey,
          set: {
            count: sql`case when ${expired} then 1 else ${a.count} + 1 end`,
            windowStart: sql`case when ${expired} then ${now} else ${a.windowStart} end`,
          },
        })
        .returning({ count: a.count, windowStart: a.windowStart });
      return { count: Number(row.count), windowStart: Number(row.windowStart) };
    },
    prune: async (before) =>
      (await db.delete(a).where(lt(a.windowStart, before)).returning({ key: a.clientKey })).length,
  };
}
