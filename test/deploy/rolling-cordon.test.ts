// The rolling strategy takes each running machine out of the proxy's rotation before its update stops it and
// puts it back once it is healthy (deploy/strategies/rolling.ts). Against the fake Fly API, which records
// every call and holds each machine's `cordoned` flag.
import { afterEach, expect, test } from "bun:test";
import { runDeploy } from "../../deploy/deploy.ts";
import { APP, appMachines, deployedFleet, type Harness, IMAGE_V1, IMAGE_V2, stopOneMachine } from "./harness.ts";

let h: Harness;
afterEach(() => h?.close());

/** What the run did to one machine, in order: cordon, update, uncordon, stop, start... (leases and reads left out). */
function actionsOn(machineId: string): string[] {
  const base = `/v1/apps/${APP}/machines/${machineId}`;
  return h.fly.calls
    .filter((c) => c.mutating && (c.path === base || /^\/(cordon|uncordon|stop|start|restart)$/.test(c.path.slice(base.length))) && c.path.startsWith(base))
    .map((c) => (c.path === base ? (c.method === "POST" ? "update" : c.method.toLowerCase()) : c.path.slice(base.length + 1)));
}

test("each running machine is cordoned before its update and uncordoned after it is healthy again; none stays cordoned", async () => {
  h = await deployedFleet();
  await runDeploy(h.options({ image: IMAGE_V2 }));

  const machines = appMachines(h.fly);
  expect(machines).toHaveLength(5);
  for (const m of machines) {
    expect(actionsOn(m.id)).toEqual(["cordon", "update", "uncordon"]);
    expect(m.cordoned).toBe(false);
    expect(m.config.image).toBe(IMAGE_V2);
    // The health poll of the new version came between the update and the uncordon.
    const update = h.fly.calls.find((c) => c.method === "POST" && c.path === `/v1/apps/${APP}/machines/${m.id}`)!;
    const uncordon = h.fly.calls.find((c) => c.path.endsWith(`/machines/${m.id}/uncordon`))!;
    expect(h.fly.calls.some((c) => c.method === "GET" && c.path === `/v1/apps/${APP}/machines/${m.id}` && c.at >= update.at && c.at <= uncordon.at)).toBe(true);
  }
  // Rolling: the second machine is cordoned only once the spearhead is back in rotation.
  const cordons = h.fly.calls.filter((c) => c.path.endsWith("/cordon"));
  const firstUncordon = h.fly.calls.find((c) => c.path.endsWith("/uncordon"))!;
  expect(cordons[1]!.at).toBeGreaterThanOrEqual(firstUncordon.at);

  // Re-running the finished deploy changes nothing: no cordon, no update.
  h.fly.calls.length = 0;
  await runDeploy(h.options({ image: IMAGE_V2 }));
  expect(h.fly.mutatingCalls()).toEqual([]);
});

test("a machine the proxy had stopped is updated without a cordon (it serves nothing) and stays stopped", async () => {
  h = await deployedFleet();
  const stoppedId = await stopOneMachine(h);

  await runDeploy(h.options({ image: IMAGE_V2 }));

  expect(actionsOn(stoppedId)).toEqual(["update"]);
  expect(appMachines(h.fly).find((m) => m.id === stoppedId)).toMatchObject({ state: "stopped", cordoned: false });
});

test("a machine whose new version never passes its checks is rolled back and put back into rotation", async () => {
  h = await deployedFleet();
  const victim = appMachines(h.fly)[0]!.id;
  h.fly.faults.checksNeverPass((m) => m.id === victim && m.config.image === IMAGE_V2);

  const error = await runDeploy(h.options({ image: IMAGE_V2 })).catch((e: unknown) => e);

  expect(error).toMatchObject({ exitCode: 1 });
  const machines = appMachines(h.fly);
  expect(machines.every((m) => m.config.image === IMAGE_V1)).toBe(true);
  expect(machines.filter((m) => m.cordoned).map((m) => m.id)).toEqual([]);
  const victimActions = actionsOn(victim);
  expect(victimActions.slice(0, 2)).toEqual(["cordon", "update"]);
  expect(victimActions).toContain("uncordon");
});
