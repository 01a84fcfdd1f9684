// Issue 10's other two holes, through real `bun deploy/run.ts` processes: a server whose /wait says only
// `{ok: true}` (the spec makes `state` optional; fly-go's Wait never reads the body) must not make a failed
// rollout look started, and `rollback` goes to the last good release, never to one whose rollout failed.
// Plus the lock's edges: an aborted run gives its leases back, and its lease says who it is.

import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { createFlyClient } from "../../../lib/fly/client.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";
import { cliDir, type CliDir } from "../cli-process.ts";
import { APP, appMachines, GOOD_SECRETS } from "../harness.ts";

setDefaultTimeout(60_000);

const V1 = `registry.fly.io/${APP}:deployment-v1`;
const V2 = `registry.fly.io/${APP}:deployment-v2`;
const V3 = `registry.fly.io/${APP}:deployment-v3`;

let fly: FakeFly;
let dir: CliDir;
afterEach(async () => {
  await fly?.close();
  dir?.remove();
});

async function setUp(options: Parameters<typeof startFakeFly>[0] = {}, wait = "3s"): Promise<void> {
  fly = startFakeFly({ bootMs: 15, checksPassMs: 5, runMs: 5, stopMs: 5, ...options });
  dir = await cliDir(fly, { wait });
  const client = createFlyClient({ baseUrl: fly.url, token: fly.token });
  await client.createApp({ name: APP, org_slug: "personal" });
  await client.setSecrets(APP, GOOD_SECRETS);
}

const images = () => appMachines(fly).map((m) => m.config.image);
/** App machines on `image` fail to start (the release command, which runs it too, still succeeds). */
const failing = (image: string) => (m: { config: { image?: string; metadata?: Record<string, string> | null } }) =>
  m.config.image === image && m.config.metadata?.fly_process_group === "app";

test("waits answered {ok: true} only: a rollout whose machines fail is seen failing, rolled back, exit 1", async () => {
  await setUp({ waitResponse: "ok_only" });
  expect((await dir.run(["deploy", "--image", V1])).code).toBe(0);
  fly.faults.failStart(failing(V2));
  const from = fly.calls.length;
  const failed = await dir.run(["deploy", "--image", V2, "--json"]);
  expect(failed.code).toBe(1);
  expect(failed.stderr).toContain("failed to start (state failed)");
  expect(failed.stderr).toContain("bun deploy/run.ts logs --machine");
  expect(failed.stderr).toContain("rolled back");
  expect(JSON.parse(failed.stdout)).toMatchObject({ error: { exitCode: 1 } });
  expect(images()).toEqual(Array(5).fill(V1));
  expect(appMachines(fly).every((m) => m.state === "started" && m.lease === undefined)).toBe(true);
  // The multi-state wait went out in the repeated form, its bodies said nothing, and the machine was asked.
  const calls = fly.calls.slice(from);
  const waits = calls.filter((c) => c.path.endsWith("/wait") && c.query.includes("state=started"));
  expect(waits.length).toBeGreaterThan(0);
  for (const w of waits) expect(w.query).toContain("state=started&state=failed");
  const waited = waits[0]!.path.replace(/\/wait$/, "");
  expect(calls.some((c) => c.method === "GET" && c.path === waited && c.at >= waits[0]!.at)).toBe(true);
});

test("rollback after a failed rollout picks the good image before the current one; status lists the releases", async () => {
  await setUp({ waitResponse: "ok_only" });
  expect((await dir.run(["deploy", "--image", V1])).code).toBe(0);
  expect((await dir.run(["deploy", "--image", V2])).code).toBe(0);
  fly.faults.failStart(failing(V3));
  expect((await dir.run(["deploy", "--image", V3])).code).toBe(1);
  expect(images()).toEqual(Array(5).fill(V2));

  const status = await dir.run(["status", "--json"]);
  expect(status.code).toBe(0);
  const releases = (
    JSON.parse(status.stdout) as { releases: { version: number; image: string; outcome: string; at: string }[] }
  ).releases;
  expect(releases.map((r) => [r.version, r.image, r.outcome])).toEqual([
    [3, V3, "failed"],
    [2, V2, "good"],
    [1, V1, "good"],
  ]);
  expect(releases.every((r) => !Number.isNaN(Date.parse(r.at)))).toBe(true);
  const text = await dir.run(["status"]);
  expect(text.stdout).toMatch(/v3\s+failed .*deployment-v3/);
  expect(text.stdout).toMatch(/v2\s+good .*deployment-v2/);

  const from = fly.calls.length;
  const rolled = await dir.run(["rollback", "--json"]);
  expect(rolled.code).toBe(0);
  expect(JSON.parse(rolled.stdout)).toMatchObject({ image: V1, release: 4 });
  expect(images()).toEqual(Array(5).fill(V1));
  // Chosen from the history on the machines: the machine versions API was not needed.
  expect(fly.calls.slice(from).some((c) => c.path.endsWith("/versions"))).toBe(false);
  const after = JSON.parse((await dir.run(["status", "--json"])).stdout) as {
    releases: { version: number; image: string; outcome: string }[];
  };
  expect(after.releases[0]).toMatchObject({ version: 4, image: V1, outcome: "good" });
});

test("rollback with no release history: exit 2, a clear message, nothing changed", async () => {
  await setUp();
  expect((await dir.run(["deploy", "--image", V1])).code).toBe(0);
  // A fleet deployed before the history existed.
  for (const m of appMachines(fly)) delete m.config.metadata?.flightdeck_releases;
  const from = fly.calls.length;
  const r = await dir.run(["rollback"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("no release history is recorded on its machines");
  expect(r.stderr).toContain("--to IMAGE");
  expect(fly.calls.slice(from).filter((c) => c.mutating)).toEqual([]);
});

test("SIGTERM mid-rollout: the run stops, gives every lease back, and a re-run finishes the job", async () => {
  await setUp();
  expect((await dir.run(["deploy", "--image", V1])).code).toBe(0);
  fly.timings.bootMs = 400;
  const proc = dir.spawn(["deploy", "--image", V2]);
  const from = fly.calls.length;
  for (
    let i = 0;
    i < 200 && !fly.calls.slice(from).some((c) => c.method === "POST" && /\/machines\/[^/]+$/.test(c.path));
    i++
  )
    await Bun.sleep(10);
  proc.kill("SIGTERM");
  const [stderr, code] = await Promise.all([new Response(proc.stderr as ReadableStream).text(), proc.exited]);
  expect(code).toBe(1);
  expect(stderr).toContain("interrupted");
  const everyMachine = [...fly.state.apps.get(APP)!.machines.values()].filter((m) => m.state !== "destroyed");
  expect(everyMachine.every((m) => m.lease === undefined)).toBe(true);
  fly.timings.bootMs = 15;
  expect((await dir.run(["deploy", "--image", V2, "--wait-for-lock", "0s"])).code).toBe(0);
  expect(images()).toEqual(Array(5).fill(V2));
});

test("under GitHub Actions the lease names the run URL; a held fleet is reported with it and the run exits 2", async () => {
  await setUp({}, "30s");
  const actions = {
    GITHUB_ACTIONS: "true",
    GITHUB_SERVER_URL: "https://github.example",
    GITHUB_REPOSITORY: "acme/flightdeck",
    GITHUB_RUN_ID: "4242",
  };
  // Long enough that the status and laptop processes below (each a Bun start-up, slow on a loaded CI box)
  // always run while the CI deploy still holds the fleet.
  fly.timings.bootMs = 4000;
  const ci = dir.spawn(["deploy", "--image", V1], actions);
  for (let i = 0; i < 300 && !appMachines(fly).some((m) => m.lease); i++) await Bun.sleep(10);
  const during = JSON.parse((await dir.run(["status", "--json"])).stdout) as {
    lock: { held: boolean; description: string };
  };
  expect(during.lock.held).toBe(true);
  expect(during.lock.description).toContain("https://github.example/acme/flightdeck/actions/runs/4242");
  const laptop = await dir.run(["deploy", "--image", V2, "--wait-for-lock", "300ms"]);
  expect(laptop.code).toBe(2);
  expect(laptop.stderr).toContain(`another deploy is working on ${APP}; nothing was changed`);
  expect(laptop.stderr).toContain("https://github.example/acme/flightdeck/actions/runs/4242");
  expect(laptop.stderr).toMatch(/flightdeck deploy, host [^,]+, pid \d+/);
  expect(await ci.exited).toBe(0);
  expect(images()).toEqual(Array(5).fill(V1));
  expect((await dir.run(["status"])).stdout).toContain("lock: free");
});

test("a held fleet (flyctl holding the lock machine) is waited for; SIGTERM while waiting exits 2 with nothing changed", async () => {
  await setUp();
  expect((await dir.run(["deploy", "--image", V1])).code).toBe(0);
  const anchor = [...fly.state.apps.get(APP)!.machines.values()].find((m) => m.name === "flightdeck-fleet-lock")!;
  fly.faults.holdLease(APP, anchor.id, {
    owner: "bob@example.com",
    description: "fly machine update",
    ttlSeconds: 120,
  });
  const from = fly.calls.length;
  const proc = dir.spawn(["deploy", "--image", V2]);
  let stderr = "";
  const reading = new Response(proc.stderr as ReadableStream).text().then((t) => (stderr = t));
  for (let i = 0; i < 300 && !fly.calls.slice(from).some((c) => c.path.endsWith("/lease") && c.status === 409); i++)
    await Bun.sleep(10);
  await Bun.sleep(100);
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(2);
  await reading;
  expect(stderr).toContain("is locked by fly machine update (token of bob@example.com)");
  expect(stderr).toContain("waiting up to 2m");
  expect(stderr).toContain(`interrupted while waiting for the fleet lock of ${APP}; nothing was changed`);
  expect(fly.calls.slice(from).filter((c) => c.mutating && !c.path.endsWith("/lease"))).toEqual([]);
  expect(images()).toEqual(Array(5).fill(V1));
});
