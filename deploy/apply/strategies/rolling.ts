// rolling (flyctl default, §2.7): one started machine first — the spearhead proves the new version boots
// and passes its checks while the rest still serve — then the others with at most `max_unavailable` in
// flight. Each running machine is cordoned before its update stops it and uncordoned once it is healthy
// again, so the proxy stops sending it requests before SIGTERM rather than learning of the stop after it.
// Machines the proxy had stopped take no traffic, so they are updated (and stay stopped) alongside, as are
// failed ones (relaunched by the update), neither cordoned. A machine a person cordoned (no flightdeck_cordon
// mark) takes no traffic either: it is updated but neither cordoned nor uncordoned, so it stays out of rotation.
import {
  batchSize,
  cordonMachine,
  pool,
  type MachineUpdate,
  type RolloutContext,
  uncordonMachine,
  updateMachine,
} from "../rollout.ts";

export async function rolling(updates: readonly MachineUpdate[], ctx: RolloutContext): Promise<void> {
  const running = updates.filter((u) => !u.skipLaunch);
  const stopped = updates.filter((u) => u.skipLaunch);
  const [spearhead, ...rest] = running;
  if (spearhead) {
    ctx.output.step(`spearhead: machine ${spearhead.machineId}`);
    await updateOutOfRotation(ctx, spearhead);
  }
  const size = batchSize(updates.length, ctx.maxUnavailable);
  if (rest.length > 0) ctx.output.step(`updating ${rest.length} more machine(s), ${size} at a time`);
  // A sliding window rather than fixed batches: a slow machine does not hold back the next one.
  await Promise.all([
    pool(rest, size, (u) => updateOutOfRotation(ctx, u)),
    pool(stopped, 8, (u) => updateMachine(ctx, u, { wait: false })),
  ]).then(() => undefined);
}

/**
 * cordon -> update -> started and healthy -> uncordon. A failed machine serves nothing, so it is only updated.
 * On a failure the machine stays cordoned until the rollback puts it back.
 */
async function updateOutOfRotation(ctx: RolloutContext, update: MachineUpdate): Promise<void> {
  const serving = update.previousState !== "failed" && !update.handCordoned;
  if (serving) await cordonMachine(ctx, update.machineId);
  await updateMachine(ctx, update, { wait: true });
  if (serving) await uncordonMachine(ctx, update.machineId);
  if (update.handCordoned) await keepHandCordon(ctx, update.machineId);
}

/**
 * No Fly document says whether an update keeps a cordon. A person's cordon is theirs to lift, so should the
 * update have cleared it, it is put back (without the mark: it stays the person's).
 */
async function keepHandCordon(ctx: RolloutContext, machineId: string): Promise<void> {
  const machine = await ctx.client.getMachine(ctx.app, machineId, { signal: ctx.signal });
  if (machine.cordoned !== false) return;
  ctx.journal.mutations++;
  await ctx.client.cordonMachine(ctx.app, machineId, {
    leaseNonce: await ctx.lock.nonce(machineId),
    signal: ctx.signal,
  });
  ctx.output.step(`machine ${machineId} was cordoned by someone else before its update: cordoned again`);
}
