// The client against the stateful fake with injected faults: what a deploy will meet on a bad day.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { createCallLog, createFlyClient, FlyApiError, type CallLog, type FlyClient } from "../../../lib/fly/index.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";
import { FAST_RETRY } from "./scripted-server.ts";

let fly: FakeFly;
let client: FlyClient;
let log: CallLog;

beforeEach(() => {
  fly = startFakeFly();
  fly.seedApp("web");
  log = createCallLog();
  client = createFlyClient({ baseUrl: fly.url, token: fly.token, retry: FAST_RETRY, onRequest: log.onRequest });
});
afterEach(() => fly.close());

test("rate limits and 5xx on the way are absorbed; the log shows every attempt", async () => {
  fly.faults
    .rateLimit(2, { retryAfterSeconds: 0, match: { path: "/machines" } })
    .serverError(1, { status: 502, match: { method: "GET" } });
  const machines = await client.listMachines("web");
  expect(machines).toEqual([]);
  expect(log.calls.map((c) => c.status)).toEqual([429, 429, 502, 200]);
  expect(log.calls.map((c) => c.attempt)).toEqual([1, 2, 3, 4]);
  expect(log.mutating()).toEqual([]);
});

test("an unnamed create whose answer is lost is not repeated: one machine, one error", async () => {
  fly.faults.dropConnection(1, { match: { method: "POST", path: /\/machines$/ }, afterHandling: true });
  const error = await client.createMachine("web", { config: { image: "x" } }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(FlyApiError);
  expect((error as FlyApiError).code).toBe("network_error");
  expect(fly.machines("web")).toHaveLength(1);
  expect(fly.calls.filter((c) => c.method === "POST")).toHaveLength(1);
});

test("a named create whose answer is lost finds the machine it made instead of making another", async () => {
  fly.faults.dropConnection(1, { match: { method: "POST", path: /\/machines$/ }, afterHandling: true });
  const machine = await client.createMachine("web", { name: "web-1", config: { image: "x" } });
  expect(machine.name).toBe("web-1");
  expect(fly.machines("web").map((m) => m.id)).toEqual([machine.id!]);
});

test("a named create refused by a 500 before anything happened is sent again and succeeds", async () => {
  fly.faults.serverError(1, { match: { method: "POST", path: /\/machines$/ } });
  const machine = await client.createMachine("web", { name: "web-1", config: { image: "x" } });
  expect(fly.machines("web").map((m) => m.id)).toEqual([machine.id!]);
  expect(log.calls.map((c) => `${c.method} ${c.status}`)).toEqual(["POST 500", "GET 200", "POST 200"]);
});

test("a lease held by another deploy is a conflict the caller can read", async () => {
  const machine = await client.createMachine("web", { config: { image: "x" } });
  fly.faults.holdLease("web", machine.id!, { owner: "ci@tokens.fly.io" });
  const error = (await client.acquireLease("web", machine.id!).catch((e: unknown) => e)) as FlyApiError;
  expect(error.code).toBe("conflict");
  expect(error.apiMessage).toContain("ci@tokens.fly.io");
  expect(error.attempts).toBe(1);
});

test("waitForMachineState chains waits until the machine gets there", async () => {
  fly.timings.bootMs = 1_300;
  const machine = await client.createMachine("web", { config: { image: "x" } });
  const result = await client.waitForMachineState("web", machine.id!, { state: "started", timeoutMs: 5_000 });
  expect(result.ok).toBe(true);
  const waits = log.calls.filter((c) => c.path.endsWith("/wait"));
  expect(waits.length).toBeGreaterThanOrEqual(1);
  expect(waits.every((c) => c.query.includes("timeout="))).toBe(true);
});

test("waitForMachineState reports a timeout as a result when the machine never starts", async () => {
  fly.faults.neverStart(() => true);
  const machine = await client.createMachine("web", { config: { image: "x" } });
  const result = await client.waitForMachineState("web", machine.id!, { state: "started", timeoutMs: 1_000 });
  expect(result).toEqual({ ok: false, timedOut: true });
  expect(log.calls.filter((c) => c.path.endsWith("/wait")).map((c) => c.status)).toEqual([408]);
});
