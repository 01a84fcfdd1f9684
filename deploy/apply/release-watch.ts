// Watching the release command's machine until the API says how it ended (flyctl machines_releasecommand.go,
// flyctl-behaviours.md §2.2), without waiting out release_command_timeout for one that has already failed.
//
// flyctl waits for `destroyed` alone. A machine whose command failed need not get there: one that could not
// start stays `failed`, and one that exited non-zero is `stopped` until auto_destroy takes it (or for good if it
// does not). So the wait is for any of destroyed|stopped|failed, and each answer is checked against the
// machine's exit event (`request.exit_event.exit_code`, or `request.MonitorEvent.exit_event.exit_code`):
// - `failed`: it never ran the command (could not start), whatever the events say;
// - a non-zero exit code, in any other state: failed, now;
// - exit code 0 once it is stopped or gone: done;
// - anything else, notably no exit code yet ("never infer": the event may not be recorded yet): ask again.

import type { Machine, MachineEvent } from "../../lib/fly/types.ts";
import type { LogsClient } from "../../lib/fly/logs.ts";
import { isFlyApiError } from "../../lib/fly/errors.ts";
import { sleep, throwIfAborted } from "../sleep.ts";
import type { RolloutContext } from "./rollout.ts";

export type ReleaseEnding =
  | { kind: "exited"; code: number; state: string }
  /** The machine could not start (state `failed`); the code when the API recorded one. */
  | { kind: "failed_to_start"; code?: number }
  /** Gone (destroyed) and still no exit code after asking again. */
  | { kind: "code_unknown" }
  | { kind: "timed_out" };

const ENDED = ["destroyed", "stopped", "failed"] as const;
/** How often a machine already gone is asked again for its exit event before giving up on it. */
const READS_WHEN_GONE = 5;

export async function watchReleaseMachine(
  ctx: RolloutContext,
  machineId: string,
  timeoutMs: number,
): Promise<ReleaseEnding> {
  const deadline = Date.now() + timeoutMs;
  const pollMs = ctx.pollMs ?? 500;
  let goneReads = 0;
  for (;;) {
    throwIfAborted(ctx.signal);
    const remaining = deadline - Date.now();
    if (remaining <= 0) return { kind: "timed_out" };
    const waited = await ctx.client
      .waitMachine(ctx.app, machineId, {
        state: ENDED,
        timeoutSeconds: Math.max(1, Math.min(60, Math.ceil(remaining / 1000))),
        signal: ctx.signal,
      })
      .catch((error: unknown) => {
        // Destroyed and forgotten: it ended; its events say how.
        if (isFlyApiError(error) && error.status === 404) return { ok: true as const, state: "destroyed" };
        throw error;
      });
    if (!waited.ok) continue;

    const seen = await readMachine(ctx, machineId);
    const code = exitCode(seen.events);
    if (seen.state === "failed") return { kind: "failed_to_start", ...(code !== undefined ? { code } : {}) };
    if (code !== undefined && code !== 0) return { kind: "exited", code, state: seen.state ?? "unknown" };
    if (code === 0 && (seen.state === "stopped" || seen.state === "destroying" || seen.state === "destroyed"))
      return { kind: "exited", code, state: seen.state };
    if (seen.state === "destroyed" && ++goneReads >= READS_WHEN_GONE) return { kind: "code_unknown" };
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())), ctx.signal);
  }
}

/** The machine's state and events; a 404 is a destroyed machine, whose events may still be listed. */
async function readMachine(
  ctx: RolloutContext,
  machineId: string,
): Promise<{ state: string | undefined; events: MachineEvent[] }> {
  let machine: Machine | undefined;
  try {
    machine = await ctx.client.getMachine(ctx.app, machineId, { signal: ctx.signal });
  } catch (error) {
    if (!(isFlyApiError(error) && error.status === 404)) throw error;
  }
  if (machine) return { state: machine.state, events: machine.events ?? [] };
  const events = await ctx.client.listEvents(ctx.app, machineId, { signal: ctx.signal }).catch(() => []);
  return { state: "destroyed", events };
}

/** The code of the latest exit event, as flyctl reads it; undefined when none carries one. */
export function exitCode(events: readonly MachineEvent[]): number | undefined {
  const exits = events.filter((e) => e.type === "exit").sort((a, b) => (b.timestamp ?? 0) - (a.timestamp ?? 0));
  for (const event of exits) {
    const request = (event.request ?? {}) as Record<string, unknown>;
    const exit = (request.exit_event ?? (request.MonitorEvent as Record<string, unknown> | undefined)?.exit_event) as
      | { exit_code?: unknown }
      | undefined;
    if (typeof exit?.exit_code === "number") return exit.exit_code;
  }
  return undefined;
}

const LOG_LINES = 10;
const LOG_PAGES = 5;
const LOG_BUDGET_MS = 3000;

/**
 * The machine's last log lines, when Fly already has them (flyctl prints the last 100 on failure). Best effort
 * and bounded: the failure is reported with or without them (deploy tokens may not read logs).
 */
export async function lastLogLines(
  logs: Pick<LogsClient, "getAppLogs"> | undefined,
  app: string,
  machineId: string,
): Promise<string[]> {
  if (!logs) return [];
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), LOG_BUDGET_MS);
  const lines: string[] = [];
  try {
    let token = "";
    for (let page = 0; page < LOG_PAGES; page++) {
      const got = await logs.getAppLogs(app, { nextToken: token, instance: machineId, signal: controller.signal });
      lines.push(...got.entries.map((e) => e.message));
      if (got.entries.length === 0 || got.nextToken === token) break;
      token = got.nextToken;
    }
  } catch {
    // Unreadable logs change nothing about the failure being reported.
  } finally {
    clearTimeout(timer);
  }
  return lines.slice(-LOG_LINES);
}
