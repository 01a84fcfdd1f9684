/**
 * Periodic background work of a running machine (volume heartbeat, deletion work, pruning rate-limit windows):
 * one task at a time, never overlapping itself, each failure logged and retried on the next tick.
 * @module
 */
import type { Logger } from "../lib/log.ts";
import { databaseCause, dependencyFault } from "./faults/classify.ts";

export interface UpkeepTask {
  name: string;
  run(): Promise<unknown>;
}

export interface Upkeep {
  /** Runs every task once now (boot), in order. */
  runOnce(): Promise<void>;
  /** Stops the timer and waits for a tick in progress. */
  stop(): Promise<void>;
}

export function startUpkeep(tasks: UpkeepTask[], intervalMs: number, logger: Logger): Upkeep {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = running.then(async () => {
      for (const task of tasks) {
        if (stopped) return;
        await task
          .run()
          .catch((error) =>
            logger.error("upkeep task failed; retrying next tick", { task: task.name, ...causeOf(error), error }),
          );
      }
    });
    return running;
  };
  const timer = setInterval(tick, intervalMs);
  // Upkeep alone must not keep a process alive that is otherwise done (tests, a failed boot).
  timer.unref();
  return {
    runOnce: tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** A task body that does its work at most once per `intervalMs` however often upkeep ticks. */
export function atMostEvery(
  intervalMs: number,
  run: () => Promise<unknown>,
  clock: () => number = Date.now,
): () => Promise<unknown> {
  let last = -Infinity;
  return async () => {
    if (clock() - last < intervalMs) return;
    last = clock();
    return run();
  };
}

/**
 * PostgreSQL's message and SQLSTATE from under drizzle's "Failed query: ..." wrapper (which alone says nothing
 * of why), and whether the database is simply down, so a log reader tells an outage from a bug.
 */
function causeOf(error: unknown): Record<string, unknown> {
  const cause = databaseCause(error);
  const fault = dependencyFault(error);
  return {
    ...(cause ? { cause: cause.message, sqlstate: cause.code } : {}),
    ...(fault ? { fault: fault.code, fault_cause: fault.cause } : {}),
  };
}
