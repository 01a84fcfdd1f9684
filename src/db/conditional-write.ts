/**
 * A file write that happens only while the row is still what the request's preconditions were checked
 * against (If-Match, If-None-Match: src/routes/file-preconditions.ts). The route checks under this machine's
 * path lock; this closes what that lock cannot: another machine changing the row between that check and this
 * write. Compare-and-set on the content hash, which is the ETag, so "unchanged" means exactly "the ETag the
 * client named still holds". Not prepared: only conditional requests take this path.
 * @module
 */
import { and, eq } from "drizzle-orm";
import type { FileRecord, FileWrite } from "./repository.ts";
import type * as pgSchema from "./schema/pg.ts";

export interface ConditionalWrites {
  /** `seen` undefined: create only. Undefined back: the row changed (or appeared) since it was seen. */
  writeIf(input: FileWrite, seen: FileRecord | undefined): Promise<FileRecord | undefined>;
  /** Deletes the row only while its content is still `sha256`; false when it changed or went. */
  deleteIf(projectId: string, path: string, sha256: string): Promise<boolean>;
}

// biome-ignore lint/suspicious/noExplicitAny: the drizzle handle of either dialect, see repository.ts
export function createConditionalWrites(db: any, t: typeof pgSchema): ConditionalWrites {
  const writeIf: ConditionalWrites["writeIf"] = async (input, seen) => {
    const at = new Date();
    if (seen === undefined) {
      const created = await db
        .insert(t.files)
        .values({ id: Bun.randomUUIDv7(), ...input, createdAt: at, updatedAt: at })
        .onConflictDoNothing()
        .returning();
      return created[0];
    }
    const { size, sha256, contentType, volumeId, machineId } = input;
    const updated = await db
      .update(t.files)
      .set({ size, sha256, contentType, volumeId, machineId, updatedAt: at })
      .where(and(eq(t.files.id, seen.id), eq(t.files.sha256, seen.sha256)))
      .returning();
    return updated[0];
  };
  const deleteIf: ConditionalWrites["deleteIf"] = async (projectId, path, sha256) => {
    const f = t.files;
    const gone = await db
      .delete(f)
      .where(and(eq(f.projectId, projectId), eq(f.path, path), eq(f.sha256, sha256)))
      .returning({ id: f.id });
    return gone.length > 0;
  };
  return { writeIf, deleteIf };
}
