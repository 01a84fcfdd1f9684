/** The shared polling helper: predicate, growing pauses, the deadline, abort, the type-guard overload. @module */
import { describe, expect, test } from "bun:test";
import { pollUntil } from "../../../lib/http/poll.ts";
import { manualClock } from "./manual-clock.ts";

describe("pollUntil", () => {
  test("reads until the predicate holds, pausing intervalMs x factor up to maxIntervalMs", async () => {
    const clock = manualClock();
    const statuses = ["creating", "creating", "initializing", "initializing", "initializing", "ready"];
    const outcome = await pollUntil(
      ({ read }) => statuses[read - 1]!,
      (status) => status === "ready",
      { timeoutMs: 60_000, intervalMs: 100, factor: 2, maxIntervalMs: 500, clock },
    );
    expect(outcome).toEqual({ ok: true, value: "ready", reads: 6 });
    expect(clock.sleeps).toEqual([100, 200, 400, 500, 500]);
  });

  test("a value that holds on the first read returns without a pause", async () => {
    const clock = manualClock();
    const outcome = await pollUntil(
      () => Promise.resolve(true),
      (ok) => ok,
      { timeoutMs: 1_000, clock },
    );
    expect(outcome).toEqual({ ok: true, value: true, reads: 1 });
    expect(clock.sleeps).toEqual([]);
  });

  test("the deadline: the last pause is cut so the final read happens at the deadline, then it gives up", async () => {
    const clock = manualClock();
    const start = clock.now();
    const readAt: number[] = [];
    const outcome = await pollUntil(
      ({ remainingMs }) => {
        readAt.push(clock.now() - start);
        return { status: "creating", remainingMs };
      },
      (value) => value.status === "ready",
      { timeoutMs: 1_000, intervalMs: 300, factor: 1, clock },
    );
    expect(readAt).toEqual([0, 300, 600, 900, 1_000]);
    expect(clock.sleeps).toEqual([300, 300, 300, 100]);
    expect(outcome).toEqual({ ok: false, reason: "deadline", last: { status: "creating", remainingMs: 0 }, reads: 5 });
  });

  test("slow reads count against the deadline", async () => {
    const clock = manualClock();
    const outcome = await pollUntil(
      () => {
        clock.advance(400);
        return false;
      },
      (done) => done,
      { timeoutMs: 1_000, intervalMs: 250, factor: 1, clock },
    );
    // Reads end at 400, 1050 (past the deadline after a 250 pause): two reads, one pause.
    expect(outcome).toEqual({ ok: false, reason: "deadline", last: false, reads: 2 });
    expect(clock.sleeps).toEqual([250]);
  });

  test("an aborted signal stops before the next read", async () => {
    const clock = manualClock();
    const controller = new AbortController();
    const outcome = await pollUntil(
      ({ read }) => {
        if (read === 2) controller.abort();
        return read;
      },
      () => false,
      { timeoutMs: 10_000, intervalMs: 10, signal: controller.signal, clock },
    );
    expect(outcome).toEqual({ ok: false, reason: "aborted", last: 2, reads: 2 });
  });

  test("a type guard narrows the value (T | undefined -> T)", async () => {
    const clock = manualClock();
    const outcome = await pollUntil(
      ({ read }) => (read < 3 ? undefined : { id: "backup-1" }),
      (value): value is { id: string } => value !== undefined,
      { timeoutMs: 10_000, clock },
    );
    if (!outcome.ok) throw new Error(`expected a value, got ${outcome.reason}`);
    expect(outcome.value.id).toBe("backup-1");
    expect(outcome.reads).toBe(3);
  });

  test("with real timers it waits between reads and stops near the deadline", async () => {
    const started = performance.now();
    const outcome = await pollUntil(
      () => false,
      (done) => done,
      { timeoutMs: 150, intervalMs: 40, factor: 1 },
    );
    const elapsed = performance.now() - started;
    expect(outcome.ok).toBe(false);
    expect(elapsed).toBeGreaterThanOrEqual(145);
    // Reads at ~0, 40, 80, 120, 150: a slow machine may fit fewer, never more.
    expect(outcome.reads).toBeLessThanOrEqual(5);
    expect(outcome.reads).toBeGreaterThanOrEqual(2);
  });
});
