/**
 * A Clock for tests whose time moves only when something sleeps: each sleep is recorded and advances `now` by
 * exactly its length, so a test can assert the pauses a policy chose without waiting for them.
 * @module
 */
import type { Clock } from "../../../lib/http/clock.ts";

export interface ManualClock extends Clock {
  /** Every pause asked for, in order. */
  readonly sleeps: number[];
  /** Moves time forward without a sleep (work that took time, e.g. a slow attempt). */
  advance(ms: number): void;
}

export function manualClock(start = Date.parse("2026-01-01T00:00:00Z")): ManualClock {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    advance(ms) {
      now += ms;
    },
    async sleep(ms) {
      sleeps.push(ms);
      now += ms;
    },
  };
}
