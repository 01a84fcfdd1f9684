/**
 * Refresh-token sessions (schema: `sessions`). Rotation is one transaction: a guarded UPDATE (only an unused,
 * unrevoked, unexpired row is taken) and the successor's INSERT commit together, so a failure between them
 * cannot use a token up without answering its successor, and two machines presenting the same token cannot
 * both succeed: PostgreSQL makes the second UPDATE wait for the first's row lock and then re-check the row
 * (READ COMMITTED, https://www.postgresql.org/docs/current/transaction-iso.html#XACT-READ-COMMITTED), so the
 * loser sees a used row, which is reuse (RFC 9700 section 4.14.2) and revokes the whole family, the winner's
 * new token included.
 *
 * Everything that starts or continues a session holds the account row FOR KEY SHARE, and everything that ends
 * all of an account's sessions (logout-all, password change, deletion: ./accounts-repository.ts) holds it FOR
 * UPDATE first. Otherwise a successor inserted while "revoke every session" runs would be missing from that
 * UPDATE's snapshot and survive it; and a login that checked the old password could store its session after the
 * change.
 * @module
 */
import { and, eq, gt, inArray, isNull } from "drizzle-orm";
import type { RunAtomic } from "./atomic.ts";
import type * as pgSchema from "./schema/pg.ts";

export interface SessionRow {
  id: string;
  userId: string;
  familyId: string;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

export type RotateResult =
  | { ok: true; previous: SessionRow; next: SessionRow }
  | { ok: false; reason: "unknown" | "reused" | "revoked" | "expired"; row?: SessionRow };

export interface SessionsRepository {
  create(input: { userId: string; familyId: string; tokenHash: string; expiresAt: Date }): Promise<SessionRow>;
  /** create, only while the account's password hash is still `passwordHash` (the one the login checked). */
  createIfPassword(
    input: { userId: string; familyId: string; tokenHash: string; expiresAt: Date },
    passwordHash: string,
  ): Promise<SessionRow | undefined>;
  /** Takes the row with `tokenHash` and inserts its successor with `nextHash` atomically; on reuse revokes the family. */
  rotate(tokenHash: string, nextHash: string, nextExpiresAt: Date, now: Date): Promise<RotateResult>;
  findByHash(tokenHash: string): Promise<SessionRow | undefined>;
  revokeFamily(familyId: string, now: Date): Promise<number>;
  revokeUser(userId: string, now: Date): Promise<number>;
}

const view = (row: SessionRow): SessionRow => ({
  id: row.id,
  userId: row.userId,
  familyId: row.familyId,
  expiresAt: row.expiresAt,
  usedAt: row.usedAt,
  revokedAt: row.revokedAt,
});

// biome-ignore lint/suspicious/noExplicitAny: the drizzle handle of either dialect, see repository.ts
export function createSessionsRepository(db: any, t: typeof pgSchema, atomic: RunAtomic): SessionsRepository {
  const s = t.sessions;
  const create: SessionsRepository["create"] = async (input) => {
    const [row] = await db
      .insert(s)
      .values({ id: Bun.randomUUIDv7(), ...input, createdAt: new Date() })
      .returning();
    return view(row);
  };
  const findByHash = async (tokenHash: string) => {
    const [row] = await db.select().from(s).where(eq(s.tokenHash, tokenHash)).limit(1);
    return row ? view(row) : undefined;
  };
  // logout: the family's account is held FOR UPDATE too, so a rotation of the same family committing meanwhile
  // cannot leave a successor outside this UPDATE's snapshot.
  const revokeFamily = (familyId: string, now: Date) =>
    atomic(function* (tx, lockRows) {
      yield lockRows(
        tx
          .select({ id: t.users.id })
          .from(t.users)
          .where(inArray(t.users.id, tx.select({ id: s.userId }).from(s).where(eq(s.familyId, familyId)))),
      );
      const revoked = yield tx
        .update(s)
        .set({ revokedAt: now })
        .where(and(eq(s.familyId, familyId), isNull(s.revokedAt)))
        .returning({ id: s.id });
      return revoked.length;
    });
  return {
    create,
    findByHash,
    revokeFamily,
    createIfPassword: (input, passwordHash) =>
      atomic(function* (tx, lockRows): Generator<unknown, SessionRow | undefined, SessionRow[]> {
        const [same] = yield lockRows(
          tx
            .select({ id: t.users.id })
            .from(t.users)
            .where(and(eq(t.users.id, input.userId), eq(t.users.passwordHash, passwordHash))),
          "key share",
        );
        if (!same) return undefined;
        const [row] = yield tx
          .insert(s)
          .values({ id: Bun.randomUUIDv7(), ...input, createdAt: new Date() })
          .returning();
        return view(row as SessionRow);
      }),
    revokeUser: (userId, now) =>
      atomic(function* (tx, lockRows) {
        yield lockRows(tx.select({ id: t.users.id }).from(t.users).where(eq(t.users.id, userId)));
        const revoked = yield tx
          .update(s)
          .set({ revokedAt: now })
          .where(and(eq(s.userId, userId), isNull(s.revokedAt)))
          .returning({ id: s.id });
        return revoked.length;
      }),
    rotate: (tokenHash, nextHash, nextExpiresAt, now) =>
      atomic(function* (tx, lockRows): Generator<unknown, RotateResult, SessionRow[]> {
        const nextId = Bun.randomUUIDv7();
        yield lockRows(
          tx
            .select({ id: t.users.id })
            .from(t.users)
            .where(inArray(t.users.id, tx.select({ id: s.userId }).from(s).where(eq(s.tokenHash, tokenHash)))),
          "key share",
        );
        const [taken] = yield tx
          .update(s)
          .set({ usedAt: now, replacedBy: nextId })
          .where(and(eq(s.tokenHash, tokenHash), isNull(s.usedAt), isNull(s.revokedAt), gt(s.expiresAt, now)))
          .returning();
        if (taken) {
          const [row] = yield tx
            .insert(s)
            .values({
              id: nextId,
              userId: taken.userId,
              familyId: taken.familyId,
              tokenHash: nextHash,
              expiresAt: nextExpiresAt,
              createdAt: now,
            })
            .returning();
          return { ok: true, previous: view(taken), next: view(row as SessionRow) };
        }
        const [row] = yield tx.select().from(s).where(eq(s.tokenHash, tokenHash)).limit(1);
        if (!row) return { ok: false, reason: "unknown" };
        if (row.revokedAt) return { ok: false, reason: "revoked", row: view(row) };
        if (row.usedAt) {
          yield tx
            .update(s)
            .set({ revokedAt: now })
            .where(and(eq(s.familyId, row.familyId), isNull(s.revokedAt)))
            .returning({ id: s.id });
          return { ok: false, reason: "reused", row: view(row) };
        }
        return { ok: false, reason: "expired", row: view(row) };
      }),
  };
}
