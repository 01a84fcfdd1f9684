import { afterEach, expect, test } from "bun:test";
import { withLease } from "../../deploy/lease.ts";
import { runDeploy } from "../../deploy/deploy.ts";
import { APP, appMachines, harness, type Harness } from "./harness.ts";

let h: Harness;
afterEach(() => h?.close());

test("a lease is refreshed with the same nonce while the work runs, and released even when the work throws", async () => {
  h = await harness();
  await h.seedSecrets();
  await runDeploy(h.options());
  const id = appMachines(h.fly)[0]!.id;
  h.fly.calls.length = 0;
  let held = "";
  const failure = await withLease({ client: h.client, app: APP, ttlSeconds: 2 }, id, async (nonce) => {
    held = nonce;
    await Bun.sleep(900); // refresh period = (2 s - 1 s) / 3 ≈ 333 ms
    throw new Error("work failed");
  }).catch((e) => e);
  expect(failure.message).toBe("work failed");
  const leaseCalls = h.fly.calls.filter((c) => c.path.endsWith(`/machines/${id}/lease`));
  const refreshes = leaseCalls.filter((c) => c.method === "POST" && c.leaseNonce === held);
  expect(refreshes.length).toBeGreaterThanOrEqual(2);
  expect(leaseCalls.at(-1)).toMatchObject({ method: "DELETE", leaseNonce: held, status: 200 });
  expect(appMachines(h.fly)[0]!.lease).toBeUndefined();
});

test("a foreign lease that expires in time is waited out", async () => {
  h = await harness();
  await h.seedSecrets();
  await runDeploy(h.options());
  const id = appMachines(h.fly)[0]!.id;
  h.fly.faults.holdLease(APP, id, { ttlSeconds: 1 });
  let ran = false;
  await withLease({ client: h.client, app: APP, waitForLeaseMs: 4000 }, id, async () => {
    ran = true;
  });
  expect(ran).toBe(true);
});
