/** lib/fly/resources/certificates.ts on the wire. @module */
import { describe, expect, test } from "bun:test";
import { jsonResponse } from "../scripted-server.ts";
import { bodyOf, serve } from "./harness.ts";

describe("certificates", () => {
  test("request, read, check and delete address the hostname; a missing one reads as undefined", async () => {
    const { server, client } = serve((request, i) => {
      if (i === 2) return jsonResponse({ error: "not found" }, 404);
      if (request.method === "DELETE") return jsonResponse({});
      return jsonResponse({ hostname: "www.example.com" });
    });
    await client.createAcmeCertificate("web", "www.example.com");
    expect((await client.getCertificate("web", "www.example.com"))?.hostname).toBe("www.example.com");
    expect(await client.getCertificate("web", "gone.example.com")).toBeUndefined();
    await client.checkCertificate("web", "www.example.com");
    await client.deleteCertificate("web", "www.example.com");
    expect(bodyOf(server, 0)).toEqual({ hostname: "www.example.com" });
    expect(server.received.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /v1/apps/web/certificates/acme",
      "GET /v1/apps/web/certificates/www.example.com",
      "GET /v1/apps/web/certificates/gone.example.com",
      "POST /v1/apps/web/certificates/www.example.com/check",
      "DELETE /v1/apps/web/certificates/www.example.com",
    ]);
  });
});
