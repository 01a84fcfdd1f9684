/**
 * The client-side limiter: Fly's documented limits per action and identifier, with one burst slot in reserve,
 * and the proof that it meets no 429 from the fake's clock mode.
 * @module
 */
import { afterEach, expect, test } from "bun:test";
import { createRateLimiter, scopeOf } from "../../../lib/fly/rate-limit.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";

/** A limiter on a manual clock: sleeping advances it, so the schedule is exact. */
function manual() {
  let t = 0;
  const limiter = createRateLimiter({
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
  });
  return { limiter, at: () => t };
}

test("creates in one app: 2 at once (burst 3 less one in reserve), then one a second", async () => {
  const { limiter } = manual();
  const waits = [];
  for (let i = 0; i < 5; i++) waits.push(await limiter.acquire("POST", "/v1/apps/web/machines"));
  expect(waits).toEqual([0, 0, 1000, 1000, 1000]);
});

test("concurrent callers take slots in order", async () => {
  let t = 0;
  const limiter = createRateLimiter({ now: () => t, sleep: async () => {} });
  const waits = await Promise.all([1, 2, 3, 4].map(() => limiter.acquire("POST", "/v1/apps/web/volumes")));
  expect(waits).toEqual([0, 0, 1000, 2000]);
  t = 10_000;
  expect(await limiter.acquire("POST", "/v1/apps/web/volumes")).toBe(0);
});

test("scopes: per machine id for machine actions, Get Machine 5/s burst 10, per app otherwise", async () => {
  const { limiter } = manual();
  const a = "/v1/apps/web/machines/0123456789abcd";
  const b = "/v1/apps/web/machines/fedcba98765432";
  for (const path of [a, b, a, b]) expect(await limiter.acquire("POST", `${path}/lease`)).toBe(0);
  const gets = [];
  for (let i = 0; i < 10; i++) gets.push(await limiter.acquire("GET", a));
  expect(gets).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 200]);
  expect(scopeOf("GET", "/v1/postgres/abc")).toBeUndefined();
  expect(scopeOf("GET", "/v1/apps/web/machines")?.key).toBe("GET machines web");
  expect(scopeOf("DELETE", "/v1/apps/web/volumes/vol_1x2y3z")?.key).toBe("DELETE volumes/:id web");
  expect(scopeOf("GET", `${a}/wait`)).toEqual({
    key: "GET machines/wait 0123456789abcd",
    limit: { perSecond: 1, burst: 3 },
  });
});

test("scale shrinks the spacing for a server on a fast clock", async () => {
  let t = 0;
  const limiter = createRateLimiter({
    scale: 0.05,
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
  });
  const waits = [];
  for (let i = 0; i < 4; i++) waits.push(await limiter.acquire("POST", "/v1/apps/web/machines"));
  expect(waits).toEqual([0, 0, 50, 50]);
});

let fly: FakeFly | undefined;
afterEach(async () => {
  await fly?.close();
  fly = undefined;
});

test("against the fake's clock mode, 8 concurrent creates and 12 gets in one app meet no 429", async () => {
  // The limiter keeps one burst slot for jitter, which covers a call arriving up to one interval late. On a
  // loaded CI machine the first calls, each opening its own connection, arrived later than that behind the
  // ones after them (seen at scale 0.05 and 0.15), and the fake rightly counted a burst. So the connections
  // are opened first (their own 429s, if any, are not counted), and the clock is a quarter of Fly's.
  fly = startFakeFly({ clock: { scale: 0.25 } });
  fly.seedApp("web");
  const f = fly;
  const limiter = createRateLimiter({ scale: 0.25 });
  const send = async (method: string, path: string, body?: unknown) => {
    await limiter.acquire(method, path);
    return fetch(f.url + path, {
      method,
      headers: { authorization: `Bearer ${f.token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  };
  await Promise.all(
    [1, 2, 3, 4, 5, 6, 7, 8].map((i) =>
      fetch(`${f.url}/v1/apps/web/machines/warm${i}`, { headers: { authorization: `Bearer ${f.token}` } }).then((r) =>
        r.arrayBuffer(),
      ),
    ),
  );
  const rejectedBefore = f.clock!.rejected;
  await Bun.sleep(1000);
  const created = await Promise.all(
    [1, 2, 3, 4, 5, 6, 7, 8].map(() =>
      send("POST", "/v1/apps/web/machines", { config: { image: "x" }, skip_launch: true }),
    ),
  );
  expect(created.map((r) => r.status)).toEqual(Array(8).fill(200));
  const gets = await Promise.all(Array.from({ length: 12 }, () => send("GET", "/v1/apps/web/machines")));
  expect(gets.map((r) => r.status)).toEqual(Array(12).fill(200));
  expect(f.clock!.rejected - rejectedBefore).toBe(0);
}, 20_000);
