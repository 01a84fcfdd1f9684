import { describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { jsonResponder } from "../../../src/plugins/json-response.ts";

const USUAL = { "x-frame-options": "DENY", vary: "Origin", "content-security-policy": "default-src 'none'" };

/**
 * The same routes twice: once answered by Elysia alone, once through the responder (called from a global
 * mapResponse hook, as request-context does). Every request must get the same status, headers and body.
 */
function app(withResponder: boolean) {
  const respond = jsonResponder(USUAL);
  const base = new Elysia()
    .headers({ "x-frame-options": "DENY", vary: "Origin" })
    .onRequest(({ request, set }) => {
      set.headers["content-security-policy"] = new URL(request.url).pathname === "/docs-like" ? "default-src 'self'" : USUAL["content-security-policy"];
      set.headers["x-request-id"] = "req-1";
      if (request.headers.has("origin")) set.headers["access-control-allow-origin"] = request.headers.get("origin")!;
    });
  const hooked = withResponder
    ? base.mapResponse({ as: "global" }, ({ responseValue, set }) => (respond(responseValue, set as never) ?? responseValue) as Response)
    : base;
  return hooked
    .get("/object", () => ({ status: "ok", n: 1 }))
    .get("/array", () => [1, "two", { three: 3 }])
    .get("/docs-like", () => ({ page: true }))
    .get("/created", ({ set }) => { set.status = 201; return { made: true }; })
    .get("/text", () => "plain")
    .get("/response", () => new Response("raw", { headers: { "x-own": "1" } }))
    .get("/numeric-header", ({ set }) => { set.headers["ratelimit-limit"] = 60; return { ok: true }; })
    .get("/content-type", ({ set }) => { set.headers["content-type"] = "application/problem+json"; return { ok: false }; })
    .get("/dropped-usual", ({ set }) => { delete set.headers.vary; return { ok: true }; })
    .get("/cookie", ({ set }) => { set.headers["set-cookie"] = "a=1"; return { ok: true }; });
}

async function snapshot(res: Response) {
  return { status: res.status, headers: [...res.headers.entries()].sort(), body: await res.text() };
}

describe("jsonResponder", () => {
  const plain = app(false);
  const fast = app(true);
  const paths = ["/object", "/array", "/docs-like", "/created", "/text", "/response", "/numeric-header", "/content-type", "/dropped-usual", "/cookie", "/missing"];

  for (const path of paths) {
    for (const origin of [undefined, "https://app.example.com"]) {
      test(`${path}${origin ? " with an Origin" : ""} is answered exactly as Elysia answers it`, async () => {
        const init = origin ? { headers: { origin } } : {};
        const expected = await snapshot(await plain.handle(new Request(`http://localhost${path}`, init)));
        const actual = await snapshot(await fast.handle(new Request(`http://localhost${path}`, init)));
        expect(actual).toEqual(expected);
      });
    }
  }

  test("builds the response itself for a 200 JSON body carrying the usual headers, and leaves the rest to Elysia", () => {
    const respond = jsonResponder(USUAL);
    const set = { headers: { ...USUAL, "x-request-id": "r" } as Record<string, string | number>, status: 200 };
    const response = respond({ a: 1 }, set);
    expect(response?.headers.get("x-request-id")).toBe("r");
    expect(response?.headers.get("vary")).toBe("Origin");
    expect(set.headers).toEqual({});

    expect(respond({ a: 1 }, { headers: { ...USUAL }, status: 201 })).toBeUndefined();
    expect(respond("text", { headers: { ...USUAL }, status: 200 })).toBeUndefined();
    expect(respond({ a: 1 }, { headers: { "x-frame-options": "DENY" }, status: 200 })).toBeUndefined();
    expect(respond({ a: 1 }, { headers: { ...USUAL }, status: 200, cookie: {} })).toBeUndefined();
  });
});
