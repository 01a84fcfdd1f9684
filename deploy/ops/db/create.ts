// `db create`: a Managed Postgres cluster for the app (POST /v1/postgres), in the app's primary region unless
// told otherwise, waited on until ready. Re-running with the same name reuses the cluster (and resumes the wait
// when it is still provisioning), so an interrupted create converges instead of making a second cluster.

import { isFlyApiError } from "../../../lib/fly/errors.ts";
import type { CreatePostgresClusterRequest, PostgresCluster } from "../../../lib/fly/types.ts";
import { DeployError } from "../../deploy-error.ts";
import { type DbContext, findCluster, listClusters, orgRefused, resolveOrg, waitUntilReady } from "./cluster.ts";
import { defaultClusterName } from "./names.ts";

export const PLANS = ["basic", "starter", "launch", "scale", "performance"] as const;
export type Plan = (typeof PLANS)[number];

export interface CreateOptions {
  name?: string;
  region?: string;
  plan?: Plan;
  diskGb?: number;
}

export interface CreateResult {
  cluster: ClusterView;
  created: boolean;
}

export interface ClusterView {
  id: string;
  name: string;
  org: string;
  region: string | null;
  plan: string | null;
  status: string | null;
  diskGb: number | null;
  attachedApps: string[];
}

export function clusterView(cluster: PostgresCluster, org: string): ClusterView {
  return {
    id: cluster.id ?? "",
    name: cluster.name ?? "",
    org,
    region: cluster.region ?? null,
    plan: cluster.plan ?? null,
    status: cluster.status ?? null,
    diskGb: cluster.disk_size_gb ?? null,
    attachedApps: (cluster.attached_apps ?? []).map((a) => a.name ?? "").filter(Boolean),
  };
}

export async function createCluster(ctx: DbContext, opts: CreateOptions): Promise<CreateResult> {
  const name = opts.name ?? defaultClusterName(ctx.config.app);
  const region = opts.region ?? ctx.config.primaryRegion;
  if (!region)
    throw new DeployError(
      "config_invalid",
      `the config has no primary_region: set it in fly.toml or pass --region R (nothing was changed)`,
      2,
    );
  const org = await resolveOrg(ctx);
  const existing = findCluster(await listClusters(ctx, org), name);

  let id: string;
  let created = false;
  if (existing?.id) {
    id = existing.id;
    if (existing.status === "failed") {
      throw new DeployError(
        "database_failed",
        `cluster ${name} (${id}) exists but failed to provision: remove it with \`bun deploy/run.ts db destroy --cluster ${id} --yes\`, then run db create again`,
        1,
        { cluster: id },
      );
    }
    ctx.output.step(`cluster ${name} (${id}) already exists in ${org}: reusing it`);
    if (opts.region && existing.region && existing.region !== opts.region)
      ctx.output.warn(`cluster ${name} is in ${existing.region}, not ${opts.region}; it was not moved`);
    if (opts.plan && existing.plan && existing.plan.toLowerCase() !== opts.plan)
      ctx.output.warn(
        `cluster ${name} is on plan ${existing.plan}, not ${opts.plan}; change plans in the Fly dashboard`,
      );
  } else {
    const input: CreatePostgresClusterRequest = {
      org_slug: org,
      name,
      region,
      // The spec's enum spells it "Performance" (and matches plans case-insensitively).
      plan: opts.plan === "performance" ? "Performance" : (opts.plan ?? "basic"),
      ...(opts.diskGb !== undefined ? { disk_size_gb: opts.diskGb } : {}),
      // Session pooling: the service prepares named statements on every authenticated request and `bun run
      // migrate` holds an advisory lock, both of which PgBouncer's transaction mode breaks (docs mpg/cluster-
      // configuration, "Pool Mode Options").
      pool_mode: "session",
    };
    ctx.output.step(`creating Managed Postgres cluster ${name} in ${region} (plan ${input.plan}, org ${org})`);
    let cluster: PostgresCluster;
    try {
      cluster = await ctx.client.createPostgresCluster(input, { signal: ctx.signal });
    } catch (error) {
      if (isFlyApiError(error) && error.code === "aborted") {
        throw new DeployError(
          "aborted",
          `interrupted while asking Fly for cluster ${name}: it may exist now. Re-run \`bun deploy/run.ts db create\`: it reuses a cluster with this name instead of making a second one.`,
          1,
        );
      }
      throw orgRefused(error, org) ?? error;
    }
    if (!cluster.id)
      throw new DeployError(
        "database_failed",
        `Fly accepted cluster ${name} but returned no id: run db create again to find it`,
        1,
      );
    id = cluster.id;
    created = true;
  }
  const ready = await waitUntilReady(ctx, id, "cluster");
  return { cluster: clusterView(ready, org), created };
}
