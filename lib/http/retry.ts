/**
 * One retry policy for every HTTP client here (Fly Machines, GitHub, the image registry): exponential backoff with
 * jitter, a server's Retry-After honoured up to a cap, an overall deadline, and the question "is this failure
 * worth another attempt?" left to the caller, because only the caller knows whether a replay is harmless.
 *
 * Jitter is "equal jitter" (half the step fixed, half random), after AWS's "Exponential Backoff and Jitter": the
 * fixed half keeps a floor under the wait, the random half spreads clients that failed together.
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";

export interface BackoffPolicy {
  /** Extra attempts after the first. */
  retries: number;
  /** First backoff step in ms, doubled each attempt. */
  baseDelayMs: number;
  /** Cap for one backoff step. */
  maxDelayMs: number;
  /** Longest Retry-After honoured; a longer one ends the call instead of sleeping through it. */
  maxRetryAfterMs: number;
}

/** What the caller says about one failed attempt. */
export interface FailureVerdict {
  retry: boolean;
  /** The server's Retry-After in ms (see parseRetryAfter); when set it replaces the backoff step. */
  retryAfterMs?: number;
  /** A floor under the backoff step when there is no Retry-After (e.g. Fly's ~1 req/s rate limit after a 429). */
  minDelayMs?: number;
}

/** One attempt's result: a value, or a failure with the caller's verdict on it. */
export type AttemptResult<T, E> = { ok: true; value: T } | ({ ok: false; error: E } & FailureVerdict);

/** Why the runner stopped without a value. */
export type GiveUpReason =
  /** The caller's verdict was `retry: false`. */
  | "not_retryable"
  /** `retries` extra attempts were made. */
  | "retries_exhausted"
  /** The server asked for a longer pause than `maxRetryAfterMs`. */
  | "retry_after_too_long"
  /** The deadline came before the next attempt could start (or its pause would end past it). */
  | "deadline"
  /** The caller's signal aborted during a pause. */
  | "aborted";

export type RetryOutcome<T, E> =
  | { ok: true; value: T; attempts: number }
  | { ok: false; reason: GiveUpReason; error: E | undefined; attempts: number };

export interface AttemptContext {
  /** 1 for the first try, 2 for the first retry, ... */
  attempt: number;
  /** Time left before the deadline, in ms (Infinity without one): a per-attempt timeout should not exceed it. */
  remainingMs: number;
}

export interface RetryRun<T, E> {
  attempt(context: AttemptContext): Promise<AttemptResult<T, E>>;
  policy: BackoffPolicy;
  /** Absolute time (on `clock`) after which no attempt starts. */
  deadline?: number;
  signal?: AbortSignal;
  clock?: Clock;
  /** Jitter source in [0, 1); tests pin it. */
  random?: () => number;
}

/** The jittered step before attempt `attempt + 1`: in [step/2, step], step = min(max, base * 2^(attempt-1)). */
export function backoffStep(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** The pause before attempt `attempt + 1`: the server's Retry-After when given, else the step (with its floor). */
export function retryDelay(
  attempt: number,
  verdict: FailureVerdict,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  if (verdict.retryAfterMs !== undefined) return verdict.retryAfterMs;
  return Math.max(verdict.minDelayMs ?? 0, backoffStep(attempt, policy, random));
}

/**
 * Parses a Retry-After header: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). Returns ms from `now`
 * (0 for a date in the past), or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // Every HTTP-date form (IMF-fixdate, rfc850-date, asctime-date; RFC 9110 §5.6.7) opens with the day name; the
  // check keeps Date.parse's leniency from reading "-1" or "1e3" as a date in the past (an immediate retry).
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Runs attempts until one succeeds or the policy says stop. Never throws on its own account: giving up is an
 * outcome with a reason, the last error and the number of attempts, for the caller to turn into its own error.
 */
export async function withRetry<T, E>(run: RetryRun<T, E>): Promise<RetryOutcome<T, E>> {
  const clock = run.clock ?? systemClock;
  const deadline = run.deadline ?? Number.POSITIVE_INFINITY;
  let last: E | undefined;
  for (let attempt = 1; ; attempt++) {
    const remainingMs = deadline - clock.now();
    if (remainingMs <= 0) return { ok: false, reason: "deadline", error: last, attempts: attempt - 1 };
    const result = await run.attempt({ attempt, remainingMs });
    if (result.ok) return { ok: true, value: result.value, attempts: attempt };
    last = result.error;
    const stop = (reason: GiveUpReason): RetryOutcome<T, E> => ({
      ok: false,
      reason,
      error: result.error,
      attempts: attempt,
    });
    if (!result.retry) return stop("not_retryable");
    if (attempt > run.policy.retries) return stop("retries_exhausted");
    if (result.retryAfterMs !== undefined && result.retryAfterMs > run.policy.maxRetryAfterMs) {
      return stop("retry_after_too_long");
    }
    const delay = retryDelay(attempt, result, run.policy, run.random);
    if (clock.now() + delay >= deadline) return stop("deadline");
    await clock.sleep(delay, run.signal);
    if (run.signal?.aborted) return stop("aborted");
  }
}
