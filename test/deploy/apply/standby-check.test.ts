/**
 * The standby check (deploy/apply/standby-check.ts) against the fake Fly API: a stopped or suspended machine the
 * deploy updates with skip_launch is started once, judged, and put back; a broken one fails the deploy and is
 * rolled back like any machine, left stopped.
 * @module
 */
import { afterEach, expect, test } from "bun:test";
import { runDeploy } from "../../../deploy/apply/deploy.ts";
import { updatedStandbys } from "../../../deploy/apply/standby-check.ts";
import type { MachineUpdate } from "../../../deploy/apply/rollout.ts";
import {
  APP,
  appMachines,
  deployedFleet,
  IMAGE_V1,
  IMAGE_V2,
  productionConfig,
  stopOneMachine,
  type Harness,
} from "../harness.ts";

let h: Harness;
afterEach(() => h?.close());

const callsOn = (hh: Harness, id: string, action: string) =>
  hh.fly.calls.filter((c) => c.method === "POST" && c.path.endsWith(`/machines/${id}/${action}`));

async function suspendOneMachine(hh: Harness): Promise<string> {
  const id = appMachines(hh.fly)[3]!.id;
  await hh.client.suspendMachine(APP, id);
  await hh.client.waitMachine(APP, id, { state: "suspended", timeoutSeconds: 5 });
  hh.fly.calls.length = 0;
  return id;
}

test("a good stopped standby is started once on its new config, passes its checks, and is stopped again", async () => {
  h = await deployedFleet();
  const id = await stopOneMachine(h);
  await runDeploy(h.options({ image: IMAGE_V2 }));
  const standby = appMachines(h.fly).find((m) => m.id === id)!;
  expect(standby.config.image).toBe(IMAGE_V2);
  expect(standby.state).toBe("stopped");
  expect(standby.cordoned).toBe(false);
  expect(callsOn(h, id, "start")).toHaveLength(1);
  expect(callsOn(h, id, "stop")).toHaveLength(1);
  // Started after its update (the test is of the new config), and cordoned while tested, uncordoned after.
  const update = h.fly.calls.find((c) => c.method === "POST" && c.path.endsWith(`/machines/${id}`))!;
  expect(callsOn(h, id, "start")[0]!.at).toBeGreaterThanOrEqual(update.at);
  expect(callsOn(h, id, "cordon")).toHaveLength(1);
  expect(callsOn(h, id, "uncordon")).toHaveLength(1);
  // The started machines are not touched by the check: none of them is started or stopped.
  for (const m of appMachines(h.fly).filter((m) => m.id !== id)) {
    expect(m.state).toBe("started");
    expect(callsOn(h, m.id, "start")).toHaveLength(0);
  }
  expect(h.lines.some((l) => l.includes(`standby ${id} passed`))).toBe(true);
  expect(h.lines.some((l) => l.includes("standby check: starting 1 updated standby machine(s) once"))).toBe(true);
});

test("a standby whose new config fails its checks fails the deploy, is rolled back and left stopped", async () => {
  h = await deployedFleet();
  const id = await stopOneMachine(h);
  // Only that machine's boot on the new image is broken: the started ones roll out fine first.
  h.fly.faults.checksNeverPass((m) => m.id === id && m.config.image === IMAGE_V2);
  const error = await runDeploy(h.options({ image: IMAGE_V2 })).catch((e) => e);
  expect(error.code).toBe("standby_check_failed");
  expect(error.exitCode).toBe(1);
  expect(error.message).toContain(`standby machine ${id}`);
  expect(error.message).toContain("rolled back 5 updated machine(s)");
  const machines = appMachines(h.fly);
  const standby = machines.find((m) => m.id === id)!;
  expect(standby.config.image).toBe(IMAGE_V1);
  expect(standby.state).toBe("stopped");
  expect(standby.cordoned).toBe(false);
  expect(callsOn(h, id, "start")).toHaveLength(1);
  // The rollback sent its previous config with skip_launch: it was not booted on the old config either.
  const restore = h.fly.calls.filter((c) => c.method === "POST" && c.path.endsWith(`/machines/${id}`)).at(-1)!;
  expect((restore.body as { skip_launch?: boolean; config: { image: string } }).config.image).toBe(IMAGE_V1);
  expect((restore.body as { skip_launch?: boolean }).skip_launch).toBe(true);
  for (const m of machines.filter((m) => m.id !== id)) {
    expect(m.config.image).toBe(IMAGE_V1);
    expect(m.state).toBe("started");
    expect(m.cordoned).toBe(false);
  }
});

test("a standby that fails to start (state failed) is rolled back and left stopped", async () => {
  h = await deployedFleet();
  const id = await stopOneMachine(h);
  h.fly.faults.failStart((m) => m.id === id && m.config.image === IMAGE_V2);
  const error = await runDeploy(h.options({ image: IMAGE_V2 })).catch((e) => e);
  expect(error.code).toBe("standby_check_failed");
  expect(error.message).toContain("failed to start");
  const standby = appMachines(h.fly).find((m) => m.id === id)!;
  expect(standby.config.image).toBe(IMAGE_V1);
  expect(standby.state).toBe("stopped");
});

test("a suspended standby is started once and suspended again, through the suspend endpoint", async () => {
  h = await deployedFleet();
  const id = await suspendOneMachine(h);
  const result = await runDeploy(h.options({ image: IMAGE_V2 }));
  const standby = appMachines(h.fly).find((m) => m.id === id)!;
  expect(standby.config.image).toBe(IMAGE_V2);
  expect(standby.state).toBe("suspended");
  expect(callsOn(h, id, "start")).toHaveLength(1);
  expect(callsOn(h, id, "suspend")).toHaveLength(1);
  expect(callsOn(h, id, "stop")).toHaveLength(0);
  // The plan updated it with skip_launch, and the deploy's verification took `suspended` as settled.
  expect(result.plan.actions).toContainEqual(
    expect.objectContaining({ kind: "update_machine", machineId: id, state: "suspended", skipLaunch: true }),
  );
  expect(result.machines.find((m) => m.id === id)?.state).toBe("suspended");
  expect(h.lines.some((l) => l.includes(`standby ${id} passed: started, checks passing, suspended again`))).toBe(true);
});

test("a suspended standby Fly will not suspend again (its new config has 4 GB) is stopped instead, with a warning", async () => {
  h = await deployedFleet();
  const id = await suspendOneMachine(h);
  const cfg = await productionConfig();
  cfg.vms = cfg.vms.map((vm) => ({ ...vm, size: "shared-cpu-2x", guest: { ...vm.guest, cpus: 2, memoryMb: 4096 } }));
  await runDeploy(h.options({ image: IMAGE_V2, config: cfg }));
  const standby = appMachines(h.fly).find((m) => m.id === id)!;
  expect(standby.config.guest?.memory_mb).toBe(4096);
  expect(standby.state).toBe("stopped");
  expect(callsOn(h, id, "suspend").map((c) => c.status)).toEqual([412]);
  expect(callsOn(h, id, "stop")).toHaveLength(1);
  expect(h.lines.some((l) => l.startsWith(`warning: standby ${id} could not be suspended again`))).toBe(true);
  expect(h.lines.some((l) => l.includes(`standby ${id} passed: started, checks passing, stopped again`))).toBe(true);
});

test("--skip-standby-check (skipStandbyCheck) leaves the updated standby unstarted", async () => {
  h = await deployedFleet();
  const id = await stopOneMachine(h);
  await runDeploy(h.options({ image: IMAGE_V2, skipStandbyCheck: true }));
  expect(callsOn(h, id, "start")).toHaveLength(0);
  const standby = appMachines(h.fly).find((m) => m.id === id)!;
  expect(standby.config.image).toBe(IMAGE_V2);
  expect(standby.state).toBe("stopped");
});

test("the immediate strategy tests its standbys too (it does not wait during the rollout, but a standby would not boot before traffic)", async () => {
  h = await deployedFleet();
  const id = await stopOneMachine(h);
  await runDeploy(h.options({ image: IMAGE_V2, strategy: "immediate" }));
  expect(callsOn(h, id, "start")).toHaveLength(1);
  expect(appMachines(h.fly).find((m) => m.id === id)?.state).toBe("stopped");
});

test("updatedStandbys: stopped and suspended machines updated with skip_launch, once each", () => {
  const u = (machineId: string, previousState: string, skipLaunch: boolean): MachineUpdate => ({
    machineId,
    region: "ewr",
    skipLaunch,
    previousState,
    config: { image: IMAGE_V2 },
  });
  const journal = [
    u("a", "started", false),
    u("b", "stopped", true),
    u("c", "suspended", true),
    u("d", "created", true),
    u("b", "stopped", true),
    u("e", "failed", false),
  ];
  expect(updatedStandbys(journal).map((x) => x.machineId)).toEqual(["b", "c"]);
});
