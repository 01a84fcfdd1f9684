// The fake Fly Machines API's own behaviours: the deploy tests rely on these being like the real API.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createFlyClient, type FlyClient, type MachineConfig } from "../../lib/fly/index.ts";
import { startFakeFly, type FakeFly } from "./fly-machines.ts";
import { flyFailure } from "../support/fly-errors.ts";

let fly: FakeFly;
let client: FlyClient;

beforeEach(() => {
  fly = startFakeFly();
  client = createFlyClient({ baseUrl: fly.url, token: fly.token, retries: 0 });
  fly.seedApp("web");
});
afterEach(() => fly.close());

const checkedConfig: MachineConfig = {
  image: "registry.fly.io/web:1",
  services: [
    { protocol: "tcp", internal_port: 3000, autostop: "stop", checks: [{ type: "http", port: 3000, path: "/health" }] },
  ],
};

function raw(path: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token !== null) headers.set("authorization", `Bearer ${init.token ?? fly.token}`);
  if (init.body) headers.set("content-type", "application/json");
  return fetch(fly.url + path, { ...init, headers });
}

describe("auth and validation", () => {
  test("401 without the token or with a wrong one; both schemes accepted with the right one", async () => {
    expect((await raw("/v1/apps/web", { token: null })).status).toBe(401);
    expect((await raw("/v1/apps/web", { token: "fm2_wrong" })).status).toBe(401);
    const body = (await (
      await raw("/v1/apps/web", { token: null, headers: { authorization: `FlyV1 ${fly.token}` } })
    ).json()) as { name?: string };
    expect(body.name).toBe("web");
    expect((await raw("/v1/apps/web")).status).toBe(200);
  });

  test("a body that breaks the spec schema is a 400 naming the field", async () => {
    const response = await raw("/v1/apps/web/machines", {
      method: "POST",
      body: JSON.stringify({ config: { image: "x", guest: { cpus: "two" } } }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain("/config/guest/cpus");
  });

  test("unknown fields are refused (the real API would drop them silently); bad JSON is a 400", async () => {
    const response = await raw("/v1/apps/web/machines", {
      method: "POST",
      body: JSON.stringify({ config: { image: "x", auto_destory: true } }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain('unknown field "auto_destory"');
    expect((await raw("/v1/apps/web/secrets", { method: "POST", body: "{not json" })).status).toBe(400);
  });

  test("missing image, unknown app, unknown endpoint", async () => {
    expect((await flyFailure(client.createMachine("web", { config: {} }))).status).toBe(400);
    expect((await flyFailure(client.getApp("nope"))).status).toBe(404);
    expect((await raw("/v1/nothing")).status).toBe(404);
  });
});

describe("apps", () => {
  test("create, name taken (422 name_taken), idempotent replay by key", async () => {
    const created = await client.createApp({ name: "api", org_slug: "personal", idempotency_key: "k1" });
    const replay = await client.createApp({ name: "api", org_slug: "personal", idempotency_key: "k1" });
    expect(replay.id).toBe(created.id!);
    const taken = await flyFailure(client.createApp({ name: "api", org_slug: "personal" }));
    expect([taken.status, taken.apiStatus]).toEqual([422, "name_taken"]);
    expect((await client.getApp("api")).status).toBe("pending");
    expect((await client.listApps("personal")).map((a) => a.name).sort()).toEqual(["api", "web"]);
  });

  test("delete removes the app with its machines, volumes, IPs and secrets", async () => {
    await client.setSecrets("web", { A: "1" });
    await client.createVolume("web", { name: "data", region: "ewr" });
    await client.assignIp("web", { type: "v6" });
    const machine = await client.createMachine("web", { config: { image: "x" } });
    await client.deleteApp("web");
    expect(fly.state.apps.has("web")).toBe(false);
    expect((await flyFailure(client.getApp("web"))).status).toBe(404);
    expect((await flyFailure(client.getMachine("web", machine.id!))).status).toBe(404);
  });

  test("lingerAfterDelete: the accepted delete leaves the app readable for N reads, then 404; without N, forever", async () => {
    const machine = await client.createMachine("web", { config: { image: "x" } });
    fly.faults.lingerAfterDelete({ app: "web", reads: 2 });
    await client.deleteApp("web");
    expect(fly.state.apps.get("web")!.machines.get(machine.id!)!.state).toBe("destroyed");
    // A second delete is accepted and does not restart the countdown.
    await client.deleteApp("web");
    expect((await client.getApp("web")).name).toBe("web");
    expect((await client.getApp("web")).name).toBe("web");
    expect((await flyFailure(client.getApp("web"))).status).toBe(404);
    expect(fly.state.apps.has("web")).toBe(false);

    fly.seedApp("web");
    fly.faults.clear().lingerAfterDelete();
    await client.deleteApp("web");
    for (let i = 0; i < 20; i++) expect((await client.getApp("web")).name).toBe("web");
  });
});

describe("machine lifecycle", () => {
  test("create answers `created`, then the machine boots to `started` and its checks pass", async () => {
    const machine = await client.createMachine("web", { region: "ewr", config: checkedConfig });
    expect(machine.state).toBe("created");
    expect((await client.waitMachine("web", machine.id!, { state: "started", timeoutSeconds: 5 })).ok).toBe(true);
    const started = await client.getMachine("web", machine.id!);
    expect(started.state).toBe("started");
    expect(started.checks?.map((c) => c.name)).toEqual(["servicecheck-00-http-3000"]);
    await Bun.sleep(fly.timings.checksPassMs + 30);
    expect((await client.getMachine("web", machine.id!)).checks?.map((c) => c.status)).toEqual(["passing"]);
    expect((await client.getApp("web")).status).toBe("deployed");
  });

  test("autostop comes back as a boolean for off/stop, as the real API answers", async () => {
    const machine = await client.createMachine("web", { config: checkedConfig });
    expect(machine.config?.services?.[0]?.autostop as unknown).toBe(true);
    expect(fly.state.apps.get("web")!.machines.get(machine.id!)!.config.services?.[0]?.autostop).toBe("stop");
  });

  test("update of a running machine replaces it (new version, restarted); versions are kept", async () => {
    const machine = await client.createMachine("web", { config: { image: "x:1" } });
    await client.waitMachine("web", machine.id!, { state: "started", timeoutSeconds: 5 });
    const updated = await client.updateMachine("web", machine.id!, { config: { image: "x:2" } });
    expect(updated.state).toBe("replacing");
    expect(updated.version).not.toBe(machine.version!);
    await client.waitMachine("web", machine.id!, { state: "started", timeoutSeconds: 5 });
    const versions = await client.listVersions("web", machine.id!);
    expect(versions.map((v) => v.user_config?.image)).toEqual(["x:2", "x:1"]);
    const stale = await flyFailure(
      client.updateMachine("web", machine.id!, { config: { image: "x:3" }, current_version: machine.version }),
    );
    expect(stale.status).toBe(409);
  });

  test("update with skip_launch leaves a stopped machine stopped", async () => {
    const machine = await client.createMachine("web", { config: { image: "x:1" } });
    await client.waitMachine("web", machine.id!, { state: "started", timeoutSeconds: 5 });
    await client.stopMachine("web", machine.id!);
    await client.waitMachine("web", machine.id!, { state: "stopped", timeoutSeconds: 5 });
    const updated = await client.updateMachine("web", machine.id!, { config: { image: "x:2" }, skip_launch: true });
    expect(updated.state).toBe("stopped");
    await Bun.sleep(fly.timings.bootMs + 20);
    expect((await client.getMachine("web", machine.id!)).state).toBe("stopped");
  });

  test("destroying a running machine needs force; destroyed machines leave the list", async () => {
    const machine = await client.createMachine("web", { config: { image: "x" } });
    await client.waitMachine("web", machine.id!, { state: "started", timeoutSeconds: 5 });
    expect((await flyFailure(client.destroyMachine("web", machine.id!))).status).toBe(412);
    await client.destroyMachine("web", machine.id!, { force: true });
    await client.waitMachine("web", machine.id!, { state: "destroyed", timeoutSeconds: 5 });
    expect(await client.listMachines("web")).toEqual([]);
    expect((await client.listMachines("web", { includeDeleted: true })).map((m) => m.state)).toEqual(["destroyed"]);
  });

  test("wait answers 408 when the state is not reached; a machine that never starts stays `starting`", async () => {
    fly.faults.neverStart(() => true);
    const machine = await client.createMachine("web", { config: { image: "x" } });
    expect(await client.waitMachine("web", machine.id!, { state: "started", timeoutSeconds: 1 })).toEqual({
      ok: false,
      timedOut: true,
    });
    expect((await client.getMachine("web", machine.id!)).state).toBe("starting");
  });

  test("failStart sends the machine to `failed`; checksNeverPass keeps checks critical", async () => {
    fly.faults.failStart((m) => m.config.image === "bad").checksNeverPass((m) => m.config.image === "sick");
    const bad = await client.createMachine("web", { config: { image: "bad" } });
    expect((await client.waitMachine("web", bad.id!, { state: "failed", timeoutSeconds: 5 })).ok).toBe(true);
    const sick = await client.createMachine("web", { config: { ...checkedConfig, image: "sick" } });
    await client.waitMachine("web", sick.id!, { state: "started", timeoutSeconds: 5 });
    await Bun.sleep(fly.timings.checksPassMs + 30);
    expect((await client.getMachine("web", sick.id!)).checks?.map((c) => c.status)).toEqual(["critical"]);
  });

  test("a release-command machine runs, exits with the injected code (in its exit event), and is destroyed", async () => {
    fly.faults.exitCode(3, (m) => m.config.metadata?.fly_process_group === "fly_app_release_command");
    const machine = await client.createMachine("web", {
      skip_launch: true,
      config: {
        image: "x",
        auto_destroy: true,
        restart: { policy: "no" },
        metadata: { fly_process_group: "fly_app_release_command" },
      },
    });
    expect((await client.waitMachine("web", machine.id!, { state: "stopped", timeoutSeconds: 5 })).ok).toBe(true);
    await client.startMachine("web", machine.id!);
    expect((await client.waitMachine("web", machine.id!, { state: "destroyed", timeoutSeconds: 5 })).ok).toBe(true);
    const events = await client.listEvents("web", machine.id!);
    const exit = events.find((e) => e.type === "exit");
    expect((exit!.request as { exit_event?: { exit_code?: number } }).exit_event?.exit_code).toBe(3);
  });

  test("metadata writes merge without a new version; a stale machine_version is 412", async () => {
    const machine = await client.createMachine("web", { config: { image: "x", metadata: { a: "1" } } });
    await client.updateMetadata("web", machine.id!, { b: "2" });
    await client.setMetadata("web", machine.id!, "c", "3");
    expect(await client.getMetadata("web", machine.id!)).toEqual({ a: "1", b: "2", c: "3" });
    expect((await client.getMachine("web", machine.id!)).version).toBe(machine.version!);
    expect(
      (await flyFailure(client.updateMetadata("web", machine.id!, { d: "4" }, { machineVersion: "01STALE" }))).status,
    ).toBe(412);
  });
});

describe("leases", () => {
  test("one holder at a time: 409 for a second acquirer and for writes without the nonce", async () => {
    const machine = await client.createMachine("web", { config: { image: "x" } });
    const lease = await client.acquireLease("web", machine.id!, { ttlSeconds: 30 });
    expect(lease.nonce).toBeString();
    expect((await flyFailure(client.acquireLease("web", machine.id!))).status).toBe(409);
    const blocked = await flyFailure(client.updateMachine("web", machine.id!, { config: { image: "y" } }));
    expect(blocked.status).toBe(409);
    expect(blocked.apiMessage).toContain("lease currently held by");
    expect(
      (await flyFailure(client.updateMachine("web", machine.id!, { config: { image: "y" } }, { leaseNonce: "wrong" })))
        .status,
    ).toBe(409);
    await client.updateMachine("web", machine.id!, { config: { image: "y" } }, { leaseNonce: lease.nonce });
    const refreshed = await client.refreshLease("web", machine.id!, lease.nonce!, { ttlSeconds: 120 });
    expect(refreshed.nonce).toBe(lease.nonce!);
    expect(refreshed.expires_at!).toBeGreaterThan(lease.expires_at!);
    await client.releaseLease("web", machine.id!, lease.nonce!);
    expect(await client.getLease("web", machine.id!)).toBeUndefined();
    await client.updateMachine("web", machine.id!, { config: { image: "z" } });
  });

  test("create with lease_ttl returns the nonce; a lease held by someone else blocks us", async () => {
    const machine = await client.createMachine("web", { lease_ttl: 30, config: { image: "x" } });
    expect(machine.nonce).toBeString();
    const other = await client.createMachine("web", { config: { image: "x" } });
    fly.faults.holdLease("web", other.id!, { owner: "alice@example.com" });
    const error = await flyFailure(client.acquireLease("web", other.id!));
    expect(error.status).toBe(409);
    expect(error.apiMessage).toContain("alice@example.com");
    expect((await client.getLease("web", other.id!))?.owner).toBe("alice@example.com");
  });

  test("the flat (spec) lease shape can be selected", async () => {
    await fly.close();
    fly = startFakeFly({ leaseResponseShape: "flat" });
    fly.seedApp("web");
    client = createFlyClient({ baseUrl: fly.url, token: fly.token, retries: 0 });
    const machine = await client.createMachine("web", { config: { image: "x" } });
    const response = await raw(`/v1/apps/web/machines/${machine.id}/lease`, {
      method: "POST",
      body: JSON.stringify({ ttl: 10 }),
    });
    const body = (await response.json()) as { nonce?: string; data?: unknown };
    expect(response.status).toBe(201);
    expect(body.nonce).toBeString();
    expect(body.data).toBeUndefined();
  });
});

describe("volumes", () => {
  test("a mount must name a volume of the machine's region that is not attached elsewhere", async () => {
    const volume = await client.createVolume("web", { name: "media", region: "ewr", size_gb: 1 });
    const mounts = [{ volume: volume.id!, path: "/app/media" }];
    expect(
      (await flyFailure(client.createMachine("web", { region: "iad", config: { image: "x", mounts } }))).status,
    ).toBe(400);
    const first = await client.createMachine("web", { region: "ewr", config: { image: "x", mounts } });
    expect((await client.getVolume("web", volume.id!)).attached_machine_id).toBe(first.id!);
    expect(
      (await flyFailure(client.createMachine("web", { region: "ewr", config: { image: "x", mounts } }))).status,
    ).toBe(412);
    expect((await flyFailure(client.deleteVolume("web", volume.id!))).status).toBe(412);
    const unknown = await flyFailure(
      client.createMachine("web", {
        region: "ewr",
        config: { image: "x", mounts: [{ volume: "vol_missing", path: "/d" }] },
      }),
    );
    expect(unknown.apiMessage).toContain("vol_missing");
    await client.destroyMachine("web", first.id!, { force: true });
    await client.waitMachine("web", first.id!, { state: "destroyed", timeoutSeconds: 5 });
    expect((await client.getVolume("web", volume.id!)).attached_machine_id).toBeUndefined();
    await client.deleteVolume("web", volume.id!);
    expect(await client.listVolumes("web")).toEqual([]);
  });

  test("require_unique_zone (default on) runs out of zones; off, it does not", async () => {
    await fly.close();
    fly = startFakeFly({ zonesPerRegion: 2 });
    fly.seedApp("web");
    client = createFlyClient({ baseUrl: fly.url, token: fly.token, retries: 0 });
    const a = await client.createVolume("web", { name: "media", region: "ewr" });
    const b = await client.createVolume("web", { name: "media", region: "ewr" });
    expect(a.zone).not.toBe(b.zone!);
    const full = await flyFailure(client.createVolume("web", { name: "media", region: "ewr" }));
    expect([full.status, full.apiStatus]).toEqual([422, "volume_placement_capacity"]);
    await client.createVolume("web", { name: "media", region: "ewr", require_unique_zone: false });
    await client.createVolume("web", { name: "other", region: "ewr" });
    expect(await client.listVolumes("web")).toHaveLength(4);
  });
});

describe("secrets", () => {
  test("every write moves the version on; list shows names and digests, values only on request", async () => {
    const first = await client.setSecrets("web", { A: "1", B: "2" });
    const second = await client.setSecret("web", "C", "3");
    const third = await client.unsetSecrets("web", ["B"]);
    const fourth = await client.unsetSecret("web", "C");
    expect([first.version, second.version, third.version, fourth.version]).toEqual([1, 2, 3, 4]);
    const listed = await client.listSecrets("web");
    expect(listed.map((s) => s.name)).toEqual(["A"]);
    expect(listed[0]!.digest).toMatch(/^[0-9a-f]{16}$/);
    expect(listed[0]!.value).toBeUndefined();
    expect((await client.listSecrets("web", { showSecrets: true }))[0]!.value).toBe("1");
    expect((await flyFailure(client.unsetSecret("web", "NOPE"))).status).toBe(404);
  });

  test("min_secrets_version ahead of the app's version is refused; machines record what they got", async () => {
    const { version } = await client.setSecrets("web", { A: "1" });
    expect(
      (await flyFailure(client.createMachine("web", { min_secrets_version: version + 1, config: { image: "x" } })))
        .status,
    ).toBe(400);
    const machine = await client.createMachine("web", { min_secrets_version: version, config: { image: "x" } });
    expect(fly.state.apps.get("web")!.machines.get(machine.id!)!.secretsVersion).toBe(version);
  });
});

describe("ip assignments", () => {
  test("v6 is dedicated, shared_v4 is shared (and singular), private_v6 carries its network; delete then 404", async () => {
    const v6 = await client.assignIp("web", { type: "v6" });
    const v4 = await client.assignIp("web", { type: "shared_v4" });
    const again = await client.assignIp("web", { type: "shared_v4" });
    const flycast = await client.assignIp("web", { type: "private_v6", org_slug: "personal" });
    expect(v6.shared).toBe(false);
    expect(v6.ip).toContain(":");
    expect(v4.shared).toBe(true);
    expect(again.ip).toBe(v4.ip!);
    expect(flycast.ip).toStartWith("fdaa:");
    expect(flycast.network).toEqual({ name: "", org_slug: "personal" });
    expect((await client.listIpAssignments("web")).length).toBe(3);
    await client.deleteIp("web", v6.ip!);
    expect((await flyFailure(client.deleteIp("web", v6.ip!))).status).toBe(404);
  });
});

describe("faults and the call log", () => {
  test("429 with Retry-After, 5xx, and dropped connections for the next N matching calls", async () => {
    fly.faults
      .rateLimit(1, { retryAfterSeconds: 2, match: { path: "/machines" } })
      .serverError(1, { status: 503, match: { method: "GET", path: /^\/v1\/apps\/web$/ } });
    const limited = await raw("/v1/apps/web/machines");
    expect([limited.status, limited.headers.get("retry-after")]).toEqual([429, "2"]);
    expect((await raw("/v1/apps/web/machines")).status).toBe(200);
    expect((await raw("/v1/apps/web")).status).toBe(503);
    expect((await raw("/v1/apps/web")).status).toBe(200);
    fly.faults.dropConnection(1, { match: { method: "GET" } });
    // Fresh connection: Bun's fetch silently replays a GET whose pooled keep-alive connection was reset.
    await expect(raw("/v1/apps/web", { keepalive: false })).rejects.toThrow();
    expect((await raw("/v1/apps/web")).status).toBe(200);
  });

  test("a drop after handling leaves the change made but unanswered (the ambiguous case)", async () => {
    fly.faults.dropConnection(1, { match: { method: "POST", path: "/machines" }, afterHandling: true });
    await expect(
      raw("/v1/apps/web/machines", { method: "POST", body: JSON.stringify({ config: { image: "x" } }) }),
    ).rejects.toThrow();
    expect(fly.machines("web")).toHaveLength(1);
  });

  test("latency is added per call", async () => {
    fly.faults.latency(60, { path: "/secrets" });
    const started = performance.now();
    await client.listSecrets("web");
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });

  test("calls record method, path, status and whether they could mutate", async () => {
    await client.getApp("web");
    await client.setSecrets("web", { A: "1" });
    await flyFailure(client.getMachine("web", "missing"));
    expect(fly.calls.map((c) => [c.method, c.path, c.status, c.mutating])).toEqual([
      ["GET", "/v1/apps/web", 200, false],
      ["POST", "/v1/apps/web/secrets", 200, true],
      ["GET", "/v1/apps/web/machines/missing", 404, false],
    ]);
    expect(fly.mutatingCalls()).toHaveLength(1);
  });
});

describe("the variants where spec, fly-go and docs disagree (a mode for each)", () => {
  test("app create: the spec's `name` (default) or the docs' `app_name`; the client sends both and passes either", async () => {
    const body = (fields: Record<string, string>) => JSON.stringify({ org_slug: "personal", ...fields });
    expect(await (await raw("/v1/apps", { method: "POST", body: body({ app_name: "only-docs" }) })).json()).toEqual({
      error: "name is required",
    });
    await client.createApp({ name: "spec-side", org_slug: "personal" });
    expect(fly.state.apps.has("spec-side")).toBe(true);
    const create = fly.calls.find((c) => c.method === "POST" && c.path === "/v1/apps" && c.status === 201)!;
    expect(create.body).toMatchObject({ name: "spec-side", app_name: "spec-side", org_slug: "personal" });

    const docs = startFakeFly({ appNameField: "app_name" });
    try {
      const docsClient = createFlyClient({ baseUrl: docs.url, token: docs.token, retries: 0 });
      const refused = await fetch(`${docs.url}/v1/apps`, {
        method: "POST",
        headers: { authorization: `Bearer ${docs.token}`, "content-type": "application/json" },
        body: body({ name: "only-spec" }),
      });
      expect(refused.status).toBe(400);
      expect(await refused.json()).toEqual({ error: "app_name is required" });
      await docsClient.createApp({ name: "docs-side", org_slug: "personal" });
      expect(docs.state.apps.has("docs-side")).toBe(true);
    } finally {
      await docs.close();
    }
  });

  test("wait: the state goes out repeated; in ok_only mode a reached wait answers {ok: true} and nothing else", async () => {
    const machine = await client.createMachine("web", { config: { image: "x" } });
    const full = await client.waitMachine("web", machine.id!, { state: ["started", "failed"], timeoutSeconds: 5 });
    expect(full).toMatchObject({ ok: true, state: "started" });
    expect(fly.calls.at(-1)!.query).toContain("state=started&state=failed");

    const quiet = startFakeFly({ waitResponse: "ok_only" });
    try {
      quiet.seedApp("web");
      const quietClient = createFlyClient({ baseUrl: quiet.url, token: quiet.token, retries: 0 });
      const m = await quietClient.createMachine("web", { config: { image: "x" } });
      expect(await quietClient.waitMachine("web", m.id!, { state: ["started", "failed"], timeoutSeconds: 5 })).toEqual({
        ok: true,
        state: undefined,
        version: undefined,
        eventId: undefined,
      });
    } finally {
      await quiet.close();
    }
  });

  test("a leased machine refuses every write without the holder's nonce (409), and a destroyed one refuses a lease (412)", async () => {
    const machine = await client.createMachine("web", { config: { image: "x" } });
    const id = machine.id!;
    const lease = await client.acquireLease("web", id, { ttlSeconds: 30 });
    for (const write of [
      () => client.updateMachine("web", id, { config: { image: "y" } }),
      () => client.stopMachine("web", id),
      () => client.startMachine("web", id),
      () => client.cordonMachine("web", id),
      () => client.setMetadata("web", id, "k", "v"),
      () => client.updateMetadata("web", id, { k: "v" }),
      () => client.destroyMachine("web", id, { force: true }),
      () => client.releaseLease("web", id, "not-the-nonce"),
    ]) {
      expect((await flyFailure(write())).status).toBe(409);
    }
    await client.destroyMachine("web", id, { force: true, leaseNonce: lease.nonce! });
    await client.waitForMachineState("web", id, { state: "destroyed", timeoutMs: 2000 });
    expect((await flyFailure(client.acquireLease("web", id))).status).toBe(412);
  });
});
