/**
 * The data half of migration 0003: every file row's path in Unicode NFC, the form the routes now normalise
 * each path to (src/media/paths.ts). Run by Database.migrate() after the SQL migrations, on every run: it is
 * idempotent, and only rows with a non-ASCII path are read (ASCII is always NFC), so once done a run costs one
 * scan of the files table in the database and reads no rows.
 *
 * Collisions lose nothing. A row is renamed only when its NFC name is free: when a project has both "café"
 * (NFC) and "cafe\u0301" (NFD), the NFC row keeps the name and the other is left as it is, listed under its
 * old name and reported (the release command logs project and file ids) for someone to resolve; when only
 * non-NFC variants exist, the most recently updated takes the name and the rest are left and reported.
 * A rename is recorded in file_renames first, then the row is updated; the volume holding the file moves its
 * bytes to the new name (src/media/renames.ts). A crash in between leaves a record whose row was not renamed,
 * which the volume skips (its row still has the old name) and the next run renames.
 * @module
 */
import { and, eq, sql } from "drizzle-orm";
import type { Logger } from "../../lib/log.ts";
import type * as pgSchema from "./schema/pg.ts";

export interface NameReport {
  renamed: number;
  /** Rows left under their old name because their NFC name is taken. */
  collisions: { projectId: string; fileId: string }[];
}

interface Row {
  id: string;
  projectId: string;
  path: string;
  updatedAt: Date;
}

export async function normalizeFilePaths(
  // biome-ignore lint/suspicious/noExplicitAny: the drizzle handle of either dialect, see repository.ts
  db: any,
  t: typeof pgSchema,
  isUniqueViolation: (error: unknown) => boolean,
  now: () => Date = () => new Date(),
): Promise<NameReport> {
  const f = t.files;
  // length counts characters, octet_length bytes (SQLite 3.43+, PostgreSQL): they differ only for non-ASCII.
  const rows: Row[] = await db
    .select({ id: f.id, projectId: f.projectId, path: f.path, updatedAt: f.updatedAt })
    .from(f)
    .where(sql`length(${f.path}) <> octet_length(${f.path})`);
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const key = `${row.projectId}\u0000${row.path.normalize("NFC")}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }

  const report: NameReport = { renamed: 0, collisions: [] };
  for (const group of groups.values()) {
    const target = (group[0] as Row).path.normalize("NFC");
    const variants = group.filter((r) => r.path !== target).sort((a, b) => +b.updatedAt - +a.updatedAt);
    if (variants.length === 0) continue;
    const taken = group.some((r) => r.path === target);
    const newest = taken ? undefined : variants[0];
    for (const row of taken ? variants : variants.slice(1))
      report.collisions.push({ projectId: row.projectId, fileId: row.id });
    if (!newest) continue;
    if (await rename(newest, target)) report.renamed++;
    else report.collisions.push({ projectId: newest.projectId, fileId: newest.id });
  }
  return report;

  /** False when the name was taken meanwhile (an upload by a machine still on the old code). */
  async function rename(row: Row, target: string): Promise<boolean> {
    await db
      .insert(t.fileRenames)
      .values({ id: row.id, projectId: row.projectId, fromPath: row.path, toPath: target, createdAt: now() })
      .onConflictDoNothing();
    try {
      await db
        .update(f)
        .set({ path: target })
        .where(and(eq(f.id, row.id), eq(f.path, row.path)));
      return true;
    } catch (error) {
      if (!isUniqueViolation(error) && !isUniqueViolation((error as { cause?: unknown })?.cause)) throw error;
      await db.delete(t.fileRenames).where(eq(t.fileRenames.id, row.id));
      return false;
    }
  }
}

/** Ids only: a path is the user's data, and the ids are enough to find the rows. */
export function logNameReport(logger: Pick<Logger, "info" | "warn">, report: NameReport): void {
  if (report.renamed > 0) logger.info("file paths put in NFC", { renamed: report.renamed });
  if (report.collisions.length > 0) {
    logger.warn("file paths left as they are: another file already has their NFC name", {
      count: report.collisions.length,
      files: report.collisions.slice(0, 50).map((c) => ({ project_id: c.projectId, file_id: c.fileId })),
    });
  }
}
