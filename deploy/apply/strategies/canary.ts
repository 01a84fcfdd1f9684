// canary (flyctl §2.7): boot one extra machine on the new config first; only when it is started and healthy
// is it destroyed and the fleet rolled. Refused with [mounts] (flyctl validation: the canary would need a
// volume of its own), which strategy-checks.ts enforces before anything changes.
import { createMachine, destroyMachine, type MachineUpdate, type RolloutContext } from "../rollout.ts";
import { rolling } from "./rolling.ts";

export async function canary(updates: readonly MachineUpdate[], ctx: RolloutContext): Promise<void> {
  const first = updates.find((u) => !u.skipLaunch) ?? updates[0];
  if (first) {
    const config = structuredClone(first.config);
    config.metadata = { ...config.metadata, fly_canary: "true" };
    // Not registered in DNS (flyctl does the same), so nothing finds it by name while it is on trial.
    config.dns = { ...config.dns, skip_registration: true };
    ctx.output.step("canary: booting one extra machine on the new version");
    const machine = await createMachine(ctx, { ref: "canary", region: first.region, config }, { wait: true });
    await destroyMachine(ctx, machine.id ?? "");
    ctx.output.step("canary passed; rolling the fleet");
  }
  await rolling(updates, ctx);
}
