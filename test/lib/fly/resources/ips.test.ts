/** lib/fly/resources/ips.ts on the wire. @module */
import { describe, expect, test } from "bun:test";
import { flyFailure } from "../../../support/fly-errors.ts";
import { jsonResponse } from "../scripted-server.ts";
import { bodyOf, serve } from "./harness.ts";

describe("ips", () => {
  test("listIpAssignments reads `ips` (none when absent); deleteIp addresses the IP", async () => {
    const { server, client } = serve((request, i) =>
      request.method === "DELETE" ? jsonResponse({}) : jsonResponse(i === 0 ? { ips: [{ ip: "2a09::1" }] } : {}),
    );
    expect((await client.listIpAssignments("web")).map((a) => a.ip)).toEqual(["2a09::1"]);
    expect(await client.listIpAssignments("web")).toEqual([]);
    await client.deleteIp("web", "2a09::1");
    expect(server.received[2]!.path).toBe("/v1/apps/web/ip_assignments/2a09%3A%3A1");
  });

  test("assignIp sends the type and is not replayed after a 502", async () => {
    const { server, client } = serve(() => jsonResponse({ error: "bad gateway" }, 502));
    await flyFailure(client.assignIp("web", { type: "shared_v4" }));
    expect(server.received).toHaveLength(1);
    expect(bodyOf(server)).toEqual({ type: "shared_v4" });
  });
});
