/**
 * App logs. They are not in the Machines API: flyctl reads them from Fly's platform API,
 * `GET https://api.fly.io/api/v1/apps/{app}/logs?next_token=&instance=&region=` (fly-go resource_logs.go,
 * GetAppLogs; flyctl logs/polling.go polls it when NATS streaming is not available). The answer is
 * `{data: [{id, attributes: {timestamp, message, level, instance, region, meta}}], meta: {next_token}}`.
 * Same token, same Authorization scheme as the Machines API (fly-go sends BubblegumHeader = FlapsHeader),
 * so this module reuses the client's transport (retries, timeouts, FlyApiError) with another base URL.
 * @module
 */

import { FlyClientConfigError } from "./client.ts";
import { FlyApiError } from "./errors.ts";
import { DEFAULT_RETRY, type RetryOptions } from "./retry.ts";
import { createTransport, type RequestInfo } from "./transport.ts";

/** Default: `FLY_API_BASE_URL` (flyctl's variable for api.fly.io), else https://api.fly.io. */
export const DEFAULT_API_BASE_URL = "https://api.fly.io";

export interface LogEntry {
  id: string;
  /** RFC 3339 with nanoseconds, as Fly sends it. */
  timestamp: string;
  message: string;
  level: string;
  /** The machine id (Fly still calls it the instance). */
  instance: string;
  region: string;
  /** Everything else Fly attaches (event provider, HTTP request, error...), passed through untouched. */
  meta: Record<string, unknown>;
}

export interface LogsPage {
  entries: LogEntry[];
  /** Token to ask for what came after this page; the previous one when Fly sent none. */
  nextToken: string;
}

export interface LogsClientOptions {
  baseUrl?: string;
  token?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  deadlineMs?: number;
  retry?: Partial<RetryOptions>;
  onRequest?: (info: RequestInfo) => void;
}

export type LogsClient = ReturnType<typeof createLogsClient>;

export function createLogsClient(options: LogsClientOptions = {}) {
  const env = options.env ?? process.env;
  const token = options.token ?? env.FLY_API_TOKEN ?? "";
  if (token.trim() === "") throw new FlyClientConfigError();
  const transport = createTransport({
    baseUrl: options.baseUrl ?? (env.FLY_API_BASE_URL || DEFAULT_API_BASE_URL),
    token,
    timeoutMs: options.timeoutMs ?? 30_000,
    deadlineMs: options.deadlineMs ?? 60_000,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    userAgent: "flightdeck",
    onRequest: options.onRequest,
  });

  return {
    baseUrl: transport.baseUrl,

    /** One page of the app's logs after `nextToken` ("" = the most recent Fly keeps), optionally filtered. */
    async getAppLogs(
      appName: string,
      opts: { nextToken?: string; instance?: string; region?: string; signal?: AbortSignal } = {},
    ): Promise<LogsPage> {
      const path = `/api/v1/apps/${encodeURIComponent(appName)}/logs`;
      // fly-go always sends next_token, empty on the first call; instance and region only when set.
      const query = {
        next_token: opts.nextToken ?? "",
        instance: opts.instance || undefined,
        region: opts.region || undefined,
      };
      const reply = await transport.send({ method: "GET", path, query, replay: "safe", signal: opts.signal });
      const invalid = (why: string) =>
        new FlyApiError({
          code: "invalid_response",
          method: "GET",
          path,
          status: reply.status,
          apiMessage: why,
          requestId: reply.requestId,
          attempts: reply.attempts,
        });
      let body: unknown;
      try {
        body = JSON.parse(reply.text);
      } catch {
        throw invalid(`logs response is not JSON: ${reply.text.slice(0, 120)}`);
      }
      const record = (body ?? {}) as { data?: unknown; meta?: { next_token?: unknown } };
      if (!Array.isArray(record.data)) throw invalid("logs response has no data list");
      const entries = record.data.map(toEntry);
      const next =
        typeof record.meta?.next_token === "string" && record.meta.next_token !== ""
          ? record.meta.next_token
          : (opts.nextToken ?? "");
      return { entries, nextToken: next };
    },
  };
}

function toEntry(item: unknown): LogEntry {
  const record = (item ?? {}) as { id?: unknown; attributes?: Record<string, unknown> };
  const a = record.attributes ?? {};
  const text = (value: unknown) =>
    typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
  const meta = a.meta && typeof a.meta === "object" ? (a.meta as Record<string, unknown>) : {};
  // Some entries carry the machine and region only in meta (fly-go LogEntry.Meta.Instance/Region).
  return {
    id: text(record.id),
    timestamp: text(a.timestamp),
    message: text(a.message),
    level: text(a.level),
    instance: text(a.instance) || text(meta.instance),
    region: text(a.region) || text(meta.region),
    meta,
  };
}
