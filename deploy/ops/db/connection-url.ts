// The DATABASE_URL that `db attach` writes. Fly's Managed Postgres docs (mpg/client-configuration): the app
// connects through the pooled endpoint (`pgbouncer.<cluster>.flympg.net`, PgBouncer), the direct one is for
// session-scoped work; "SSL is enabled by default on all MPG connections". We add `sslmode=require` anyway: the
// server offering TLS is not the client insisting on it, and libpq-style clients default to `prefer`, which
// would fall back to plaintext if something in the path stripped TLS. Bun.sql honours sslmode=require.

import type { PostgresCluster } from "../../../lib/fly/types.ts";

export interface PooledEndpoint {
  host: string;
  port?: number;
}

/** The primary's pooled endpoint, or undefined while the cluster has none (it is not ready yet). */
export function pooledEndpoint(cluster: PostgresCluster): PooledEndpoint | undefined {
  const pooler = cluster.endpoints?.primary?.pooler;
  if (!pooler?.host) return undefined;
  return { host: pooler.host, ...(pooler.port ? { port: pooler.port } : {}) };
}

export function databaseUrl(endpoint: PooledEndpoint, user: string, password: string, database: string): string {
  const port = endpoint.port ? `:${endpoint.port}` : "";
  return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${endpoint.host}${port}/${encodeURIComponent(database)}?sslmode=require`;
}

/** The same URL with the password replaced, for messages. */
export function redactedUrl(endpoint: PooledEndpoint, user: string, database: string): string {
  return databaseUrl(endpoint, user, "***", database);
}
