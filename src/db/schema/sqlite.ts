/**
 * SQLite schema. Kept column-for-column with ./pg.ts; test/src/db/schema-parity.test.ts fails when the two
 * drift (tables, columns, nullability, indexes).
 * @module
 */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const createdAt = () => integer("created_at", { mode: "timestamp_ms" }).notNull();
const updatedAt = () => integer("updated_at", { mode: "timestamp_ms" }).notNull();

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("users_email_unique").on(t.email)],
);

export const projects = sqliteTable(
  "projects",
  {
    id: text("id").primaryKey(),
    ownerId: text("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("projects_owner_name_unique").on(t.ownerId, t.name),
    index("projects_owner_id_idx").on(t.ownerId, t.id),
  ],
);

export const files = sqliteTable(
  "files",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    path: text("path").notNull(),
    size: integer("size").notNull(),
    sha256: text("sha256").notNull(),
    contentType: text("content_type").notNull(),
    /**
     * The volume holding the bytes (src/media/volume-marker.ts). Null only for rows written before volumes were
     * recorded, until the machine named in machine_id boots once and claims them for the volume it holds.
     */
    volumeId: text("volume_id"),
    /** The machine that wrote the current bytes: informational, and the key for claiming pre-volume rows. */
    machineId: text("machine_id").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("files_project_path_unique").on(t.projectId, t.path),
    index("files_volume_id_idx").on(t.volumeId),
  ],
);

/** Which machine holds each volume now; a machine refreshes seen_at while it runs (src/media/volume.ts). */
export const volumes = sqliteTable("volumes", {
  id: text("id").primaryKey(),
  machineId: text("machine_id").notNull(),
  region: text("region").notNull(),
  seenAt: integer("seen_at", { mode: "timestamp_ms" }).notNull(),
  /** Set by a graceful shutdown, so replays stop at once instead of after the heartbeat goes stale. */
  stoppedAt: integer("stopped_at", { mode: "timestamp_ms" }),
  createdAt: createdAt(),
});

/**
 * Durable deletion work (src/media/deletions.ts): a file (path set) or a whole project (path null) whose bytes
 * every volume must remove. No foreign key: the project row is gone by the time volumes drain it.
 */
export const deletions = sqliteTable(
  "deletions",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id").notNull(),
    path: text("path"),
    createdAt: createdAt(),
  },
  (t) => [index("deletions_created_at_idx").on(t.createdAt)],
);

/** One row per (deletion, volume) once that volume has carried the deletion out. */
export const deletionReceipts = sqliteTable(
  "deletion_receipts",
  {
    id: text("id").primaryKey(),
    deletionId: text("deletion_id")
      .notNull()
      .references(() => deletions.id, { onDelete: "cascade" }),
    volumeId: text("volume_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("deletion_receipts_deletion_volume_unique").on(t.deletionId, t.volumeId),
    index("deletion_receipts_volume_id_idx").on(t.volumeId),
  ],
);

/** The login/registration limit's windows, shared by every machine (src/auth/login-limiter.ts). Times in ms. */
export const authAttempts = sqliteTable(
  "auth_attempts",
  {
    clientKey: text("client_key").primaryKey(),
    windowStart: integer("window_start").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [index("auth_attempts_window_start_idx").on(t.windowStart)],
);

/**
 * One row per refresh token. A login starts a family (`family_id`); each refresh marks its row used
 * (`used_at`, `replaced_by`) and inserts the next. Only the SHA-256 of the token is stored. A used row shown
 * again is reuse: the family is revoked (RFC 9700 section 4.14.2). Access tokens name their row (`sid`).
 */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    familyId: text("family_id").notNull(),
    tokenHash: text("token_hash").notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    usedAt: integer("used_at", { mode: "timestamp_ms" }),
    replacedBy: text("replaced_by"),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("sessions_token_hash_unique").on(t.tokenHash),
    index("sessions_family_id_idx").on(t.familyId),
    index("sessions_user_id_idx").on(t.userId),
  ],
);

/**
 * Bytes still on a volume under a file's name from before paths were stored in NFC (migration 0003,
 * src/db/nfc-paths.ts): `id` is the file's, whose row already has `to_path`. The volume holding that file
 * renames the bytes and deletes this row (src/media/renames.ts); deleting the file deletes it too.
 */
export const fileRenames = sqliteTable("file_renames", {
  id: text("id")
    .primaryKey()
    .references(() => files.id, { onDelete: "cascade" }),
  projectId: text("project_id").notNull(),
  fromPath: text("from_path").notNull(),
  toPath: text("to_path").notNull(),
  createdAt: createdAt(),
});
