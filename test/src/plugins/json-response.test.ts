import { describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { createResponder } from "../../../src/plugins/json-response.ts";

const USUAL = { "x-frame-options": "DENY", vary: "Origin", "content-security-policy": "default-src 'none'" };

const DOCS_LIKE = { "content-security-policy": "default-src 'self'" };

/**
 * The same routes twice: once answered by Elysia alone with the usual headers as its default headers and the
 * path's CSP set on every request (what the service did before the responder), once through the responder
 * (called from a global mapResponse hook, as request-context does). Every request must get the same status,
 * headers and body.
 */
function app(withResponder: boolean) {
  const responder = createResponder(USUAL, { "/docs-like": DOCS_LIKE });
  const base = new Elysia();
  const withHeaders = withResponder ? base : base.headers({ "x-frame-options": "DENY", vary: "Origin" });
  // Errors are answered by an onError hook, as src/plugins/errors.ts answers every error in the service.
  const hooked = withHeaders
    .onError({ as: "global" }, ({ code, set }) => {
      set.status = code === "NOT_FOUND" ? 404 : 500;
      return { error: String(code) };
    })
    .onRequest(({ request, set }) => {
      if (!withResponder)
        set.headers["content-security-policy"] =
          new URL(request.url).pathname === "/docs-like"
            ? DOCS_LIKE["content-security-policy"]
            : USUAL["content-security-policy"];
      set.headers["x-request-id"] = "req-1";
      if (request.headers.has("origin")) set.headers["access-control-allow-origin"] = request.headers.get("origin")!;
    })
    .mapResponse({ as: "global" }, ({ responseValue, set, path }) => {
      if (!withResponder) return responseValue as Response;
      const built = responder.finish(responseValue, set as never, path);
      return (built ?? responseValue) as Response;
    });
  return hooked
    .get("/object", () => ({ status: "ok", n: 1 }))
    .get("/array", () => [1, "two", { three: 3 }])
    .get("/docs-like", () => ({ page: true }))
    .get("/created", ({ set }) => {
      set.status = 201;
      return { made: true };
    })
    .get("/text", () => "plain")
    .get("/response", () => new Response("raw", { headers: { "x-own": "1", "content-security-policy": "sandbox" } }))
    .get("/numeric-header", ({ set }) => {
      set.headers["ratelimit-limit"] = 60;
      return { ok: true };
    })
    .get("/content-type", ({ set }) => {
      set.headers["content-type"] = "application/problem+json";
      return { ok: false };
    })
    .get("/own-csp", ({ set }) => {
      set.headers["content-security-policy"] = "default-src 'self'";
      return { ok: true };
    })
    .get("/cookie", ({ set }) => {
      set.headers["set-cookie"] = "a=1";
      return { ok: true };
    })
    .get("/throws", () => {
      throw new Error("boom");
    });
}

async function snapshot(res: Response) {
  return { status: res.status, headers: [...res.headers.entries()].sort(), body: await res.text() };
}

describe("jsonResponder", () => {
  const plain = app(false);
  const fast = app(true);
  const paths = [
    "/object",
    "/array",
    "/docs-like",
    "/created",
    "/text",
    "/response",
    "/numeric-header",
    "/content-type",
    "/own-csp",
    "/cookie",
    "/throws",
    "/missing",
  ];

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

  test("builds the response itself for a 200 JSON body, leaves the rest to Elysia, and completes what Elysia sends", () => {
    const responder = createResponder(USUAL, { "/docs-like": DOCS_LIKE });
    const set = { headers: { "x-request-id": "r" } as Record<string, string | number>, status: 200 };
    const response = responder.json({ a: 1 }, set, "/object");
    expect(response?.headers.get("x-request-id")).toBe("r");
    expect(response?.headers.get("vary")).toBe("Origin");
    expect(response?.headers.get("content-security-policy")).toBe(USUAL["content-security-policy"]);
    expect(set.headers).toEqual({});

    expect(responder.json({ a: 1 }, { headers: {}, status: 201 }, "/object")).toBeUndefined();
    expect(responder.json("text", { headers: {}, status: 200 }, "/object")).toBeUndefined();
    expect(responder.json({ a: 1 }, { headers: {}, status: 200, cookie: {} }, "/object")).toBeUndefined();
    expect(responder.json({ a: 1 }, { headers: {}, status: 200 }, "/docs-like")).toBeUndefined();

    const declined = { headers: { "content-security-policy": "mine" } as Record<string, string | number>, status: 500 };
    responder.complete(declined, "/object");
    expect(declined.headers).toEqual({ ...USUAL, "content-security-policy": "mine" });
    const docs = { headers: {} as Record<string, string | number>, status: 200 };
    responder.complete(docs, "/docs-like");
    expect(docs.headers).toEqual({ ...USUAL, ...DOCS_LIKE });
  });
});
