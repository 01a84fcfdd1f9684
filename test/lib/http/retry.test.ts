/** The shared retry runner: backoff, Retry-After, deadline, give-up reasons, abort. @module */
import { describe, expect, test } from "bun:test";
import { systemClock } from "../../../lib/http/clock.ts";
import {
  type AttemptResult,
  type BackoffPolicy,
  backoffStep,
  parseRetryAfter,
  retryDelay,
  withRetry,
} from "../../../lib/http/retry.ts";
import { manualClock } from "./manual-clock.ts";

const policy: BackoffPolicy = { retries: 4, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 10_000 };

/** An attempt function that plays back `script`: a string is a failure with that error, anything else a value. */
function scripted(script: AttemptResult<string, string>[]) {
  const seen: { attempt: number; remainingMs: number }[] = [];
  return {
    seen,
    attempt: async (context: { attempt: number; remainingMs: number }) => {
      seen.push(context);
      const next = script[context.attempt - 1];
      if (!next) throw new Error(`attempt ${context.attempt} was not scripted`);
      return next;
    },
  };
}

const fail = (error: string, extra: { retry?: boolean; retryAfterMs?: number; minDelayMs?: number } = {}) =>
  ({ ok: false, error, retry: extra.retry ?? true, ...extra }) as AttemptResult<string, string>;
const succeed = (value: string) => ({ ok: true, value }) as AttemptResult<string, string>;

describe("parseRetryAfter (RFC 9110 §10.2.3)", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  test("delta-seconds, including 0 and fractions", () => {
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("1.5", now)).toBe(1_500);
  });
  test("an HTTP-date is the time left until it; a past date is 0", () => {
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:07 GMT", now)).toBe(7_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now)).toBe(0);
  });
  test("absent, empty, negative or unreadable values are undefined", () => {
    for (const value of [null, undefined, "", "  ", "-1", "soon", "1e3"]) {
      expect({ value, parsed: parseRetryAfter(value, now) }).toEqual({ value, parsed: undefined });
    }
  });
});

describe("backoff", () => {
  test("equal jitter: each step lies in [step/2, step], doubling from baseDelayMs up to maxDelayMs", () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffStep(n, policy, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffStep(n, policy, () => 0.999999))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });
  test("with the real random source the step stays inside its band", () => {
    for (let i = 0; i < 200; i++) {
      const step = backoffStep(3, policy);
      expect(step).toBeGreaterThanOrEqual(200);
      expect(step).toBeLessThanOrEqual(400);
    }
  });
  test("Retry-After replaces the step (even when shorter); minDelayMs is a floor under the step only", () => {
    expect(retryDelay(3, { retry: true, retryAfterMs: 10 }, policy, () => 1)).toBe(10);
    expect(retryDelay(1, { retry: true, minDelayMs: 700 }, policy, () => 1)).toBe(700);
    expect(retryDelay(5, { retry: true, minDelayMs: 700 }, policy, () => 1)).toBe(1_000);
  });
});

describe("withRetry", () => {
  test("retries until an attempt succeeds, pausing by the backoff in between", async () => {
    const clock = manualClock();
    const run = scripted([fail("a"), fail("b"), succeed("done")]);
    const outcome = await withRetry({ attempt: run.attempt, policy, clock, random: () => 0 });
    expect(outcome).toEqual({ ok: true, value: "done", attempts: 3 });
    expect(clock.sleeps).toEqual([50, 100]);
  });

  test("a failure the caller calls not retryable ends the run at once with that error", async () => {
    const clock = manualClock();
    const run = scripted([fail("bad request", { retry: false })]);
    const outcome = await withRetry({ attempt: run.attempt, policy, clock });
    expect(outcome).toEqual({ ok: false, reason: "not_retryable", error: "bad request", attempts: 1 });
    expect(clock.sleeps).toEqual([]);
  });

  test("gives up after `retries` extra attempts with the last error", async () => {
    const clock = manualClock();
    const run = scripted([fail("1"), fail("2"), fail("3")]);
    const outcome = await withRetry({
      attempt: run.attempt,
      policy: { ...policy, retries: 2 },
      clock,
      random: () => 0,
    });
    expect(outcome).toEqual({ ok: false, reason: "retries_exhausted", error: "3", attempts: 3 });
    expect(clock.sleeps).toEqual([50, 100]);
  });

  test("Retry-After is honoured exactly; one above maxRetryAfterMs is not slept through", async () => {
    const clock = manualClock();
    const honoured = await withRetry({
      attempt: scripted([fail("429", { retryAfterMs: 3_000 }), succeed("ok")]).attempt,
      policy,
      clock,
    });
    expect(honoured.ok).toBe(true);
    expect(clock.sleeps).toEqual([3_000]);

    const tooLong = await withRetry({
      attempt: scripted([fail("429", { retryAfterMs: 60_000 })]).attempt,
      policy,
      clock,
    });
    expect(tooLong).toEqual({ ok: false, reason: "retry_after_too_long", error: "429", attempts: 1 });
    expect(clock.sleeps).toEqual([3_000]);
  });

  test("a Retry-After given as an HTTP-date, parsed against the same clock, is waited out to that moment", async () => {
    const clock = manualClock();
    const header = new Date(clock.now() + 4_000).toUTCString();
    const outcome = await withRetry({
      attempt: scripted([fail("503", { retryAfterMs: parseRetryAfter(header, clock.now()) }), succeed("ok")]).attempt,
      policy,
      clock,
    });
    expect(outcome.ok).toBe(true);
    expect(clock.sleeps).toEqual([4_000]);
  });

  test("the deadline: no pause that would end past it, and each attempt learns the time left", async () => {
    const clock = manualClock();
    const start = clock.now();
    const run = scripted([fail("1"), fail("2"), fail("3"), fail("4")]);
    const outcome = await withRetry({
      attempt: async (context) => {
        clock.advance(100); // each attempt takes 100 ms
        return run.attempt(context);
      },
      policy: { ...policy, retries: 10, baseDelayMs: 200, maxDelayMs: 200 },
      deadline: start + 700,
      clock,
      random: () => 1,
    });
    // 0: attempt 1 (100) + pause 200 = 300; attempt 2 ends at 400, pause to 600; attempt 3 ends at 700: a pause
    // of 200 would end past the deadline, so the runner stops with the last error.
    expect(outcome).toEqual({ ok: false, reason: "deadline", error: "3", attempts: 3 });
    expect(run.seen).toEqual([
      { attempt: 1, remainingMs: 700 },
      { attempt: 2, remainingMs: 400 },
      { attempt: 3, remainingMs: 100 },
    ]);
  });

  test("a deadline already passed means no attempt at all", async () => {
    const clock = manualClock();
    const run = scripted([succeed("never")]);
    const outcome = await withRetry({ attempt: run.attempt, policy, clock, deadline: clock.now() });
    expect(outcome).toEqual({ ok: false, reason: "deadline", error: undefined, attempts: 0 });
    expect(run.seen).toEqual([]);
  });

  test("an abort during a pause ends the run as aborted, and the real clock wakes at once", async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 20);
    const outcome = await withRetry({
      attempt: scripted([fail("busy", { retryAfterMs: 5_000 })]).attempt,
      policy,
      signal: controller.signal,
      clock: systemClock,
    });
    expect(outcome).toEqual({ ok: false, reason: "aborted", error: "busy", attempts: 1 });
    // Far below the 5 s Retry-After: the abort, not the timer, ended the pause (generous for a loaded machine).
    expect(performance.now() - started).toBeLessThan(2_500);
  });

  test("with real timers the pause really passes before the next attempt", async () => {
    const times: number[] = [];
    const outcome = await withRetry({
      attempt: async ({ attempt }) => {
        times.push(performance.now());
        return attempt === 1 ? fail("x", { retryAfterMs: 120 }) : succeed("ok");
      },
      policy,
    });
    expect(outcome.ok).toBe(true);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(115);
  });
});
