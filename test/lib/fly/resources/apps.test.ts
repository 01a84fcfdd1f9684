/** lib/fly/resources/apps.ts on the wire. @module */
import { describe, expect, test } from "bun:test";
import { jsonResponse } from "../scripted-server.ts";
import { bodyOf, serve } from "./harness.ts";

describe("apps", () => {
  test("createApp sends the name as both `name` and `app_name`, with an idempotency key", async () => {
    const { server, client } = serve(() => jsonResponse({ id: "a1", created_at: 1 }, 201));
    await client.createApp({ name: "web", org_slug: "personal" });
    const body = bodyOf(server) as Record<string, unknown>;
    expect(body.name).toBe("web");
    expect(body.app_name).toBe("web");
    expect(body.org_slug).toBe("personal");
    expect(body.idempotency_key).toBeString();
  });

  test("a caller's idempotency key is kept", async () => {
    const { server, client } = serve(() => jsonResponse({ id: "a1", created_at: 1 }, 201));
    await client.createApp({ name: "web", org_slug: "personal", idempotency_key: "k1" });
    expect((bodyOf(server) as Record<string, unknown>).idempotency_key).toBe("k1");
  });

  test("listApps filters by org and reads a reply without `apps` as none", async () => {
    const { server, client } = serve((_, i) => jsonResponse(i === 0 ? { apps: [{ name: "web" }] } : {}));
    expect((await client.listApps("acme")).map((a) => a.name)).toEqual(["web"]);
    expect(await client.listApps("acme")).toEqual([]);
    expect(server.received[0]!.query).toBe("?org_slug=acme");
  });

  test("deleteApp deletes the app by name", async () => {
    const { server, client } = serve(() => new Response(null, { status: 202 }));
    await client.deleteApp("web");
    expect(server.received.map((r) => `${r.method} ${r.path}`)).toEqual(["DELETE /v1/apps/web"]);
  });
});
