/**
 * The preconditions of a file write (PUT) or delete (DELETE): If-Match and If-None-Match, RFC 9110 section
 * 13.2.2's order (If-Match first). A failed one is 412 precondition_failed, with the current ETag (or null when
 * there is no file) so a client can re-read and retry without a GET. The routes call this twice: once on the
 * row the request saw, to refuse before the body is streamed, and again under the path's lock on a fresh read,
 * so two writes with the same If-Match cannot both pass (src/routes/files.ts, store). That lock is this
 * machine's: a write for a file on another volume is replayed to its holder when Fly can replay it, so the
 * holder checks; one stored where it landed (too big to replay) is checked against the row as read here.
 * @module
 */
import type { FileRecord } from "../db/repository.ts";
import { HttpError } from "../errors.ts";
import { etagOf, ifMatchPasses, ifNoneMatchPasses } from "../media/conditional.ts";

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
