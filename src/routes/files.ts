/**
 * Media files of a project, stored on this machine's volume:
 * PUT/GET/HEAD/DELETE /v1/projects/:id/files/<path> and GET /v1/projects/:id/files (paginated list).
 *
 * Each file lives on one volume, named in its row. A request for a file on another volume is replayed to the
 * machine that holds that volume now (src/media/replay.ts, src/media/placement.ts); when no running machine
 * holds it the answer is 503 with Retry-After. Writes keep one copy: an upload to a path held elsewhere is
 * replayed there, or, when it cannot be (holder not running, body over Fly's replay limit, already replayed),
 * stored here with deletion work recorded first for the other copy. Deletes record deletion work every volume
 * carries out (src/media/deletions.ts).
 * @module
 */
import { Elysia, t } from "elysia";
import type { Config } from "../../lib/config.ts";
import type { Logger } from "../../lib/log.ts";
import type { AuthService } from "../auth/service.ts";
import type { FileRecord, FileWrite, Repository } from "../db/repository.ts";
import type { VolumeRecord } from "../db/volumes-repository.ts";
import { badRequest, HttpError, invalidField, notFound } from "../errors.ts";
import { etagOf, ifRangeHolds, noneMatch, parseRange } from "../media/conditional.ts";
import { checkFilePath, parseFilePath } from "../media/paths.ts";
import { MAX_REPLAY_BODY_BYTES, replayResponse } from "../media/replay.ts";
import type { MediaStore } from "../media/store.ts";
import { type Volume, volumeUnavailable } from "../media/volume.ts";
import { payloadTooLarge } from "../plugins/json-body.ts";
import {
  changedMeanwhile,
  checkPreconditions,
  hasPreconditions,
  type PreconditionHeaders,
  writeChecked,
} from "./file-preconditions.ts";
import { ownedFile, ownedProject } from "./projects.ts";
import { BearerAuth, errors, PageQuery } from "./schemas.ts";

const FileView = t.Object({
  path: t.String(),
  size: t.Integer(),
  sha256: t.String(),
  content_type: t.String(),
  volume_id: t.Union([t.String(), t.Null()], {
    description:
      "the volume holding the content (null: written before volumes were recorded, until its machine starts)",
  }),
  machine_id: t.Union([t.String(), t.Null()], {
    description: "the machine that holds that volume now (null: none has registered it)",
  }),
  created_at: t.String({ format: "date-time" }),
  updated_at: t.String({ format: "date-time" }),
});
const FilePage = t.Object({ items: t.Array(FileView), next_cursor: t.Union([t.String(), t.Null()]) });
const FileParams = t.Object({
  id: t.String({ description: "project id" }),
  "*": t.String({ description: "file path, / separated" }),
});

// RFC 9110 media type: type "/" subtype *( ";" parameter ), tokens only; anything else is refused, not guessed.
const TOKEN = "[A-Za-z0-9!#$%&'*+.^_`|~-]+";
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(\\s*;\\s*${TOKEN}=(${TOKEN}|"[^"\\\\\\x00-\\x1f]*"))*$`);
const DEFAULT_CONTENT_TYPE = "application/octet-stream";
const FULL = { kind: "full" } as const;
/** Uploaded content is served from the API's origin: it must never run as a page there. */
const FILE_CSP = "default-src 'none'; sandbox";

export function fileView(f: FileRecord, holder: Pick<VolumeRecord, "machineId"> | undefined) {
  return {
    path: f.path,
    size: f.size,
    sha256: f.sha256,
    content_type: f.contentType,
    volume_id: f.volumeId,
    machine_id: holder?.machineId ?? null,
    created_at: f.createdAt.toISOString(),
    updated_at: f.updatedAt.toISOString(),
  };
}

export interface FileRouteDeps {
  config: Pick<Config, "maxUploadBytes">;
  repo: Repository;
  auth: AuthService;
  media: MediaStore;
  volume: Volume;
  logger: Logger;
}

export function fileRoutes({ config, repo, auth, media, volume, logger }: FileRouteDeps) {
  const now = () => new Date();

  const checkedPath = (raw: string) => {
    const checked = parseFilePath(raw);
    if (!checked.ok) throw badRequest(checked.code, checked.message);
    return checked.path;
  };
  /** GET, HEAD and DELETE start alike: who asks, which file, and which machine's volume holds it. */
  const locateFile = async (authorization: string | undefined, params: { id: string; "*": string }) => {
    const who = auth.subject(authorization);
    const path = checkedPath(params["*"]);
    const { project, file } = await ownedFile(repo, who, params.id, path);
    if (!file) throw notFound("file");
    return { project, path, file };
  };

  /**
   * Commits received bytes under the path's lock, then the row. The row is taken only while it is absent or on
   * this volume (one guarded upsert decides that atomically); otherwise another volume holds the old bytes, so
   * deletion work for them is recorded first (receipted here at once: the live copy is ours) and the row then
   * moves to this volume. `existedBefore` is what the request saw when it began; a row another upload created
   * meanwhile shows in the upsert's answer (created earlier than it was updated). Preconditions are checked
   * again inside the lock on a fresh read, before the bytes replace anything: of two writes with the same
   * If-Match, the second sees the first's ETag and gets 412.
   */
  const store = async (
    projectId: string,
    path: string,
    tempPath: string,
    write: FileWrite,
    existedBefore: boolean,
    conditions: PreconditionHeaders,
  ) =>
    media.exclusive(`${projectId}/${path}`, async () => {
      const checked = hasPreconditions(conditions);
      const seen = checked ? await repo.files.get(projectId, path) : undefined;
      if (checked) {
        try {
          checkPreconditions(conditions, seen, true);
        } catch (error) {
          await media.discard(tempPath);
          throw error;
        }
      }
      await media.commit(tempPath, projectId, path);
      try {
        if (checked) return await writeChecked({ repo, media, now }, write, seen);
        let file = await repo.files.upsertOnVolume(write);
        if (file) return { file, existed: existedBefore || file.createdAt.getTime() !== file.updatedAt.getTime() };
        const holder = await repo.files.get(projectId, path);
        const deletion = await repo.deletions.record(projectId, path, now());
        file = await repo.files.upsert(write);
        await repo.deletions.receipt(deletion.id, write.volumeId, now());
        logger.info("file moved to this volume; the other copy is queued for deletion", {
          project_id: projectId,
          from_volume: holder?.volumeId ?? null,
        });
        return { file, existed: true };
      } catch (error) {
        // The project was deleted while the body streamed in: its rows are gone, so the bytes must go too.
        if (!(await repo.deletions.projectExists(projectId))) {
          await media.remove(projectId, path);
          throw notFound("project");
        }
        throw error;
      }
    });

  return new Elysia({ name: "file-routes", prefix: "/v1/projects/:id/files" })
    .get(
      "",
      async ({ headers, params, query }) => {
        const project = await ownedProject(repo, auth.subject(headers.authorization), params.id);
        // The cursor is the last path seen, so it is a path or a mistake. Taken as given, not put in NFC: a row
        // left under a non-NFC name by migration 0003 (src/db/nfc-paths.ts) must page on from exactly itself.
        const cursor = query.cursor === undefined ? undefined : checkFilePath(query.cursor);
        if (cursor && !cursor.ok) throw invalidField("/cursor", `not a next_cursor from this list: ${cursor.message}`);
        const [page, volumes] = await Promise.all([
          repo.files.list(project.id, { limit: query.limit ?? 20, cursor: cursor?.path }),
          repo.volumes.all(),
        ]);
        const holders = new Map(volumes.map((v) => [v.id, v]));
        return {
          items: page.items.map((f) => fileView(f, f.volumeId === null ? undefined : holders.get(f.volumeId))),
          next_cursor: page.nextCursor,
        };
      },
      {
        params: t.Object({ id: t.String() }),
        query: PageQuery,
        response: { 200: FilePage, ...errors(401, 404, 422) },
        detail: {
          summary: "List a project's files by path, with the volume that holds each and its machine",
          tags: ["files"],
          operationId: "listFiles",
          security: BearerAuth,
        },
      },
    )
    .put(
      "/*",
      async ({ headers, params, request, set }) => {
        const who = auth.subject(headers.authorization);
        const path = checkedPath(params["*"]);
        const { project, file: current } = await ownedFile(repo, who, params.id, path);
        // Refused before the body streams in; checked again under the path's lock (store).
        checkPreconditions(headers, current, true);
        const contentType = headers["content-type"]?.trim() || DEFAULT_CONTENT_TYPE;
        if (contentType.length > 255 || !MEDIA_TYPE.test(contentType)) {
          throw badRequest(
            "invalid_content_type",
            "Content-Type must be a media type such as image/png or text/plain; charset=utf-8",
          );
        }
        if (Number(headers["content-length"] ?? 0) > config.maxUploadBytes)
          throw payloadTooLarge(config.maxUploadBytes);

        const mine = await volume.identityOr503();
        if (current && current.volumeId !== mine.id) {
          const placement = await volume.place(current, request);
          // Fly replays only bodies it has buffered whole (up to 1 MB), so only a declared, small length goes.
          const declared = headers["content-length"] === undefined ? undefined : Number(headers["content-length"]);
          if (placement.kind === "replay" && declared !== undefined && declared <= MAX_REPLAY_BODY_BYTES) {
            // Typed responses cannot describe a raw Response; this one is the empty 409 the proxy consumes.
            return replayResponse(placement.machineId, set) as never;
          }
        }

        const received = await media.receive(request.body, config.maxUploadBytes);
        const { file, existed } = await store(
          project.id,
          path,
          received.tempPath,
          {
            projectId: project.id,
            path,
            size: received.size,
            sha256: received.sha256,
            contentType,
            volumeId: mine.id,
            machineId: mine.machineId,
          },
          current !== undefined,
          headers,
        );
        set.status = existed ? 200 : 201;
        set.headers.etag = etagOf(file.sha256);
        return fileView(file, mine);
      },
      {
        // The body is streamed to disk by the handler; Elysia must not buffer or parse it.
        parse: "none",
        params: FileParams,
        response: { 200: FileView, 201: FileView, ...errors(400, 401, 404, 409, 412, 413, 503) },
        detail: {
          summary: "Upload (create or replace) a file; the body is the raw content, streamed to the volume",
          description:
            "Over MAX_UPLOAD_BYTES is 413 and nothing is written. Content-Type is stored and served back. " +
            "Replacing a file held on another machine's volume is answered 409 with `fly-replay` (Fly's proxy replays it there) " +
            "when the body is declared and at most 1 MB; otherwise the new version is stored here and the old copy deleted. " +
            "The answer carries the stored content's ETag. `If-Match: <etag>` replaces only that version and " +
            "`If-None-Match: *` only creates; a failed precondition is 412 precondition_failed and nothing is written.",
          tags: ["files"],
          operationId: "uploadFile",
          // parse: "none" leaves no body schema to generate from; the raw content is any media type.
          requestBody: { required: true, content: { "*/*": { schema: { type: "string", format: "binary" } } } },
          security: BearerAuth,
        },
      },
    )
    .get(
      "/*",
      async ({ headers, params, request, set }) => {
        const { project, path, file } = await locateFile(headers.authorization, params);
        const placement = await volume.place(file, request);
        // set.status mirrors each returned Response's status so the access log reports what was sent.
        if (placement.kind === "replay") return replayResponse(placement.machineId, set);
        if (placement.kind === "unavailable") throw volumeUnavailable(placement);

        const size = media.sizeNow(project.id, path);
        if (size === undefined)
          throw new HttpError(
            404,
            "file_content_missing",
            "the file is recorded but its content is missing from this machine's volume",
          );
        const etag = etagOf(file.sha256);
        const common = {
          etag,
          "accept-ranges": "bytes",
          "cache-control": "private, no-cache",
          "content-security-policy": FILE_CSP,
        };
        if (noneMatch(headers["if-none-match"] ?? null, etag)) {
          set.status = 304;
          return new Response(null, { status: 304, headers: common });
        }

        // A stale If-Range validator means the client's other pieces are of an older version: send it all.
        const range = ifRangeHolds(headers["if-range"], etag) ? parseRange(headers.range ?? null, size) : FULL;
        const content = Bun.file(media.location(project.id, path));
        if (range.kind === "unsatisfiable") {
          throw new HttpError(
            416,
            "range_not_satisfiable",
            `the range is outside the file (${size} bytes)`,
            { size },
            { "content-range": `bytes */${size}` },
          );
        }
        if (range.kind === "partial") {
          set.status = 206;
          return new Response(content.slice(range.start, range.end + 1), {
            status: 206,
            headers: {
              ...common,
              "content-type": file.contentType,
              "content-length": String(range.end - range.start + 1),
              "content-range": `bytes ${range.start}-${range.end}/${size}`,
            },
          });
        }
        return new Response(content, {
          headers: { ...common, "content-type": file.contentType, "content-length": String(size) },
        });
      },
      {
        params: FileParams,
        detail: {
          summary: "Download a file (HEAD for headers only); supports If-None-Match (304) and one Range (206/416)",
          operationId: "downloadFile",
          description:
            "A file held on another machine's volume is answered 409 with `fly-replay: instance=<machine>` and no body. " +
            "With If-Range, the Range applies only while the ETag matches (strong comparison); otherwise the whole file is sent.",
          tags: ["files"],
          security: BearerAuth,
          responses: {
            200: { description: "the content, with ETag (sha256), Content-Length and the stored Content-Type" },
            206: { description: "the requested byte range" },
            304: { description: "unchanged (If-None-Match matched)" },
            409: { description: "held by another machine: empty body with fly-replay; Fly's proxy replays it there" },
            ...Object.fromEntries(
              Object.entries(errors(400, 401, 404, 416, 503)).map(([s, schema]) => [
                s,
                { description: schema.description ?? "error" },
              ]),
            ),
          },
        },
      },
    )
    .delete(
      "/*",
      async ({ headers, params, request, set }) => {
        const who = auth.subject(headers.authorization);
        const path = checkedPath(params["*"]);
        const { project, file } = await ownedFile(repo, who, params.id, path);
        checkPreconditions(headers, file, false);
        if (!file) throw notFound("file");
        const mine = await volume.identityOr503();
        if (file.volumeId !== mine.id) {
          // The holder removes its bytes itself when it runs; otherwise the recorded work reaches it at its next start.
          const placement = await volume.place(file, request);
          if (placement.kind === "replay") return replayResponse(placement.machineId, set);
        }
        await media.exclusive(`${project.id}/${path}`, async () => {
          // If-Match is the one precondition of a DELETE: checked on a fresh read, then a compare-and-set delete.
          const seen = headers["if-match"] === undefined ? undefined : await repo.files.get(project.id, path);
          if (headers["if-match"] !== undefined) checkPreconditions(headers, seen, false);
          const deletion = await repo.deletions.record(project.id, path, now());
          if (seen === undefined) await repo.files.delete(project.id, path);
          else if (!(await repo.files.deleteIf(project.id, path, seen.sha256)))
            throw await changedMeanwhile(repo, project.id, path);
          if (file.volumeId !== mine.id) return;
          await media.remove(project.id, path);
          await repo.deletions.receipt(deletion.id, mine.id, now());
        });
        set.status = 204;
      },
      {
        params: FileParams,
        detail: {
          summary: "Delete a file (content and record)",
          operationId: "deleteFile",
          description:
            "The record goes at once; the content is removed by the machine holding its volume (replayed there when it runs, else when it next starts). " +
            "`If-Match: <etag>` deletes only that version: otherwise 412 precondition_failed and nothing is deleted.",
          tags: ["files"],
          security: BearerAuth,
          responses: {
            204: { description: "deleted" },
            409: { description: "held by another machine: empty body with fly-replay" },
            ...Object.fromEntries(
              Object.entries(errors(400, 401, 404, 412)).map(([s, schema]) => [
                s,
                { description: schema.description ?? "error" },
              ]),
            ),
          },
        },
      },
    );
}
