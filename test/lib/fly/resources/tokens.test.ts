/** lib/fly/resources/tokens.ts: the deploy token reply is a credential. @module */
import { describe, expect, test } from "bun:test";
import { flyFailure } from "../../../support/fly-errors.ts";
import { jsonResponse } from "../scripted-server.ts";
import { bodyOf, serve } from "./harness.ts";

describe("tokens", () => {
  test("createDeployToken sends the expiry when given and returns the token", async () => {
    const { server, client } = serve(() => jsonResponse({ token: "FlyV1 fm2_abc" }, 201));
    expect(await client.createDeployToken("web", { expiry: "720h" })).toEqual({ token: "FlyV1 fm2_abc" });
    await client.createDeployToken("web");
    expect([bodyOf(server, 0), bodyOf(server, 1)]).toEqual([{ expiry: "720h" }, {}]);
  });

  test("a truncated or empty token reply is invalid_response that never quotes the body", async () => {
    const { client } = serve((_, i) =>
      i === 0 ? new Response('{"token":"FlyV1 fm2_leak', { status: 201 }) : jsonResponse({ token: " " }, 201),
    );
    for (let i = 0; i < 2; i++) {
      const error = await flyFailure(client.createDeployToken("web"));
      expect(error.code).toBe("invalid_response");
      expect(Bun.inspect(error)).not.toContain("fm2_leak");
    }
  });
});
