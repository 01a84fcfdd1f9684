// Replies that carry a credential (a database password, a deploy token, a secret's value) are parsed without
// ever being quoted: a malformed or truncated body becomes an invalid_response error that says so and contains
// none of the body. Against a small real server scripting exactly those bodies.
import { afterEach, describe, expect, test } from "bun:test";
import { createFlyClient } from "../../../lib/fly/index.ts";
import { flyFailure } from "../../support/fly-errors.ts";
import { FAST_RETRY, jsonResponse, scriptedServer, type ScriptedServer } from "./scripted-server.ts";

const SECRET = "s3cr3t-hunter2-value";
let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function serve(body: string): ReturnType<typeof createFlyClient> {
  server = scriptedServer(() => new Response(body, { status: 200, headers: { "content-type": "application/json" } }));
  return createFlyClient({ baseUrl: server.url, token: "fm2_topsecret", retry: FAST_RETRY });
}

describe("a broken credential reply is reported without its body", () => {
  const calls: [string, string, (c: ReturnType<typeof createFlyClient>) => Promise<unknown>][] = [
    [
      "truncated credentials",
      `{"data":{"username":"app","password":"${SECRET}`,
      (c) => c.getPostgresUserCredentials("cl1", "app"),
    ],
    [
      "credentials without a password",
      `{"data":{"username":"app","note":"${SECRET}"}}`,
      (c) => c.getPostgresUserCredentials("cl1", "app"),
    ],
    ["truncated deploy token", `{"token":"FlyV1 fm2_${SECRET}`, (c) => c.createDeployToken("web", { expiry: "1h" })],
    [
      "deploy token under another key",
      `{"tokn":"FlyV1 fm2_${SECRET}"}`,
      (c) => c.createDeployToken("web", { expiry: "1h" }),
    ],
    [
      "truncated secret value",
      `{"name":"DATABASE_URL","value":"postgres://u:${SECRET}`,
      (c) => c.getSecret("web", "DATABASE_URL", { showSecrets: true }),
    ],
  ];
  for (const [name, body, run] of calls) {
    test(name, async () => {
      const error = await flyFailure(run(serve(body)));
      expect(error.code).toBe("invalid_response");
      expect(error.message).toContain("not shown: it carries a credential");
      expect(JSON.stringify(error.toJSON())).not.toContain(SECRET);
      expect(error.message).not.toContain(SECRET);
    });
  }

  test("a good reply comes through whole", async () => {
    const c = serve(JSON.stringify({ data: { username: "app", password: SECRET } }));
    expect(await c.getPostgresUserCredentials("cl1", "app")).toEqual({ username: "app", password: SECRET });
  });

  test("a secret that does not exist is undefined, not an error", async () => {
    server = scriptedServer(() => jsonResponse({ error: "secret not found" }, 404));
    const c = createFlyClient({ baseUrl: server.url, token: "fm2_topsecret", retry: FAST_RETRY });
    expect(await c.getSecret("web", "NOPE")).toBeUndefined();
  });
});
