// Waiting for a machine the way flyctl's leasable_machine.go does (flyctl-behaviours.md §2.6): first for the
// `started` state (chained /wait calls, each ≤ 60 s), then for every health check to report `passing`,
// both within the deploy's wait_timeout. Failures name the machine and what it was doing.

import type { FlyClient } from "../lib/fly/client.ts";
import type { Machine, MachineConfig } from "../lib/fly/types.ts";
import { DeployError } from "./deploy-error.ts";
import { sleep, throwIfAborted } from "./lease.ts";

export interface WaitContext {
  client: FlyClient;
  app: string;
  signal?: AbortSignal;
  /** First poll delay for health checks; grows to pollMaxMs. Fly allows 5 GETs/s per machine. */
  pollMs?: number;
  pollMaxMs?: number;
}

/** Waits until the machine (at `version` when given) is started. `failed` ends the wait early. */
export async function waitStarted(ctx: WaitContext, machineId: string, opts: { timeoutMs: number; version?: string }): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    throwIfAborted(ctx.signal);
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    const result = await ctx.client.waitMachine(ctx.app, machineId, {
      state: ["started", "failed"],
      version: opts.version,
      timeoutSeconds: Math.max(1, Math.min(60, Math.ceil(remaining / 1000))),
      signal: ctx.signal,
    });
    if (!result.ok) continue;
    if (result.state === "failed") {
      throw new DeployError("machine_not_started", `machine ${machineId} failed to start (state failed); check its logs with \`bun deploy/run.ts logs --machine ${machineId}\``, 1, { machineId });
    }
    return;
  }
  throw new DeployError("machine_not_started", `machine ${machineId} did not reach started within ${formatMs(opts.timeoutMs)} (wait_timeout)`, 1, { machineId });
}

/** How many checks the config defines: top-level checks plus service checks. Zero means nothing to wait for. */
export function expectedCheckCount(config: MachineConfig | undefined): number {
  if (!config) return 0;
  let count = Object.keys(config.checks ?? {}).length;
  for (const service of config.services ?? []) count += service.checks?.length ?? 0;
  return count;
}

/** Polls the machine until it reports every expected check `passing` (flyctl WaitForHealthchecksToPass). */
export async function waitHealthy(ctx: WaitContext, machineId: string, opts: { timeoutMs: number; expectedChecks: number; version?: string }): Promise<Machine | undefined> {
  if (opts.expectedChecks === 0) return undefined;
  const deadline = Date.now() + opts.timeoutMs;
  let delay = ctx.pollMs ?? 100;
  let last: Machine | undefined;
  for (;;) {
    throwIfAborted(ctx.signal);
    last = await ctx.client.getMachine(ctx.app, machineId, { signal: ctx.signal });
    const checks = last.checks ?? [];
    const current = opts.version === undefined || last.version === undefined || last.version === opts.version;
    if (current && checks.length >= opts.expectedChecks && checks.every((c) => c.status === "passing")) return last;
    if (last.state === "failed" || last.state === "destroyed") {
      throw new DeployError("machine_not_started", `machine ${machineId} went to ${last.state} while waiting for its health checks`, 1, { machineId });
    }
    if (Date.now() + delay > deadline) break;
    await sleep(delay, ctx.signal);
    delay = Math.min(Math.round(delay * 1.5), ctx.pollMaxMs ?? 1000);
  }
  const failing = (last?.checks ?? []).filter((c) => c.status !== "passing").map((c) => `${c.name}: ${c.status}${c.output ? ` (${c.output.slice(0, 120)})` : ""}`);
  throw new DeployError(
    "checks_not_passing",
    `machine ${machineId}: health checks did not pass within ${formatMs(opts.timeoutMs)} (wait_timeout)${failing.length ? `; ${failing.join("; ")}` : ""}`,
    1,
    { machineId },
  );
}

export function formatMs(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${Math.round(ms / 100) / 10}s`;
  return `${ms}ms`;
}
