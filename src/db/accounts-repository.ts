/**
 * The account-wide changes of POST /v1/me/password and DELETE /v1/me, each one transaction (./atomic.ts), so
 * a crash or a lost connection leaves either the account as it was or the change complete. Both first lock the
 * account row and check that the caller's session is still live, so a concurrent logout-all, password change or
 * deletion is seen, and (for deletion) no project can be created under the account while its projects are
 * listed: the project's foreign-key check waits for the lock, then fails on the deleted row.
 * @module
 */
import { and, eq, isNull } from "drizzle-orm";
import type { AtomicTx, LockRows, RunAtomic } from "./atomic.ts";
import type { Deletion } from "./deletions-repository.ts";
import type * as pgSchema from "./schema/pg.ts";
import type { SessionRow } from "./sessions-repository.ts";

/** `account_gone`: no such account any more; `session_revoked`: the caller's session has ended. */
export type AccountRefusal = { ok: false; reason: "account_gone" | "session_revoked" };

export interface NewSession {
  familyId: string;
  tokenHash: string;
  expiresAt: Date;
}

export interface AccountsRepository {
  /**
   * Stores the new password hash, ends every session of the account (the caller's included) and starts
   * `session`, whose id the new access token names.
   */
  changePassword(
    who: { userId: string; sessionId: string },
    passwordHash: string,
    session: NewSession,
    now: Date,
  ): Promise<{ ok: true; session: SessionRow } | AccountRefusal>;
  /**
   * Records deletion work for each project of the account (every volume removes its bytes,
   * src/media/deletions.ts), then deletes the account: sessions, projects and files go with it by cascade.
   * Answers the recorded work so the caller can do this volume's share at once.
   */
  erase(
    who: { userId: string; sessionId: string },
    now: Date,
  ): Promise<{ ok: true; deletions: Deletion[] } | AccountRefusal>;
}

/** Everything here runs inside `atomic`, so it needs no database handle of its own. */
export function createAccountsRepository(t: typeof pgSchema, atomic: RunAtomic): AccountsRepository {
  /** Locks the account row and checks the caller's session; a refusal, or undefined to go on. */
  function* holdAccount(
    tx: AtomicTx,
    lockRows: LockRows,
    who: { userId: string; sessionId: string },
    // biome-ignore lint/suspicious/noExplicitAny: rows of either dialect
  ): Generator<unknown, AccountRefusal | undefined, any[]> {
    const [user] = yield lockRows(tx.select({ id: t.users.id }).from(t.users).where(eq(t.users.id, who.userId)));
    if (!user) return { ok: false, reason: "account_gone" } as const;
    const [session] = yield tx
      .select({ id: t.sessions.id })
      .from(t.sessions)
      .where(and(eq(t.sessions.id, who.sessionId), eq(t.sessions.userId, who.userId), isNull(t.sessions.revokedAt)));
    if (!session) return { ok: false, reason: "session_revoked" } as const;
    return undefined;
  }

  return {
    changePassword: (who, passwordHash, session, now) =>
      atomic(function* (tx, lockRows) {
        const refused = yield* holdAccount(tx, lockRows, who);
        if (refused) return refused;
        yield tx
          .update(t.users)
          .set({ passwordHash, updatedAt: now })
          .where(eq(t.users.id, who.userId))
          .returning({ id: t.users.id });
        yield tx
          .update(t.sessions)
          .set({ revokedAt: now })
          .where(and(eq(t.sessions.userId, who.userId), isNull(t.sessions.revokedAt)))
          .returning({ id: t.sessions.id });
        const [row] = yield tx
          .insert(t.sessions)
          .values({ id: Bun.randomUUIDv7(), userId: who.userId, ...session, createdAt: now })
          .returning();
        return { ok: true, session: row as SessionRow } as const;
      }),

    erase: (who, now) =>
      atomic(function* (tx, lockRows) {
        const refused = yield* holdAccount(tx, lockRows, who);
        if (refused) return refused;
        const projects = yield tx
          .select({ id: t.projects.id })
          .from(t.projects)
          .where(eq(t.projects.ownerId, who.userId));
        // Recorded in the same transaction as the rows' deletion: the bytes are never forgotten, and a rollback
        // leaves no work behind for projects that still exist.
        const deletions: Deletion[] =
          projects.length === 0
            ? []
            : yield tx
                .insert(t.deletions)
                .values(
                  projects.map((p: { id: string }) => ({
                    id: Bun.randomUUIDv7(),
                    projectId: p.id,
                    path: null,
                    createdAt: now,
                  })),
                )
                .returning();
        yield tx.delete(t.users).where(eq(t.users.id, who.userId)).returning({ id: t.users.id });
        return { ok: true, deletions } as const;
      }),
  };
}
