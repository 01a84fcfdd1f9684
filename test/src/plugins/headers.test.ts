import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../../support/app.ts";
import { createProject, DIALECTS, json, signUp, TEST_ENV } from "../api-helpers.ts";

const PREVIEW_ENV = {
  ...TEST_ENV,
  APP_ENV: "preview",
  SECRET_KEY: "p".repeat(40),
  ALLOWED_ORIGINS: "https://app.example.com,https://admin.example.com",
};

describe.each(DIALECTS)("security headers and CORS on %s", (dialect) => {
  let dev: TestApp;
  let preview: TestApp;
  beforeAll(async () => {
    dev = await createTestApp(dialect, TEST_ENV);
    preview = await createTestApp(dialect, PREVIEW_ENV);
  });
  afterAll(async () => {
    await dev.close();
    await preview.close();
  });

  test("every response, errors included, has nosniff, DENY, no-referrer and a locked-down CSP", async () => {
    for (const [path, status] of [
      ["/health/live", 200],
      ["/v1/me", 401],
      ["/nope", 404],
    ] as const) {
      const res = await dev.request(path);
      expect(res.status).toBe(status);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("content-security-policy")).toStartWith("default-src 'none'");
    }
  });

  test("every kind of answer carries the usual headers, and a route's own CSP wins over the API's", async () => {
    const usual = (res: Response, what: string) => {
      for (const [name, value] of [
        ["x-content-type-options", "nosniff"],
        ["x-frame-options", "DENY"],
        ["referrer-policy", "no-referrer"],
        ["cross-origin-opener-policy", "same-origin"],
        ["vary", "Origin"],
      ] as const) {
        expect([what, name, res.headers.get(name)]).toEqual([what, name, value]);
      }
      expect([what, res.headers.get("strict-transport-security")]).toEqual([
        what,
        "max-age=63072000; includeSubDomains",
      ]);
      return res.headers.get("content-security-policy");
    };
    const api = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
    const user = await signUp(preview);
    const project = await createProject(preview, user);
    expect(
      usual(
        await preview.request("/v1/projects", {
          method: "OPTIONS",
          headers: { origin: "https://app.example.com", "access-control-request-method": "POST" },
        }),
        "preflight",
      ),
    ).toBe(api);
    expect(
      usual(await preview.request("/v1/projects", json("POST", { name: "x".repeat(500) }, user.token)), "422"),
    ).toBe(api);
    expect(usual(await preview.request("/v1/projects", json("POST", { name: "made" }, user.token)), "201")).toBe(api);
    expect(usual(await preview.request("/nope"), "404")).toBe(api);
    expect(usual(await preview.request("/openapi.json"), "openapi")).toBe(api);
    expect(usual(await preview.request("/docs"), "docs")).toContain("script-src");
    const upload = await preview.request(`/v1/projects/${project.id}/files/a.txt`, {
      method: "PUT",
      body: "hi",
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(usual(upload, "upload")).toBe(api);
    const file = (headers: Record<string, string> = {}, method = "GET") =>
      preview.request(`/v1/projects/${project.id}/files/a.txt`, {
        method,
        headers: { authorization: `Bearer ${user.token}`, ...headers },
      });
    expect(usual(await file(), "download")).toContain("sandbox");
    // A Response the route returns gets the usual headers put on it, with what hooks added (the request id, a
    // CORS grant) and its own status, headers and body untouched.
    const etag = upload.headers.get("etag")!;
    const kinds: [string, Response, number][] = [
      [
        "download with an allowed origin",
        await file({ origin: "https://app.example.com", "x-request-id": "req-download-1" }),
        200,
      ],
      ["HEAD", await file({}, "HEAD"), 200],
      ["304", await file({ "if-none-match": etag }), 304],
      ["206", await file({ range: "bytes=1-1" }), 206],
    ];
    for (const [what, res, status] of kinds) {
      expect([what, res.status]).toEqual([what, status]);
      expect([what, usual(res, what)]).toEqual([what, "default-src 'none'; sandbox"]);
      expect([what, res.headers.get("etag"), res.headers.get("x-request-id")]).toEqual([
        what,
        etag,
        expect.any(String),
      ]);
    }
    const [, withOrigin] = kinds[0]!;
    expect(withOrigin.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(withOrigin.headers.get("x-request-id")).toBe("req-download-1");
    expect(await withOrigin.text()).toBe("hi");
    expect(await kinds[3]![1].text()).toBe("i");
    expect(kinds[3]![1].headers.get("content-range")).toBe("bytes 1-1/2");
  });

  test("a 429 from the rate limit carries them too", async () => {
    const limited = await createTestApp(dialect, { ...PREVIEW_ENV, RATE_LIMIT_PER_MINUTE: "1" });
    try {
      await limited.request("/v1/me");
      const res = await limited.request("/v1/me");
      expect(res.status).toBe(429);
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("strict-transport-security")).toContain("max-age=");
      expect(res.headers.get("content-security-policy")).toStartWith("default-src 'none'");
      expect(res.headers.get("retry-after")).not.toBeNull();
    } finally {
      await limited.close();
    }
  });

  test("HSTS in preview and production only", async () => {
    expect((await dev.request("/health/live")).headers.get("strict-transport-security")).toBeNull();
    expect((await preview.request("/health/live")).headers.get("strict-transport-security")).toContain("max-age=");
    expect((await preview.request("/v1/me")).headers.get("strict-transport-security")).toContain("max-age=");
  });

  test("a preflight from an allowed origin is answered with the CORS grant; other origins get none", async () => {
    const preflight = (origin: string) =>
      preview.request("/v1/projects", {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type",
        },
      });
    const allowed = await preflight("https://app.example.com");
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(allowed.headers.get("access-control-allow-methods")).toContain("POST");
    expect(allowed.headers.get("access-control-allow-headers")).toContain("authorization");

    const denied = await preflight("https://evil.example.net");
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
    const simple = await preview.request("/health/live", { headers: { origin: "https://evil.example.net" } });
    expect(simple.headers.get("access-control-allow-origin")).toBeNull();
    const granted = await preview.request("/health/live", { headers: { origin: "https://admin.example.com" } });
    expect(granted.headers.get("access-control-allow-origin")).toBe("https://admin.example.com");
    expect(granted.headers.get("access-control-expose-headers")).toContain("x-request-id");
  });
});
