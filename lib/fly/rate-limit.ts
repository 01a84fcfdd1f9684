/**
 * Client-side rate limiter: stay under Fly's limits instead of bouncing off them.
 *
 * Fly documents (fly.io/docs/machines/api/working-with-machines-api, "Rate Limits"; fly-machines-api.md §2):
 * per action, scoped per Machine ID or App ID, 1 req/s with bursts of 3; Get Machine 5 req/s with bursts of 10.
 * Each (action, identifier) gets a GCRA schedule: a call takes the next free slot, so concurrent callers queue
 * in order and a 5-machine create round is spaced instead of meeting 429s. The client keeps one slot of the
 * burst in reserve, so network jitter (two calls arriving closer than they were sent) stays within the limit.
 * A 429 that comes anyway (another client on the same token) is the transport's retry (retry.ts).
 * @module
 */

export interface Limit {
  perSecond: number;
  burst: number;
}

export const DEFAULT_LIMIT: Limit = { perSecond: 1, burst: 3 };
export const GET_MACHINE_LIMIT: Limit = { perSecond: 5, burst: 10 };

export interface RateLimiterOptions {
  /**
   * Real ms per Fly ms (default 1). Only a server on a fast clock (the test fake) has another; the CLI reads
   * it from FLIGHTDECK_FLY_CLOCK_SCALE.
   */
  scale?: number;
  /** Burst slots kept in reserve for jitter (default 1). */
  headroom?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RateLimiter {
  /** Waits for the call's slot; resolves with the ms waited. */
  acquire(method: string, path: string, signal?: AbortSignal): Promise<number>;
}

const MACHINE_ID = /^[0-9a-f]{14}$/;

/** The (action, identifier) a call counts against, and its limit; undefined for calls outside an app. */
export function scopeOf(method: string, path: string): { key: string; limit: Limit } | undefined {
  const parts = path.split("/").filter(Boolean);
  // The docs scope limits by Machine ID or App ID: calls outside an app (org lists, Postgres) are not spaced.
  if (parts[0] !== "v1" || parts[1] !== "apps" || parts[2] === undefined) return undefined;
  const [, , app, resource, id, ...tail] = parts;
  if (resource === "machines" && id !== undefined && MACHINE_ID.test(id)) {
    const action = tail.join("/");
    const limit = method === "GET" && action === "" ? GET_MACHINE_LIMIT : DEFAULT_LIMIT;
    return { key: `${method} machines/${action} ${id}`, limit };
  }
  // Per app: the action is the resource and what follows it, with ids (volume, certificate...) folded away.
  const rest = parts.slice(4).map((segment) => (/\d/.test(segment) ? ":id" : segment));
  return { key: `${method} ${[resource ?? "", ...rest].join("/")} ${app}`, limit: DEFAULT_LIMIT };
}

export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const scale = options.scale ?? 1;
  const headroom = options.headroom ?? 1;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => Bun.sleep(ms));
  const next = new Map<string, number>();
  return {
    async acquire(method, path, signal) {
      const scope = scopeOf(method, path);
      if (!scope) return 0;
      const { key, limit } = scope;
      const interval = (1000 / limit.perSecond) * scale;
      const tolerance = Math.max(0, limit.burst - 1 - headroom) * interval;
      const at = now();
      const arrival = Math.max(next.get(key) ?? at, at);
      next.set(key, arrival + interval);
      const wait = Math.max(0, arrival - tolerance - at);
      if (wait > 0) await sleep(wait);
      if (signal?.aborted) throw signal.reason;
      // Drop schedules that have fully drained so a long run over many machines does not grow the map.
      if (next.size > 1000) for (const [k, t] of next) if (t < now()) next.delete(k);
      return wait;
    },
  };
}

/** The limiter the CLI uses: Fly's limits, on the clock FLIGHTDECK_FLY_CLOCK_SCALE names (tests, benches). */
export function rateLimiterFromEnv(env: Record<string, string | undefined>): RateLimiter {
  const raw = env.FLIGHTDECK_FLY_CLOCK_SCALE;
  const scale = raw === undefined || raw === "" ? 1 : Number(raw);
  return createRateLimiter({ scale: Number.isFinite(scale) && scale > 0 ? scale : 1 });
}
