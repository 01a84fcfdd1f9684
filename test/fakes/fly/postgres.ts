// /v1/postgres… (Managed Postgres, Postgres_* operations of the spec). Stateful the way Fly's is: a new cluster
// goes creating -> initializing -> ready on timers and only then has endpoints (spec: "Populated once the cluster
// is ready"), with the admin user `fly-user` and database `fly-db` Fly creates (docs mpg/configuration); users
// and databases persist; users/databases answer 503 until the cluster is ready; a backup runs, then completes;
// a restore makes a NEW cluster from a completed backup's contents (flyctl mpg restore prints the new id); a
// delete goes deleting -> deleted, after which the cluster is 404 and listed only with include_deleted.
// Variant: `personalOrgSlug` set means Fly wants the organization's real slug here and refuses "personal"
// (flyctl-behaviours.md §6.3; the spec says "personal" is accepted, which is the default mode).

import type {
  CreatePostgresClusterRequest,
  PostgresBackup,
  PostgresCluster,
  PostgresClusterSummary,
  PostgresUserRole,
  RestorePostgresClusterRequest,
} from "../../../lib/fly/types.ts";
import { empty, HttpError, json, validBody, type FakeContext } from "./context.ts";
import type { Route } from "./router.ts";
import { nowIso, randomHex } from "./state.ts";

export interface FakePgUser {
  role: PostgresUserRole;
  password: string;
}

export interface FakeBackup extends PostgresBackup {
  id: string;
  /** What a restore from this backup brings back. */
  snapshot: { databases: string[]; users: [string, FakePgUser][] };
}

export interface FakeCluster {
  id: string;
  name: string;
  orgSlug: string;
  region: string;
  plan: NonNullable<PostgresCluster["plan"]>;
  diskGb: number;
  pgMajorVersion: NonNullable<PostgresCluster["pg_major_version"]>;
  postgis: boolean;
  poolMode: "session" | "transaction";
  status: NonNullable<PostgresCluster["status"]>;
  createdAt: string;
  deletedAt?: string;
  users: Map<string, FakePgUser>;
  databases: Set<string>;
  attachments: Map<string, string>;
  backups: FakeBackup[];
  restoredFrom?: { clusterId: string; backupId: string };
}

/** Live knobs of the fake's Managed Postgres (change them between steps of a test). */
export interface FakePostgresControls {
  clusters: Map<string, FakeCluster>;
  /** Time each provisioning phase takes, and a backup's run time (default 30 ms). */
  phaseMs: number;
  /** The next N provisioning clusters end in `failed` instead of `ready`. */
  failProvisioning: number;
  /** When set, "personal" is refused as org_slug and this is the organization's real slug. */
  personalOrgSlug?: string;
}

export function createPostgresControls(
  opts: { phaseMs?: number; personalOrgSlug?: string } = {},
): FakePostgresControls {
  return {
    clusters: new Map(),
    phaseMs: opts.phaseMs ?? 30,
    failProvisioning: 0,
    ...(opts.personalOrgSlug ? { personalOrgSlug: opts.personalOrgSlug } : {}),
  };
}

const USERNAME = /^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$/;
const DATABASE = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$/;
const PLANS = new Set(["basic", "starter", "launch", "scale", "performance"]);

export function postgresRoutes(ctx: FakeContext, pg: FakePostgresControls): Route[] {
  const orgOf = (slug: string | null): string => {
    if (!slug) throw new HttpError(400, "org_slug is required");
    if (slug === "personal" && pg.personalOrgSlug)
      throw new HttpError(404, 'organization "personal" not found: use the organization\'s slug', "not_found");
    return slug;
  };

  const live = (id: string): FakeCluster => {
    const cluster = pg.clusters.get(id);
    if (!cluster || cluster.status === "deleted") throw new HttpError(404, `cluster not found: ${id}`, "not_found");
    return cluster;
  };
  const usable = (id: string): FakeCluster => {
    const cluster = live(id);
    if (cluster.status === "deleting") throw new HttpError(410, `cluster ${id} is being deleted`, "gone");
    return cluster;
  };
  const ready = (id: string): FakeCluster => {
    const cluster = usable(id);
    if (cluster.status !== "ready")
      throw new HttpError(503, `cluster ${id} is ${cluster.status}, not ready`, "cluster_not_ready");
    return cluster;
  };

  function provision(cluster: FakeCluster, contents?: FakeBackup["snapshot"]): void {
    ctx.later(pg.phaseMs, () => {
      if (cluster.status !== "creating") return;
      cluster.status = "initializing";
      ctx.later(pg.phaseMs, () => {
        if (cluster.status !== "initializing") return;
        if (pg.failProvisioning > 0) {
          pg.failProvisioning--;
          cluster.status = "failed";
          return;
        }
        if (contents) {
          for (const db of contents.databases) cluster.databases.add(db);
          for (const [name, user] of contents.users) cluster.users.set(name, { ...user });
        } else {
          cluster.users.set("fly-user", { role: "schema_admin", password: randomHex(24) });
          cluster.databases.add("fly-db");
        }
        cluster.status = "ready";
      });
    });
  }

  function newCluster(input: {
    name: string;
    orgSlug: string;
    region: string;
    plan: FakeCluster["plan"];
    diskGb: number;
    pgMajorVersion: FakeCluster["pgMajorVersion"];
    postgis: boolean;
    poolMode: FakeCluster["poolMode"];
  }): FakeCluster {
    const taken = [...pg.clusters.values()].some(
      (c) => c.orgSlug === input.orgSlug && c.name === input.name && c.status !== "deleted" && c.status !== "deleting",
    );
    if (taken)
      throw new HttpError(422, `a cluster named ${input.name} already exists in ${input.orgSlug}`, "name_taken");
    const cluster: FakeCluster = {
      id: randomHex(14),
      ...input,
      status: "creating",
      createdAt: nowIso(),
      users: new Map(),
      databases: new Set(),
      attachments: new Map(),
      backups: [],
    };
    pg.clusters.set(cluster.id, cluster);
    return cluster;
  }

  return [
    {
      method: "GET",
      path: "/v1/postgres",
      handle: ({ query }) => {
        const org = orgOf(query.get("org_slug"));
        const includeDeleted = query.get("include_deleted") === "true";
        const data = [...pg.clusters.values()]
          .filter((c) => c.orgSlug === org && (includeDeleted || c.status !== "deleted"))
          .map(summaryView);
        return json({ data });
      },
    },
    {
      method: "POST",
      path: "/v1/postgres",
      handle: ({ body }) => {
        const input = validBody<CreatePostgresClusterRequest>(ctx, "createPostgresClusterRequest", body);
        if (!input.org_slug || !input.region || !input.plan)
          throw new HttpError(400, "org_slug, plan and region are required");
        const orgSlug = orgOf(input.org_slug);
        // "Matched case-insensitively" (spec, plan).
        const plan = input.plan.toLowerCase();
        if (!PLANS.has(plan)) throw new HttpError(422, `unknown plan ${input.plan}`);
        const cluster = newCluster({
          name: input.name || `pg-${randomHex(6)}`,
          orgSlug,
          region: input.region,
          plan: (plan === "performance" ? "Performance" : plan) as FakeCluster["plan"],
          diskGb: input.disk_size_gb ?? 10,
          pgMajorVersion: input.pg_major_version ?? "17",
          postgis: input.postgis_enabled ?? false,
          poolMode: input.pool_mode ?? "session",
        });
        provision(cluster);
        return json({ data: clusterView(cluster) }, 201);
      },
    },
    {
      method: "GET",
      path: "/v1/postgres/:cluster",
      handle: ({ params }) => json({ data: clusterView(live(params.cluster!)) }),
    },
    {
      method: "DELETE",
      path: "/v1/postgres/:cluster",
      handle: ({ params }) => {
        const cluster = usable(params.cluster!);
        cluster.status = "deleting";
        ctx.later(pg.phaseMs, () => {
          cluster.status = "deleted";
          cluster.deletedAt = nowIso();
        });
        return empty(202);
      },
    },
    {
      method: "POST",
      path: "/v1/postgres/:cluster/attachments",
      handle: ({ params, body }) => {
        const cluster = usable(params.cluster!);
        const input = validBody<{ app_name: string }>(ctx, "createPostgresAttachmentRequest", body);
        if (!input.app_name) throw new HttpError(400, "app_name is required");
        if (!ctx.state.apps.has(input.app_name))
          throw new HttpError(404, `app not found: ${input.app_name}`, "not_found");
        const existing = cluster.attachments.get(input.app_name);
        const attachedAt = existing ?? nowIso();
        cluster.attachments.set(input.app_name, attachedAt);
        return json(
          { data: { app_name: input.app_name, attached_at: attachedAt, postgres_cluster_id: cluster.id } },
          existing ? 200 : 201,
        );
      },
    },
    {
      method: "DELETE",
      path: "/v1/postgres/:cluster/attachments/:appName",
      handle: ({ params }) => {
        const cluster = usable(params.cluster!);
        if (!cluster.attachments.delete(params.appName!))
          throw new HttpError(404, `app ${params.appName} is not attached to ${cluster.id}`, "not_found");
        return empty(204);
      },
    },
    {
      method: "GET",
      path: "/v1/postgres/:cluster/backups",
      handle: ({ params }) => json({ data: live(params.cluster!).backups.map(backupView) }),
    },
    {
      method: "POST",
      path: "/v1/postgres/:cluster/backups",
      handle: ({ params, body }) => {
        const cluster = ready(params.cluster!);
        const input = validBody<{ type: NonNullable<PostgresBackup["type"]> }>(
          ctx,
          "createPostgresBackupRequest",
          body,
        );
        if (!input.type) throw new HttpError(400, "type is required");
        if (cluster.backups.some((b) => b.status === "running"))
          throw new HttpError(409, "a backup is already running", "backup_in_progress");
        const backup: FakeBackup = {
          id: `${new Date().toISOString().replace(/[-:.]/g, "").slice(0, 15)}F_${randomHex(6)}`,
          type: input.type,
          status: "running",
          started_at: nowIso(),
          snapshot: {
            databases: [...cluster.databases],
            users: [...cluster.users].map(([name, user]) => [name, { ...user }]),
          },
        };
        cluster.backups.push(backup);
        ctx.later(pg.phaseMs, () => {
          backup.status = "completed";
          backup.finished_at = nowIso();
          backup.size_bytes = 8_388_608 * (1 + backup.snapshot.databases.length);
        });
        return empty(202);
      },
    },
    {
      method: "POST",
      path: "/v1/postgres/:cluster/restore",
      handle: ({ params, body }) => {
        const source = usable(params.cluster!);
        const input = validBody<RestorePostgresClusterRequest>(ctx, "restorePostgresClusterRequest", body);
        if (input.backup_id && input.pitr_time)
          throw new HttpError(422, "backup_id and pitr_time are mutually exclusive");
        if (!input.backup_id)
          throw new HttpError(422, "backup_id is required (this fake does not do point-in-time restores)");
        const backup = source.backups.find((b) => b.id === input.backup_id);
        if (!backup) throw new HttpError(404, `backup not found: ${input.backup_id}`, "not_found");
        if (backup.status !== "completed")
          throw new HttpError(422, `backup ${backup.id} is ${backup.status}, not completed`);
        const cluster = newCluster({
          name: input.name?.trim() || `${source.name}-restore-${randomHex(4)}`,
          orgSlug: source.orgSlug,
          region: source.region,
          plan: source.plan,
          diskGb: source.diskGb,
          pgMajorVersion: source.pgMajorVersion,
          postgis: source.postgis,
          poolMode: source.poolMode,
        });
        cluster.restoredFrom = { clusterId: source.id, backupId: backup.id };
        provision(cluster, backup.snapshot);
        return json({ data: clusterView(cluster) }, 201);
      },
    },
    {
      method: "GET",
      path: "/v1/postgres/:cluster/databases",
      handle: ({ params }) => json({ data: [...ready(params.cluster!).databases].sort().map((name) => ({ name })) }),
    },
    {
      method: "POST",
      path: "/v1/postgres/:cluster/databases",
      handle: ({ params, body }) => {
        const cluster = ready(params.cluster!);
        const input = validBody<{ name: string }>(ctx, "createPostgresDatabaseRequest", body);
        if (!input.name || !DATABASE.test(input.name))
          throw new HttpError(422, `invalid database name "${input.name ?? ""}"`);
        if (cluster.databases.has(input.name))
          throw new HttpError(422, `database ${input.name} already exists`, "already_exists");
        cluster.databases.add(input.name);
        return json({ data: { name: input.name } }, 201);
      },
    },
    {
      method: "GET",
      path: "/v1/postgres/:cluster/users",
      handle: ({ params }) =>
        json({ data: [...ready(params.cluster!).users].map(([username, u]) => ({ username, role: u.role })) }),
    },
    {
      method: "POST",
      path: "/v1/postgres/:cluster/users",
      handle: ({ params, body }) => {
        const cluster = ready(params.cluster!);
        const input = validBody<{ username: string; role: PostgresUserRole }>(ctx, "createPostgresUserRequest", body);
        if (!input.username || !USERNAME.test(input.username))
          throw new HttpError(422, `invalid username "${input.username ?? ""}"`);
        if (cluster.users.has(input.username))
          throw new HttpError(409, `user ${input.username} already exists`, "already_exists");
        cluster.users.set(input.username, { role: input.role, password: randomHex(24) });
        return json({ data: { username: input.username, role: input.role } }, 201);
      },
    },
    {
      method: "GET",
      path: "/v1/postgres/:cluster/users/:username/credentials",
      handle: ({ params }) => {
        const user = ready(params.cluster!).users.get(params.username!);
        if (!user) throw new HttpError(404, `user not found: ${params.username}`, "not_found");
        return json({ data: { username: params.username, password: user.password } });
      },
    },
  ];
}

/** The fields the list (PostgresClusterSummary) and the show (PostgresCluster) share. */
function commonView(c: FakeCluster) {
  return {
    id: c.id,
    name: c.name,
    region: c.region,
    plan: c.plan,
    status: c.status,
    created_at: c.createdAt,
    attached_apps: [...c.attachments.keys()].map((name) => ({ name })),
  };
}

function summaryView(c: FakeCluster): PostgresClusterSummary {
  return { ...commonView(c), ...(c.deletedAt ? { deleted_at: c.deletedAt } : {}) };
}

function clusterView(c: FakeCluster): PostgresCluster {
  const host = (kind: string) => ({ host: `${kind}.${c.id}.flympg.net`, port: 5432 });
  return {
    ...commonView(c),
    organization: { name: c.orgSlug, slug: c.orgSlug },
    cpu_kind: "shared",
    cpus: 2,
    memory_mb: 1024,
    disk_size_gb: c.diskGb,
    pg_major_version: c.pgMajorVersion,
    postgis_enabled: c.postgis,
    replicas: 1,
    storage_provisioned_bytes: c.status === "ready" ? c.diskGb * 1024 ** 3 : null,
    storage_used_bytes: null,
    ...(c.status === "ready" ? { endpoints: { primary: { pooler: host("pgbouncer"), direct: host("direct") } } } : {}),
  };
}

function backupView(b: FakeBackup): PostgresBackup {
  const { snapshot: _snapshot, ...view } = b;
  return view;
}
