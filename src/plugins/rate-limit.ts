/**
 * Per-client-IP rate limiting with a fixed one-minute window, answering with the IETF draft
 * `RateLimit-Limit/Remaining/Reset` headers (draft-ietf-httpapi-ratelimit-headers) and 429 + `Retry-After`.
 *
 * The client IP is `Fly-Client-IP` only when TRUST_PROXY is on: Fly's proxy sets that header and replaces any
 * value the client sent (https://fly.io/docs/networking/request-headers/). Without the proxy the header is
 * client-controlled, so the socket address is used and a spoofed header changes nothing.
 * @module
 */
import { Elysia } from "elysia";
import type { Config } from "../../lib/config.ts";
import { HttpError } from "../errors.ts";
import { type HookContext, pathOf } from "./request-context.ts";

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

export class FixedWindowLimiter {
  private readonly windows = new Map<string, { count: number; resetsAt: number }>();

  constructor(
    readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
    /** Bounds memory under many distinct clients: expired windows are swept once the map grows past this. */
    private readonly sweepAbove = 10_000,
  ) {}

  hit(key: string): RateDecision {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || window.resetsAt <= now) {
      if (this.windows.size >= this.sweepAbove) this.sweep(now);
      window = { count: 0, resetsAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    window.count += 1;
    return {
      allowed: window.count <= this.limit,
      limit: this.limit,
      remaining: Math.max(0, this.limit - window.count),
      resetSeconds: Math.max(1, Math.ceil((window.resetsAt - now) / 1000)),
    };
  }

  private sweep(now: number) {
    for (const [key, window] of this.windows) if (window.resetsAt <= now) this.windows.delete(key);
  }
}

export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  return writeRateLimitHeaders({}, decision);
}

/** Sets the three headers on an existing header record (the request path avoids a temporary object). */
export function writeRateLimitHeaders(headers: Record<string, string>, decision: RateDecision): Record<string, string> {
  headers["ratelimit-limit"] = String(decision.limit);
  headers["ratelimit-remaining"] = String(decision.remaining);
  headers["ratelimit-reset"] = String(decision.resetSeconds);
  return headers;
}

export function tooManyRequests(decision: RateDecision, what = "requests"): HttpError {
  return new HttpError(
    429,
    "rate_limited",
    `too many ${what} from this client; retry after ${decision.resetSeconds} s`,
    { retry_after_s: decision.resetSeconds },
    { ...rateLimitHeaders(decision), "retry-after": String(decision.resetSeconds) },
  );
}

const clientIps = new WeakMap<Request, string>();

/** The client IP the rate-limit plugin resolved for this request ("unknown" outside a server, e.g. app.handle). */
export function clientIpOf(request: Request): string {
  return clientIps.get(request) ?? "unknown";
}

export interface SocketServer {
  requestIP(request: Request): { address: string } | null;
}

export function resolveClientIp(
  request: Request,
  trustProxy: boolean,
  server: SocketServer | null | undefined,
): string {
  if (trustProxy) {
    const forwarded = request.headers.get("fly-client-ip")?.trim();
    if (forwarded) return forwarded;
  }
  return server?.requestIP(request)?.address ?? "unknown";
}

/** Paths that never count: Fly's health checks and the metrics scraper must not be throttled by users' traffic. */
export function isExempt(path: string): boolean {
  return path === "/health" || path === "/metrics" || path.startsWith("/health/") || path.startsWith("/metrics/");
}

/**
 * `server` returns the Bun server the app is mounted on (server.ts sets it on the app). It is passed in rather
 * than read from the hook's context: a hook naming `server` makes Elysia define that property on every
 * request's context, for every route (measured: 1.4 us of a /health/live request in process, bench/plugins.ts).
 */
export function rateLimit(
  config: Pick<Config, "rateLimitPerMinute" | "trustProxy">,
  now: () => number = Date.now,
  server: () => SocketServer | null | undefined = () => null,
) {
  const limiter = new FixedWindowLimiter(config.rateLimitPerMinute, 60_000, now);
  return new Elysia({ name: "rate-limit" }).onRequest(function rateLimit({ request, path, set }: HookContext) {
    if (isExempt(pathOf(request, path))) return;
    const ip = resolveClientIp(request, config.trustProxy, server());
    clientIps.set(request, ip);
    const decision = limiter.hit(ip);
    if (!decision.allowed) throw tooManyRequests(decision);
    writeRateLimitHeaders(set.headers as Record<string, string>, decision);
  });
}
