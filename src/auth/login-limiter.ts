/**
 * The login and registration limit (AUTH_RATE_LIMIT_PER_MINUTE per client IP), counted in the database so it
 * holds across machines: PostgreSQL in production, the one SQLite file in previews and locally. Same answers as
 * the per-machine limiter it replaces: RateLimit-* headers, and 429 with Retry-After once over the limit.
 * The global per-IP limit (src/plugins/rate-limit.ts) stays per machine: it sheds load, it does not guard secrets.
 * @module
 */
import type { Repository } from "../db/repository.ts";
import type { RateDecision } from "../plugins/rate-limit.ts";

export const LOGIN_WINDOW_MS = 60_000;

export interface LoginLimiter {
  hit(clientIp: string): Promise<RateDecision>;
  /** Forgets windows that closed a while ago (upkeep). */
  prune(): Promise<number>;
}

export function createLoginLimiter(
  repo: Pick<Repository, "authAttempts">,
  limit: number,
  clock: () => number,
): LoginLimiter {
  return {
    async hit(clientIp) {
      const now = clock();
      const window = await repo.authAttempts.hit(`ip:${clientIp}`, now, LOGIN_WINDOW_MS);
      return {
        allowed: window.count <= limit,
        limit,
        remaining: Math.max(0, limit - window.count),
        resetSeconds: Math.max(1, Math.ceil((window.windowStart + LOGIN_WINDOW_MS - now) / 1000)),
      };
    },
    prune: () => repo.authAttempts.prune(clock() - 2 * LOGIN_WINDOW_MS),
  };
}
