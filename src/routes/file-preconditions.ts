/**
 * The preconditions of a file write (PUT) or delete (DELETE): If-Match and If-None-Match, RFC 9110 section
 * 13.2.2's order (If-Match first). A failed one is 412 precondition_failed, with the current ETag (or null when
 * there is no file) so a client can re-read and retry without a GET. The routes call this twice: once on the
 * row the request saw, to refuse before the body is streamed, and again under the path's lock on a fresh read,
 * so two writes with the same If-Match cannot both pass (src/routes/files.ts, store). That lock is this
 * machine's, so the row is then written only while it is still the one checked (a compare-and-set on its
 * ETag, src/db/conditional-write.ts): another machine's write in between makes this one 412, not a lost update.
 * @module
 */
import type { FileRecord, FileWrite, Repository } from "../db/repository.ts";
import { HttpError } from "../errors.ts";
import { etagOf, ifMatchPasses, ifNoneMatchPasses } from "../media/conditional.ts";
import type { MediaStore } from "../media/store.ts";

export interface PreconditionHeaders {
  "if-match"?: string;
  "if-none-match"?: string;
}

/** Whether the request carries a precondition this module checks (a PUT/DELETE without one needs no fresh read). */
export const hasPreconditions = (headers: PreconditionHeaders) =>
  headers["if-match"] !== undefined || headers["if-none-match"] !== undefined;

/** Throws 412 when a precondition fails against `current`; `forWrite` is false for DELETE (If-None-Match is a PUT's). */
export function checkPreconditions(
  headers: PreconditionHeaders,
  current: Pick<FileRecord, "sha256"> | undefined,
  forWrite: boolean,
): void {
  const etag = current === undefined ? undefined : etagOf(current.sha256);
  if (!ifMatchPasses(headers["if-match"], etag)) {
    throw failed(
      current === undefined
        ? "If-Match was sent but there is no file at this path"
        : "If-Match does not match the file's current ETag",
      etag,
    );
  }
  if (forWrite && !ifNoneMatchPasses(headers["if-none-match"], etag)) {
    throw failed(
      headers["if-none-match"]?.trim() === "*"
        ? "If-None-Match: * allows only creating the file, and a file exists at this path"
        : "If-None-Match matches the file's current ETag",
      etag,
    );
  }
}

function failed(message: string, etag: string | undefined): HttpError {
  return new HttpError(412, "precondition_failed", message, { etag: etag ?? null }, etag ? { etag } : undefined);
}

/**
 * The row half of a conditional write whose bytes are committed: written only while it is still `seen`.
 * Moving the file to this volume records deletion work for the other copy first, as an unconditional write
 * does; if the row changed meanwhile that work finds the other copy alive and leaves it (src/media/deletions.ts),
 * and these bytes, which no row names, go.
 */
export async function writeChecked(
  deps: { repo: Pick<Repository, "files" | "deletions">; media: MediaStore; now: () => Date },
  write: FileWrite,
  seen: FileRecord | undefined,
): Promise<{ file: FileRecord; existed: boolean }> {
  const { repo, media, now } = deps;
  const moving = seen !== undefined && seen.volumeId !== write.volumeId;
  const deletion = moving ? await repo.deletions.record(write.projectId, write.path, now()) : undefined;
  const file = await repo.files.writeIf(write, seen);
  if (!file) {
    await media.remove(write.projectId, write.path);
    throw await changedMeanwhile(repo, write.projectId, write.path);
  }
  if (deletion) await repo.deletions.receipt(deletion.id, write.volumeId, now());
  return { file, existed: seen !== undefined };
}

/** 412 for a row another machine changed between this machine's check and its write; nothing was done. */
export async function changedMeanwhile(repo: Pick<Repository, "files">, projectId: string, path: string) {
  const current = await repo.files.get(projectId, path);
  return failed(
    "the file changed while this request was being carried out; nothing was written or deleted",
    current === undefined ? undefined : etagOf(current.sha256),
  );
}
