// Every fault the fake can inject, during a rolling update: survived (retried) or reported cleanly with the
// fleet left on one image and no lease of ours left behind.
import { afterEach, expect, test } from "bun:test";
import { runDeploy } from "../../../deploy/apply/deploy.ts";
import { appMachines, deployedFleet, harness, IMAGE_V1, IMAGE_V2, type Harness } from "../harness.ts";
import { APP } from "../harness.ts";

let h: Harness;
afterEach(() => h?.close());

function images() {
  return appMachines(h.fly).map((m) => m.config.image);
}

test("429 with Retry-After on machine updates is waited out and the deploy completes", async () => {
  h = await deployedFleet();
  h.fly.faults.rateLimit(3, { retryAfterSeconds: 0, match: { method: "POST", path: /\/machines\/[^/]+$/ } });
  await runDeploy(h.options({ image: IMAGE_V2 }));
  expect(images()).toEqual(Array(5).fill(IMAGE_V2));
  expect(h.fly.calls.filter((c) => c.status === 429)).toHaveLength(3);
});

test("500s on reads and lease calls are retried", async () => {
  h = await deployedFleet();
  h.fly.faults
    .serverError(2, { match: { method: "GET", path: "/machines" } })
    .serverError(2, { match: { path: /\/lease$/, method: "DELETE" } });
  await runDeploy(h.options({ image: IMAGE_V2 }));
  expect(images()).toEqual(Array(5).fill(IMAGE_V2));
  expect(h.fly.calls.filter((c) => c.status === 500)).toHaveLength(4);
});

test("a dropped connection on an update (after it was applied) is survived", async () => {
  h = await deployedFleet();
  h.fly.faults.dropConnection(1, { match: { method: "POST", path: /\/machines\/[^/]+$/ }, afterHandling: true });
  await runDeploy(h.options({ image: IMAGE_V2 }));
  expect(images()).toEqual(Array(5).fill(IMAGE_V2));
  expect(appMachines(h.fly).every((m) => m.lease === undefined)).toBe(true);
});

test("a dropped connection on a machine create is recovered by name, not doubled", async () => {
  h = await harness();
  await h.seedSecrets();
  h.fly.faults.dropConnection(1, { match: { method: "POST", path: /\/machines$/ }, afterHandling: true });
  await runDeploy(h.options());
  expect(appMachines(h.fly)).toHaveLength(5);
});

test("a machine leased by someone else (flyctl): the run waits --wait-for-lock, names the holder, exits 2 with nothing changed", async () => {
  h = await deployedFleet();
  const ids = appMachines(h.fly)
    .map((m) => m.id)
    .sort();
  h.fly.faults.holdLease(APP, ids[2]!, { owner: "alice@example.com", description: "fly deploy" });
  const error = await runDeploy(h.options({ image: IMAGE_V2 })).catch((e) => e);
  expect(error.exitCode).toBe(2);
  expect(error.code).toBe("lease_held");
  expect(error.message).toContain("another deploy is working on flightdeck; nothing was changed");
  expect(error.message).toContain("alice@example.com");
  expect(h.lines.join("\n")).toContain("fly deploy");
  expect(images()).toEqual(Array(5).fill(IMAGE_V1));
  // Only lease calls: the partial set of leases it took was given back.
  expect(h.fly.mutatingCalls().filter((c) => !c.path.endsWith("/lease"))).toEqual([]);
  expect(
    appMachines(h.fly)
      .filter((m) => m.id !== ids[2])
      .every((m) => m.lease === undefined),
  ).toBe(true);
});

test("persistent 500s on one machine's update: the deploy fails cleanly and rolls back what moved", async () => {
  h = await deployedFleet();
  const victim = appMachines(h.fly)
    .map((m) => m.id)
    .sort()[1]!;
  // Every attempt (1 + 4 retries) of the victim's update fails; the rollback afterwards gets through.
  h.fly.faults.serverError(5, { match: { method: "POST", path: new RegExp(`/machines/${victim}$`) } });
  const error = await runDeploy(h.options({ image: IMAGE_V2 })).catch((e) => e);
  expect(error.exitCode).toBe(1);
  expect(error.message).toContain("500");
  expect(error.message).toContain("rolled back");
  expect(error.message).toContain(`5 on ${IMAGE_V1}`);
  expect(images()).toEqual(Array(5).fill(IMAGE_V1));
  expect(appMachines(h.fly).every((m) => m.lease === undefined)).toBe(true);
});
