/**
 * The standby check: each stopped or suspended machine this run updated is started once, judged like any
 * launched machine (started, then every check passing), and put back the way it was.
 *
 * Why: a deploy updates a machine the proxy had stopped with skip_launch (flyctl shouldSkipLaunch), so its new
 * config is first booted when the proxy starts it under load, and a broken config is found in a traffic spike;
 * flyctl does not health-check such machines either (flyctl#4707). Testing them here moves that discovery into
 * the deploy, where a failure is rolled back like any other (apply.ts failAndRollBack): the standby gets its
 * previous config and stays stopped.
 *
 * While it is tested the standby is cordoned (unless a person cordoned it already), so the proxy sends no
 * request to a config not yet proven; it is uncordoned once it is back at rest, ready for the proxy to start
 * on demand. A standby that was suspended is suspended again (Machines API POST .../suspend): the next start
 * resumes from that snapshot, as before the deploy. Fly suspends only machines of at most 2 GB
 * (fly.io/docs/reference/suspend-resume); when it refuses, the standby is stopped instead and a warning says so,
 * which is what Fly's own autostop does when it cannot suspend (spec, fly.MachineService.autostop).
 *
 * Every strategy runs it, immediate too (what previews use): immediate does not wait for each machine during the
 * rollout, but a standby is the one machine nothing else would ever boot before the traffic does. Bluegreen
 * replaces machines instead of updating them, so it has no updated standbys.
 * @module
 */

import { isFlyApiError } from "../../lib/fly/errors.ts";
import { DeployError, describeError } from "../deploy-error.ts";
import { cordonMachine, type MachineUpdate, pool, type RolloutContext, uncordonMachine, waitReady } from "./rollout.ts";
import { formatMs } from "./waits.ts";

/** How many standbys are tested at once: a bound, so a large fleet of standbys does not all boot at once. */
export const STANDBY_PARALLEL = 3;

/** The at-rest states a standby is in before the deploy and is returned to. */
const AT_REST = ["stopped", "suspended"] as const;
type AtRest = (typeof AT_REST)[number];

const isAtRest = (state: string | undefined): state is AtRest => AT_REST.includes(state as AtRest);

/** The standbys of this run: machines updated with skip_launch while stopped or suspended, once each, in order. */
export function updatedStandbys(updated: readonly MachineUpdate[]): MachineUpdate[] {
  const seen = new Set<string>();
  return updated.filter((u) => {
    if (!u.skipLaunch || !isAtRest(u.previousState) || seen.has(u.machineId)) return false;
    seen.add(u.machineId);
    return true;
  });
}

/** Tests every standby the run updated (see the module doc); the first failure is thrown once all in flight end. */
export async function checkStandbys(ctx: RolloutContext, opts: { parallel?: number } = {}): Promise<void> {
  const standbys = updatedStandbys(ctx.journal.updated);
  if (standbys.length === 0) return;
  const parallel = Math.max(1, opts.parallel ?? STANDBY_PARALLEL);
  await ctx.output.group(
    `standby check: starting ${standbys.length} updated standby machine(s) once, ${Math.min(parallel, standbys.length)} at a time`,
    () => pool(standbys, parallel, (u) => checkStandby(ctx, u)),
  );
}

async function checkStandby(ctx: RolloutContext, update: MachineUpdate): Promise<void> {
  const id = update.machineId;
  const restState = update.previousState as AtRest;
  const opts = { signal: ctx.signal };
  // The update may still be under way (`updating`, `replacing`): a start then answers 412 "unable to start
  // machine from current state" (flyctl-behaviours.md §7), so wait for it to be at rest on the new version.
  const version = await atRest(ctx, id);
  const cordon = !update.handCordoned;
  if (cordon) await cordonMachine(ctx, id);
  try {
    ctx.output.step(`standby ${id} (${restState}): starting it once to test its new config`);
    ctx.journal.mutations++;
    await ctx.client.startMachine(ctx.app, id, { leaseNonce: await ctx.lock.nonce(id), ...opts });
    await waitReady(ctx, id, update.config, version);
  } catch (error) {
    if (ctx.signal?.aborted) throw error;
    await stopQuietly(ctx, id);
    throw new DeployError(
      "standby_check_failed",
      `standby machine ${id} (${restState}, updated with skip_launch) failed when started to test its new config, as the proxy would start it under load: ${describeError(error)}`,
      1,
      { ...(error instanceof DeployError ? error.context : {}), machineId: id },
    );
  }
  const landed = await putToRest(ctx, id, restState);
  if (cordon) await uncordonMachine(ctx, id);
  ctx.output.step(`standby ${id} passed: started, checks passing, ${landed} again`);
}

/**
 * Waits until the machine is stopped or suspended on the version its update made; returns that version. The GET
 * learns the version (the journal keeps the update, not its answer); the /wait names it, because a state read
 * alone may still be the old version's `stopped` before flyd has taken the update (docs: wait for `stopped` by
 * version).
 */
async function atRest(ctx: RolloutContext, id: string): Promise<string | undefined> {
  const machine = await ctx.client.getMachine(ctx.app, id, { signal: ctx.signal });
  if (isAtRest(machine.state) && !machine.version) return undefined;
  const result = await ctx.client.waitForMachineState(ctx.app, id, {
    state: [...AT_REST],
    ...(machine.version ? { version: machine.version } : {}),
    timeoutMs: ctx.waitTimeoutMs,
    signal: ctx.signal,
  });
  if (!result.ok)
    throw new DeployError(
      "standby_check_failed",
      `standby machine ${id} did not come to rest after its update within ${formatMs(ctx.waitTimeoutMs)} (wait_timeout); it was not tested`,
      1,
      { machineId: id },
    );
  return result.version ?? machine.version;
}

/** Suspends (or stops) the tested standby and waits for it to get there; returns where it landed. */
async function putToRest(ctx: RolloutContext, id: string, state: AtRest): Promise<AtRest> {
  const leaseNonce = await ctx.lock.nonce(id);
  let target: AtRest = state;
  ctx.journal.mutations++;
  if (state === "suspended") {
    try {
      await ctx.client.suspendMachine(ctx.app, id, { leaseNonce, signal: ctx.signal });
    } catch (error) {
      if (!(isFlyApiError(error) && error.status >= 400 && error.status < 500 && error.status !== 429)) throw error;
      ctx.output.warn(
        `standby ${id} could not be suspended again (${describeError(error)}); stopping it instead: its next start boots cold`,
      );
      target = "stopped";
    }
  }
  if (target === "stopped") await ctx.client.stopMachine(ctx.app, id, { leaseNonce, signal: ctx.signal });
  const result = await ctx.client.waitForMachineState(ctx.app, id, {
    state: target,
    timeoutMs: ctx.waitTimeoutMs,
    signal: ctx.signal,
  });
  if (!result.ok)
    throw new DeployError(
      "standby_check_failed",
      `standby machine ${id} passed its test but did not reach ${target} again within ${formatMs(ctx.waitTimeoutMs)} (wait_timeout)`,
      1,
      { machineId: id },
    );
  return target;
}

/**
 * A standby that failed its test is stopped before the rollback: the rollback sends its previous config with
 * skip_launch, which leaves a stopped machine stopped but would boot one still running. Best effort: the
 * failure being reported is the test's, and the rollback's own report names a machine it could not restore.
 */
async function stopQuietly(ctx: RolloutContext, id: string): Promise<void> {
  try {
    const machine = await ctx.client.getMachine(ctx.app, id);
    if (machine.state === "stopped" || machine.state === "failed" || machine.state === "suspended") return;
    await ctx.client.stopMachine(ctx.app, id, { leaseNonce: await ctx.lock.nonce(id) });
    await ctx.client.waitForMachineState(ctx.app, id, { state: ["stopped", "failed"], timeoutMs: ctx.waitTimeoutMs });
  } catch (error) {
    ctx.output.warn(`standby ${id} could not be stopped after its failed test: ${describeError(error)}`);
  }
}
