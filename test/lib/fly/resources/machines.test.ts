/** lib/fly/resources/machines.ts on the wire: queries, bodies, and chained waits. @module */
import { describe, expect, test } from "bun:test";
import { flyFailure } from "../../../support/fly-errors.ts";
import { jsonResponse } from "../scripted-server.ts";
import { bodyOf, serve } from "./harness.ts";

describe("machines", () => {
  test("listMachines: state as a comma list, metadata.* filters, false flags left out", async () => {
    const { server, client } = serve(() => jsonResponse([]));
    await client.listMachines("web", {
      state: ["started", "stopped"],
      metadata: { fly_process_group: "app" },
      includeDeleted: false,
      region: "ams",
    });
    expect(server.received[0]!.query).toBe("?region=ams&state=started%2Cstopped&metadata.fly_process_group=app");
  });

  test("stopMachine sends the kill signal and timeout only when asked, and the lease nonce", async () => {
    const { server, client } = serve(() => jsonResponse({ ok: true }));
    await client.stopMachine("web", "m1", { killSignal: "SIGINT", killTimeout: "5s", leaseNonce: "n1" });
    await client.stopMachine("web", "m1");
    expect(bodyOf(server, 0)).toEqual({ signal: "SIGINT", timeout: "5s" });
    expect(bodyOf(server, 1)).toEqual({});
    expect(server.received[0]!.headers.get("fly-machine-lease-nonce")).toBe("n1");
    expect(server.received[0]!.path).toBe("/v1/apps/web/machines/m1/stop");
  });

  test("suspendMachine posts to /suspend with the lease nonce and no body", async () => {
    const { server, client } = serve(() => jsonResponse({ ok: true }));
    await client.suspendMachine("web", "m1", { leaseNonce: "n1" });
    expect(server.received[0]!.method).toBe("POST");
    expect(server.received[0]!.path).toBe("/v1/apps/web/machines/m1/suspend");
    expect(server.received[0]!.headers.get("fly-machine-lease-nonce")).toBe("n1");
    expect(server.received[0]!.body).toBe("");
  });

  test("waitForMachineState chains /wait calls until one reports the state", async () => {
    const { server, client } = serve((_, i) =>
      i < 2 ? jsonResponse({ error: "deadline_exceeded" }, 408) : jsonResponse({ ok: true, state: "started" }),
    );
    const result = await client.waitForMachineState("web", "m1", { state: "started", timeoutMs: 90_000 });
    expect(result).toEqual({ ok: true, state: "started", version: undefined, eventId: undefined });
    // Each wait asks for what is left of the budget, capped at the API's 60 s.
    expect(server.received.map((r) => r.query)).toEqual([
      "?state=started&timeout=60",
      "?state=started&timeout=60",
      "?state=started&timeout=60",
    ]);
  });

  test("waitForMachineState with no time left sends nothing and reports the timeout", async () => {
    const { server, client } = serve(() => jsonResponse({ ok: true, state: "started" }));
    expect(await client.waitForMachineState("web", "m1", { state: "started", timeoutMs: 0 })).toEqual({
      ok: false,
      timedOut: true,
    });
    expect(server.received).toHaveLength(0);
  });

  test("waitForMachineState gives up once the budget is spent, asking only for what is left", async () => {
    const { server, client } = serve(async () => {
      await Bun.sleep(300);
      return jsonResponse({ error: "deadline_exceeded" }, 408);
    });
    const result = await client.waitForMachineState("web", "m1", { state: "started", timeoutMs: 1_500 });
    expect(result).toEqual({ ok: false, timedOut: true });
    expect(server.received[0]!.query).toBe("?state=started&timeout=2");
    // 1.5 s of 300 ms waits: a handful of calls, each asking for ceil(remaining) seconds, never more than 2.
    expect(server.received.length).toBeGreaterThanOrEqual(2);
    expect(server.received.length).toBeLessThanOrEqual(6);
    for (const r of server.received)
      expect(["?state=started&timeout=1", "?state=started&timeout=2"]).toContain(r.query);
  });

  test("an abort during a chained wait is the `aborted` error, not a timeout", async () => {
    const { client } = serve(async () => {
      await Bun.sleep(500);
      return jsonResponse({ error: "deadline_exceeded" }, 408);
    });
    const error = await flyFailure(
      client.waitForMachineState("web", "m1", { state: "started", timeoutMs: 10_000, signal: AbortSignal.timeout(50) }),
    );
    expect(error.code).toBe("aborted");
  });

  test("listEvents passes the limit; listVersions reads the versions path", async () => {
    const { server, client } = serve(() => jsonResponse([]));
    await client.listEvents("web", "m1", { limit: 5 });
    await client.listVersions("web", "m1");
    expect(server.received.map((r) => `${r.path}${r.query}`)).toEqual([
      "/v1/apps/web/machines/m1/events?limit=5",
      "/v1/apps/web/machines/m1/versions",
    ]);
  });
});
