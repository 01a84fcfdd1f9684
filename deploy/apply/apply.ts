// Executes a Plan against the Machines API. The plan says what; this file says how: in the plan's order,
// consecutive machine updates handed to the chosen strategy, new machines created side by side, and on a
// failure the machines this run moved put back so the fleet ends on one version (DESIGN.md "do better").
// An abort (Ctrl-C, a killed CI job) does not roll back: whatever finished is consistent machine by
// machine, and the plan of a re-run picks up from there.

import type { FlyClient } from "../../lib/fly/client.ts";
import { isFlyApiError } from "../../lib/fly/errors.ts";
import type { MachineConfig } from "../../lib/fly/types.ts";
import { DeployError, describeError } from "../deploy-error.ts";
import type { DeployConfig, Strategy } from "../config/flytoml.ts";
import type { FleetLock } from "../fleet/lock.ts";
import type { LogsClient } from "../../lib/fly/logs.ts";
import { sleep } from "../sleep.ts";
import { buildMachineConfig, formatGroupSizes, METADATA, volumeSettings } from "../machine/machine-config.ts";
import type { ObservedApp } from "../fleet/observe.ts";
import type { Output } from "../output.ts";
import type { Plan, PlanAction } from "../plan/types.ts";
import { runReleaseCommand } from "./release.ts";
import {
  clearCordonMark,
  cordonedByHand,
  createMachine,
  destroyMachine,
  Journal,
  type MachineUpdate,
  pool,
  releaseCordon,
  requestConfig,
  type RolloutContext,
  uncordonMachine,
  waitReady,
  withCordonMark,
} from "./rollout.ts";
import { STRATEGY_RUNNERS, strategyProblems, strategyWaits } from "./strategies/index.ts";
import { describeFleet } from "../fleet/describe.ts";
import { checkStandbys } from "./standby-check.ts";

export interface ApplyContext {
  client: FlyClient;
  config: DeployConfig;
  observed: ObservedApp;
  output: Output;
  strategy: Strategy;
  /** fly_release_version written on every machine this run creates or updates. */
  releaseVersion: number;
  /** min_secrets_version for every create/update: the last secrets write (this run's, else the fleet's). */
  secretsVersion?: number;
  /** env APP_VERSION; derived from the image only, so it changes exactly when the image does. */
  appVersion?: string;
  signal?: AbortSignal;
  /** The fleet lock the caller holds for the whole run (fleet-lock.ts). */
  lock: FleetLock;
  /** Extra metadata on every machine this run creates or updates (the release history, releases.ts). */
  extraMetadata?: Record<string, string>;
  pollMs?: number;
  runId?: string;
  /** Fly's logs endpoint (release command failures quote the machine's last lines). */
  logs?: Pick<LogsClient, "getAppLogs">;
  /** Start each stopped/suspended machine this run updated once, then put it back (standby-check.ts); default true. */
  standbyCheck?: boolean;
}

export interface ApplyOutcome {
  journal: Journal;
}

const PARALLEL_CREATES = 8;

export async function applyPlan(plan: Plan, ctx: ApplyContext): Promise<ApplyOutcome> {
  if (plan.problems.length > 0) {
    throw new DeployError("preflight_failed", plan.problems.map((p) => p.message).join("\n"), 2, { app: plan.app });
  }
  const refused = strategyProblems(ctx.strategy, ctx.config);
  if (refused.length > 0) throw new DeployError("preflight_failed", refused.join("\n"), 2, { app: plan.app });

  const journal = new Journal();
  const rollout: RolloutContext = {
    client: ctx.client,
    app: plan.app,
    output: ctx.output,
    signal: ctx.signal,
    waitTimeoutMs: ctx.config.deploy.waitTimeoutMs,
    maxUnavailable: ctx.config.deploy.maxUnavailable,
    minSecretsVersion: ctx.secretsVersion,
    lock: ctx.lock,
    pollMs: ctx.pollMs,
    journal,
    runId: ctx.runId ?? Math.random().toString(36).slice(2, 8),
    ...(ctx.logs ? { logs: ctx.logs } : {}),
  };
  // With process groups each action names its group; its config and recorded size are that group's.
  const desiredConfig = (volumeId?: string, group?: string): MachineConfig => {
    const config = buildMachineConfig(ctx.config, {
      // A scale copies the image each group runs; a deploy gives every group the same one.
      image: (group !== undefined ? plan.target.groups?.[group]?.image : undefined) ?? plan.target.image,
      releaseVersion: ctx.releaseVersion,
      ...(group !== undefined ? { processGroup: group } : {}),
      ...(plan.target.groupSizes ? { groupSizes: plan.target.groupSizes } : {}),
      ...(ctx.appVersion !== undefined ? { appVersion: ctx.appVersion } : {}),
      ...(volumeId !== undefined ? { volumeId } : {}),
      ...(ctx.secretsVersion !== undefined ? { secretsVersion: ctx.secretsVersion } : {}),
      fleetSize:
        group !== undefined
          ? (plan.target.groups?.[group]?.machineCount ?? plan.target.machineCount)
          : plan.target.machineCount,
    });
    // Added after the digest was taken: bookkeeping that changes every release is not part of what a machine is.
    if (ctx.extraMetadata) config.metadata = { ...config.metadata, ...ctx.extraMetadata };
    return config;
  };

  try {
    for (const group of consecutive(plan.actions)) await runGroup(group, plan, ctx, rollout, desiredConfig);
    // After the rollout, inside the try: a standby that fails is rolled back like any machine.
    if (ctx.standbyCheck !== false) await checkStandbys(rollout);
  } catch (error) {
    if (ctx.signal?.aborted || (error instanceof DeployError && error.code === "aborted")) {
      throw new DeployError(
        "aborted",
        `deploy of ${plan.app} interrupted after ${journal.mutations} change(s); nothing was rolled back — run deploy again to finish (it picks up where this one stopped)`,
        1,
        { app: plan.app },
      );
    }
    if (error instanceof DeployError && error.exitCode === 2) throw error;
    throw await failAndRollBack(error, plan, ctx, rollout);
  }
  return { journal };
}

type Group =
  | { kind: "single"; action: PlanAction }
  | { kind: "marks"; actions: Extract<PlanAction, { kind: "set_fleet_size" }>[] }
  | { kind: "updates"; actions: Extract<PlanAction, { kind: "update_machine" }>[] }
  | { kind: "creates"; actions: PlanAction[] }
  | { kind: "destroys"; actions: Extract<PlanAction, { kind: "destroy_machine" }>[] };

/** Groups runs of actions that execute together: updates (one strategy run), creates, destroys. */
function consecutive(actions: readonly PlanAction[]): Group[] {
  const groups: Group[] = [];
  for (const action of actions) {
    const last = groups[groups.length - 1];
    if (action.kind === "update_machine") {
      if (last?.kind === "updates") last.actions.push(action);
      else groups.push({ kind: "updates", actions: [action] });
    } else if (action.kind === "create_machine" || action.kind === "create_volume" || action.kind === "reuse_volume") {
      if (last?.kind === "creates") last.actions.push(action);
      else groups.push({ kind: "creates", actions: [action] });
    } else if (action.kind === "set_fleet_size") {
      if (last?.kind === "marks") last.actions.push(action);
      else groups.push({ kind: "marks", actions: [action] });
    } else if (action.kind === "destroy_machine") {
      if (last?.kind === "destroys") last.actions.push(action);
      else groups.push({ kind: "destroys", actions: [action] });
    } else groups.push({ kind: "single", action });
  }
  return groups;
}

async function runGroup(
  group: Group,
  plan: Plan,
  ctx: ApplyContext,
  rollout: RolloutContext,
  desiredConfig: (volumeId?: string, group?: string) => MachineConfig,
): Promise<void> {
  const { client, output } = ctx;
  if (group.kind === "updates") {
    const byId = new Map(ctx.observed.machines.map((m) => [m.id ?? "", m]));
    const updates: MachineUpdate[] = group.actions.map((a) => {
      const live = byId.get(a.machineId);
      return {
        machineId: a.machineId,
        region: a.region,
        skipLaunch: a.skipLaunch,
        config: desiredConfig(a.volumeId, a.group),
        ...(live?.config ? { previous: requestConfig(live.config) } : {}),
        previousState: a.state,
        // The strategy leaves a person's cordon alone (strategies/rolling.ts); a marked one is an earlier run's.
        ...(live && cordonedByHand(live) ? { handCordoned: true } : {}),
      };
    });
    await output.group(`${ctx.strategy} update of ${updates.length} machine(s) to ${plan.target.image}`, () =>
      STRATEGY_RUNNERS[ctx.strategy](updates, rollout),
    );
    return;
  }
  if (group.kind === "marks") {
    // A metadata write makes no new machine version and no restart (Machines API metadata endpoints); it
    // carries the fleet lock's nonce like every other change.
    const size = group.actions[0]?.size;
    await output.group(`recording fleet size ${size} on ${group.actions.length} machine(s)`, () =>
      pool(group.actions, PARALLEL_CREATES, async (a) => {
        const nonce = await ctx.lock.nonce(a.machineId);
        rollout.journal.mutations++;
        await client.setMetadata(plan.app, a.machineId, METADATA.fleetSize, String(a.size), {
          leaseNonce: nonce,
          signal: ctx.signal,
        });
        if (a.groupSizes)
          await client.setMetadata(plan.app, a.machineId, METADATA.groupSizes, formatGroupSizes(a.groupSizes), {
            leaseNonce: nonce,
            signal: ctx.signal,
          });
      }),
    );
    return;
  }
  if (group.kind === "destroys") {
    await output.group(`destroying ${group.actions.length} machine(s)`, () =>
      pool(group.actions, PARALLEL_CREATES, (a) => destroyMachine(rollout, a.machineId)),
    );
    return;
  }
  if (group.kind === "creates") {
    const volumes = new Map<string, Extract<PlanAction, { kind: "create_volume" }>>();
    const creates: Extract<PlanAction, { kind: "create_machine" }>[] = [];
    for (const a of group.actions) {
      if (a.kind === "create_volume") volumes.set(a.ref, a);
      else if (a.kind === "create_machine") creates.push(a);
    }
    await output.group(`creating ${creates.length} machine(s)`, () =>
      pool(creates, PARALLEL_CREATES, async (a) => {
        let volumeId = a.volumeId;
        const volume = a.volumeRef ? volumes.get(a.volumeRef) : undefined;
        if (volume) volumeId = await createVolume(ctx, rollout, plan.app, volume);
        await createMachine(
          rollout,
          { ref: a.ref, region: a.region, config: desiredConfig(volumeId, a.group) },
          { wait: strategyWaits(ctx.strategy) },
        );
      }),
    );
    return;
  }
  const action = group.action;
  switch (action.kind) {
    case "uncordon_machine": {
      await uncordonMachine(rollout, action.machineId);
      output.step(`uncordoned machine ${action.machineId}: the proxy routes requests to it again`);
      return;
    }
    case "clear_cordon_mark": {
      rollout.journal.mutations++;
      await clearCordonMark(client, plan.app, action.machineId, {
        leaseNonce: await ctx.lock.nonce(action.machineId),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      output.step(`cleared the cordon mark of machine ${action.machineId} (it is not cordoned)`);
      return;
    }
    case "create_app": {
      output.step(`creating app ${action.app} in org ${action.org}`);
      rollout.journal.mutations++;
      await client.createApp({ name: action.app, org_slug: action.org }, { signal: ctx.signal });
      await waitForApp(client, action.app, ctx.signal);
      return;
    }
    case "allocate_ip": {
      rollout.journal.mutations++;
      try {
        const ip = await client.assignIp(plan.app, { type: action.type }, { signal: ctx.signal });
        output.step(`allocated ${action.type === "v6" ? "dedicated IPv6" : "shared IPv4"} ${ip.ip ?? ""}`.trimEnd());
      } catch (error) {
        if (ctx.signal?.aborted) throw error;
        // flyctl prints IP failures and carries on; the next deploy's plan asks for the address again.
        output.warn(
          `could not allocate a ${action.type} address (${describeError(error)}); the app is not reachable on that family until a later deploy allocates it`,
        );
      }
      return;
    }
    case "run_release": {
      await output.group("release command", () =>
        runReleaseCommand(rollout, {
          config: ctx.config,
          image: action.image,
          releaseVersion: ctx.releaseVersion,
          region: action.region,
          liveMachines: ctx.observed.machines,
        }),
      );
      return;
    }
    case "noop":
      output.step(`no changes: ${action.reason}`);
      return;
    default:
      return;
  }
}

async function createVolume(
  ctx: ApplyContext,
  rollout: RolloutContext,
  app: string,
  action: Extract<PlanAction, { kind: "create_volume" }>,
): Promise<string> {
  rollout.journal.mutations++;
  const volume = await ctx.client.createVolume(
    app,
    {
      name: action.name,
      region: action.region,
      size_gb: action.sizeGb,
      require_unique_zone: action.requireUniqueZone,
      ...volumeSettings(ctx.config, action.group),
    },
    { signal: ctx.signal },
  );
  ctx.output.step(
    `created volume ${volume.id} (${action.name}, ${action.sizeGb}GB) in ${volume.region ?? action.region}`,
  );
  return volume.id ?? "";
}

/** A new app is eventually consistent: fly-go's WaitForApp polls GET while it answers 404. */
export async function waitForApp(client: FlyClient, app: string, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + 60_000;
  let delay = 100;
  for (;;) {
    try {
      await client.getApp(app, { signal });
      return;
    } catch (error) {
      if (!(isFlyApiError(error) && (error.status === 404 || error.status === 401)) || Date.now() + delay > deadline)
        throw error;
    }
    await sleep(delay, signal);
    delay = Math.min(delay * 2, 1000);
  }
}

/**
 * Puts back what this run changed: machines moved to the new config get their previous config again (and
 * stay stopped if they were), machines this run created are destroyed (their volumes stay for reuse).
 * Returns the DeployError to throw, whose message says what failed, what was undone and the fleet now.
 */
async function failAndRollBack(
  error: unknown,
  plan: Plan,
  ctx: ApplyContext,
  rollout: RolloutContext,
): Promise<DeployError> {
  const cause = describeError(error);
  const journal = rollout.journal;
  const undo: RolloutContext = { ...rollout, signal: undefined, journal: new Journal() };
  const problems: string[] = [];
  const seen = new Set<string>();
  const restores = [...journal.updated].reverse().filter((u) => {
    if (seen.has(u.machineId) || !u.previous) return false;
    seen.add(u.machineId);
    return true;
  });
  if (restores.length + journal.created.length > 0)
    ctx.output.step(
      `rolling back: ${restores.length} machine(s) to their previous version, ${journal.created.length} new machine(s) removed`,
    );
  await pool(restores, 8, async (u) => {
    try {
      const launched = u.previousState === "started" || u.previousState === "starting" || u.previousState === "failed";
      const nonce = await ctx.lock.nonce(u.machineId);
      const machine = await ctx.client.updateMachine(
        plan.app,
        u.machineId,
        // Still cordoned by this run until the uncordon below: the restored config keeps the mark.
        {
          config: withCordonMark(journal, u.machineId, u.previous!),
          skip_launch: !launched,
          ...(ctx.secretsVersion !== undefined ? { min_secrets_version: ctx.secretsVersion } : {}),
        },
        { leaseNonce: nonce },
      );
      if (launched)
        await waitReady(
          undo,
          u.machineId,
          u.previous!,
          machine.version ?? (await ctx.client.getMachine(plan.app, u.machineId)).version,
        );
    } catch (e) {
      problems.push(`machine ${u.machineId} could not be restored: ${describeError(e)}`);
    }
  }).catch(() => undefined);
  // Restored or not, a machine this run cordoned goes back into rotation: one left out serves nothing.
  await pool([...journal.cordoned], 8, async (id) => {
    try {
      await releaseCordon(ctx.client, plan.app, id, { leaseNonce: await ctx.lock.nonce(id) });
    } catch (e) {
      problems.push(`machine ${id} could not be uncordoned (the proxy sends it no requests): ${describeError(e)}`);
    }
  }).catch(() => undefined);
  await pool(journal.created, 8, async (c) => {
    try {
      await ctx.client.destroyMachine(plan.app, c.id, { force: true, leaseNonce: await ctx.lock.nonce(c.id) });
      ctx.lock.forget(c.id);
    } catch (e) {
      if (!(isFlyApiError(e) && e.status === 404))
        problems.push(`new machine ${c.id} could not be removed: ${describeError(e)}`);
    }
  }).catch(() => undefined);

  // Read once the restored and removed machines settled, the list reconciled with what this run did (settle.ts).
  const known = {
    ids: new Set(restores.map((u) => u.machineId)),
    destroyed: new Set(journal.created.map((c) => c.id)),
  };
  const fleet = await describeFleet(ctx.client, plan.app, { known, timeoutMs: rollout.waitTimeoutMs });
  const undone =
    restores.length + journal.created.length === 0
      ? "no machine had been changed yet"
      : `rolled back ${restores.length} updated machine(s) and removed ${journal.created.length} new one(s)${problems.length ? ` with problems: ${problems.join("; ")}` : ""}`;
  const code = error instanceof DeployError ? error.code : "rollout_failed";
  return new DeployError(
    code === "aborted" ? "rollout_failed" : code,
    `deploy of ${plan.app} failed: ${cause}\n${undone}\nfleet now: ${fleet}`,
    1,
    {
      // What the cause knew (the machine, a release command's exit code) stays with the error.
      ...(error instanceof DeployError ? error.context : {}),
      app: plan.app,
      rolledBack: restores.map((u) => u.machineId),
      removed: journal.created.map((c) => c.id),
    },
  );
}
