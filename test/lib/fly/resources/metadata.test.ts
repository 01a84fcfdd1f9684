/** lib/fly/resources/metadata.ts on the wire. @module */
import { describe, expect, test } from "bun:test";
import { jsonResponse } from "../scripted-server.ts";
import { bodyOf, serve } from "./harness.ts";

describe("metadata", () => {
  test("set one key, merge several with the version guard, delete, read", async () => {
    const { server, client } = serve((request) =>
      request.method === "GET" ? jsonResponse({ a: "1" }) : new Response(null, { status: 204 }),
    );
    await client.setMetadata("web", "m1", "flightdeck_release", "2", { leaseNonce: "n1" });
    await client.updateMetadata("web", "m1", { a: "1", b: "2" }, { machineVersion: "v9" });
    await client.updateMetadata("web", "m1", { a: "1" });
    await client.deleteMetadata("web", "m1", "b");
    expect(await client.getMetadata("web", "m1")).toEqual({ a: "1" });
    expect(server.received.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /v1/apps/web/machines/m1/metadata/flightdeck_release",
      "PATCH /v1/apps/web/machines/m1/metadata",
      "PATCH /v1/apps/web/machines/m1/metadata",
      "DELETE /v1/apps/web/machines/m1/metadata/b",
      "GET /v1/apps/web/machines/m1/metadata",
    ]);
    expect(bodyOf(server, 0)).toEqual({ value: "2" });
    expect(bodyOf(server, 1)).toEqual({ metadata: { a: "1", b: "2" }, machine_version: "v9" });
    expect(bodyOf(server, 2)).toEqual({ metadata: { a: "1" } });
    expect(server.received[0]!.headers.get("fly-machine-lease-nonce")).toBe("n1");
  });
});
