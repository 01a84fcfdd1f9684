// bluegreen (flyctl strategy_bluegreen.go, §2.7): a green machine per blue one, created outside the load
// balancer (skip_service_registration), all started and healthy before any traffic moves; then greens are
// uncordoned and the blues destroyed. Needs health checks (else "healthy" means nothing) and no volumes
// (a volume cannot follow its machine to a green twin) — both checked before anything changes.
// A failure before the cut-over leaves the blues untouched; apply destroys the greens it journalled.
// Greens are born cordoned (skip_service_registration), so they carry the flightdeck_cordon mark from their
// create: a run stopped before the cut-over leaves greens the next plan recognises as ours and uncordons.
import { METADATA } from "../../machine/machine-config.ts";
import {
  CORDON_MARK,
  createMachine,
  destroyMachine,
  type MachineUpdate,
  pool,
  releaseCordon,
  type RolloutContext,
} from "../rollout.ts";

export async function bluegreen(updates: readonly MachineUpdate[], ctx: RolloutContext): Promise<void> {
  if (updates.length === 0) return;
  ctx.output.step(`creating ${updates.length} green machine(s) beside the blue ones`);
  const greens: string[] = [];
  await pool(updates, Math.max(1, Math.ceil(updates.length / 3)), async (blue) => {
    const machine = await createMachine(
      ctx,
      {
        ref: `green-${blue.machineId}`,
        region: blue.region,
        config: { ...blue.config, metadata: { ...blue.config.metadata, [METADATA.deployCordon]: CORDON_MARK } },
        skipLaunch: blue.skipLaunch,
        skipServiceRegistration: true,
      },
      { wait: true },
    );
    greens.push(machine.id ?? "");
  });
  ctx.output.step("all green machines are healthy; moving traffic");
  for (const id of greens) {
    ctx.journal.mutations++;
    await releaseCordon(ctx.client, ctx.app, id, { leaseNonce: await ctx.lock.nonce(id), signal: ctx.signal });
  }
  await pool(updates, 8, (blue) => destroyMachine(ctx, blue.machineId));
}
