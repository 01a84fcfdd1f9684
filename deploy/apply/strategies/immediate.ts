// immediate (flyctl §2.7): every machine at once, no waiting for start or health. Fast, and the fleet can
// be entirely down for a moment: what previews use, not production.
import { type MachineUpdate, pool, type RolloutContext, updateMachine } from "../rollout.ts";

/** flyctl's --max-concurrent default. */
const MAX_CONCURRENT = 8;

export async function immediate(updates: readonly MachineUpdate[], ctx: RolloutContext): Promise<void> {
  await pool(updates, MAX_CONCURRENT, (u) => updateMachine(ctx, u, { wait: false }));
}
