// rolling (flyctl default, §2.7): one started machine first — the spearhead proves the new version boots
// and passes its checks while the rest still serve — then the others with at most `max_unavailable` in
// flight. Machines the proxy had stopped take no traffic, so they are updated (and stay stopped) alongside.
import { batchSize, pool, type MachineUpdate, type RolloutContext, updateMachine } from "../rollout.ts";

export async function rolling(updates: readonly MachineUpdate[], ctx: RolloutContext): Promise<void> {
  const running = updates.filter((u) => !u.skipLaunch);
  const stopped = updates.filter((u) => u.skipLaunch);
  const [spearhead, ...rest] = running;
  if (spearhead) {
    ctx.output.step(`spearhead: machine ${spearhead.machineId}`);
    await updateMachine(ctx, spearhead, { wait: true });
  }
  const size = batchSize(updates.length, ctx.maxUnavailable);
  if (rest.length > 0) ctx.output.step(`updating ${rest.length} more machine(s), ${size} at a time`);
  // A sliding window rather than fixed batches: a slow machine does not hold back the next one.
  await Promise.all([
    pool(rest, size, (u) => updateMachine(ctx, u, { wait: true })),
    pool(stopped, 8, (u) => updateMachine(ctx, u, { wait: false })),
  ]).then(() => undefined);
}
