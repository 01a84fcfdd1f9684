/**
 * Media files of a project, stored on this machine's volume:
 * PUT/GET/HEAD/DELETE /v1/projects/:id/files/<path> and GET /v1/projects/:id/files (paginated list).
 * A file written on another machine is answered with `fly-replay` (see src/media/replay.ts).
 * @module
 */
import { Elysia, t } from "elysia";
import type { Config } from "../../lib/config.ts";
import type { Logger } from "../../lib/log.ts";
import type { AuthService } from "../auth/service.ts";
import type { FileRecord, Repository } from "../db/repository.ts";
import { badRequest, HttpError, notFound } from "../errors.ts";
import { etagOf, noneMatch, parseRange } from "../media/conditional.ts";
import { parseFilePath } from "../media/paths.ts";
import { replayResponse, replayTarget, thisMachine } from "../media/replay.ts";
import type { MediaStore } from "../media/store.ts";
import { payloadTooLarge } from "../plugins/json-body.ts";
import { ownedProject } from "./projects.ts";
import { BearerAuth, errors, PageQuery } from "./schemas.ts";

const FileView = t.Object({
  path: t.String(),
  size: t.Integer(),
  sha256: t.String(),
  content_type: t.String(),
  machine_id: t.String({ description: "the Fly machine whose volume holds the content" }),
  created_at: t.String({ format: "date-time" }),
  updated_at: t.String({ format: "date-time" }),
});
const FilePage = t.Object({ items: t.Array(FileView), next_cursor: t.Union([t.String(), t.Null()]) });
const FileParams = t.Object({ id: t.String({ description: "project id" }), "*": t.String({ description: "file path, / separated" }) });

// RFC 9110 media type: type "/" subtype *( ";" parameter ), tokens only; anything else is refused, not guessed.
const TOKEN = "[A-Za-z0-9!#$%&'*+.^_`|~-]+";
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(\\s*;\\s*${TOKEN}=(${TOKEN}|"[^"\\\\\\x00-\\x1f]*"))*$`);
const DEFAULT_CONTENT_TYPE = "application/octet-stream";
/** Uploaded content is served from the API's origin: it must never run as a page there. */
const FILE_CSP = "default-src 'none'; sandbox";

export function fileView(f: FileRecord) {
  return {
    path: f.path, size: f.size, sha256: f.sha256, content_type: f.contentType, machine_id: f.machineId,
    created_at: f.createdAt.toISOString(), updated_at: f.updatedAt.toISOString(),
  };
}

export interface FileRouteDeps { config: Pick<Config, "maxUploadBytes" | "fly">; repo: Repository; auth: AuthService; media: MediaStore; logger: Logger }

export function fileRoutes({ config, repo, auth, media }: FileRouteDeps) {
  const machine = thisMachine(config.fly.machineId);

  const checkedPath = (raw: string) => {
    const checked = parseFilePath(raw);
    if (!checked.ok) throw badRequest(checked.code, checked.message);
    return checked.path;
  };
  /** GET, HEAD and DELETE start alike: who asks, which file, and which machine's volume holds it. */
  const locateFile = async (authorization: string | undefined, params: { id: string; "*": string }) => {
    const userId = auth.subject(authorization);
    const path = checkedPath(params["*"]);
    const project = await ownedProject(repo, userId, params.id);
    const file = await repo.files.get(project.id, path);
    if (!file) throw notFound("file");
    return { project, path, file, owner: replayTarget(file.machineId, config.fly.machineId) };
  };

  return new Elysia({ name: "file-routes", prefix: "/v1/projects/:id/files" })
    .get(
      "",
      async ({ headers, params, query }) => {
        const project = await ownedProject(repo, auth.subject(headers.authorization), params.id);
        const page = await repo.files.list(project.id, { limit: query.limit ?? 20, cursor: query.cursor });
        return { items: page.items.map(fileView), next_cursor: page.nextCursor };
      },
      {
        params: t.Object({ id: t.String() }),
        query: PageQuery,
        response: { 200: FilePage, ...errors(401, 404, 422) },
        detail: { summary: "List a project's files by path", tags: ["files"], security: BearerAuth },
      },
    )
    .put(
      "/*",
      async ({ headers, params, request, set }) => {
        const userId = auth.subject(headers.authorization);
        const path = checkedPath(params["*"]);
        const project = await ownedProject(repo, userId, params.id);
        const contentType = headers["content-type"]?.trim() || DEFAULT_CONTENT_TYPE;
        if (contentType.length > 255 || !MEDIA_TYPE.test(contentType)) {
          throw badRequest("invalid_content_type", "Content-Type must be a media type such as image/png or text/plain; charset=utf-8");
        }
        if (Number(headers["content-length"] ?? 0) > config.maxUploadBytes) throw payloadTooLarge(config.maxUploadBytes);

        const received = await media.receive(request.body, config.maxUploadBytes);
        const { file, existed } = await media.exclusive(`${project.id}/${path}`, async () => {
          const existed = (await repo.files.get(project.id, path)) !== undefined;
          await media.commit(received.tempPath, project.id, path);
          const file = await repo.files.upsert({
            projectId: project.id, path, size: received.size, sha256: received.sha256, contentType, machineId: machine,
          });
          return { file, existed };
        });
        set.status = existed ? 200 : 201;
        set.headers.etag = etagOf(file.sha256);
        return fileView(file);
      },
      {
        // The body is streamed to disk by the handler; Elysia must not buffer or parse it.
        parse: "none",
        params: FileParams,
        response: { 200: FileView, 201: FileView, ...errors(400, 401, 404, 409, 413) },
        detail: {
          summary: "Upload (create or replace) a file; the body is the raw content, streamed to the volume",
          description: "Over MAX_UPLOAD_BYTES is 413 and nothing is written. Content-Type is stored and served back.",
          tags: ["files"], security: BearerAuth,
        },
      },
    )
    .get(
      "/*",
      async ({ headers, params, set }) => {
        const { project, path, file, owner } = await locateFile(headers.authorization, params);
        // set.status mirrors each returned Response's status so the access log reports what was sent.
        if (owner) return replayResponse(owner, set);

        const size = await media.size(project.id, path);
        if (size === undefined) throw new HttpError(404, "file_content_missing", "the file is recorded but its content is missing from this machine's volume");
        const etag = etagOf(file.sha256);
        const common = {
          etag, "accept-ranges": "bytes", "cache-control": "private, no-cache", "content-security-policy": FILE_CSP,
        };
        if (noneMatch(headers["if-none-match"] ?? null, etag)) {
          set.status = 304;
          return new Response(null, { status: 304, headers: common });
        }

        const range = parseRange(headers.range ?? null, size);
        const content = Bun.file(media.location(project.id, path));
        if (range.kind === "unsatisfiable") {
          throw new HttpError(416, "range_not_satisfiable", `the range is outside the file (${size} bytes)`, { size }, { "content-range": `bytes */${size}` });
        }
        if (range.kind === "partial") {
          set.status = 206;
          return new Response(content.slice(range.start, range.end + 1), {
            status: 206,
            headers: { ...common, "content-type": file.contentType, "content-length": String(range.end - range.start + 1),
              "content-range": `bytes ${range.start}-${range.end}/${size}` },
          });
        }
        return new Response(content, { headers: { ...common, "content-type": file.contentType, "content-length": String(size) } });
      },
      {
        params: FileParams,
        detail: {
          summary: "Download a file (HEAD for headers only); supports If-None-Match (304) and one Range (206/416)",
          description: "A file held on another machine's volume is answered 409 with `fly-replay: instance=<machine>` and no body.",
          tags: ["files"], security: BearerAuth,
          responses: {
            200: { description: "the content, with ETag (sha256), Content-Length and the stored Content-Type" },
            206: { description: "the requested byte range" },
            304: { description: "unchanged (If-None-Match matched)" },
            409: { description: "held by another machine: empty body with fly-replay; Fly's proxy replays it there" },
            ...Object.fromEntries(Object.entries(errors(400, 401, 404, 416)).map(([s, schema]) => [s, { description: schema.description ?? "error" }])),
          },
        },
      },
    )
    .delete(
      "/*",
      async ({ headers, params, set }) => {
        const { project, path, owner } = await locateFile(headers.authorization, params);
        if (owner) return replayResponse(owner, set);
        await media.exclusive(`${project.id}/${path}`, async () => {
          await repo.files.delete(project.id, path);
          await media.remove(project.id, path);
        });
        set.status = 204;
      },
      {
        params: FileParams,
        detail: {
          summary: "Delete a file (content and record)",
          tags: ["files"], security: BearerAuth,
          responses: {
            204: { description: "deleted" },
            409: { description: "held by another machine: empty body with fly-replay" },
            ...Object.fromEntries(Object.entries(errors(400, 401, 404)).map(([s, schema]) => [s, { description: schema.description ?? "error" }])),
          },
        },
      },
    );
}
