// Which cluster a `db` command means, in which organization, and waiting for it to be ready.
// - Organization: FLY_ORG when set; else the app's own organization (GET /v1/apps/{app}); else "personal".
//   The spec says "personal" is accepted for the caller's personal org, flyctl sends the real slug
//   (flyctl-behaviours.md §6.3): when Fly refuses "personal" we say to set FLY_ORG (exit 2, nothing changed).
// - Cluster: `--cluster ID|NAME`; else the cluster the app is attached to; else the one named `<app>-db`.
// - Ready: flyctl polls GET /v1/postgres/{id} until `ready` (15 min in fly launch); `failed` is final.

import type { FlyClient } from "../../../lib/fly/client.ts";
import { isFlyApiError } from "../../../lib/fly/errors.ts";
import type { PostgresCluster, PostgresClusterSummary } from "../../../lib/fly/types.ts";
import { DeployError } from "../../deploy-error.ts";
import { sleep } from "../../sleep.ts";
import type { DeployConfig } from "../../config/flytoml.ts";
import type { Output } from "../../output.ts";
import { defaultClusterName } from "./names.ts";

export interface DbContext {
  client: FlyClient;
  config: DeployConfig;
  output: Output;
  env: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** First poll interval while waiting for a cluster (default 500 ms, growing to 5 s). */
  pollMs?: number;
  /** How long to wait for a cluster to become ready (default 15 min, as fly launch). */
  readyTimeoutMs?: number;
  /** attach's secrets write waits this long for another run's fleet lock (--wait-for-lock). */
  waitForLockMs?: number;
}

const GONE = new Set(["deleting", "deleted"]);

export async function resolveOrg(ctx: DbContext): Promise<string> {
  if (ctx.env.FLY_ORG) return ctx.env.FLY_ORG;
  try {
    const app = await ctx.client.getApp(ctx.config.app, { signal: ctx.signal });
    if (app.organization?.slug) return app.organization.slug;
  } catch (error) {
    if (!(isFlyApiError(error) && error.status === 404)) throw error;
  }
  return "personal";
}

/** Live (not deleting/deleted) clusters of the org; a refused org is a config error with the fix. */
export async function listClusters(ctx: DbContext, org: string): Promise<PostgresClusterSummary[]> {
  try {
    return (await ctx.client.listPostgresClusters(org, { signal: ctx.signal })).filter(
      (c) => !GONE.has(c.status ?? ""),
    );
  } catch (error) {
    throw orgRefused(error, org) ?? error;
  }
}

/** The DeployError for an org Fly does not know here, or undefined when `error` is something else. */
export function orgRefused(error: unknown, org: string): DeployError | undefined {
  if (
    !isFlyApiError(error) ||
    (error.status !== 404 && error.status !== 422) ||
    !/organi[sz]ation|org_slug/i.test(error.apiMessage ?? "")
  )
    return undefined;
  return new DeployError(
    "preflight_failed",
    `Fly refused organization "${org}" for Managed Postgres (${error.apiMessage}). Set FLY_ORG to your organization's slug as the Fly dashboard shows it (e.g. export FLY_ORG=my-org-slug) and run the command again; nothing was changed.`,
    2,
  );
}

/** Finds a live cluster by id or name; undefined when there is none. */
export function findCluster(
  clusters: readonly PostgresClusterSummary[],
  ref: string,
): PostgresClusterSummary | undefined {
  return clusters.find((c) => c.id === ref) ?? clusters.find((c) => c.name === ref);
}

export interface ResolvedCluster {
  org: string;
  summary: PostgresClusterSummary & { id: string };
  /** How it was chosen, for messages. */
  by: "flag" | "attachment" | "default name";
}

/** The cluster this command is about, or undefined when none matches (callers decide whether that is an error). */
export async function resolveCluster(
  ctx: DbContext,
  explicit: string | undefined,
): Promise<{ org: string; found: ResolvedCluster | undefined }> {
  const org = await resolveOrg(ctx);
  const clusters = await listClusters(ctx, org);
  const app = ctx.config.app;
  let summary: PostgresClusterSummary | undefined;
  let by: ResolvedCluster["by"] = "flag";
  if (explicit) summary = findCluster(clusters, explicit);
  else {
    summary = clusters.find((c) => c.attached_apps?.some((a) => a.name === app));
    by = "attachment";
    if (!summary) {
      summary = findCluster(clusters, defaultClusterName(app));
      by = "default name";
    }
  }
  if (!summary?.id) return { org, found: undefined };
  return { org, found: { org, summary: { ...summary, id: summary.id }, by } };
}

/** Like resolveCluster, but no cluster is a usage error naming what was looked for. */
export async function requireCluster(ctx: DbContext, explicit: string | undefined): Promise<ResolvedCluster> {
  const { org, found } = await resolveCluster(ctx, explicit);
  if (found) return found;
  const wanted = explicit
    ? `no Managed Postgres cluster "${explicit}" in organization ${org}`
    : `app ${ctx.config.app} has no Managed Postgres cluster (none attached, none named ${defaultClusterName(ctx.config.app)}) in organization ${org}`;
  throw new DeployError(
    "preflight_failed",
    `${wanted}: create one with \`bun deploy/run.ts db create\` or name it with --cluster ID|NAME`,
    2,
  );
}

/**
 * Asks `read` again with growing pauses (pollMs, x1.5, at most 5 s) until it returns a value, or undefined once
 * `timeoutMs` would be passed. Fly's Managed Postgres operations answer at once and finish later (create 201,
 * backup and delete 202): re-reading is how we see them finish.
 */
export async function pollUntil<T>(
  ctx: DbContext,
  timeoutMs: number,
  read: () => Promise<T | undefined>,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  let delay = ctx.pollMs ?? 500;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() + delay > deadline) return undefined;
    await sleep(delay, ctx.signal);
    delay = Math.min(5_000, Math.round(delay * 1.5));
  }
}

/**
 * Polls the cluster until it is ready, printing each status change. `failed` ends it (exit 1); so does running
 * out of time or Ctrl-C, with the cluster left provisioning on Fly's side: re-running the command resumes the wait.
 */
export async function waitUntilReady(ctx: DbContext, id: string, what: string): Promise<PostgresCluster> {
  const started = Date.now();
  let last: string | undefined;
  let name = id;
  const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
  let ready: PostgresCluster | undefined;
  try {
    ready = await pollUntil(ctx, ctx.readyTimeoutMs ?? 15 * 60_000, async () => {
      const cluster = await ctx.client.getPostgresCluster(id, { signal: ctx.signal });
      const status = cluster.status ?? "unknown";
      name = cluster.name ?? id;
      if (status !== last) {
        ctx.output.step(`${what} ${name} is ${status}${status === "ready" ? ` (${seconds()}s)` : ""}`);
        last = status;
      }
      if (status === "failed") {
        throw new DeployError(
          "database_failed",
          `${what} ${name} (${id}) failed to provision. Nothing uses it yet: remove it with \`bun deploy/run.ts db destroy --cluster ${id} --yes\` and try again.`,
          1,
          { cluster: id, status },
        );
      }
      if (GONE.has(status))
        throw new DeployError("database_failed", `${what} ${name} (${id}) is ${status}`, 1, { cluster: id, status });
      // Ready means usable: Fly fills the endpoints in once it is (spec), so both must hold.
      return status === "ready" && cluster.endpoints?.primary?.pooler?.host ? cluster : undefined;
    });
  } catch (error) {
    // Ctrl-C lands either between polls (our sleep) or during one (the client's call).
    if ((error instanceof DeployError || isFlyApiError(error)) && error.code === "aborted") {
      throw new DeployError(
        "aborted",
        `interrupted while waiting: ${what} ${name} (${id}) keeps provisioning on Fly; re-run the command to resume waiting`,
        1,
        { cluster: id, status: last },
      );
    }
    throw error;
  }
  if (!ready) {
    throw new DeployError(
      "database_failed",
      `${what} ${name} (${id}) is still ${last ?? "not ready"} after ${seconds()}s; Fly keeps provisioning it: re-run the command to keep waiting.`,
      1,
      { cluster: id, status: last },
    );
  }
  return ready;
}
