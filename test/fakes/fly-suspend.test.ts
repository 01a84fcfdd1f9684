/**
 * The fake's suspend endpoint (./fly/suspend.ts): started -> suspending -> suspended, a start resumes it, and
 * Fly's limit on what can be suspended (fly.io/docs/reference/suspend-resume: at most 2 GB of memory). Also the
 * 429 counter the deploy bench reads.
 * @module
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { createFlyClient, type FlyClient } from "../../lib/fly/index.ts";
import { flyFailure } from "../support/fly-errors.ts";
import { startFakeFly, type FakeFly } from "./fly-machines.ts";

let fly: FakeFly;
let client: FlyClient;

beforeEach(() => {
  fly = startFakeFly();
  client = createFlyClient({ baseUrl: fly.url, token: fly.token, retries: 0 });
  fly.seedApp("web");
});
afterEach(() => fly.close());

async function startedMachine(memoryMb: number): Promise<string> {
  const machine = await client.createMachine("web", {
    config: { image: "registry.fly.io/web:1", guest: { cpu_kind: "shared", cpus: 1, memory_mb: memoryMb } },
  });
  await client.waitMachine("web", machine.id!, { state: "started", timeoutSeconds: 5 });
  return machine.id!;
}

test("a started machine of 2 GB is suspended, and a start resumes it", async () => {
  const id = await startedMachine(2048);
  await client.suspendMachine("web", id);
  expect((await client.getMachine("web", id)).state).toBe("suspending");
  await client.waitMachine("web", id, { state: "suspended", timeoutSeconds: 5 });
  expect((await client.getMachine("web", id)).state).toBe("suspended");
  await client.startMachine("web", id);
  await client.waitMachine("web", id, { state: "started", timeoutSeconds: 5 });
  expect(fly.machines("web")[0]!.events.some((e) => e.type === "suspend" && e.status === "suspended")).toBe(true);
});

test("a machine over 2 GB is refused with 412, and stays started", async () => {
  const id = await startedMachine(4096);
  const error = await flyFailure(client.suspendMachine("web", id));
  expect(error.status).toBe(412);
  expect(error.message).toContain("4096 MB");
  expect((await client.getMachine("web", id)).state).toBe("started");
});

test("only a started machine can be suspended; the lease's nonce is required like any mutation", async () => {
  const id = await startedMachine(256);
  const lease = await client.acquireLease("web", id, { ttlSeconds: 30 });
  expect((await flyFailure(client.suspendMachine("web", id))).status).toBe(409);
  await client.stopMachine("web", id, { leaseNonce: lease.nonce });
  await client.waitMachine("web", id, { state: "stopped", timeoutSeconds: 5 });
  const error = await flyFailure(client.suspendMachine("web", id, { leaseNonce: lease.nonce }));
  expect(error.status).toBe(412);
  expect(error.message).toContain("current state (stopped)");
});

test("rateLimited counts every 429 the fake answered", async () => {
  fly.faults.rateLimit(2, { match: { path: "/v1/apps/web" } });
  expect(fly.rateLimited).toBe(0);
  await flyFailure(client.getApp("web"));
  await flyFailure(client.getApp("web"));
  await client.getApp("web");
  expect(fly.rateLimited).toBe(2);
});
