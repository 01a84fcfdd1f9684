// `db status` and `db destroy`: what the app's cluster is, and removing it.

import { isFlyApiError } from "../../../lib/fly/errors.ts";
import { DeployError } from "../../deploy-error.ts";
import { DATABASE_URL, readDatabaseUrl } from "./attach.ts";
import { type DbContext, pollUntil, requireCluster, resolveCluster } from "./cluster.ts";
import { pooledEndpoint } from "./connection-url.ts";
import { type ClusterView, clusterView } from "./create.ts";

export interface StatusResult {
  app: string;
  org: string;
  cluster:
    | (ClusterView & {
        poolerHost: string | null;
        pgMajorVersion: string | null;
        storageUsedBytes: number | null;
        latestBackup: { id: string; status: string | null; startedAt: string | null } | null;
      })
    | null;
  attached: boolean;
  databaseUrlSet: boolean;
  /** The host DATABASE_URL names (never the rest of it), or null when unset or unreadable with this token. */
  databaseUrlHost: string | null;
  /** Whether that host is one of this cluster's endpoints; null when it cannot be told. */
  databaseUrlPointsHere: boolean | null;
}

export async function clusterStatus(ctx: DbContext, opts: { cluster?: string }): Promise<StatusResult> {
  const app = ctx.config.app;
  const { org, found } = await resolveCluster(ctx, opts.cluster);
  const current = await readDatabaseUrl(ctx);
  const databaseUrlHost = hostOf(current.value);
  const databaseUrl = { databaseUrlSet: current.exists, databaseUrlHost };
  if (!found) return { app, org, cluster: null, attached: false, ...databaseUrl, databaseUrlPointsHere: null };
  const cluster = await ctx.client.getPostgresCluster(found.summary.id, { signal: ctx.signal });
  const backups =
    cluster.status === "ready" ? await ctx.client.listPostgresBackups(found.summary.id, { signal: ctx.signal }) : [];
  const latest = [...backups].sort((a, b) => (b.started_at ?? "").localeCompare(a.started_at ?? ""))[0];
  const view = clusterView(cluster, org);
  return {
    app,
    org,
    cluster: {
      ...view,
      poolerHost: pooledEndpoint(cluster)?.host ?? null,
      pgMajorVersion: cluster.pg_major_version ?? null,
      storageUsedBytes: cluster.storage_used_bytes ?? null,
      latestBackup: latest?.id
        ? { id: latest.id, status: latest.status ?? null, startedAt: latest.started_at ?? null }
        : null,
    },
    attached: view.attachedApps.includes(app),
    ...databaseUrl,
    databaseUrlPointsHere:
      databaseUrlHost === null
        ? null
        : [cluster.endpoints?.primary?.pooler?.host, cluster.endpoints?.primary?.direct?.host].includes(
            databaseUrlHost,
          ),
  };
}

function hostOf(url: string | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).hostname || null;
  } catch {
    return null;
  }
}

export function formatStatus(status: StatusResult): string {
  const c = status.cluster;
  if (!c)
    return `app ${status.app} has no Managed Postgres cluster in ${status.org} (create one with \`bun deploy/run.ts db create\`)\n`;
  const lines = [
    `cluster ${c.name} (${c.id})  ${c.status ?? "?"}`,
    `  org ${c.org}, region ${c.region ?? "?"}, plan ${c.plan ?? "?"}, disk ${c.diskGb ?? "?"} GB, PostgreSQL ${c.pgMajorVersion ?? "?"}`,
    `  pooled endpoint: ${c.poolerHost ?? "not yet (the cluster is not ready)"}`,
    `  attached apps: ${c.attachedApps.join(", ") || "none"}`,
    `  latest backup: ${c.latestBackup ? `${c.latestBackup.id} ${c.latestBackup.status ?? ""} ${c.latestBackup.startedAt ?? ""}`.trimEnd() : "none"}`,
    `app ${status.app}: ${status.attached ? "attached" : "not attached"}, ${DATABASE_URL} ${status.databaseUrlSet ? `set${pointsAt(status)}` : "not set"}`,
  ];
  return `${lines.join("\n")}\n`;
}

export interface DestroyResult {
  cluster: { id: string; name: string };
  destroyed: boolean;
}

/**
 * Deletes the cluster (202: Fly deletes it in the background) and re-reads it until it is deleting or gone.
 * Refused while an app is attached, unless `force`: it is that app's production database.
 */
export async function destroyCluster(
  ctx: DbContext,
  opts: { cluster?: string; force?: boolean },
): Promise<DestroyResult> {
  const { summary } = await requireCluster(ctx, opts.cluster);
  const attached = (summary.attached_apps ?? []).map((a) => a.name ?? "").filter(Boolean);
  if (attached.length > 0 && !opts.force) {
    throw new DeployError(
      "preflight_failed",
      `cluster ${summary.name} (${summary.id}) is attached to ${attached.join(", ")}: its data would be lost for good. Detach first (\`bun deploy/run.ts db detach\`) or pass --force. Nothing was changed.`,
      2,
      { cluster: summary.id, attached },
    );
  }
  ctx.output.step(
    `destroying Managed Postgres cluster ${summary.name} (${summary.id})${attached.length ? `, attached to ${attached.join(", ")} (--force)` : ""}`,
  );
  const scheduled = await ctx.client.deletePostgresCluster(summary.id, { signal: ctx.signal });
  // Exit 0 once Fly has been seen deleting it (or it is gone already).
  const seen = await pollUntil(ctx, 60_000, async () => {
    try {
      const status = (await ctx.client.getPostgresCluster(summary.id, { signal: ctx.signal })).status;
      return status === "deleting" || status === "deleted" ? status : undefined;
    } catch (error) {
      if (isFlyApiError(error) && error.status === 404) return "deleted";
      throw error;
    }
  });
  if (!seen)
    throw new DeployError(
      "database_failed",
      `cluster ${summary.name} is not being deleted a minute after the request: run db destroy again`,
      1,
      { cluster: summary.id },
    );
  ctx.output.step(
    scheduled ? `cluster ${summary.name} is being destroyed` : `cluster ${summary.name} was already being destroyed`,
  );
  return { cluster: { id: summary.id, name: summary.name ?? "" }, destroyed: true };
}

function pointsAt(status: StatusResult): string {
  if (status.databaseUrlPointsHere === null) return "";
  return status.databaseUrlPointsHere
    ? " (points at this cluster)"
    : ` (points at ${status.databaseUrlHost}, not this cluster)`;
}
