// [deploy] release_command in an ephemeral machine (flyctl machines_releasecommand.go, §2.2): no services,
// no mounts, auto_destroy, restart "no", RELEASE_COMMAND=1. We wait for it to exit and be destroyed, read
// the exit code from its `exit` event, and a non-zero code stops the deploy before any app machine changes.

import { isFlyApiError } from "../lib/fly/errors.ts";
import type { Machine, MachineEvent } from "../lib/fly/types.ts";
import { DeployError } from "./deploy-error.ts";
import type { DeployConfig } from "./flytoml.ts";
import { buildReleaseMachineConfig, METADATA, RELEASE_COMMAND_GROUP } from "./machine-config.ts";
import { type RolloutContext, destroyMachine } from "./rollout.ts";
import { formatMs } from "./waits.ts";

export interface ReleaseOptions {
  config: DeployConfig;
  image: string;
  releaseVersion: number;
  region: string;
  /** Live machines of the app: a release machine left by an interrupted deploy is destroyed first (flyctl). */
  liveMachines: readonly Machine[];
}

export async function runReleaseCommand(ctx: RolloutContext, opts: ReleaseOptions): Promise<void> {
  const command = opts.config.deploy.releaseCommand ?? "";
  const timeoutMs = opts.config.deploy.releaseCommandTimeoutMs;
  for (const leftover of opts.liveMachines) {
    if (leftover.config?.metadata?.[METADATA.processGroup] !== RELEASE_COMMAND_GROUP) continue;
    if (leftover.state === "destroyed" || leftover.state === "destroying") continue;
    ctx.output.step(`destroying leftover release command machine ${leftover.id}`);
    await destroyMachine(ctx, leftover.id ?? "");
  }

  const config = buildReleaseMachineConfig(opts.config, { image: opts.image, releaseVersion: opts.releaseVersion });
  ctx.journal.mutations++;
  const machine = await ctx.client.createMachine(
    ctx.app,
    {
      name: `release-${opts.releaseVersion}-${ctx.runId}`,
      region: opts.region,
      config,
      ...(ctx.minSecretsVersion !== undefined ? { min_secrets_version: ctx.minSecretsVersion } : {}),
    },
    { signal: ctx.signal },
  );
  const id = machine.id ?? "";
  ctx.output.step(`release command \`${command}\` running on machine ${id}`);

  const finished = await ctx.client.waitForMachineState(ctx.app, id, { state: "destroyed", timeoutMs, signal: ctx.signal }).catch((error: unknown) => {
    // Already destroyed and forgotten: it ran and exited, the code is read below.
    if (isFlyApiError(error) && error.status === 404) return { ok: true as const };
    throw error;
  });
  if (!finished.ok) {
    await ctx.client.destroyMachine(ctx.app, id, { force: true }).catch(() => undefined);
    throw new DeployError(
      "release_command_failed",
      `release command \`${command}\` did not finish within ${formatMs(timeoutMs)} (release_command_timeout) on machine ${id}; it was destroyed and no app machine was changed`,
      1,
      { machineId: id },
    );
  }
  const code = await exitCode(ctx, id);
  if (code === undefined) {
    throw new DeployError("release_command_failed", `release command \`${command}\` on machine ${id} ended but its exit code could not be read; no app machine was changed`, 1, { machineId: id });
  }
  if (code !== 0) {
    throw new DeployError(
      "release_command_failed",
      `release command \`${command}\` exited with status ${code} on machine ${id}; deploy aborted, no app machine was changed (see \`bun deploy/run.ts logs --machine ${id}\`)`,
      1,
      { machineId: id, exitCode: code },
    );
  }
  ctx.output.step(`release command finished (exit 0)`);
}

/** flyctl reads `request.exit_event.exit_code` of the latest exit event (or `request.MonitorEvent.exit_event`). */
async function exitCode(ctx: RolloutContext, machineId: string): Promise<number | undefined> {
  let events: MachineEvent[] | undefined;
  try {
    events = (await ctx.client.getMachine(ctx.app, machineId, { signal: ctx.signal })).events;
  } catch (error) {
    if (!(isFlyApiError(error) && error.status === 404)) throw error;
  }
  events ??= await ctx.client.listEvents(ctx.app, machineId, { signal: ctx.signal }).catch(() => []);
  const exits = events.filter((e) => e.type === "exit").sort((a, b) => (b.timestamp ?? 0) - (a.timestamp ?? 0));
  for (const event of exits) {
    const request = (event.request ?? {}) as Record<string, unknown>;
    const exit = (request.exit_event ?? (request.MonitorEvent as Record<string, unknown> | undefined)?.exit_event) as { exit_code?: unknown } | undefined;
    if (typeof exit?.exit_code === "number") return exit.exit_code;
  }
  return undefined;
}
