/**
 * The renames migration 0003 left for the volumes (src/db/nfc-paths.ts): which ones this volume holds, and
 * forgetting one once its bytes carry the new name (src/media/renames.ts).
 * @module
 */
import { and, eq } from "drizzle-orm";
import type * as pgSchema from "./schema/pg.ts";

export interface FileRename {
  id: string;
  projectId: string;
  fromPath: string;
  toPath: string;
  /** The file's current content hash: tells which bytes are the file's when both names exist. */
  sha256: string;
}

export interface RenamesRepository {
  /** Renames of files this volume holds whose row already has the new name. */
  pendingOn(volumeId: string): Promise<FileRename[]>;
  done(id: string): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: the drizzle handle of either dialect, see repository.ts
export function createRenamesRepository(db: any, t: typeof pgSchema): RenamesRepository {
  const r = t.fileRenames;
  return {
    pendingOn: (volumeId) =>
      db
        .select({ id: r.id, projectId: r.projectId, fromPath: r.fromPath, toPath: r.toPath, sha256: t.files.sha256 })
        .from(r)
        .innerJoin(t.files, and(eq(t.files.id, r.id), eq(t.files.path, r.toPath)))
        .where(eq(t.files.volumeId, volumeId)),
    done: async (id) => {
      await db.delete(r).where(eq(r.id, id));
    },
  };
}
