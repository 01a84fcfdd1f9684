/**
 * Media across machines: three real server processes on one PostgreSQL, each with its own media directory
 * (volume) and machine id, behind a proxy that follows fly-replay as Fly's does (test/support/replay-proxy.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../../src/db/database.ts";
import { eventually, type Instance, migratedScratchDatabase, startInstance } from "../../support/fleet.ts";
import { postgresAvailable, type ScratchDatabase } from "../../support/postgres.ts";
import { killLeftoverServers } from "../../support/server-process.ts";
import { type ReplayProxy, startReplayProxy } from "../../support/replay-proxy.ts";

const pg = await postgresAvailable();
const PASSWORD = "correct horse battery staple";

describe.skipIf(!pg)("media on three machines, one PostgreSQL", () => {
  let scratch: ScratchDatabase;
  let proxy: ReplayProxy;
  let root: string;
  const volumes: Record<string, string> = {};
  const instances = new Map<string, Instance>();
  let token: string;

  const start = async (machineId: string, volume: string) => {
    const instance = await startInstance({
      machineId,
      mediaDir: volumes[volume] as string,
      databaseUrl: scratch.url,
      proxy,
    });
    instances.set(machineId, instance);
    return instance;
  };
  const auth = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...extra });
  const put = (via: string, path: string, body: string | Uint8Array, extra: Record<string, string> = {}) =>
    proxy.request(path, {
      method: "PUT",
      via,
      body,
      headers: auth({
        "content-length": String(typeof body === "string" ? Buffer.byteLength(body) : body.byteLength),
        ...extra,
      }),
    });
  const get = (via: string, path: string) => proxy.request(path, { via, headers: auth() });
  const newProject = async (via = "m-a") => {
    const res = await proxy.request("/v1/projects", {
      method: "POST",
      via,
      headers: auth({ "content-type": "application/json" }),
      body: JSON.stringify({ name: `p-${crypto.randomUUID()}` }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  const volumeIdOf = async (machineId: string) =>
    ((await (await proxy.request("/health", { via: machineId })).json()) as { media: { volume_id: string } }).media
      .volume_id;
  const volumeIdOfStopped = (volume: string) =>
    JSON.parse(readFileSync(join(volumes[volume] as string, ".flightdeck-volume"), "utf8")).id as string;
  const onDisk = (volume: string, projectId: string, path: string) => join(volumes[volume] as string, projectId, path);
  const replaysSince = (from: number) => proxy.hops.slice(from).filter((h) => h.replayedFrom !== undefined);

  beforeAll(async () => {
    scratch = await migratedScratchDatabase("fleet");
    proxy = startReplayProxy();
    root = mkdtempSync(join(tmpdir(), "flightdeck-fleet-"));
    for (const v of ["vol1", "vol2", "vol3"]) volumes[v] = join(root, v);
    await Promise.all([start("m-a", "vol1"), start("m-b", "vol2"), start("m-c", "vol3")]);

    const email = `fleet-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const credentials = JSON.stringify({ email, password: PASSWORD });
    const headers = { "content-type": "application/json" };
    expect(
      (
        await proxy.request("/v1/auth/register", {
          method: "POST",
          via: "m-a",
          headers,
          body: credentials,
          clientIp: "192.0.2.1",
        })
      ).status,
    ).toBe(201);
    const login = await proxy.request("/v1/auth/login", {
      method: "POST",
      via: "m-b",
      headers,
      body: credentials,
      clientIp: "192.0.2.1",
    });
    token = ((await login.json()) as { access_token: string }).access_token;
  }, 60_000);

  afterAll(async () => {
    killLeftoverServers();
    await Promise.all([...instances.values()].map((i) => i.stop().catch(() => {})));
    await proxy?.close();
    await scratch?.drop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test("each machine reports its own volume identity on /health, written once on the volume", async () => {
    const ids = await Promise.all(["m-a", "m-b", "m-c"].map(volumeIdOf));
    expect(new Set(ids).size).toBe(3);
    for (const [i, v] of ["vol1", "vol2", "vol3"].entries()) {
      expect(JSON.parse(readFileSync(join(volumes[v] as string, ".flightdeck-volume"), "utf8")).id).toBe(ids[i]);
    }
  });

  test("upload on A, read and overwrite through B: replayed to A, one copy, new bytes everywhere", async () => {
    const project = await newProject();
    const path = `/v1/projects/${project}/files/docs/report.txt`;
    const created = await put("m-a", path, "version one");
    expect(created.status).toBe(201);
    const volA = await volumeIdOf("m-a");
    expect(await created.json()).toMatchObject({ volume_id: volA, machine_id: "m-a" });

    const mark = proxy.hops.length;
    const read = await get("m-b", path);
    expect([read.status, await read.text()]).toEqual([200, "version one"]);
    expect(replaysSince(mark).map((h) => [h.replayedFrom, h.machine])).toEqual([["m-b", "m-a"]]);

    const overwrite = await put("m-b", path, "version two, longer");
    expect(overwrite.status).toBe(200);
    expect(await overwrite.json()).toMatchObject({ volume_id: volA, machine_id: "m-a", size: 19 });
    expect(readFileSync(onDisk("vol1", project, "docs/report.txt"), "utf8")).toBe("version two, longer");
    expect(existsSync(onDisk("vol2", project, "docs/report.txt"))).toBe(false);
    expect(existsSync(onDisk("vol3", project, "docs/report.txt"))).toBe(false);
    for (const via of ["m-a", "m-b", "m-c"]) {
      const res = await get(via, path);
      expect([via, res.status, await res.text()]).toEqual([via, 200, "version two, longer"]);
    }
    // A new path is stored where the request landed.
    const fresh = await put("m-b", `/v1/projects/${project}/files/new.txt`, "born on b");
    expect(fresh.status).toBe(201);
    expect(await fresh.json()).toMatchObject({ volume_id: await volumeIdOf("m-b"), machine_id: "m-b" });
    const list = (await (
      await proxy.request(`/v1/projects/${project}/files`, { via: "m-c", headers: auth() })
    ).json()) as { items: unknown[] };
    expect(list.items).toEqual([
      expect.objectContaining({ path: "docs/report.txt", volume_id: volA, machine_id: "m-a" }),
      expect.objectContaining({ path: "new.txt", machine_id: "m-b" }),
    ]);

    // A delete sent to C is replayed to A, which removes its bytes itself, at once.
    const mark2 = proxy.hops.length;
    const deleted = await proxy.request(path, { method: "DELETE", via: "m-c", headers: auth() });
    expect(deleted.status).toBe(204);
    expect(replaysSince(mark2).map((h) => [h.replayedFrom, h.machine, h.status])).toEqual([["m-c", "m-a", 204]]);
    expect(existsSync(onDisk("vol1", project, "docs/report.txt"))).toBe(false);
    expect((await get("m-b", path)).status).toBe(404);
  });

  test("an overwrite too large for Fly to replay is stored where it landed and the old copy is deleted", async () => {
    const project = await newProject();
    const path = `/v1/projects/${project}/files/big.bin`;
    expect((await put("m-a", path, "small original")).status).toBe(201);
    const big = new Uint8Array(1_200_000).fill(7);
    const res = await put("m-b", path, big);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      volume_id: await volumeIdOf("m-b"),
      machine_id: "m-b",
      size: big.byteLength,
    });
    expect(existsSync(onDisk("vol2", project, "big.bin"))).toBe(true);
    // A removes its stale copy on its next upkeep tick.
    expect(await eventually(() => !existsSync(onDisk("vol1", project, "big.bin")))).toBe(true);
    const read = await get("m-a", path);
    expect([read.status, (await read.arrayBuffer()).byteLength]).toEqual([200, big.byteLength]);
  });

  test("racing first uploads of one path on two machines end with one copy, the one the row names", async () => {
    const project = await newProject();
    const paths = Array.from({ length: 8 }, (_, i) => `race-${i}.txt`);
    const results = await Promise.all(
      paths.flatMap((p) => [
        put("m-a", `/v1/projects/${project}/files/${p}`, `a wrote ${p}`),
        put("m-b", `/v1/projects/${project}/files/${p}`, `b wrote ${p}`),
      ]),
    );
    expect(results.every((r) => r.status === 200 || r.status === 201)).toBe(true);
    const byVolume = { [await volumeIdOf("m-a")]: "vol1", [await volumeIdOf("m-b")]: "vol2" };
    const copies = () => paths.map((p) => ["vol1", "vol2", "vol3"].filter((v) => existsSync(onDisk(v, project, p))));
    // The losers' copies go on their machines' next upkeep tick.
    expect(await eventually(() => copies().every((c) => c.length === 1))).toBe(true);
    const list = (await (
      await proxy.request(`/v1/projects/${project}/files?limit=100`, { via: "m-a", headers: auth() })
    ).json()) as { items: { path: string; volume_id: string }[] };
    for (const item of list.items) {
      const volume = byVolume[item.volume_id] as string;
      expect([item.path, existsSync(onDisk(volume, project, item.path))]).toEqual([item.path, true]);
      const served = await get("m-c", `/v1/projects/${project}/files/${item.path}`);
      expect([item.path, served.status, await served.text()]).toEqual([
        item.path,
        200,
        readFileSync(onDisk(volume, project, item.path), "utf8"),
      ]);
    }
    expect(list.items.length).toBe(paths.length);
  });

  test("a project deleted while one machine is stopped leaves no bytes anywhere once it starts", async () => {
    const project = await newProject();
    for (const [via, name] of [
      ["m-a", "a.txt"],
      ["m-b", "b.txt"],
      ["m-c", "c.txt"],
    ] as const) {
      expect((await put(via, `/v1/projects/${project}/files/${name}`, `from ${via}`)).status).toBe(201);
    }
    expect(await (instances.get("m-c") as Instance).stop()).toBe(0);
    // Stopped gracefully: no replay goes to it, the file is 503 (not 404, not a proxy 502).
    const unavailable = await get("m-a", `/v1/projects/${project}/files/c.txt`);
    expect([unavailable.status, unavailable.headers.get("fly-replay")]).toEqual([503, null]);
    expect(Number(unavailable.headers.get("retry-after"))).toBeGreaterThan(0);

    expect(
      (await proxy.request(`/v1/projects/${project}`, { method: "DELETE", via: "m-a", headers: auth() })).status,
    ).toBe(204);
    expect(existsSync(join(volumes.vol1 as string, project))).toBe(false);
    expect(await eventually(() => !existsSync(join(volumes.vol2 as string, project)))).toBe(true);
    expect(existsSync(onDisk("vol3", project, "c.txt"))).toBe(true); // its machine has not run since

    await start("m-c", "vol3");
    // Drained before the port opened.
    expect(existsSync(join(volumes.vol3 as string, project))).toBe(false);
  });

  test("a volume that comes back on a new machine id keeps serving its files", async () => {
    const project = await newProject();
    const path = `/v1/projects/${project}/files/kept.txt`;
    expect((await put("m-c", path, "still here")).status).toBe(201);
    const volume = await volumeIdOf("m-c");
    expect(await (instances.get("m-c") as Instance).stop()).toBe(0);
    instances.delete("m-c");
    expect((await get("m-a", path)).status).toBe(503);

    await start("m-c2", "vol3");
    expect(await volumeIdOf("m-c2")).toBe(volume);
    const mark = proxy.hops.length;
    const read = await get("m-a", path);
    expect([read.status, await read.text()]).toEqual([200, "still here"]);
    expect(replaysSince(mark).map((h) => h.machine)).toEqual(["m-c2"]);
    const list = (await (
      await proxy.request(`/v1/projects/${project}/files`, { via: "m-b", headers: auth() })
    ).json()) as { items: { machine_id: string }[] };
    expect(list.items.map((f) => f.machine_id)).toEqual(["m-c2"]);
  });

  test("a machine that crashed: the failed replay comes back as a 503, and within three heartbeats it is no longer a target", async () => {
    const project = await newProject();
    const path = `/v1/projects/${project}/files/crash.txt`;
    expect((await put("m-c2", path, "on c2")).status).toBe(201);
    await (instances.get("m-c2") as Instance).kill();
    instances.delete("m-c2");

    // Its record is still fresh (refreshed here as its last heartbeat would have, so a slow test host cannot let
    // it go stale first): A replays, the proxy cannot reach m-c2 and brings the request back to A.
    const db = await openDatabase({ databaseUrl: scratch.url, dbPoolSize: 1 });
    await db.repo.volumes.heartbeat(await volumeIdOfStopped("vol3"), "m-c2", new Date()).finally(() => db.close());
    const mark = proxy.hops.length;
    const soon = await get("m-a", path);
    expect([soon.status, ((await soon.json()) as { error: { code: string } }).error.code]).toEqual([
      503,
      "volume_unreachable",
    ]);
    expect(
      proxy.hops.slice(mark).map((h) => [h.machine, h.status, h.replayedFrom ?? null, h.fallback ?? false]),
    ).toEqual([
      ["m-a", 409, null, false],
      ["m-c2", 502, "m-a", false],
      ["m-a", 503, null, true],
    ]);

    // Once the record is stale nothing is replayed to it at all.
    expect(
      await eventually(async () => {
        const before = proxy.hops.length;
        const res = await get("m-b", path);
        return res.status === 503 && proxy.hops.length === before + 1;
      }),
    ).toBe(true);
    const res = await get("m-b", path);
    expect((await res.json()) as unknown).toMatchObject({ error: { code: "volume_unavailable" } });
    await start("m-c3", "vol3");
    expect(await (await get("m-b", path)).text()).toBe("on c2");
  });

  test("a replayed request that does not find the file answers a clear error and is not replayed again", async () => {
    const project = await newProject();
    const path = `/v1/projects/${project}/files/elsewhere.txt`;
    expect((await put("m-a", path, "on a")).status).toBe(201);
    // A stale record says m-b holds A's volume (as if the volume had just moved): B is asked, B does not have it.
    const db = await openDatabase({ databaseUrl: scratch.url, dbPoolSize: 1 });
    const volA = await volumeIdOf("m-a");
    try {
      await (instances.get("m-a") as Instance).stop();
      instances.delete("m-a");
      // Seen "in the future" so that a slow test host cannot let this record go stale before the request.
      await db.repo.volumes.register({ id: volA, machineId: "m-b", region: "ewr" }, new Date(Date.now() + 60_000));
      const mark = proxy.hops.length;
      const res = await get("m-c3", path);
      expect([res.status, res.headers.get("fly-replay")]).toEqual([503, null]);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("file_not_on_this_volume");
      expect(body.error.message).toContain("not replayed again");
      expect(proxy.hops.slice(mark).map((h) => [h.machine, h.replayedFrom ?? null, h.status])).toEqual([
        ["m-c3", null, 409],
        ["m-b", "m-c3", 503],
      ]);
    } finally {
      await db.close();
    }
    await start("m-a", "vol1");
    expect(await (await get("m-b", path)).text()).toBe("on a");
  });

  test("login attempts spread over machines share one limit: the sixth gets 429 with Retry-After", async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 200) + 1}`;
    const body = JSON.stringify({ email: "nobody@example.com", password: "wrong password!!" });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (const via of ["m-a", "m-b", "m-c3", "m-a", "m-b", "m-c3"]) {
      last = await proxy.request("/v1/auth/login", {
        method: "POST",
        via,
        clientIp: ip,
        headers: { "content-type": "application/json" },
        body,
      });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect(Number(last?.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await last!.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    const other = await proxy.request("/v1/auth/login", {
      method: "POST",
      via: "m-b",
      clientIp: "203.0.113.99",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(other.status).toBe(401);
  });

  test("no request was ever replayed twice", () => {
    expect(proxy.hops.filter((h) => h.replayedFrom !== undefined && h.status === 409)).toEqual([]);
  });
});
