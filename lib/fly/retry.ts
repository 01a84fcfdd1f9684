/**
 * The Fly Machines API's answers to the shared retry policy (lib/http/retry.ts), tuned to what Fly documents
 * and flyctl does:
 * - flyctl's IsTransientFlapsError treats 408, 429, any 5xx and transport errors as transient; fly-go's
 *   transport retries 502/503 and temporary network errors with jittered backoff (fly-machines-api.md §2).
 * - A call is only replayed when replaying it cannot do harm. flyctl warns that for machine create an error
 *   after the request was sent is ambiguous (the machine may exist), so "unsafe" calls are replayed only
 *   when the server provably did not act on them: 429 (rejected by the rate limiter) or a refused connection.
 * - Fly documents rate limits of ~1 req/s per action and machine, so a 429 without Retry-After waits at least
 *   `rateLimitDelayMs` (default 1 s) instead of the short exponential step.
 * @module
 */

import { type BackoffPolicy, type FailureVerdict, parseRetryAfter, retryDelay } from "../http/retry.ts";
import type { FlyApiError } from "./errors.ts";

export { parseRetryAfter };

/** How a call may be replayed after a failure. */
export type Replay =
  /** Replaying is harmless (GET, PUT, DELETE, start/stop/wait, writes keyed by an idempotency key). */
  | "safe"
  /** The call has side effects that a replay could duplicate: retried only when the server did not act. */
  | "unsafe";

export interface RetryOptions extends BackoffPolicy {
  /** Extra attempts after the first (default 4). */
  retries: number;
  /** First backoff step in ms, doubled each attempt, with jitter (default 250). */
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

/** The verdict handed to the shared runner: retryable or not, the server's Retry-After, the 429 floor. */
export function failureVerdict(
  error: FlyApiError,
  replay: Replay,
  refused: boolean,
  options: RetryOptions,
): FailureVerdict {
  return {
    retry: isRetryable(error, replay, refused),
    ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    ...(error.status === 429 ? { minDelayMs: options.rateLimitDelayMs } : {}),
  };
}

/** Delay before attempt `attempt + 1` (attempt counts from 1). `random` is injectable for tests. */
export function backoffDelay(attempt: number, error: FlyApiError, options: RetryOptions, random = Math.random): number {
  return retryDelay(attempt, failureVerdict(error, "safe", false, options), options, random);
}
