import { afterAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../../support/app.ts";
import { FixedWindowLimiter } from "../../../src/plugins/rate-limit.ts";
import { DIALECTS, errorOf } from "../api-helpers.ts";

describe("FixedWindowLimiter", () => {
  test("allows `limit` hits per window per key, then refuses until the window resets", () => {
    let now = 1_000_000;
    const limiter = new FixedWindowLimiter(3, 60_000, () => now, 2);
    expect([1, 2, 3].map(() => limiter.hit("a").allowed)).toEqual([true, true, true]);
    const refused = limiter.hit("a");
    expect(refused).toEqual({ allowed: false, limit: 3, remaining: 0, resetSeconds: 60 });
    expect(limiter.hit("b").allowed).toBe(true);
    now += 30_000;
    expect(limiter.hit("a").resetSeconds).toBe(30);
    now += 30_001;
    expect(limiter.hit("a")).toMatchObject({ allowed: true, remaining: 2 });
    // Sweeping expired windows keeps memory bounded without forgetting live ones.
    expect(limiter.hit("c").allowed).toBe(true);
    expect(limiter.hit("a").remaining).toBe(1);
  });
});

describe.each(DIALECTS)("global rate limit on %s", (dialect) => {
  const apps: TestApp[] = [];
  afterAll(() => Promise.all(apps.map((t) => t.close())));
  const build = async (env: Record<string, string>) => {
    const t = await createTestApp(dialect, { RATE_LIMIT_PER_MINUTE: "3", ...env });
    apps.push(t);
    return t;
  };

  test("RateLimit-* headers count down; the request over the limit is 429 with Retry-After; health is exempt", async () => {
    const t = await build({});
    const first = await t.request("/v1/me");
    expect(first.headers.get("ratelimit-limit")).toBe("3");
    expect(first.headers.get("ratelimit-remaining")).toBe("2");
    expect(Number(first.headers.get("ratelimit-reset"))).toBeGreaterThan(0);
    await t.request("/v1/me");
    await t.request("/nope");
    const limited = await t.request("/v1/me");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(limited.headers.get("x-content-type-options")).toBe("nosniff");
    expect((await errorOf(limited)).code).toBe("rate_limited");
    expect((await t.request("/health/live")).status).toBe(200);
  });

  /** A real socket, so the client address is the socket's and Fly-Client-IP can be tested as a spoof. */
  async function serve(t: TestApp) {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request) => t.app.handle(request) });
    (t.app as unknown as { server: unknown }).server = server;
    return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
  }

  test("without TRUST_PROXY a spoofed Fly-Client-IP is ignored: the socket address is limited", async () => {
    const t = await build({ TRUST_PROXY: "false" });
    const server = await serve(t);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await fetch(`${server.url}/v1/me`, { headers: { "fly-client-ip": `10.0.0.${i}` } })).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      server.stop();
    }
  });

  test("with TRUST_PROXY each Fly-Client-IP has its own budget", async () => {
    const t = await build({ TRUST_PROXY: "true" });
    const server = await serve(t);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await fetch(`${server.url}/v1/me`, { headers: { "fly-client-ip": `10.0.0.${i}` } })).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401]);
      for (let i = 0; i < 3; i++) await fetch(`${server.url}/v1/me`, { headers: { "fly-client-ip": "10.9.9.9" } });
      expect((await fetch(`${server.url}/v1/me`, { headers: { "fly-client-ip": "10.9.9.9" } })).status).toBe(429);
    } finally {
      server.stop();
    }
  });
});
