/**
 * Durable deletion work. Deleting a file or a project records one row; every volume carries it out on its
 * own disk and leaves a receipt, so a volume whose machine was stopped catches up when it next runs
 * (src/media/deletions.ts). Rows are recorded before the file or project rows go, so a crash in between
 * leaves work that finds its subject still alive and does nothing.
 * @module
 */
import { and, asc, eq, gt, isNull, lt, notExists } from "drizzle-orm";
import type * as pgSchema from "./schema/pg.ts";

export interface Deletion {
  id: string;
  projectId: string;
  path: string | null;
  createdAt: Date;
}

export interface DeletionsRepository {
  /** path null: the whole project. */
  record(projectId: string, path: string | null, at: Date): Promise<Deletion>;
  /** Work this volume has not receipted yet, oldest first, after the id `after` when given. */
  pending(volumeId: string, limit: number, after?: string): Promise<Deletion[]>;
  receipt(deletionId: string, volumeId: string, at: Date): Promise<void>;
  /** Receipts every pending deletion for a volume that holds no files yet (a new volume); returns how many. */
  receiptAll(volumeId: string, at: Date): Promise<number>;
  projectExists(projectId: string): Promise<boolean>;
  /**
   * Forgets deletions older than `before` that every registered volume has receipted, while no file row is
   * still waiting for its machine to register a volume (such a machine's volume may need the history).
   */
  prune(before: Date): Promise<number>;
}

// biome-ignore lint/suspicious/noExplicitAny: the drizzle handle of either dialect, see repository.ts
export function createDeletionsRepository(db: any, t: typeof pgSchema): DeletionsRepository {
  const pending = async (volumeId: string, limit: number, after?: string): Promise<Deletion[]> => {
    const unreceipted = notExists(
      db
        .select({ one: t.deletionReceipts.id })
        .from(t.deletionReceipts)
        .where(and(eq(t.deletionReceipts.deletionId, t.deletions.id), eq(t.deletionReceipts.volumeId, volumeId))),
    );
    return db
      .select()
      .from(t.deletions)
      .where(after ? and(unreceipted, gt(t.deletions.id, after)) : unreceipted)
      .orderBy(asc(t.deletions.id))
      .limit(limit);
  };

  return {
    record: async (projectId, path, at) => {
      const [row] = await db
        .insert(t.deletions)
        .values({ id: Bun.randomUUIDv7(), projectId, path, createdAt: at })
        .returning();
      return row as Deletion;
    },
    pending,
    receipt: async (deletionId, volumeId, at) => {
      await db
        .insert(t.deletionReceipts)
        .values({ id: Bun.randomUUIDv7(), deletionId, volumeId, createdAt: at })
        .onConflictDoNothing({ target: [t.deletionReceipts.deletionId, t.deletionReceipts.volumeId] });
    },
    receiptAll: async (volumeId, at) => {
      let total = 0;
      for (;;) {
        const batch = await pending(volumeId, 500);
        if (batch.length === 0) return total;
        await db
          .insert(t.deletionReceipts)
          .values(batch.map((d) => ({ id: Bun.randomUUIDv7(), deletionId: d.id, volumeId, createdAt: at })))
          .onConflictDoNothing({ target: [t.deletionReceipts.deletionId, t.deletionReceipts.volumeId] });
        total += batch.length;
      }
    },
    prune: async (before) => {
      const unplaced = db.select({ one: t.files.id }).from(t.files).where(isNull(t.files.volumeId));
      const volumeWithout = db
        .select({ one: t.volumes.id })
        .from(t.volumes)
        .where(
          notExists(
            db
              .select({ one: t.deletionReceipts.id })
              .from(t.deletionReceipts)
              .where(
                and(eq(t.deletionReceipts.deletionId, t.deletions.id), eq(t.deletionReceipts.volumeId, t.volumes.id)),
              ),
          ),
        );
      const gone = await db
        .delete(t.deletions)
        .where(and(lt(t.deletions.createdAt, before), notExists(volumeWithout), notExists(unplaced)))
        .returning({ id: t.deletions.id });
      return gone.length;
    },
    projectExists: async (projectId) =>
      (await db.select({ id: t.projects.id }).from(t.projects).where(eq(t.projects.id, projectId)).limit(1)).length > 0,
  };
}
