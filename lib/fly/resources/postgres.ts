/**
 * Managed Postgres over the Machines API (`/v1/postgres…`, Postgres_* operations of the OpenAPI document): the
 * REST surface flyctl's `mpg` commands moved to (internal/command/mpg/v2, "public Machines API first"). Every
 * answer is wrapped in `{data: …}`; errors are `PostgresErrorResponse {error, status?}`, which FlyApiError reads
 * like any other error body. Passwords only ever pass through getPostgresUserCredentials, parsed without quoting.
 * @module
 */

import { parseCredentialReply } from "../credential-reply.ts";
import { isFlyApiError } from "../errors.ts";
import { ROUTES, type RouteName } from "../routes.ts";
import { expandPath } from "../transport.ts";
import type {
  CreatePostgresClusterRequest,
  PostgresAttachment,
  PostgresBackup,
  PostgresCluster,
  PostgresClusterSummary,
  PostgresDatabase,
  PostgresUser,
  PostgresUserCredentials,
  PostgresUserRole,
  RestorePostgresClusterRequest,
} from "../types.ts";
import { type Caller, type CallOptions, invalidResponse, isAmbiguous } from "./call.ts";

/** What the client lends this module: its one way of sending a call (retries, deadline, token, errors). */
export type PostgresCalls = Pick<Caller, "call">;

type Signal = { signal?: AbortSignal };

export type PostgresApi = ReturnType<typeof postgresApi>;

export function postgresApi({ call }: PostgresCalls) {
  const cluster = (postgres_cluster_id: string) => ({ postgres_cluster_id });

  /** `{data: T}` -> T; a 2xx without `data` is an invalid response (an optional field missing: ask again). */
  async function data<T>(route: RouteName, params: Record<string, string>, opts: CallOptions = {}): Promise<T> {
    const reply = await call(route, { ...opts, params });
    let body: { data?: T } | undefined;
    try {
      body = JSON.parse(reply.text) as { data?: T };
    } catch {
      body = undefined;
    }
    if (!body || typeof body !== "object" || body.data === undefined)
      throw invalidResponse(reply, route, params, reply.text.slice(0, 200));
    return body.data;
  }

  async function dataList<T>(route: RouteName, params: Record<string, string>, opts: CallOptions = {}): Promise<T[]> {
    const list = await data<T[]>(route, params, opts);
    if (!Array.isArray(list))
      throw invalidResponse({ status: 200, requestId: undefined, attempts: 1 }, route, params, "data is not a list");
    return list;
  }

  /** A delete that an earlier attempt of ours may already have done: 404 after a retry means done. */
  async function remove(
    route: RouteName,
    params: Record<string, string>,
    opts: Signal & { acceptStatuses?: readonly number[] } = {},
  ): Promise<number> {
    try {
      return (await call(route, { params, signal: opts.signal, acceptStatuses: opts.acceptStatuses })).status;
    } catch (error) {
      if (isFlyApiError(error) && error.status === 404 && error.attempts > 1) return 404;
      throw error;
    }
  }

  return {
    /** Clusters of an organization (a real slug: see deploy/db/cluster.ts on "personal"). */
    listPostgresClusters(
      orgSlug: string,
      opts: Signal & { includeDeleted?: boolean } = {},
    ): Promise<PostgresClusterSummary[]> {
      return dataList<PostgresClusterSummary>(
        "listPostgresClusters",
        {},
        { query: { org_slug: orgSlug, include_deleted: opts.includeDeleted || undefined }, signal: opts.signal },
      );
    },

    getPostgresCluster(id: string, opts: Signal = {}): Promise<PostgresCluster> {
      return data<PostgresCluster>("getPostgresCluster", cluster(id), { signal: opts.signal });
    },

    /**
     * Creates a cluster (201, status `creating`). Not idempotent: after an ambiguous failure the cluster may
     * exist, so with a name we look for it before trying again, as createMachine does for machines.
     */
    async createPostgresCluster(
      input: CreatePostgresClusterRequest,
      opts: Signal & { recoveries?: number } = {},
    ): Promise<PostgresCluster> {
      const recoveries = input.name ? (opts.recoveries ?? 3) : 0;
      for (let round = 0; ; round++) {
        try {
          return await data<PostgresCluster>(
            "createPostgresCluster",
            {},
            { body: input, replay: "unsafe", signal: opts.signal },
          );
        } catch (error) {
          if (!isFlyApiError(error) || round >= recoveries || !isAmbiguous(error)) throw error;
          const found = (
            await dataList<PostgresClusterSummary>(
              "listPostgresClusters",
              {},
              { query: { org_slug: input.org_slug }, signal: opts.signal },
            )
          ).find((c) => c.name === input.name && c.status !== "deleted" && c.status !== "deleting");
          if (found?.id) return data<PostgresCluster>("getPostgresCluster", cluster(found.id), { signal: opts.signal });
        }
      }
    },

    /** Schedules the deletion (202). Returns false when the cluster was already being deleted or gone (410/404). */
    async deletePostgresCluster(id: string, opts: Signal = {}): Promise<boolean> {
      const status = await remove("deletePostgresCluster", cluster(id), { signal: opts.signal, acceptStatuses: [410] });
      return status !== 410 && status !== 404;
    },

    /** Records that an app uses the cluster. The spec answers 200 for an existing attachment: safe to replay. */
    createPostgresAttachment(id: string, appName: string, opts: Signal = {}): Promise<PostgresAttachment> {
      return data<PostgresAttachment>("createPostgresAttachment", cluster(id), {
        body: { app_name: appName },
        signal: opts.signal,
      });
    },

    /** Removes the attachment record (204). Returns false when there was none (404). */
    async deletePostgresAttachment(id: string, appName: string, opts: Signal = {}): Promise<boolean> {
      try {
        return (await remove("deletePostgresAttachment", { ...cluster(id), app_name: appName }, opts)) !== 404;
      } catch (error) {
        if (isFlyApiError(error) && error.status === 404) return false;
        throw error;
      }
    },

    listPostgresBackups(id: string, opts: Signal = {}): Promise<PostgresBackup[]> {
      return dataList<PostgresBackup>("listPostgresBackups", cluster(id), { signal: opts.signal });
    },

    /** Queues a backup (202, no body). Not replayed after an ambiguous failure: a replay could queue a second. */
    async createPostgresBackup(
      id: string,
      type: NonNullable<PostgresBackup["type"]> = "full",
      opts: Signal = {},
    ): Promise<void> {
      await call("createPostgresBackup", {
        params: cluster(id),
        body: { type },
        replay: "unsafe",
        signal: opts.signal,
      });
    },

    /** Fly restores into a NEW cluster (201); the source cluster is left as it is. */
    restorePostgresCluster(
      id: string,
      input: RestorePostgresClusterRequest,
      opts: Signal = {},
    ): Promise<PostgresCluster> {
      return data<PostgresCluster>("restorePostgresCluster", cluster(id), {
        body: input,
        replay: "unsafe",
        signal: opts.signal,
      });
    },

    listPostgresDatabases(id: string, opts: Signal = {}): Promise<PostgresDatabase[]> {
      return dataList<PostgresDatabase>("listPostgresDatabases", cluster(id), { signal: opts.signal });
    },

    createPostgresDatabase(id: string, name: string, opts: Signal = {}): Promise<PostgresDatabase> {
      return data<PostgresDatabase>("createPostgresDatabase", cluster(id), {
        body: { name },
        replay: "unsafe",
        signal: opts.signal,
      });
    },

    listPostgresUsers(id: string, opts: Signal = {}): Promise<PostgresUser[]> {
      return dataList<PostgresUser>("listPostgresUsers", cluster(id), { signal: opts.signal });
    },

    createPostgresUser(id: string, username: string, role: PostgresUserRole, opts: Signal = {}): Promise<PostgresUser> {
      return data<PostgresUser>("createPostgresUser", cluster(id), {
        body: { username, role },
        replay: "unsafe",
        signal: opts.signal,
      });
    },

    /** The user's password. Never quoted in an error, never logged: it goes straight into one secrets write. */
    async getPostgresUserCredentials(
      id: string,
      username: string,
      opts: Signal = {},
    ): Promise<Required<PostgresUserCredentials>> {
      const params = { ...cluster(id), username };
      const reply = await call("getPostgresUserCredentials", { params, signal: opts.signal });
      return parseCredentialReply(
        reply,
        { method: "GET", path: expandPath(ROUTES.getPostgresUserCredentials[1], params) },
        (body) => {
          const found = (body as { data?: PostgresUserCredentials } | null)?.data;
          return typeof found?.username === "string" && typeof found.password === "string" && found.password !== ""
            ? { username: found.username, password: found.password }
            : undefined;
        },
      );
    },
  };
}
