/**
 * POST /v1/apps/{app}/machines/{id}/suspend (spec Machines_suspend): a started machine goes `suspending`, then
 * `suspended`; the next start resumes it (the fake boots it as from stopped, checks and all). Fly suspends only
 * machines of at most 2 GB of memory (fly.io/docs/reference/suspend-resume, "Limitations"), so a bigger one is
 * refused here, as a client that relies on suspend has to cope with.
 * @module
 */

import { HttpError, json, requireMachine, type FakeContext } from "./context.ts";
import { addEvent } from "./lifecycle.ts";
import { machineLog } from "./logs.ts";
import { requireLeaseNonce } from "./machines.ts";
import type { Route } from "./router.ts";
import type { FakeMachine } from "./state.ts";

/** The largest memory Fly suspends (fly.io/docs/reference/suspend-resume). */
export const SUSPEND_MAX_MEMORY_MB = 2048;

export function suspendRoute(ctx: FakeContext): Route {
  return {
    method: "POST",
    path: "/v1/apps/:app/machines/:machine/suspend",
    handle: ({ app, params, nonce }) => {
      const machine = requireMachine(app!, params.machine!);
      if (machine.state === "destroyed" || machine.state === "destroying")
        throw new HttpError(412, `failed_precondition: machine ${machine.id} is ${machine.state}`);
      requireLeaseNonce(machine, nonce);
      const memory = machine.config.guest?.memory_mb ?? 256;
      if (memory > SUSPEND_MAX_MEMORY_MB) {
        throw new HttpError(
          412,
          `failed_precondition: unable to suspend machine ${machine.id}: it has ${memory} MB of memory, suspend supports at most ${SUSPEND_MAX_MEMORY_MB} MB`,
        );
      }
      if (machine.state === "suspended" || machine.state === "suspending") return json({ ok: true });
      if (machine.state !== "started")
        throw new HttpError(
          412,
          `failed_precondition: unable to suspend machine from current state (${machine.state})`,
        );
      suspend(ctx, machine);
      return json({ ok: true });
    },
  };
}

function suspend(ctx: FakeContext, machine: FakeMachine): void {
  const generation = ++machine.generation;
  ctx.setState(machine, "suspending");
  machineLog(ctx, machine, "Suspending machine: taking a snapshot");
  ctx.later(ctx.timings.stopMs, () => {
    if (machine.generation !== generation) return;
    addEvent(machine, "suspend", "suspended");
    machine.checks = [];
    ctx.setState(machine, "suspended");
  });
}
