// `db backup`, `db backups`, `db restore`. Fly's API: a backup request is queued (202, no body) and shows up in
// the list, where it runs to `completed`; a restore creates a NEW cluster from a completed backup and leaves the
// source alone (flyctl mpg restore prints the new cluster's id). So a restore ends with the steps that move the
// app over: attach the new cluster (DATABASE_URL now points at it), check the app, then destroy the old one.

import type { PostgresBackup } from "../../../lib/fly/types.ts";
import { DeployError } from "../../deploy-error.ts";
import { type DbContext, pollUntil, requireCluster, waitUntilReady } from "./cluster.ts";
import { type ClusterView, clusterView } from "./create.ts";

export interface BackupView {
  id: string;
  type: string | null;
  status: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  sizeBytes: number | null;
}

function backupView(b: PostgresBackup): BackupView {
  return {
    id: b.id ?? "",
    type: b.type ?? null,
    status: b.status ?? null,
    startedAt: b.started_at ?? null,
    finishedAt: b.finished_at ?? null,
    sizeBytes: b.size_bytes ?? null,
  };
}

/** Newest first (by start time; ids as the tie-break, they are time-ordered labels). */
function newestFirst(backups: readonly PostgresBackup[]): BackupView[] {
  return backups
    .map(backupView)
    .sort((a, b) => (b.startedAt ?? "").localeCompare(a.startedAt ?? "") || b.id.localeCompare(a.id));
}

export async function listBackups(
  ctx: DbContext,
  opts: { cluster?: string },
): Promise<{ cluster: { id: string; name: string }; backups: BackupView[] }> {
  const { summary } = await requireCluster(ctx, opts.cluster);
  const backups = newestFirst(await ctx.client.listPostgresBackups(summary.id, { signal: ctx.signal }));
  return { cluster: { id: summary.id, name: summary.name ?? "" }, backups };
}

/**
 * Queues a full backup, then re-reads the list until the new backup appears (exit 0 only for a backup we have
 * seen). It is not waited on to the end: `db backups` shows when it completes.
 */
export async function createBackup(
  ctx: DbContext,
  opts: { cluster?: string; appearTimeoutMs?: number },
): Promise<{ cluster: { id: string; name: string }; backup: BackupView }> {
  const { summary } = await requireCluster(ctx, opts.cluster);
  const id = summary.id;
  if (summary.status !== "ready")
    throw new DeployError(
      "preflight_failed",
      `cluster ${summary.name} is ${summary.status}, not ready: nothing was backed up`,
      2,
    );
  const before = new Set((await ctx.client.listPostgresBackups(id, { signal: ctx.signal })).map((b) => b.id));
  ctx.output.step(`requesting a full backup of cluster ${summary.name} (${id})`);
  await ctx.client.createPostgresBackup(id, "full", { signal: ctx.signal });
  const timeoutMs = opts.appearTimeoutMs ?? 60_000;
  const backup = await pollUntil(ctx, timeoutMs, async () => {
    const fresh = (await ctx.client.listPostgresBackups(id, { signal: ctx.signal })).filter(
      (b) => b.id && !before.has(b.id),
    );
    return newestFirst(fresh)[0];
  });
  if (!backup) {
    throw new DeployError(
      "database_failed",
      `Fly accepted the backup request for cluster ${summary.name}, but no new backup was listed within ${Math.round(timeoutMs / 1000)}s: check \`bun deploy/run.ts db backups\` before requesting another`,
      1,
      { cluster: id },
    );
  }
  ctx.output.step(
    `backup ${backup.id} is ${backup.status ?? "queued"}; \`bun deploy/run.ts db backups\` shows when it completes`,
  );
  return { cluster: { id, name: summary.name ?? "" }, backup };
}

export interface RestoreResult {
  source: { id: string; name: string };
  backup: string;
  cluster: ClusterView;
  nextSteps: string[];
}

export async function restoreBackup(
  ctx: DbContext,
  opts: { cluster?: string; backup: string; name?: string },
): Promise<RestoreResult> {
  const { org, summary } = await requireCluster(ctx, opts.cluster);
  const backups = newestFirst(await ctx.client.listPostgresBackups(summary.id, { signal: ctx.signal }));
  const backup = backups.find((b) => b.id === opts.backup);
  if (!backup) {
    const known = backups
      .slice(0, 5)
      .map((b) => b.id)
      .join(", ");
    throw new DeployError(
      "preflight_failed",
      `cluster ${summary.name} has no backup ${opts.backup}${known ? ` (newest: ${known})` : " (it has no backups)"}; list them with \`bun deploy/run.ts db backups\`. Nothing was changed.`,
      2,
    );
  }
  if (backup.status !== "completed") {
    throw new DeployError(
      "preflight_failed",
      `backup ${backup.id} is ${backup.status ?? "not finished"}; only a completed backup can be restored. Nothing was changed.`,
      2,
    );
  }
  ctx.output.step(
    `restoring backup ${backup.id} of ${summary.name} into a new cluster (Fly restores into a new cluster; ${summary.name} is left as it is)`,
  );
  const created = await ctx.client.restorePostgresCluster(
    summary.id,
    { backup_id: backup.id, ...(opts.name ? { name: opts.name } : {}) },
    { signal: ctx.signal },
  );
  if (!created.id)
    throw new DeployError(
      "database_failed",
      `Fly accepted the restore of ${backup.id} but returned no cluster id: look for it with \`bun deploy/run.ts db status --cluster NAME\``,
      1,
    );
  const ready = await waitUntilReady(ctx, created.id, "restored cluster");
  const nextSteps = [
    `bun deploy/run.ts db attach --cluster ${created.id}   # point ${ctx.config.app}'s DATABASE_URL at the restored data (machines roll onto it)`,
    `bun deploy/run.ts status                               # check the app on the restored database`,
    `bun deploy/run.ts db destroy --cluster ${summary.id} --yes   # when satisfied: remove the old cluster`,
  ];
  return {
    source: { id: summary.id, name: summary.name ?? "" },
    backup: backup.id,
    cluster: clusterView(ready, org),
    nextSteps,
  };
}
