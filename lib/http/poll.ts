/**
 * One polling helper: read until the value satisfies a predicate, with pauses growing by `factor` up to
 * `maxIntervalMs`, bounded by a deadline. The last pause is cut to end at the deadline, so the final read
 * happens at the deadline rather than a whole interval before it.
 *
 * Polling is how this code sees Fly's asynchronous work finish (an app becoming visible after create, fly-go's
 * WaitForApp; a Managed Postgres cluster or backup reaching its state), and how long /wait calls are chained.
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";

export interface PollOptions {
  /** Total budget from the first read, in ms. */
  timeoutMs: number;
  /** Pause after the first read (default 250). */
  intervalMs?: number;
  /** Growth of the pause after each read (default 1.5; 1 for a fixed interval). */
  factor?: number;
  /** Cap for one pause (default 5000). */
  maxIntervalMs?: number;
  signal?: AbortSignal;
  clock?: Clock;
}

export interface PollContext {
  /** 1 for the first read. */
  read: number;
  /** Time left before the deadline, in ms (never below 0). */
  remainingMs: number;
}

export type PollOutcome<T, U extends T = T> =
  | { ok: true; value: U; reads: number }
  /** `last` is the value of the final read (undefined when aborted before any read). */
  | { ok: false; reason: "deadline" | "aborted"; last: T | undefined; reads: number };

/** Polls `read` until `until` holds; a type guard narrows the value returned. */
export function pollUntil<T, U extends T>(
  read: (context: PollContext) => Promise<T> | T,
  until: (value: T) => value is U,
  options: PollOptions,
): Promise<PollOutcome<T, U>>;
export function pollUntil<T>(
  read: (context: PollContext) => Promise<T> | T,
  until: (value: T) => boolean,
  options: PollOptions,
): Promise<PollOutcome<T>>;
export async function pollUntil<T>(
  read: (context: PollContext) => Promise<T> | T,
  until: (value: T) => boolean,
  options: PollOptions,
): Promise<PollOutcome<T>> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.timeoutMs;
  const factor = options.factor ?? 1.5;
  const maxIntervalMs = options.maxIntervalMs ?? 5_000;
  let interval = options.intervalMs ?? 250;
  let last: T | undefined;
  for (let reads = 1; ; reads++) {
    if (options.signal?.aborted) return { ok: false, reason: "aborted", last, reads: reads - 1 };
    const value = await read({ read: reads, remainingMs: Math.max(0, deadline - clock.now()) });
    if (until(value)) return { ok: true, value, reads };
    last = value;
    const remaining = deadline - clock.now();
    if (remaining <= 0) return { ok: false, reason: "deadline", last, reads };
    await clock.sleep(Math.min(interval, remaining), options.signal);
    interval = Math.min(maxIntervalMs, Math.round(interval * factor));
  }
}
