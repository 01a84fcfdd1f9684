/** lib/fly/resources/volumes.ts: a create is never replayed after an ambiguous failure. @module */
import { describe, expect, test } from "bun:test";
import { flyFailure } from "../../../support/fly-errors.ts";
import { jsonResponse } from "../scripted-server.ts";
import { serve } from "./harness.ts";

describe("volumes", () => {
  test("createVolume after a 500 is not sent again (a replay could make a second volume)", async () => {
    const { server, client } = serve(() => jsonResponse({ error: "boom" }, 500));
    const error = await flyFailure(client.createVolume("web", { name: "data", region: "ams", size_gb: 1 }));
    expect(error.status).toBe(500);
    expect(server.received).toHaveLength(1);
  });

  test("read, list and delete address the volume by id", async () => {
    const { server, client } = serve((request) =>
      request.method === "DELETE"
        ? jsonResponse({})
        : jsonResponse(request.url.endsWith("/volumes") ? [] : { id: "v1" }),
    );
    expect((await client.getVolume("web", "v1")).id).toBe("v1");
    expect(await client.listVolumes("web")).toEqual([]);
    await client.deleteVolume("web", "v1");
    expect(server.received.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /v1/apps/web/volumes/v1",
      "GET /v1/apps/web/volumes",
      "DELETE /v1/apps/web/volumes/v1",
    ]);
  });
});
