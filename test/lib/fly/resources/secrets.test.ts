/** lib/fly/resources/secrets.ts: bulk writes, one-by-one writes, reads, the version on every write. @module */
import { describe, expect, test } from "bun:test";
import { flyFailure } from "../../../support/fly-errors.ts";
import { jsonResponse } from "../scripted-server.ts";
import { bodyOf, serve } from "./harness.ts";

describe("secrets", () => {
  test("unsetSecrets sends null for each name (as flyctl does) and returns the new version", async () => {
    const { server, client } = serve(() => jsonResponse({ secrets: [{ name: "B" }], version: 4 }));
    expect(await client.unsetSecrets("web", ["A", "C"])).toEqual({ secrets: [{ name: "B" }], version: 4 });
    expect(bodyOf(server)).toEqual({ values: { A: null, C: null } });
  });

  test("listSecrets passes min_version and show_secrets only when set", async () => {
    const { server, client } = serve(() => jsonResponse({ secrets: [] }));
    await client.listSecrets("web", { minVersion: 3, showSecrets: true });
    await client.listSecrets("web");
    expect(server.received.map((r) => r.query)).toEqual(["?min_version=3&show_secrets=true", ""]);
  });

  test("setSecret returns the version; a reply without one is invalid_response", async () => {
    const { server, client } = serve((_, i) => jsonResponse(i === 0 ? { version: 5 } : {}));
    expect(await client.setSecret("web", "API_KEY", "v")).toEqual({ version: 5 });
    expect(bodyOf(server)).toEqual({ value: "v" });
    expect(server.received[0]!.path).toBe("/v1/apps/web/secrets/API_KEY");
    const error = await flyFailure(client.setSecret("web", "API_KEY", "v"));
    expect(error.code).toBe("invalid_response");
  });

  test("getSecret is undefined for a missing secret and never quotes a malformed reply", async () => {
    const { client } = serve((_, i) =>
      i === 0
        ? jsonResponse({ error: "not found" }, 404)
        : new Response('{"name":"API_KEY","value":"sk_live_12', { status: 200 }),
    );
    expect(await client.getSecret("web", "API_KEY")).toBeUndefined();
    const error = await flyFailure(client.getSecret("web", "API_KEY", { showSecrets: true }));
    expect(error.code).toBe("invalid_response");
    for (const text of [error.message, JSON.stringify(error), Bun.inspect(error)])
      expect(text).not.toContain("sk_live");
  });
});
