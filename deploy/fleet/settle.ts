/**
 * Transient means ask again: a machine caught on its way somewhere (Fly docs machines/machine-states: creating,
 * starting, updating, replacing, stopping, destroying, suspending, launching) says nothing yet about where it
 * lands, so verify, rollback's "fleet now" and the final report read the fleet until every machine is in a
 * settled state (started, stopped, suspended, failed, destroyed), bounded by the deploy's wait_timeout. The
 * server's /wait does the waiting (≤ 60 s per call, fly-machines-api.md §5.5); a read follows, because a machine
 * can land in a state /wait cannot name (`created`, after a create with skip_launch) or move on again.
 * @module
 */

import type { FlyClient } from "../../lib/fly/client.ts";
import { isFlyApiError } from "../../lib/fly/errors.ts";
import type { WaitableState } from "../../lib/fly/types.ts";
import { sleep, throwIfAborted } from "../sleep.ts";

/** States a machine passes through (docs machines/machine-states, plus `restarting` from the stuck heuristics). */
export const TRANSIENT_STATES: ReadonlySet<string> = new Set([
  "creating",
  "starting",
  "updating",
  "replacing",
  "restarting",
  "stopping",
  "destroying",
  "suspending",
  "launching",
]);

/** Where a machine rests until something moves it: the states a wait ends on. */
export const SETTLED_STATES: readonly WaitableState[] = ["started", "stopped", "suspended", "failed", "destroyed"];

export function isTransient(state: string | undefined): boolean {
  return state !== undefined && TRANSIENT_STATES.has(state);
}

export interface SettleContext {
  client: FlyClient;
  app: string;
  /** The deploy's wait_timeout: how long the whole settle may take. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Pause after a 404 (a just-created machine not visible yet) before reading again. */
  pollMs?: number;
}

/** One /wait at most this long before reading again: a machine that lands on `created` is not waited out. */
const WAIT_SLICE_MS = 10_000;

/**
 * Reads (`read`) until no machine of the reading is transient or `timeoutMs` ran out, and returns the last
 * reading: what the caller judges is what it re-read after settling. `first`, when given, is a reading just made.
 */
export async function readSettled<T>(
  ctx: SettleContext,
  read: () => Promise<T>,
  machinesOf: (reading: T) => readonly { id?: string; state?: string }[],
  first?: T,
): Promise<T> {
  const deadline = Date.now() + ctx.timeoutMs;
  let reading = first ?? (await read());
  for (;;) {
    const moving = machinesOf(reading).filter((m) => m.id && isTransient(m.state));
    const remaining = deadline - Date.now();
    if (moving.length === 0 || remaining <= 0) return reading;
    throwIfAborted(ctx.signal);
    const slice = Math.min(remaining, WAIT_SLICE_MS);
    const outcomes = await Promise.all(moving.map((m) => waitOne(ctx, m.id as string, slice)));
    // Every machine 404ed (not visible yet, or gone): the server did not wait, so pause before asking again.
    if (outcomes.every((o) => o === "unseen")) await sleep(Math.min(ctx.pollMs ?? 100, remaining), ctx.signal);
    reading = await read();
  }
}

async function waitOne(ctx: SettleContext, machineId: string, timeoutMs: number): Promise<"waited" | "unseen"> {
  try {
    await ctx.client.waitForMachineState(ctx.app, machineId, {
      state: SETTLED_STATES,
      timeoutMs,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    return "waited";
  } catch (error) {
    // Not found: just created and not visible yet (flyctl#4618), or destroyed meanwhile; the next read says which.
    if (isFlyApiError(error) && error.status === 404) return "unseen";
    throw error;
  }
}
