// Waiting for a machine the way flyctl's leasable_machine.go does (flyctl-behaviours.md §2.6): first for the
// `started` state (chained /wait calls, each ≤ 60 s), then for every health check to report `passing`,
// both within the deploy's wait_timeout. Failures name the machine and what it was doing.

import type { FlyClient } from "../../lib/fly/client.ts";
import { isFlyApiError } from "../../lib/fly/errors.ts";
import type { Machine, MachineConfig } from "../../lib/fly/types.ts";
import { DeployError } from "../deploy-error.ts";
import { isTransient, SETTLED_STATES } from "../fleet/settle.ts";
import { sleep, throwIfAborted } from "../sleep.ts";

export interface WaitContext {
  client: FlyClient;
  app: string;
  signal?: AbortSignal;
  /** First poll delay for health checks; grows to pollMaxMs. Fly allows 5 GETs/s per machine. */
  pollMs?: number;
  pollMaxMs?: number;
}

/** Waits until the machine (at `version` when given) is started. `failed` ends the wait early. */
export async function waitStarted(
  ctx: WaitContext,
  machineId: string,
  opts: { timeoutMs: number; version?: string },
): Promise<void> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  for (;;) {
    throwIfAborted(ctx.signal);
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    const result = await ctx.client
      .waitMachine(ctx.app, machineId, {
        state: ["started", "failed"],
        version: opts.version,
        timeoutSeconds: Math.max(1, Math.min(60, Math.ceil(remaining / 1000))),
        signal: ctx.signal,
      })
      .catch((error: unknown) => notYetVisible(error, started));
    if (result === undefined) {
      await sleep(Math.min(ctx.pollMs ?? 100, Math.max(0, deadline - Date.now())), ctx.signal);
      continue;
    }
    if (!result.ok) continue;
    // `state` is optional in WaitMachineResponse (fly-go's Wait never reads the body): after a wait for
    // "started or failed", an answer without it says one of the two happened, not which. Ask the machine.
    const state = result.state ?? (await ctx.client.getMachine(ctx.app, machineId, { signal: ctx.signal })).state;
    if (state === "failed") {
      throw new DeployError(
        "machine_not_started",
        `machine ${machineId} failed to start (state failed); check its logs with \`bun deploy/run.ts logs --machine ${machineId}\``,
        1,
        { machineId },
      );
    }
    if (state === "started") return;
    // Anything else (the GET raced a restart, or the server said nothing at all): wait again.
    await sleep(Math.min(ctx.pollMs ?? 100, Math.max(0, deadline - Date.now())), ctx.signal);
  }
  throw new DeployError(
    "machine_not_started",
    `machine ${machineId} did not reach started within ${formatMs(opts.timeoutMs)} (wait_timeout)`,
    1,
    { machineId },
  );
}

/**
 * How long a machine we just created or updated may answer 404 before we believe it. The Machines API is
 * eventually consistent: "If you've just created a machine, there's no guarantee that a subsequent request to
 * wait for state will be able to find that machine" (flyctl#4618, which retries such 404s).
 */
export const NOT_FOUND_GRACE_MS = 5_000;

/** Undefined (ask again) for a 404 within the grace since `since`; anything else is rethrown. */
export function notYetVisible(error: unknown, since: number): undefined {
  if (isFlyApiError(error) && error.status === 404 && Date.now() - since < NOT_FOUND_GRACE_MS) return undefined;
  throw error;
}

/** How many checks the config defines: top-level checks plus service checks. Zero means nothing to wait for. */
export function expectedCheckCount(config: MachineConfig | undefined): number {
  if (!config) return 0;
  let count = Object.keys(config.checks ?? {}).length;
  for (const service of config.services ?? []) count += service.checks?.length ?? 0;
  return count;
}

/** Polls the machine until it reports every expected check `passing` (flyctl WaitForHealthchecksToPass). */
export async function waitHealthy(
  ctx: WaitContext,
  machineId: string,
  opts: { timeoutMs: number; expectedChecks: number; version?: string },
): Promise<Machine | undefined> {
  if (opts.expectedChecks === 0) return undefined;
  const deadline = Date.now() + opts.timeoutMs;
  let delay = ctx.pollMs ?? 100;
  let last: Machine | undefined;
  const started = Date.now();
  for (;;) {
    throwIfAborted(ctx.signal);
    const seen = await ctx.client
      .getMachine(ctx.app, machineId, { signal: ctx.signal })
      .catch((error: unknown) => notYetVisible(error, started));
    if (seen === undefined) {
      if (Date.now() + delay > deadline) break;
      await sleep(delay, ctx.signal);
      continue;
    }
    last = seen;
    const checks = last.checks ?? [];
    const current = opts.version === undefined || last.version === undefined || last.version === opts.version;
    if (current && checks.length >= opts.expectedChecks && checks.every((c) => c.status === "passing")) return last;
    if (last.state === "failed" || last.state === "destroyed") {
      throw new DeployError(
        "machine_not_started",
        `machine ${machineId} went to ${last.state} while waiting for its health checks`,
        1,
        { machineId },
      );
    }
    if (Date.now() + delay > deadline) break;
    await sleep(delay, ctx.signal);
    delay = Math.min(Math.round(delay * 1.5), ctx.pollMaxMs ?? 1000);
  }
  const failing = (last?.checks ?? [])
    .filter((c) => c.status !== "passing")
    .map((c) => `${c.name}: ${c.status}${c.output ? ` (${c.output.slice(0, 120)})` : ""}`);
  throw new DeployError(
    "checks_not_passing",
    `machine ${machineId}: health checks did not pass within ${formatMs(opts.timeoutMs)} (wait_timeout)${failing.length ? `; ${failing.join("; ")}` : ""}`,
    1,
    { machineId },
  );
}

/**
 * Waits (within `timeoutMs`) for machines in a transitional state to settle, so what is judged afterwards is
 * where they landed (a strategy that does not wait, immediate, leaves them mid-update). True when it waited.
 */
export async function waitSettled(
  ctx: WaitContext,
  machines: readonly { id: string; state: string }[],
  timeoutMs: number,
): Promise<boolean> {
  const moving = machines.filter((m) => isTransient(m.state));
  await Promise.all(
    moving.map((m) =>
      ctx.client
        .waitForMachineState(ctx.app, m.id, {
          state: SETTLED_STATES,
          timeoutMs,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        })
        .catch((error: unknown) => {
          if (!(isFlyApiError(error) && error.status === 404)) throw error;
        }),
    ),
  );
  return moving.length > 0;
}

/**
 * Asks `check` until it says true, within `timeoutMs`; false when the time ran out first. For what Fly does
 * asynchronously and has no /wait for (an app appearing after create, disappearing after delete): the first
 * look is immediate, then the pause grows from `pollMs` to `pollMaxMs`, and the last look lands at the deadline
 * so a slow change still gets its full time.
 */
export async function pollUntil(
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; pollMs?: number; pollMaxMs?: number; signal?: AbortSignal },
): Promise<boolean> {
  const deadline = Date.now() + opts.timeoutMs;
  let delay = opts.pollMs ?? 250;
  for (;;) {
    throwIfAborted(opts.signal);
    if (await check()) return true;
    const remaining = deadline - Date.now();
    if (remaining <= 0) return false;
    await sleep(Math.min(delay, remaining), opts.signal);
    delay = Math.min(Math.round(delay * 1.5), opts.pollMaxMs ?? 2000);
  }
}

export function formatMs(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${Math.round(ms / 100) / 10}s`;
  return `${ms}ms`;
}
