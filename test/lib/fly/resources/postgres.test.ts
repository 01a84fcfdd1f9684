/** lib/fly/resources/postgres.ts: the `{data: …}` envelope, and a named create recovered, not doubled. @module */
import { describe, expect, test } from "bun:test";
import { flyFailure } from "../../../support/fly-errors.ts";
import { drop, jsonResponse } from "../scripted-server.ts";
import { serve } from "./harness.ts";

describe("postgres", () => {
  test("answers are unwrapped from `data`; a 2xx without it is invalid_response", async () => {
    const { client } = serve((_, i) => jsonResponse(i === 0 ? { data: { id: "c1", status: "ready" } } : { id: "c1" }));
    expect((await client.getPostgresCluster("c1")).status).toBe("ready");
    const error = await flyFailure(client.getPostgresCluster("c1"));
    expect(error.code).toBe("invalid_response");
    expect(error.path).toBe("/v1/postgres/c1");
  });

  test("a named create whose answer was lost finds the cluster instead of creating a second", async () => {
    const { server, client } = serve((request, i) => {
      if (i === 0) return drop();
      const path = new URL(request.url).pathname;
      if (path === "/v1/postgres") return jsonResponse({ data: [{ id: "c1", name: "db", status: "creating" }] });
      if (path === "/v1/postgres/c1") return jsonResponse({ data: { id: "c1", name: "db", status: "creating" } });
      return jsonResponse({ error: "should not be called" }, 500);
    });
    const cluster = await client.createPostgresCluster({ org_slug: "acme", name: "db", region: "ams", plan: "basic" });
    expect(cluster.id).toBe("c1");
    expect(server.received.map((r) => `${r.method} ${r.path}${r.query}`)).toEqual([
      "POST /v1/postgres",
      "GET /v1/postgres?org_slug=acme",
      "GET /v1/postgres/c1",
    ]);
  });
});
