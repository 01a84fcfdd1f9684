/**
 * The fake's clock mode: Fly's rate limits, list lag, a just-created machine's 404, lasting transient states,
 * /wait's bounds and a create whose answer is lost, on a fast clock whose order of events is Fly's.
 * @module
 */
import { afterEach, describe, expect, test } from "bun:test";
import { rateScope } from "./fly/clock.ts";
import { startFakeFly, type ClockOptions, type FakeFly } from "./fly-machines.ts";

let fly: FakeFly | undefined;
afterEach(async () => {
  await fly?.close();
  fly = undefined;
});

/** A fake on a 20x clock (1 Fly second = 50 real ms) with app `web`. */
function clocked(clock: ClockOptions = {}): FakeFly {
  fly = startFakeFly({ clock: { scale: 0.05, ...clock } });
  fly.seedApp("web");
  return fly;
}

function call(f: FakeFly, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(f.url + path, {
    method,
    headers: { authorization: `Bearer ${f.token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function create(f: FakeFly, extra: Record<string, unknown> = {}): Promise<{ id: string; state: string }> {
  const response = await call(f, "POST", "/v1/apps/web/machines", {
    config: { image: "registry.fly.io/web:1" },
    ...extra,
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { id: string; state: string };
}

async function listIds(f: FakeFly): Promise<{ id: string; state: string }[]> {
  const response = await call(f, "GET", "/v1/apps/web/machines");
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string; state: string }[]).map(({ id, state }) => ({ id, state }));
}

/** Polls `check` every 5 ms until it is true; fails after `ms`. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`condition not met within ${ms} ms`);
    await Bun.sleep(5);
  }
  return Date.now() - started;
}

describe("rate limits per action and identifier", () => {
  test("a burst of 3 creates passes, the 4th in the same instant is a 429 without Retry-After", async () => {
    const f = clocked({ scale: 1 });
    const statuses = await Promise.all(
      [1, 2, 3, 4].map(() =>
        call(f, "POST", "/v1/apps/web/machines", { config: { image: "x" }, skip_launch: true }).then((r) => r),
      ),
    );
    const sorted = statuses.map((r) => r.status).sort();
    expect(sorted).toEqual([200, 200, 200, 429]);
    const limited = statuses.find((r) => r.status === 429)!;
    expect(limited.headers.get("retry-after")).toBeNull();
    expect(((await limited.json()) as { error: string }).error).toBe("rate limit exceeded");
    expect(f.clock!.rejected).toBe(1);
  });

  test("after the burst, one call per interval passes again (the bucket refills on the clock)", async () => {
    // Fly's own clock here: on a fast one a slow test machine would refill the bucket between the calls.
    const f = clocked({ scale: 1 });
    for (let i = 0; i < 3; i++) expect((await call(f, "GET", "/v1/apps/web/machines")).status).toBe(200);
    expect((await call(f, "GET", "/v1/apps/web/machines")).status).toBe(429);
    await Bun.sleep(1050);
    expect((await call(f, "GET", "/v1/apps/web/machines")).status).toBe(200);
    expect((await call(f, "GET", "/v1/apps/web/machines")).status).toBe(429);
  });

  test("the scope is the identifier: another machine's lease has its own bucket; Get Machine allows 10", async () => {
    const f = clocked({ scale: 1, notFoundMs: 0 });
    const [a, b] = [await create(f, { skip_launch: true }), await create(f, { skip_launch: true })];
    const lease = (id: string) => call(f, "POST", `/v1/apps/web/machines/${id}/lease`, { ttl: 30 });
    const onA = [];
    for (let i = 0; i < 4; i++) onA.push((await lease(a.id)).status);
    // The first lease answers 201; later ones, without the nonce, 409 (held): neither is a 429 until the 4th.
    expect(onA.slice(0, 3).every((s) => s !== 429)).toBe(true);
    expect(onA[3]).toBe(429);
    expect((await lease(b.id)).status).toBe(201);
    const gets = [];
    for (let i = 0; i < 11; i++) gets.push((await call(f, "GET", `/v1/apps/web/machines/${b.id}`)).status);
    expect(gets.slice(0, 10).every((s) => s === 200)).toBe(true);
    expect(gets[10]).toBe(429);
  });

  test("the Retry-After mode says how long, in seconds of the clock", async () => {
    const f = clocked({ scale: 1, retryAfter: "seconds" });
    for (let i = 0; i < 3; i++) await call(f, "GET", "/v1/apps/web/volumes");
    const limited = await call(f, "GET", "/v1/apps/web/volumes");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("1");
    await fly!.close();
    const fast = clocked({ scale: 0.5, retryAfter: "seconds" });
    for (let i = 0; i < 3; i++) await call(fast, "GET", "/v1/apps/web/volumes");
    expect((await call(fast, "GET", "/v1/apps/web/volumes")).headers.get("retry-after")).toBe("0.5");
  });

  test("rateScope reads the docs' table: machine actions per machine id, the rest per app", () => {
    expect(rateScope("POST", "/v1/apps/web/machines")).toMatchObject({ action: "POST /machines", id: "web" });
    expect(rateScope("GET", "/v1/apps/web/machines/0123456789abcd")).toMatchObject({
      action: "GET /machines/:id",
      id: "0123456789abcd",
      limit: { perSecond: 5, burst: 10 },
    });
    expect(rateScope("GET", "/v1/apps/web/machines/0123456789abcd/wait")).toMatchObject({
      action: "GET /machines/:id/wait",
      limit: { perSecond: 1, burst: 3 },
    });
    expect(rateScope("DELETE", "/v1/apps/web/volumes/vol_123abc")).toMatchObject({
      action: "DELETE /volumes/:id",
      id: "web",
    });
  });
});

describe("an eventually consistent list", () => {
  test("a new machine is missing from the list for listLagMs, then there", async () => {
    const f = clocked({ rateLimits: false });
    const made = await create(f);
    expect((await listIds(f)).map((m) => m.id)).not.toContain(made.id);
    const waited = await eventually(async () => (await listIds(f)).some((m) => m.id === made.id));
    // 1000 Fly ms at scale 0.05 = 50 real ms.
    expect(waited).toBeGreaterThanOrEqual(40);
  });

  test("a destroyed machine lingers in the list as `destroying` before it is gone", async () => {
    const f = clocked({ rateLimits: false, listLagMs: 4000 });
    const made = await create(f, { skip_launch: true });
    await eventually(() => f.state.apps.get("web")!.machines.get(made.id)!.state === "stopped");
    await eventually(async () => (await listIds(f)).some((m) => m.id === made.id));
    expect((await call(f, "DELETE", `/v1/apps/web/machines/${made.id}`)).status).toBe(200);
    await eventually(() => f.state.apps.get("web")!.machines.get(made.id)!.state === "destroyed");
    expect(await listIds(f)).toContainEqual({ id: made.id, state: "destroying" });
    await eventually(async () => !(await listIds(f)).some((m) => m.id === made.id));
  });
});

describe("a just-created machine", () => {
  test("answers 404 on GET and /wait for a moment, then is found", async () => {
    const f = clocked({ rateLimits: false, notFoundMs: 2000 });
    const made = await create(f);
    expect((await call(f, "GET", `/v1/apps/web/machines/${made.id}`)).status).toBe(404);
    expect((await call(f, "GET", `/v1/apps/web/machines/${made.id}/wait?state=started&timeout=5`)).status).toBe(404);
    await eventually(async () => (await call(f, "GET", `/v1/apps/web/machines/${made.id}`)).status === 200);
  });

  test("goes creating -> created -> starting -> started, each visible in turn", async () => {
    const f = clocked({ rateLimits: false, notFoundMs: 0 });
    const made = await create(f);
    expect(made.state).toBe("creating");
    const seen: string[] = [];
    await eventually(async () => {
      const body = (await (await call(f, "GET", `/v1/apps/web/machines/${made.id}`)).json()) as { state: string };
      if (seen.at(-1) !== body.state) seen.push(body.state);
      return body.state === "started";
    });
    expect(seen[0]).toBe("creating");
    expect(seen.at(-1)).toBe("started");
    // Order is Fly's: whatever the poll caught, it is a subsequence of the documented path.
    const path = ["creating", "created", "starting", "started"];
    expect(seen.map((s) => path.indexOf(s))).toEqual([...seen.map((s) => path.indexOf(s))].sort((x, y) => x - y));
    expect(
      f.state.apps
        .get("web")!
        .machines.get(made.id)!
        .events.map((e) => e.status),
    ).toContain("started");
  });

  test("an update shows `updating`, then replacing, then started on the new version", async () => {
    const f = clocked({ rateLimits: false, notFoundMs: 0 });
    const made = await create(f);
    const machine = f.state.apps.get("web")!.machines.get(made.id)!;
    await eventually(() => machine.state === "started");
    const updated = await call(f, "POST", `/v1/apps/web/machines/${made.id}`, { config: { image: "web:2" } });
    expect(((await updated.json()) as { state: string }).state).toBe("updating");
    const seen = new Set<string>();
    await eventually(() => {
      seen.add(machine.state);
      return machine.state === "started";
    });
    expect(seen.has("replacing") || seen.has("starting")).toBe(true);
    expect(machine.config.image).toBe("web:2");
  });
});

describe("/wait bounds", () => {
  test("408 at its timeout on the clock; 400 for a timeout over 60 s", async () => {
    const f = clocked({ rateLimits: false, notFoundMs: 0 });
    const made = await create(f, { skip_launch: true });
    await eventually(() => f.state.apps.get("web")!.machines.get(made.id)!.state === "stopped");
    const started = Date.now();
    const timedOut = await call(f, "GET", `/v1/apps/web/machines/${made.id}/wait?state=started&timeout=2`);
    expect(timedOut.status).toBe(408);
    // 2 Fly seconds = 100 real ms at scale 0.05.
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    const tooLong = await call(f, "GET", `/v1/apps/web/machines/${made.id}/wait?state=started&timeout=61`);
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as { error: string }).error).toContain("at most 60 seconds");
  });
});

describe("a create whose answer is lost", () => {
  test("the machine exists; the client saw the connection drop", async () => {
    const f = clocked({ rateLimits: false });
    f.faults.loseCreateAnswer();
    const failure = await call(f, "POST", "/v1/apps/web/machines", {
      config: { image: "x", metadata: { launch: "L1" } },
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(f.machines("web").map((m) => m.config.metadata?.launch)).toEqual(["L1"]);
    // The next create is answered as usual.
    expect((await call(f, "POST", "/v1/apps/web/machines", { config: { image: "x" } })).status).toBe(200);
  });
});
