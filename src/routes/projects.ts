/**
 * Projects, each owned by one user. Another user's project answers exactly like a missing one (404), so ids
 * reveal nothing. Deleting a project records deletion work first (src/media/deletions.ts), then deletes its rows
 * and its files on this machine's volume; every other volume removes its share on its own machine.
 * @module
 */
import { Elysia, t } from "elysia";
import type { Logger } from "../../lib/log.ts";
import { accountGone, type AuthService, type Principal, sessionRevoked } from "../auth/service.ts";
import type { FileRecord, OwnedLookup, Project, Repository } from "../db/repository.ts";
import { conflict, notFound } from "../errors.ts";
import type { MediaStore } from "../media/store.ts";
import type { Volume } from "../media/volume.ts";
import { jsonBody } from "../plugins/json-body.ts";
import { BearerAuth, errors, ID_PATTERN, IdPageQuery, SAFE_LINE, SAFE_TEXT } from "./schemas.ts";

const Name = t.String({
  minLength: 1,
  maxLength: 100,
  pattern: SAFE_LINE,
  description: "unique among the owner's projects",
});
const Description = t.Union([t.String({ maxLength: 2000, pattern: SAFE_TEXT }), t.Null()]);

const ProjectView = t.Object({
  id: t.String(),
  name: t.String(),
  description: t.Union([t.String(), t.Null()]),
  created_at: t.String({ format: "date-time" }),
  updated_at: t.String({ format: "date-time" }),
});
const ProjectPage = t.Object({ items: t.Array(ProjectView), next_cursor: t.Union([t.String(), t.Null()]) });
const IdParams = t.Object({ id: t.String({ description: "project id" }) });

export function projectView(p: Project) {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}

export interface ProjectRouteDeps {
  repo: Repository;
  auth: AuthService;
  media: MediaStore;
  volume: Volume;
  logger: Logger;
}

/**
 * Loads a project of the account a verified token names (auth.subject), in one round trip that also proves
 * the account still exists: 401 once it is deleted, 404 for a missing, foreign or malformed id alike.
 * Nothing is cached, so a deleted account or project is refused from the next request on.
 */
export async function ownedProject(repo: Repository, who: Principal, id: string): Promise<Project> {
  return checkedOwnership(
    ID_PATTERN.test(id)
      ? await repo.projects.getWithAccount(who.userId, who.sessionId, id)
      : await malformedId(repo, who),
  );
}

/** ownedProject and the project's file at `path` (undefined when there is none), still in one round trip. */
export async function ownedFile(
  repo: Repository,
  who: Principal,
  id: string,
  path: string,
): Promise<{ project: Project; file: FileRecord | undefined }> {
  const lookup = ID_PATTERN.test(id)
    ? await repo.files.getWithOwner(who.userId, who.sessionId, id, path)
    : await malformedId(repo, who);
  return { project: checkedOwnership(lookup), file: lookup.file };
}

/** A malformed id names no project, but a deleted account or ended session still answers 401 first. */
async function malformedId(repo: Repository, who: Principal) {
  const { user, session } = await repo.users.findWithSession(who.userId, who.sessionId);
  return { account: user !== undefined, session, project: undefined, file: undefined };
}

function checkedOwnership({ account, session, project }: OwnedLookup): Project {
  if (!account) throw accountGone();
  if (!session) throw sessionRevoked();
  if (!project) throw notFound("project");
  return project;
}

export function projectRoutes({ repo, auth, media, volume, logger }: ProjectRouteDeps) {
  const nameTaken = () => conflict("you already have a project with this name");

  return new Elysia({ name: "project-routes", prefix: "/v1/projects" })
    .post(
      "",
      async ({ headers, body, set }) => {
        const user = await auth.authenticate(headers.authorization);
        const created = await repo.projects.create({
          ownerId: user.id,
          name: body.name,
          description: body.description ?? null,
        });
        if (!created.ok) throw nameTaken();
        set.status = 201;
        set.headers.location = `/v1/projects/${created.value.id}`;
        return projectView(created.value);
      },
      {
        parse: jsonBody(),
        body: t.Object({ name: Name, description: t.Optional(Description) }, { additionalProperties: false }),
        response: { 201: ProjectView, ...errors(400, 401, 409, 413, 415, 422) },
        detail: { summary: "Create a project", tags: ["projects"], operationId: "createProject", security: BearerAuth },
      },
    )
    .get(
      "",
      async ({ headers, query }) => {
        const user = await auth.authenticate(headers.authorization);
        const page = await repo.projects.list(user.id, { limit: query.limit ?? 20, cursor: query.cursor });
        return { items: page.items.map(projectView), next_cursor: page.nextCursor };
      },
      {
        query: IdPageQuery,
        response: { 200: ProjectPage, ...errors(401, 422) },
        detail: {
          summary: "List your projects, oldest first; pass next_cursor as cursor for the next page",
          tags: ["projects"],
          operationId: "listProjects",
          security: BearerAuth,
        },
      },
    )
    .get(
      "/:id",
      async ({ headers, params }) =>
        projectView(await ownedProject(repo, auth.subject(headers.authorization), params.id)),
      {
        params: IdParams,
        response: { 200: ProjectView, ...errors(401, 404) },
        detail: { summary: "Get one project", tags: ["projects"], operationId: "getProject", security: BearerAuth },
      },
    )
    .patch(
      "/:id",
      async ({ headers, params, body }) => {
        const who = auth.subject(headers.authorization);
        await ownedProject(repo, who, params.id);
        const updated = await repo.projects.update(who.userId, params.id, body);
        if (!updated) throw notFound("project");
        if (!updated.ok) throw nameTaken();
        return projectView(updated.value);
      },
      {
        params: IdParams,
        parse: jsonBody(),
        body: t.Object(
          { name: t.Optional(Name), description: t.Optional(Description) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: ProjectView, ...errors(400, 401, 404, 409, 413, 415, 422) },
        detail: {
          summary: "Rename a project or change its description",
          tags: ["projects"],
          operationId: "updateProject",
          security: BearerAuth,
        },
      },
    )
    .delete(
      "/:id",
      async ({ headers, params, set }) => {
        const who = auth.subject(headers.authorization);
        const project = await ownedProject(repo, who, params.id);
        // The work first, so no crash can delete the rows and forget the bytes; then the rows (files cascade),
        // after which nothing serves the content; then this volume's share. Other volumes drain theirs.
        const deletion = await repo.deletions.record(project.id, null, new Date());
        await repo.projects.delete(who.userId, project.id);
        try {
          const mine = await volume.identity();
          await media.removeProject(project.id);
          await repo.deletions.receipt(deletion.id, mine.id, new Date());
        } catch (error) {
          logger.error("project files not yet removed from this volume; the upkeep drain retries", {
            project_id: project.id,
            error,
          });
        }
        set.status = 204;
      },
      {
        params: IdParams,
        response: { 204: t.Void({ description: "deleted, with its files" }), ...errors(401, 404) },
        detail: {
          summary: "Delete a project and all its files",
          tags: ["projects"],
          operationId: "deleteProject",
          security: BearerAuth,
        },
      },
    );
}
