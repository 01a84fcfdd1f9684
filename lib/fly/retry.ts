// Retry policy as data (after ky's normalize.ts), tuned to what Fly documents and flyctl does:
// - flyctl's IsTransientFlapsError treats 408, 429, any 5xx and transport errors as transient; fly-go's
//   transport retries 502/503 and temporary network errors with jittered backoff (fly-machines-api.md §2).
// - A call is only replayed when replaying it cannot do harm. flyctl warns that for machine create an error
//   after the request was sent is ambiguous (the machine may exist), so "unsafe" calls are replayed only
//   when the server provably did not act on them: 429 (rejected by the rate limiter) or a refused connection.
// - Fly documents rate limits of ~1 req/s per action and machine, so a 429 without Retry-After waits at least
//   `rateLimitDelayMs` (default 1 s) instead of the short exponential step.

import type { FlyApiError } from "./errors.ts";

/** How a call may be replayed after a failure. */
export type Replay =
  /** Replaying is harmless (GET, PUT, DELETE, start/stop/wait, writes keyed by an idempotency key). */
  | "safe"
  /** The call has side effects that a replay could duplicate: retried only when the server did not act. */
  | "unsafe";

export interface RetryOptions {
  /** Extra attempts after the first (default 4). */
  retries: number;
  /** First backoff step in ms, doubled each attempt, with full jitter (default 250). */
  baseDelayMs: number;
  /** Cap for one backoff step (default 5000). */
  maxDelayMs: number;
  /** Minimum wait after a 429 that carries no Retry-After (default 1000). */
  rateLimitDelayMs: number;
  /** Longest Retry-After we are willing to honour before giving up on the call (default 30000). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  retries: 4,
  baseDelayMs: 250,
  maxDelayMs: 5_000,
  rateLimitDelayMs: 1_000,
  maxRetryAfterMs: 30_000,
};

const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** Whether this failure may be retried for a call of the given replay class. */
export function isRetryable(error: FlyApiError, replay: Replay, refused: boolean): boolean {
  if (error.code === "aborted" || error.code === "invalid_response") return false;
  if (error.status === 429) return true;
  if (replay === "unsafe") return refused;
  if (error.code === "network_error" || error.code === "timeout") return true;
  return RETRYABLE_STATUSES.has(error.status);
}

/** Delay before attempt `attempt + 1` (attempt counts from 1). `random` is injectable for tests. */
export function backoffDelay(attempt: number, error: FlyApiError, options: RetryOptions, random = Math.random): number {
  if (error.retryAfterMs !== undefined) return error.retryAfterMs;
  const step = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.round(step / 2 + random() * (step / 2));
  if (error.status === 429) return Math.max(options.rateLimitDelayMs, jittered);
  return jittered;
}

/**
 * Parses a Retry-After header: delta-seconds or an HTTP date (RFC 9110 §10.2.3). Returns ms, or undefined
 * when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
