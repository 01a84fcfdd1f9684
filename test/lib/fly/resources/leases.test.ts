/** lib/fly/resources/leases.ts: both response shapes, a missing nonce, no lease. @module */
import { describe, expect, test } from "bun:test";
import { flyFailure } from "../../../support/fly-errors.ts";
import { jsonResponse } from "../scripted-server.ts";
import { bodyOf, serve } from "./harness.ts";

describe("leases", () => {
  test("acquireLease sends the TTL (13 s by default, as flyctl) and a description when given", async () => {
    const { server, client } = serve(() => jsonResponse({ nonce: "n1" }, 201));
    await client.acquireLease("web", "m1");
    await client.acquireLease("web", "m1", { ttlSeconds: 30, description: "deploy" });
    expect([bodyOf(server, 0), bodyOf(server, 1)]).toEqual([{ ttl: 13 }, { ttl: 30, description: "deploy" }]);
  });

  test("an acquire answered without a nonce is invalid_response naming the call", async () => {
    const { client } = serve(() => jsonResponse({ status: "success", data: { owner: "me" } }, 201));
    const error = await flyFailure(client.acquireLease("web", "m1"));
    expect(error.code).toBe("invalid_response");
    expect(error.path).toBe("/v1/apps/web/machines/m1/lease");
  });

  test("getLease reads the wrapped shape and is undefined when the machine has no lease", async () => {
    const { client } = serve((_, i) =>
      i === 0
        ? jsonResponse({ status: "success", data: { nonce: "n1", owner: "me" } })
        : jsonResponse({ error: "lease not found" }, 404),
    );
    expect((await client.getLease("web", "m1"))?.owner).toBe("me");
    expect(await client.getLease("web", "m1")).toBeUndefined();
  });
});
