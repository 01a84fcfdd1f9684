/**
 * The one repository interface the routes use. Its implementation is written once against drizzle's query
 * builder, which has the same shape for PostgreSQL and SQLite; only the table objects and the driver differ
 * (./schema/pg.ts, ./schema/sqlite.ts), so the dialect stays invisible above src/db/.
 * @module
 */
import { and, asc, eq, gt, isNull, sql } from "drizzle-orm";
import { type AccountsRepository, createAccountsRepository } from "./accounts-repository.ts";
import type { RunAtomic } from "./atomic.ts";
import { type ConditionalWrites, createConditionalWrites } from "./conditional-write.ts";
import { type AuthAttemptsRepository, createAuthAttemptsRepository } from "./auth-attempts-repository.ts";
import { createDeletionsRepository, type DeletionsRepository } from "./deletions-repository.ts";
import { createRenamesRepository, type RenamesRepository } from "./renames-repository.ts";
import type * as pgSchema from "./schema/pg.ts";
import { createSessionsRepository, type SessionsRepository } from "./sessions-repository.ts";
import { createVolumesRepository, type VolumesRepository } from "./volumes-repository.ts";

export interface User {
  id: string;
  email: string;
  passwordHash: string;
  createdAt: Date;
  updatedAt: Date;
}
export interface Project {
  id: string;
  ownerId: string;
  name: string;
  description: string | null;
  createdAt: Date;
  updatedAt: Date;
}
export interface FileRecord {
  id: string;
  projectId: string;
  path: string;
  size: number;
  sha256: string;
  contentType: string;
  /** Null only for rows written before volumes were recorded (see schema). */
  volumeId: string | null;
  machineId: string;
  createdAt: Date;
  updatedAt: Date;
}
export type FileWrite = Omit<FileRecord, "id" | "createdAt" | "updatedAt" | "volumeId"> & { volumeId: string };

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
/** A project looked up together with its owner's account: `account` is false once the account is deleted. */
export interface OwnedLookup {
  account: boolean;
  /** False when the token's session is revoked (logout, reuse) or not the account's. */
  session: boolean;
  project: Project | undefined;
}
/** OwnedLookup and the project's file at a path: `file` is undefined when the project or the file is missing. */
export interface OwnedFileLookup extends OwnedLookup {
  file: FileRecord | undefined;
}
export interface PageRequest {
  limit: number;
  cursor?: string;
}

/** Unique constraint violations come back as values, so callers answer 409 without parsing driver errors. */
export type Created<T> = { ok: true; value: T } | { ok: false; code: "conflict" };

export interface Repository {
  users: {
    create(input: { email: string; passwordHash: string }): Promise<Created<User>>;
    findByEmail(email: string): Promise<User | undefined>;
    findById(id: string): Promise<User | undefined>;
    /** The account and whether session `sid` of it is live, in one round trip (the authenticated read). */
    findWithSession(id: string, sid: string): Promise<{ user: User | undefined; session: boolean }>;
    delete(id: string): Promise<boolean>;
  };
  projects: {
    create(input: { ownerId: string; name: string; description: string | null }): Promise<Created<Project>>;
    get(ownerId: string, id: string): Promise<Project | undefined>;
    /** One round trip for an authenticated request: does the account exist, and its project with this id. */
    getWithAccount(ownerId: string, sid: string, id: string): Promise<OwnedLookup>;
    list(ownerId: string, page: PageRequest): Promise<Page<Project>>;
    update(
      ownerId: string,
      id: string,
      patch: { name?: string; description?: string | null },
    ): Promise<Created<Project> | undefined>;
    delete(ownerId: string, id: string): Promise<boolean>;
  };
  files: {
    /** Inserts or replaces the row for (projectId, path), wherever it was held before. */
    upsert(input: FileWrite): Promise<FileRecord>;
    /**
     * Inserts the row, or replaces it only while it is held on the same volume; undefined when another volume
     * holds the path (a concurrent first upload elsewhere), so the caller can record the move before taking it.
     */
    upsertOnVolume(input: FileWrite): Promise<FileRecord | undefined>;
    /** Writes and deletes only while the row is as the caller saw it (./conditional-write.ts). */
    writeIf: ConditionalWrites["writeIf"];
    deleteIf: ConditionalWrites["deleteIf"];
    get(projectId: string, path: string): Promise<FileRecord | undefined>;
    /** One round trip for a file request: the account, its project with this id, and the file at this path. */
    getWithOwner(ownerId: string, sid: string, projectId: string, path: string): Promise<OwnedFileLookup>;
    list(projectId: string, page: PageRequest): Promise<Page<FileRecord>>;
    listAll(projectId: string): Promise<FileRecord[]>;
    delete(projectId: string, path: string): Promise<boolean>;
  };
  volumes: VolumesRepository;
  deletions: DeletionsRepository;
  renames: RenamesRepository;
  authAttempts: AuthAttemptsRepository;
  sessions: SessionsRepository;
  accounts: AccountsRepository;
}

type Tables = typeof pgSchema;

/**
 * drizzle's PostgreSQL and SQLite databases expose the same builder methods (select/insert/update/delete,
 * returning, onConflictDoUpdate) but TypeScript cannot call a union of their overloads, so the handle is
 * typed loosely here, in this one place, and the public interface above stays fully typed.
 */
// biome-ignore lint/suspicious/noExplicitAny: see comment above.
type QueryBuilder = any;

export function createRepository(
  db: QueryBuilder,
  t: Tables,
  isUniqueViolation: (error: unknown) => boolean,
  atomic: RunAtomic,
): Repository {
  const now = () => new Date();
  const insertOrConflict = async <T>(run: () => Promise<T[]>): Promise<Created<T>> => {
    try {
      const [row] = await run();
      return { ok: true, value: row as T };
    } catch (error) {
      // drizzle wraps driver errors (DrizzleQueryError) with the driver's error as `cause`.
      if (isUniqueViolation(error) || isUniqueViolation((error as { cause?: unknown })?.cause))
        return { ok: false, code: "conflict" };
      throw error;
    }
  };
  // Ids are UUIDv7: time-ordered, so ordering by id gives a stable, insertion-ordered cursor.
  const page = <T extends { id: string }>(rows: T[], limit: number): Page<T> => {
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
  };

  // The reads on every authenticated request run as prepared statements: PostgreSQL then parses and plans
  // them once per connection instead of once per request (drizzle leaves statements unprepared unless
  // .prepare(name) is used). SQLite compiles them once. Built on first use: SQLite prepares eagerly, and the
  // tables may not exist until migrations have run.
  const lazy = <T>(build: () => T) => {
    let value: T | undefined;
    return () => (value ??= build());
  };
  const userById = lazy(() =>
    db
      .select()
      .from(t.users)
      .where(eq(t.users.id, sql.placeholder("id")))
      .limit(1)
      .prepare("users_by_id"),
  );
  // The token's session rides the same query as its account (issue 22): a revoked session is refused on the
  // next request on every machine, with no second round trip and nothing cached.
  const liveSession = () =>
    and(eq(t.sessions.id, sql.placeholder("sid")), eq(t.sessions.userId, t.users.id), isNull(t.sessions.revokedAt));
  const userWithSession = lazy(() =>
    db
      .select({ user: t.users, session: t.sessions.id })
      .from(t.users)
      .leftJoin(t.sessions, liveSession())
      .where(eq(t.users.id, sql.placeholder("id")))
      .limit(1)
      .prepare("users_with_session"),
  );
  const projectOfOwner = lazy(() =>
    db
      .select()
      .from(t.projects)
      .where(and(eq(t.projects.ownerId, sql.placeholder("ownerId")), eq(t.projects.id, sql.placeholder("id"))))
      .limit(1)
      .prepare("projects_of_owner"),
  );
  // The account :ownerId LEFT JOIN its project :id: no row means the account is gone (401); a row without a
  // project means 404. `withFile` joins the project's file at :path the same way (no file row: 404 for it).
  const ownedLookup = (name: string, withFile: boolean) =>
    lazy(() => {
      const fields = {
        account: t.users.id,
        session: t.sessions.id,
        project: t.projects,
        ...(withFile ? { file: t.files } : {}),
      };
      const joined = db
        .select(fields)
        .from(t.users)
        .leftJoin(t.sessions, liveSession())
        .leftJoin(t.projects, and(eq(t.projects.ownerId, t.users.id), eq(t.projects.id, sql.placeholder("id"))));
      const withFiles = withFile
        ? joined.leftJoin(t.files, and(eq(t.files.projectId, t.projects.id), eq(t.files.path, sql.placeholder("path"))))
        : joined;
      return withFiles
        .where(eq(t.users.id, sql.placeholder("ownerId")))
        .limit(1)
        .prepare(name);
    });
  const projectWithAccount = ownedLookup("project_with_account", false);
  const fileWithOwner = ownedLookup("file_with_owner", true);
  const fileAt = lazy(() =>
    db
      .select()
      .from(t.files)
      .where(and(eq(t.files.projectId, sql.placeholder("projectId")), eq(t.files.path, sql.placeholder("path"))))
      .limit(1)
      .prepare("files_at_path"),
  );

  // The upload's upsert, prepared too (building it cost more CPU than the rest of a PUT's queries together,
  // `bun --cpu-prof-md`, issue 13). The volume-guarded variant only updates a row already on the writer's
  // volume: otherwise it returns nothing and the caller moves the row deliberately (src/routes/files.ts).
  const upsertFile = (name: string, onVolumeOnly: boolean) =>
    lazy(() =>
      db
        .insert(t.files)
        .values({
          id: sql.placeholder("id"),
          projectId: sql.placeholder("projectId"),
          path: sql.placeholder("path"),
          size: sql.placeholder("size"),
          sha256: sql.placeholder("sha256"),
          contentType: sql.placeholder("contentType"),
          volumeId: sql.placeholder("volumeId"),
          machineId: sql.placeholder("machineId"),
          createdAt: sql.placeholder("at"),
          updatedAt: sql.placeholder("at"),
        })
        .onConflictDoUpdate({
          target: [t.files.projectId, t.files.path],
          set: {
            size: sql.placeholder("size"),
            sha256: sql.placeholder("sha256"),
            contentType: sql.placeholder("contentType"),
            volumeId: sql.placeholder("volumeId"),
            machineId: sql.placeholder("machineId"),
            updatedAt: sql.placeholder("at"),
          },
          ...(onVolumeOnly ? { setWhere: eq(t.files.volumeId, sql.placeholder("volumeId")) } : {}),
        })
        .returning()
        .prepare(name),
    );
  const upsertAnywhere = upsertFile("files_upsert", false);
  const upsertOnVolume = upsertFile("files_upsert_on_volume", true);
  const writeFile = async (input: FileWrite, onVolumeOnly: boolean) => {
    const statement = onVolumeOnly ? upsertOnVolume() : upsertAnywhere();
    const [row] = await statement.execute({
      id: Bun.randomUUIDv7(),
      ...input,
      machineId: input.machineId ?? null,
      at: now(),
    });
    return row as FileRecord | undefined;
  };

  return {
    users: {
      create: (input) =>
        insertOrConflict<User>(() => {
          const at = now();
          return db
            .insert(t.users)
            .values({ id: Bun.randomUUIDv7(), ...input, createdAt: at, updatedAt: at })
            .returning();
        }),
      findByEmail: async (email) => (await db.select().from(t.users).where(eq(t.users.email, email)).limit(1))[0],
      findById: async (id) => (await userById().execute({ id }))[0],
      findWithSession: async (id, sid) => {
        const [row] = await userWithSession().execute({ id, sid });
        return { user: row?.user ?? undefined, session: row?.session != null };
      },
      delete: async (id) =>
        (await db.delete(t.users).where(eq(t.users.id, id)).returning({ id: t.users.id })).length > 0,
    },
    projects: {
      create: (input) =>
        insertOrConflict<Project>(() => {
          const at = now();
          return db
            .insert(t.projects)
            .values({ id: Bun.randomUUIDv7(), ...input, createdAt: at, updatedAt: at })
            .returning();
        }),
      get: async (ownerId, id) => (await projectOfOwner().execute({ ownerId, id }))[0],
      getWithAccount: async (ownerId, sid, id) => {
        const [row] = await projectWithAccount().execute({ ownerId, sid, id });
        return { account: row !== undefined, session: row?.session != null, project: row?.project ?? undefined };
      },
      list: async (ownerId, { limit, cursor }) => {
        const where = cursor
          ? and(eq(t.projects.ownerId, ownerId), gt(t.projects.id, cursor))
          : eq(t.projects.ownerId, ownerId);
        const rows = await db
          .select()
          .from(t.projects)
          .where(where)
          .orderBy(asc(t.projects.id))
          .limit(limit + 1);
        return page<Project>(rows, limit);
      },
      update: async (ownerId, id, patch) => {
        const result = await insertOrConflict<Project>(() =>
          db
            .update(t.projects)
            .set({ ...patch, updatedAt: now() })
            .where(and(eq(t.projects.ownerId, ownerId), eq(t.projects.id, id)))
            .returning(),
        );
        return result.ok && result.value === undefined ? undefined : result;
      },
      delete: async (ownerId, id) =>
        (
          await db
            .delete(t.projects)
            .where(and(eq(t.projects.ownerId, ownerId), eq(t.projects.id, id)))
            .returning({ id: t.projects.id })
        ).length > 0,
    },
    files: {
      upsert: (input) => writeFile(input, false) as Promise<FileRecord>,
      upsertOnVolume: (input) => writeFile(input, true),
      ...createConditionalWrites(db, t),
      get: async (projectId, path) => (await fileAt().execute({ projectId, path }))[0],
      getWithOwner: async (ownerId, sid, id, path) => {
        const [row] = await fileWithOwner().execute({ ownerId, sid, id, path });
        return {
          account: row !== undefined,
          session: row?.session != null,
          project: row?.project ?? undefined,
          file: row?.file ?? undefined,
        };
      },
      list: async (projectId, { limit, cursor }) => {
        const where = cursor
          ? and(eq(t.files.projectId, projectId), gt(t.files.path, cursor))
          : eq(t.files.projectId, projectId);
        const rows: FileRecord[] = await db
          .select()
          .from(t.files)
          .where(where)
          .orderBy(asc(t.files.path))
          .limit(limit + 1);
        // Files page by path (unique per project), which is stable across re-uploads that keep the path.
        const items = rows.slice(0, limit);
        return { items, nextCursor: rows.length > limit ? (items.at(-1)?.path ?? null) : null };
      },
      listAll: async (projectId) =>
        db.select().from(t.files).where(eq(t.files.projectId, projectId)).orderBy(asc(t.files.path)),
      delete: async (projectId, path) =>
        (
          await db
            .delete(t.files)
            .where(and(eq(t.files.projectId, projectId), eq(t.files.path, path)))
            .returning({ id: t.files.id })
        ).length > 0,
    },
    volumes: createVolumesRepository(db, t),
    deletions: createDeletionsRepository(db, t),
    renames: createRenamesRepository(db, t),
    authAttempts: createAuthAttemptsRepository(db, t),
    sessions: createSessionsRepository(db, t, atomic),
    accounts: createAccountsRepository(t, atomic),
  };
}

/** Used by health: the cheapest statement both dialects answer. */
export const PING = sql`select 1`;
