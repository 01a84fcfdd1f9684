/**
 * What lets a PR comment say "ready": `immediate` does not wait (flyctl §2.7), so preview up waits here for
 * each machine it runs, started and then its checks passing, within the template's wait_timeout, and then
 * verifies the fleet as re-read once every machine settled (fleet/settle.ts). A create on Fly may answer the
 * documented transient state `creating` (docs machines/machine-states): that machine is waited for, never
 * judged or skipped. A failed machine is a failed preview; one the proxy stopped (scale to zero, skip_launch)
 * is not waited for.
 * @module
 */

import type { FlyClient } from "../../lib/fly/client.ts";
import { expectedCheckCount, waitHealthy, waitStarted } from "../apply/waits.ts";
import type { DeployConfig } from "../config/flytoml.ts";
import { DeployError } from "../deploy-error.ts";
import { observe } from "../fleet/observe.ts";
import { readSettled } from "../fleet/settle.ts";
import { verifyGroups } from "../fleet/verify-groups.ts";
import type { Plan } from "../plan/types.ts";

/** States of a machine on its way to `started` (or there): the ones a ready preview waits for. */
const LAUNCHING = new Set(["creating", "created", "starting", "started", "replacing", "updating", "launching"]);

export async function waitPreviewReady(
  client: FlyClient,
  config: DeployConfig,
  target: Plan["target"],
  opts: { machineIds?: readonly string[]; pollMs?: number | undefined; signal?: AbortSignal | undefined } = {},
): Promise<void> {
  const app = config.app;
  const timeoutMs = config.deploy.waitTimeoutMs;
  const signal = opts.signal;
  const ctx = {
    client,
    app,
    ...(signal ? { signal } : {}),
    ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
  };
  // The deploy's own machines are read by id when the (eventually consistent) list does not show them yet.
  const known = { ids: new Set(opts.machineIds ?? []), destroyed: new Set<string>() };
  const read = () => observe(client, app, { known, ...(signal ? { signal } : {}) });
  for (const machine of (await read()).machines) {
    if (!machine.id) continue;
    if (machine.state === "failed") throw failedMachine(app, machine.id);
    if (!LAUNCHING.has(machine.state ?? "")) continue;
    const started = Date.now();
    await waitStarted(ctx, machine.id, { timeoutMs });
    const left = Math.max(1, timeoutMs - (Date.now() - started));
    await waitHealthy(ctx, machine.id, { timeoutMs: left, expectedChecks: expectedCheckCount(machine.config) });
  }
  // The promise the comment makes is about the fleet now: read it again once it settled, and verify.
  const settled = await readSettled({ ...ctx, timeoutMs }, read, (reading) => reading.state.machines);
  const verified = verifyGroups(settled.state, target, config);
  if (!verified.ok) {
    throw new DeployError(
      "rollout_failed",
      `preview ${app} is not ready on ${target.image}: re-reading the fleet found\n${verified.problems.map((p) => `- ${p}`).join("\n")}`,
      1,
      { app, machines: verified.machines },
    );
  }
}

function failedMachine(app: string, machineId: string): DeployError {
  return new DeployError(
    "machine_not_started",
    `machine ${machineId} of ${app} is in state failed; check its logs with \`bun deploy/run.ts logs --app ${app} --machine ${machineId}\``,
    1,
    { app, machineId },
  );
}
