// Scenarios on an existing fleet: no-op, rolling image update, failure with rollback, release command
// failure, interrupted deploy then re-run. Each asserts the fleet the fake ends with and the calls made.
import { afterEach, expect, test } from "bun:test";
import { runDeploy } from "../../../deploy/apply/deploy.ts";
import { createFlyClient } from "../../../lib/fly/client.ts";
import {
  APP,
  appMachines,
  deployedFleet,
  harness,
  IMAGE_V1,
  IMAGE_V2,
  mutating,
  productionConfig,
  stopOneMachine,
  type Harness,
} from "../harness.ts";

let h: Harness;
afterEach(() => h?.close());

test("re-deploying the same image and config makes zero mutating calls", async () => {
  h = await deployedFleet();
  const result = await runDeploy(h.options());
  expect(h.fly.mutatingCalls()).toEqual([]);
  expect(result.changed).toBe(false);
  expect(result.plan.actions.map((a) => a.kind)).toEqual(["noop"]);
  expect(result.machines).toHaveLength(5);
});

test("new image: rolling update under leases, spearhead first, every machine ends on v2", async () => {
  h = await deployedFleet();
  const result = await runDeploy(h.options({ image: IMAGE_V2 }));
  const machines = appMachines(h.fly);
  expect(machines).toHaveLength(5);
  for (const m of machines) {
    expect(m.config.image).toBe(IMAGE_V2);
    expect(m.state).toBe("started");
    expect(m.lease).toBeUndefined();
  }
  const updates = h.fly.calls.filter((c) => c.method === "POST" && /\/machines\/[^/]+$/.test(c.path));
  expect(updates).toHaveLength(5);
  // every update carries the nonce of a lease taken on that machine just before
  for (const u of updates) {
    expect(u.leaseNonce).toBeTruthy();
    const id = u.path.split("/").pop();
    expect(
      h.fly.calls.some((c) => c.method === "POST" && c.path.endsWith(`/machines/${id}/lease`) && c.at <= u.at),
    ).toBe(true);
    expect(
      h.fly.calls.some(
        (c) => c.method === "DELETE" && c.path.endsWith(`/machines/${id}/lease`) && c.leaseNonce === u.leaseNonce,
      ),
    ).toBe(true);
  }
  // spearhead: the second update starts only after the first machine was healthy again
  const first = updates[0]!;
  const firstId = first.path.split("/").pop();
  const healthyPoll = h.fly.calls.find(
    (c) => c.method === "GET" && c.path.endsWith(`/machines/${firstId}`) && c.at > first.at,
  );
  expect(healthyPoll).toBeDefined();
  expect(updates[1]!.at).toBeGreaterThan(healthyPoll!.at);
  expect(mutating(h.fly)).toContain("POST /machines"); // the release command machine
  expect(result.release).toBe(2);
  for (const m of machines) expect(m.config.metadata?.fly_release_version).toBe("2");
});

test("a stopped machine is updated with skip_launch and stays stopped", async () => {
  h = await deployedFleet();
  const stoppedId = await stopOneMachine(h);
  await runDeploy(h.options({ image: IMAGE_V2 }));
  const stopped = appMachines(h.fly).find((m) => m.id === stoppedId)!;
  expect(stopped.config.image).toBe(IMAGE_V2);
  expect(stopped.state).toBe("stopped");
  const update = h.fly.calls.find((c) => c.method === "POST" && c.path.endsWith(`/machines/${stoppedId}`))!;
  expect((update.body as { skip_launch?: boolean }).skip_launch).toBe(true);
});

test("checks never pass on v2: the machines already moved are rolled back, exit 1 says the fleet state", async () => {
  h = await deployedFleet();
  h.fly.faults.checksNeverPass((m) => m.config.image === IMAGE_V2 && m.config.metadata?.fly_process_group === "app");
  const error = await runDeploy(h.options({ image: IMAGE_V2 })).catch((e) => e);
  expect(error.exitCode).toBe(1);
  expect(error.code).toBe("checks_not_passing");
  expect(error.message).toContain("health checks did not pass");
  expect(error.message).toContain("rolled back 1 updated machine");
  expect(error.message).toContain(`fleet now: 5 machine(s): 5 on ${IMAGE_V1}`);
  const machines = appMachines(h.fly);
  expect(machines.map((m) => m.config.image)).toEqual(Array(5).fill(IMAGE_V1));
  expect(machines.every((m) => m.lease === undefined)).toBe(true);
  // Only the spearhead was touched: one update forward, one back.
  const updates = h.fly.calls.filter((c) => c.method === "POST" && /\/machines\/[^/]+$/.test(c.path));
  expect(updates).toHaveLength(2);
  expect((updates[1]!.body as { config: { image: string } }).config.image).toBe(IMAGE_V1);
});

test("machine never starts: reported with the machine id, rolled back", async () => {
  h = await deployedFleet();
  const victim = appMachines(h.fly)[0]!.id;
  h.fly.faults.neverStart((m) => m.id === victim && m.config.image === IMAGE_V2);
  const error = await runDeploy(h.options({ image: IMAGE_V2 })).catch((e) => e);
  expect(error.exitCode).toBe(1);
  expect(error.message).toContain(victim);
  expect(error.message).toContain("did not reach started");
  h.fly.faults.clear();
  const machines = appMachines(h.fly);
  expect(new Set(machines.map((m) => m.config.image))).toEqual(new Set([IMAGE_V1]));
});

test("release command exits non-zero: deploy aborts before any app machine changes", async () => {
  h = await deployedFleet();
  h.fly.faults.exitCode(3, (m) => m.config.metadata?.fly_process_group === "fly_app_release_command");
  const error = await runDeploy(h.options({ image: IMAGE_V2 })).catch((e) => e);
  expect(error.exitCode).toBe(1);
  expect(error.code).toBe("release_command_failed");
  expect(error.message).toContain("exited with status 3");
  expect(error.message).toContain("bun run migrate");
  // Leases (the fleet lock) and the release history's metadata write, but no machine update or destroy.
  const touched = h.fly.mutatingCalls().filter((c) => /\/machines\/[^/]+$/.test(c.path));
  expect(touched).toEqual([]);
  expect(appMachines(h.fly).every((m) => m.config.image === IMAGE_V1)).toBe(true);
});

test("a deploy aborted after a few mutating calls converges when re-run", async () => {
  h = await harness();
  await h.seedSecrets();
  const controller = new AbortController();
  let creates = 0;
  // Abort right after the 4th create (volume or machine) answered: deterministic, whatever the load.
  const client = createFlyClient({
    baseUrl: h.fly.url,
    token: h.fly.token,
    onRequest: (info) => {
      if (info.method === "POST" && /\/(machines|volumes)$/.test(info.path) && info.status === 200 && ++creates === 4)
        controller.abort(new Error("killed by test"));
    },
  });
  const error = await runDeploy(h.options({ client, signal: controller.signal })).catch((e) => e);
  expect(error.code).toBe("aborted");
  expect(error.message).toContain("run deploy again");
  expect(appMachines(h.fly).length).toBeLessThan(5);
  expect(appMachines(h.fly).every((m) => m.lease === undefined)).toBe(true);

  const result = await runDeploy(h.options());
  const machines = appMachines(h.fly);
  expect(machines).toHaveLength(5);
  expect(machines.every((m) => m.config.image === IMAGE_V1 && m.state === "started")).toBe(true);
  // The re-run aimed for 5 because every machine made before the abort recorded 5.
  expect(result.plan.target.machineCount).toBe(5);
  expect(machines.every((m) => m.config.metadata?.flightdeck_fleet_size === "5")).toBe(true);
  // one volume per machine, none doubly attached; volumes created before the abort were reused
  const app = h.fly.state.apps.get(APP)!;
  expect(new Set(machines.map((m) => m.config.mounts?.[0]?.volume)).size).toBe(5);
  expect([...app.volumes.values()].filter((v) => v.state !== "destroyed")).toHaveLength(5);
  expect(result.machines).toHaveLength(5);
  h.fly.calls.length = 0;
  await runDeploy(h.options());
  expect(h.fly.mutatingCalls()).toEqual([]);
});

test("a rolling update aborted half-way converges on the new image when re-run", async () => {
  h = await deployedFleet();
  const controller = new AbortController();
  let updates = 0;
  const client = createFlyClient({
    baseUrl: h.fly.url,
    token: h.fly.token,
    onRequest: (info) => {
      if (info.method === "POST" && /\/machines\/[^/]+$/.test(info.path) && info.status === 200 && ++updates === 2)
        controller.abort(new Error("killed"));
    },
  });
  const error = await runDeploy(h.options({ client, image: IMAGE_V2, signal: controller.signal })).catch((e) => e);
  expect(error.code).toBe("aborted");
  const images = appMachines(h.fly).map((m) => m.config.image);
  expect(images).toContain(IMAGE_V1);
  expect(appMachines(h.fly).every((m) => m.lease === undefined)).toBe(true);
  // Interrupted between their cordon and their uncordon, machines in flight are out of the proxy's rotation.
  expect(appMachines(h.fly).filter((m) => m.cordoned).length).toBeGreaterThan(0);

  await runDeploy(h.options({ image: IMAGE_V2 }));
  expect(appMachines(h.fly).map((m) => m.config.image)).toEqual(Array(5).fill(IMAGE_V2));
  expect(appMachines(h.fly).filter((m) => m.cordoned)).toEqual([]);
  h.fly.calls.length = 0;
  await runDeploy(h.options({ image: IMAGE_V2 }));
  expect(h.fly.mutatingCalls()).toEqual([]);
});

test("immediate strategy updates every machine without waiting", async () => {
  h = await deployedFleet();
  await runDeploy(h.options({ image: IMAGE_V2, strategy: "immediate" }));
  expect(appMachines(h.fly).map((m) => m.config.image)).toEqual(Array(5).fill(IMAGE_V2));
  // Every update goes out before any wait; the waits that follow are the verification letting them settle.
  const updates = h.fly.calls
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => c.method === "POST" && /\/machines\/[^/]+$/.test(c.path));
  const ids = appMachines(h.fly).map((m) => m.id);
  const firstWait = h.fly.calls.findIndex(
    (c) => c.method === "GET" && c.path.endsWith("/wait") && ids.some((id) => c.path.includes(id)),
  );
  expect(updates).toHaveLength(5);
  expect(firstWait === -1 || firstWait > updates.at(-1)!.i).toBe(true);
  expect(appMachines(h.fly).every((m) => m.state === "started")).toBe(true);
});

test("canary and bluegreen are refused with [mounts] before anything changes (exit 2)", async () => {
  h = await deployedFleet();
  for (const strategy of ["canary", "bluegreen"] as const) {
    const error = await runDeploy(h.options({ image: IMAGE_V2, strategy })).catch((e) => e);
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain("[mounts]");
  }
  expect(h.fly.mutatingCalls()).toEqual([]);
});

test("config change alone (env) updates every machine; digest stored in metadata", async () => {
  h = await deployedFleet();
  const cfg = await productionConfig();
  cfg.env.LOG_LEVEL = "debug";
  await runDeploy(h.options({ config: cfg }));
  const machines = appMachines(h.fly);
  expect(machines.every((m) => m.config.env?.LOG_LEVEL === "debug")).toBe(true);
  const digests = new Set(machines.map((m) => m.config.metadata?.flightdeck_config_digest));
  expect(digests.size).toBe(1);
});

/** Crashes one machine of the fleet the way Fly reports it: its next start ends in state `failed`. */
async function failOneMachine(hh: Harness): Promise<string> {
  const id = appMachines(hh.fly)[2]!.id;
  hh.fly.faults.failStart(id);
  await hh.client.stopMachine(APP, id);
  await hh.client.waitMachine(APP, id, { state: "stopped", timeoutSeconds: 5 });
  await hh.client.startMachine(APP, id);
  for (let i = 0; i < 200 && appMachines(hh.fly).find((m) => m.id === id)?.state !== "failed"; i++) await Bun.sleep(10);
  expect(appMachines(hh.fly).find((m) => m.id === id)?.state).toBe("failed");
  hh.fly.calls.length = 0;
  return id;
}

test("a failed machine on the current image and config is relaunched by re-running deploy", async () => {
  h = await deployedFleet();
  const id = await failOneMachine(h);
  h.fly.faults.clear(); // whatever broke it is fixed; the re-run must notice the machine is still down

  const result = await runDeploy(h.options());
  expect(result.changed).toBe(true);
  expect(result.plan.actions).toMatchObject([
    { kind: "update_machine", machineId: id, causes: ["failed"], skipLaunch: false },
  ]);
  // One update of that machine under the fleet lock; no release command, no other machine updated (the
  // others only get the release history, a metadata write that restarts nothing).
  expect(mutating(h.fly).filter((c) => !c.includes("/lease") && !c.endsWith("/metadata"))).toEqual([
    `POST /machines/${id}`,
  ]);
  const machines = appMachines(h.fly);
  expect(machines.every((m) => m.state === "started" && m.config.image === IMAGE_V1)).toBe(true);

  h.fly.calls.length = 0;
  await runDeploy(h.options());
  expect(h.fly.mutatingCalls()).toEqual([]);
});

test("a machine that fails again is reported (exit 1) and the rest of the fleet is left alone", async () => {
  h = await deployedFleet();
  const id = await failOneMachine(h); // the fault stays: it fails on every start
  const error = await runDeploy(h.options()).catch((e) => e);
  expect(error.exitCode).toBe(1);
  expect(error.message).toContain(id);
  const others = appMachines(h.fly).filter((m) => m.id !== id);
  expect(others.every((m) => m.state === "started" && m.config.image === IMAGE_V1)).toBe(true);
});
