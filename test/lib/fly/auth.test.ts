import { afterEach, describe, expect, test } from "bun:test";
import {
  authorizationHeader,
  createFlyClient,
  FlyClientConfigError,
  isMacaroon,
  stripAuthorizationScheme,
} from "../../../lib/fly/index.ts";
import { jsonResponse, scriptedServer, type ScriptedServer } from "./scripted-server.ts";

describe("authorizationHeader (fly-go tokens.Parse + normalized)", () => {
  test("macaroon tokens go as FlyV1", () => {
    expect(authorizationHeader("fm2_abc")).toBe("FlyV1 fm2_abc");
    expect(authorizationHeader("fm1r_abc")).toBe("FlyV1 fm1r_abc");
    expect(authorizationHeader("fm1a_abc")).toBe("FlyV1 fm1a_abc");
  });

  test("a pasted `FlyV1 ` scheme (as `fly tokens create` prints it) is not doubled", () => {
    expect(authorizationHeader("FlyV1 fm2_abc,fm2_def")).toBe("FlyV1 fm2_abc,fm2_def");
    expect(authorizationHeader("  flyv1   fm2_abc ")).toBe("FlyV1 fm2_abc");
  });

  test("macaroons win over user tokens in a mixed list; user tokens alone go as Bearer", () => {
    expect(authorizationHeader("fo1_user,fm2_mac")).toBe("FlyV1 fm2_mac");
    expect(authorizationHeader("fo1_user")).toBe("Bearer fo1_user");
    expect(authorizationHeader("Bearer plain-token")).toBe("Bearer plain-token");
  });

  test("scheme stripping and macaroon detection", () => {
    expect(stripAuthorizationScheme("Bearer FlyV1 fm2_x")).toBe("fm2_x");
    expect(stripAuthorizationScheme("fm2_x y")).toBe("fm2_x y");
    expect(isMacaroon("fm2_x")).toBe(true);
    expect(isMacaroon("fm3_x")).toBe(false);
    expect(isMacaroon("fm2")).toBe(false);
  });
});

describe("client auth and base URL", () => {
  let server: ScriptedServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  test("sends the header and a JSON accept on the wire", async () => {
    server = scriptedServer(() => jsonResponse({ name: "web" }));
    const client = createFlyClient({ baseUrl: server.url, token: "FlyV1 fm2_secret" });
    await client.getApp("web");
    expect(server.received[0]!.headers.get("authorization")).toBe("FlyV1 fm2_secret");
    expect(server.received[0]!.path).toBe("/v1/apps/web");
  });

  test("base URL and token come from FLY_FLAPS_BASE_URL / FLY_API_TOKEN", async () => {
    server = scriptedServer(() => jsonResponse({ name: "web" }));
    const client = createFlyClient({ env: { FLY_FLAPS_BASE_URL: `${server.url}/`, FLY_API_TOKEN: "user-token" } });
    expect(client.baseUrl).toBe(server.url);
    await client.getApp("web");
    expect(server.received[0]!.headers.get("authorization")).toBe("Bearer user-token");
  });

  test("defaults to api.machines.dev and refuses to start without a token", () => {
    expect(createFlyClient({ env: { FLY_API_TOKEN: "t" } }).baseUrl).toBe("https://api.machines.dev");
    expect(() => createFlyClient({ env: {} })).toThrow(FlyClientConfigError);
    expect(() => createFlyClient({ env: { FLY_API_TOKEN: "  " } })).toThrow(/FLY_API_TOKEN is not set/);
  });
});
