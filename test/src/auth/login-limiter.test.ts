import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createLoginLimiter } from "../../../src/auth/login-limiter.ts";
import { createTestApp, type TestApp } from "../../support/app.ts";
import { DIALECTS, TEST_ENV } from "../api-helpers.ts";

describe.each(DIALECTS)("login limiter counted in %s", (dialect) => {
  let t: TestApp;
  let now = Date.parse("2026-12-01T08:00:00Z");
  beforeAll(async () => {
    t = await createTestApp(dialect, TEST_ENV);
  });
  afterAll(() => t.close());

  test("limiters sharing one database share one allowance per IP, with the window's reset time", async () => {
    // Two "machines": separate limiter objects, one database.
    const a = createLoginLimiter(t.db.repo, 5, () => now);
    const b = createLoginLimiter(t.db.repo, 5, () => now);
    const decisions = [];
    for (const limiter of [a, b, a, b, a, b]) {
      decisions.push(await limiter.hit("203.0.113.5"));
      now += 1000;
    }
    expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([
      [true, 4],
      [true, 3],
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect(decisions[5]?.resetSeconds).toBe(55);
    expect((await b.hit("198.51.100.5")).allowed).toBe(true);

    now += 55_000; // the window that opened at the first attempt has closed
    expect(await a.hit("203.0.113.5")).toMatchObject({ allowed: true, remaining: 4, resetSeconds: 60 });
  });

  test("concurrent attempts are each counted once", async () => {
    const limiter = createLoginLimiter(t.db.repo, 5, () => now);
    const decisions = await Promise.all(Array.from({ length: 12 }, () => limiter.hit("192.0.2.200")));
    expect(decisions.filter((d) => d.allowed).length).toBe(5);
    expect(decisions.map((d) => d.remaining).sort()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
  });

  test("closed windows are pruned", async () => {
    const limiter = createLoginLimiter(t.db.repo, 5, () => now);
    await limiter.hit("192.0.2.77");
    now += 3 * 60_000;
    expect(await limiter.prune()).toBeGreaterThanOrEqual(1);
    expect(await limiter.prune()).toBe(0);
  });
});
