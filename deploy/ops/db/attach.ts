// `db attach` and `db detach`. Attach follows flyctl's mpg attach (internal/command/mpg/v2/run_attach.go): the
// app's database and user are created when missing, the user's credentials are read, DATABASE_URL is written,
// then the attachment is recorded. Where we differ:
// - one secrets write through the same path as `secrets set` (machines roll onto it, under the fleet lease);
// - idempotent: when DATABASE_URL already holds exactly this URL and the attachment is recorded, a re-run makes
//   no write at all (nothing rolls);
// - a DATABASE_URL written by an earlier attach (the app is attached to a cluster) is replaced, e.g. after a
//   restore; one set by hand is only replaced with --force (flyctl refuses any existing one);
// - the attachment is part of success (exit 1 if it cannot be recorded: `db destroy` relies on it), and an app
//   that moved to this cluster is detached from the one it left;
// - the URL and password are never printed: messages show the URL with `***` for the password.

import { isFlyApiError } from "../../../lib/fly/errors.ts";
import type { PostgresUserRole } from "../../../lib/fly/types.ts";
import { DeployError } from "../../deploy-error.ts";
import { setSecrets } from "../secrets.ts";
import { type DbContext, listClusters, requireCluster, waitUntilReady } from "./cluster.ts";
import { databaseUrl, pooledEndpoint, redactedUrl } from "./connection-url.ts";
import { defaultRoleName } from "./names.ts";

export const DATABASE_URL = "DATABASE_URL";

/** The app runs its own migrations (release command), so its user may change the schema. */
const APP_ROLE: PostgresUserRole = "schema_admin";

export interface AttachOptions {
  cluster?: string;
  database?: string;
  user?: string;
  force?: boolean;
}

export interface AttachResult {
  app: string;
  cluster: { id: string; name: string };
  database: string;
  user: string;
  secret: typeof DATABASE_URL;
  /** The URL with the password as `***`. */
  url: string;
  createdDatabase: boolean;
  createdUser: boolean;
  /** Whether DATABASE_URL was written (false: it already held this URL). */
  secretWritten: boolean;
  secretsVersion: number | null;
  machinesUpdated: string[];
  detachedFrom: string[];
}

export async function attachCluster(ctx: DbContext, opts: AttachOptions): Promise<AttachResult> {
  const app = ctx.config.app;
  const { org, summary } = await requireCluster(ctx, opts.cluster);
  const id = summary.id;
  const cluster = await waitUntilReady(ctx, id, "cluster");
  const endpoint = pooledEndpoint(cluster)!;
  const database = opts.database ?? defaultRoleName(app);
  const user = opts.user ?? defaultRoleName(app);

  const clusters = await listClusters(ctx, org);
  const attachedTo = clusters.filter((c) => c.attached_apps?.some((a) => a.name === app)).map((c) => c.id ?? "");
  const current = await readDatabaseUrl(ctx);
  const userExists = async () =>
    (await ctx.client.listPostgresUsers(id, { signal: ctx.signal })).some((u) => u.username === user);
  const urlFor = async () => {
    const credentials = await ctx.client.getPostgresUserCredentials(id, user, { signal: ctx.signal });
    return {
      url: databaseUrl(endpoint, credentials.username, credentials.password, database),
      shown: redactedUrl(endpoint, credentials.username, database),
    };
  };

  // A DATABASE_URL set by hand is refused before anything is created, unless it already is this very URL (an
  // earlier attach whose attachment record failed).
  if (current.exists && attachedTo.length === 0 && !opts.force) {
    const same = (await userExists()) && current.value !== undefined && current.value === (await urlFor()).url;
    if (!same) {
      throw new DeployError(
        "preflight_failed",
        `app ${app} already has a ${DATABASE_URL} that db attach did not set (the app is attached to no cluster). Pass --force to replace it with cluster ${cluster.name}'s; nothing was changed.`,
        2,
      );
    }
  }

  const createdDatabase = await ensure(
    async () => (await ctx.client.listPostgresDatabases(id, { signal: ctx.signal })).some((d) => d.name === database),
    () => ctx.client.createPostgresDatabase(id, database, { signal: ctx.signal }),
    () => ctx.output.step(`creating database ${database} on ${cluster.name}`),
  );
  const createdUser = await ensure(
    userExists,
    () => ctx.client.createPostgresUser(id, user, APP_ROLE, { signal: ctx.signal }),
    () => ctx.output.step(`creating user ${user} (${APP_ROLE}) on ${cluster.name}`),
  );
  const { url, shown } = await urlFor();

  let secretWritten = false;
  let secretsVersion: number | null = null;
  let machinesUpdated: string[] = [];
  if (current.value === url) {
    ctx.output.step(`${DATABASE_URL} on ${app} already points at ${shown}`);
  } else {
    const secrets = {
      client: ctx.client,
      config: ctx.config,
      output: ctx.output,
      org,
      signal: ctx.signal,
      env: ctx.env,
      ...(ctx.waitForLockMs !== undefined ? { waitForLockMs: ctx.waitForLockMs } : {}),
    };
    const change = await setSecrets(secrets, { [DATABASE_URL]: url });
    secretWritten = true;
    secretsVersion = change.version;
    machinesUpdated = change.rolled;
    ctx.output.step(`${DATABASE_URL} on ${app} -> ${shown}`);
  }

  // Already recorded: a re-run that changes nothing makes no write at all.
  const recorded = cluster.attached_apps?.some((a) => a.name === app) ?? false;
  try {
    if (!recorded) await ctx.client.createPostgresAttachment(id, app, { signal: ctx.signal });
  } catch (error) {
    throw new DeployError(
      "database_failed",
      `${DATABASE_URL} is set on ${app}, but recording the attachment to cluster ${cluster.name} failed (${error instanceof Error ? error.message : String(error)}). Run db attach again: it will not write the secret twice.`,
      1,
      { cluster: id },
    );
  }
  const detachedFrom: string[] = [];
  for (const other of attachedTo.filter((c) => c && c !== id)) {
    if (await ctx.client.deletePostgresAttachment(other, app, { signal: ctx.signal })) detachedFrom.push(other);
    ctx.output.step(`detached ${app} from cluster ${other} (its ${DATABASE_URL} now points at ${cluster.name})`);
  }

  // Exit 0 is a promise: re-read both sides.
  const [names, after] = await Promise.all([
    ctx.client.listSecrets(app, { signal: ctx.signal }),
    ctx.client.getPostgresCluster(id, { signal: ctx.signal }),
  ]);
  if (!names.some((s) => s.name === DATABASE_URL) || !after.attached_apps?.some((a) => a.name === app)) {
    throw new DeployError(
      "database_failed",
      `after attaching, ${app} ${names.some((s) => s.name === DATABASE_URL) ? "is not listed as attached to" : `has no ${DATABASE_URL} for`} cluster ${cluster.name}: run db attach again`,
      1,
      { cluster: id },
    );
  }
  return {
    app,
    cluster: { id, name: cluster.name ?? "" },
    database,
    user,
    secret: DATABASE_URL,
    url: shown,
    createdDatabase,
    createdUser,
    secretWritten,
    secretsVersion,
    machinesUpdated,
    detachedFrom,
  };
}

/**
 * Creates something unless it exists. A create whose reply was lost (or that raced another attach) can fail
 * with "already exists" although it worked: the re-read decides.
 */
async function ensure(
  exists: () => Promise<boolean>,
  create: () => Promise<unknown>,
  announce: () => void,
): Promise<boolean> {
  if (await exists()) return false;
  announce();
  try {
    await create();
  } catch (error) {
    if (isFlyApiError(error) && (await exists())) return false;
    throw error;
  }
  return true;
}

/**
 * Whether DATABASE_URL exists, and its value when the API shows it (`show_secrets` on that one secret), kept in
 * memory only to compare. A token that may not read values still gets a correct attach: it just always writes.
 */
export async function readDatabaseUrl(ctx: DbContext): Promise<{ exists: boolean; value: string | undefined }> {
  try {
    const found = await ctx.client.getSecret(ctx.config.app, DATABASE_URL, { showSecrets: true, signal: ctx.signal });
    return { exists: found !== undefined, value: typeof found?.value === "string" ? found.value : undefined };
  } catch (error) {
    if (!isFlyApiError(error) || (error.status !== 401 && error.status !== 403 && error.status !== 400)) throw error;
  }
  const names = await ctx.client.listSecrets(ctx.config.app, { signal: ctx.signal });
  return { exists: names.some((s) => s.name === DATABASE_URL), value: undefined };
}

export interface DetachResult {
  app: string;
  cluster: { id: string; name: string };
  detached: boolean;
}

/** Removes the attachment record only (as flyctl's mpg detach): DATABASE_URL stays, and the message says so. */
export async function detachCluster(ctx: DbContext, opts: { cluster?: string }): Promise<DetachResult> {
  const app = ctx.config.app;
  const { summary } = await requireCluster(ctx, opts.cluster);
  const detached = await ctx.client.deletePostgresAttachment(summary.id, app, { signal: ctx.signal });
  const after = await ctx.client.getPostgresCluster(summary.id, { signal: ctx.signal });
  if (after.attached_apps?.some((a) => a.name === app)) {
    throw new DeployError(
      "database_failed",
      `${app} is still listed as attached to cluster ${summary.name} after the detach: run db detach again`,
      1,
      { cluster: summary.id },
    );
  }
  ctx.output.step(
    detached
      ? `detached ${app} from cluster ${summary.name} (${summary.id})`
      : `${app} was not attached to cluster ${summary.name}; nothing to do`,
  );
  ctx.output.step(
    `${DATABASE_URL} is still set on ${app} and still points at ${summary.name}: attach another cluster with \`bun deploy/run.ts db attach --cluster ID\` (it replaces ${DATABASE_URL}), or remove it with \`bun deploy/run.ts secrets unset ${DATABASE_URL}\` (production machines will not boot without it)`,
  );
  return { app, cluster: { id: summary.id, name: summary.name ?? "" }, detached };
}
