// [deploy] release_command in an ephemeral machine (flyctl machines_releasecommand.go, §2.2): no services,
// no mounts, auto_destroy, restart "no", RELEASE_COMMAND=1. We wait for it to end (release-watch.ts), read
// the exit code from its `exit` event, and a non-zero code or a failed start stops the deploy before any app
// machine changes, as soon as the API says so, with the machine's last log lines when Fly has them.

import type { Machine } from "../../lib/fly/types.ts";
import { DeployError } from "../deploy-error.ts";
import type { DeployConfig } from "../config/flytoml.ts";
import { buildReleaseMachineConfig, METADATA, RELEASE_COMMAND_GROUP } from "../machine/machine-config.ts";
import { lastLogLines, watchReleaseMachine } from "./release-watch.ts";
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

  const ending = await watchReleaseMachine(ctx, id, timeoutMs);
  if (ending.kind === "exited" && ending.code === 0) {
    ctx.output.step(`release command finished (exit 0)`);
    return;
  }
  if (ending.kind === "timed_out") {
    await ctx.client.destroyMachine(ctx.app, id, { force: true }).catch(() => undefined);
    throw new DeployError(
      "release_command_failed",
      `release command \`${command}\` did not finish within ${formatMs(timeoutMs)} (release_command_timeout) on machine ${id}; it was destroyed and no app machine was changed`,
      1,
      { machineId: id },
    );
  }
  if (ending.kind === "code_unknown") {
    throw new DeployError(
      "release_command_failed",
      `release command \`${command}\` on machine ${id} ended but its exit code could not be read; no app machine was changed`,
      1,
      { machineId: id },
    );
  }
  // auto_destroy takes a machine whose process exited, and the next deploy destroys any release machine left
  // over; one that never started is not taken by auto_destroy, so it goes now.
  if (ending.kind === "failed_to_start")
    await ctx.client.destroyMachine(ctx.app, id, { force: true }).catch(() => undefined);
  const how =
    ending.kind === "failed_to_start"
      ? `could not start on machine ${id} (state failed${ending.code !== undefined ? `, exit status ${ending.code}` : ""})`
      : `exited with status ${ending.code} on machine ${id}`;
  const lines = await lastLogLines(ctx.logs, ctx.app, id);
  throw new DeployError(
    "release_command_failed",
    `release command \`${command}\` ${how}; deploy aborted, no app machine was changed (see \`bun deploy/run.ts logs --machine ${id}\`)` +
      (lines.length > 0 ? `\nlast log lines of ${id}:\n${lines.map((l) => `  ${l}`).join("\n")}` : ""),
    1,
    {
      machineId: id,
      ...(ending.code !== undefined ? { exitCode: ending.code } : {}),
      state: ending.kind === "failed_to_start" ? "failed" : ending.state,
    },
  );
}
