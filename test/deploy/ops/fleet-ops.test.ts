// scale, secrets, bluegreen/canary on a volume-less app, rollback.
import { afterEach, expect, test } from "bun:test";
import { createFlyClient } from "../../../lib/fly/client.ts";
import { runDeploy } from "../../../deploy/apply/deploy.ts";
import { parseDeployConfig } from "../../../deploy/config/flytoml.ts";
import { setSecrets } from "../../../deploy/ops/secrets.ts";
import { previousImage } from "../../../deploy/cli/handlers.ts";
import { APP, appMachines, harness, IMAGE_V1, IMAGE_V2, mutating, type Harness } from "../harness.ts";

let h: Harness;
afterEach(() => h?.close());

async function previewConfig(app = "flightdeck-pr-7") {
  const text = (await Bun.file(new URL("../../../fly.preview.toml", import.meta.url)).text())
    .replace(/^app = .*$/m, `app = "${app}"`)
    .replace(/wait_timeout = "[^"]*"/, 'wait_timeout = "3s"');
  const parsed = parseDeployConfig(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.config;
}

test("scale 5 -> 2 -> 5: down destroys machines and keeps volumes, up reuses them", async () => {
  h = await harness();
  await h.seedSecrets();
  await runDeploy(h.options());
  const volumesBefore = new Set(appMachines(h.fly).map((m) => m.config.mounts?.[0]?.volume));
  h.fly.calls.length = 0;

  await runDeploy(h.options({ machineCount: 2, requiredSecrets: [] }), { kind: "scale", count: 2 });
  expect(appMachines(h.fly)).toHaveLength(2);
  expect(mutating(h.fly).filter((c) => /^DELETE \/machines\/[^/]+$/.test(c))).toHaveLength(3);
  expect(mutating(h.fly).filter((c) => c.includes("volumes"))).toEqual([]);
  const app = h.fly.state.apps.get(APP)!;
  expect([...app.volumes.values()].filter((v) => v.state !== "destroyed")).toHaveLength(5);
  h.fly.calls.length = 0;

  await runDeploy(h.options({ machineCount: 5, requiredSecrets: [] }), { kind: "scale", count: 5 });
  const machines = appMachines(h.fly);
  expect(machines).toHaveLength(5);
  expect(new Set(machines.map((m) => m.config.mounts?.[0]?.volume))).toEqual(volumesBefore);
  expect(mutating(h.fly).filter((c) => c.includes("volumes"))).toEqual([]);
  expect(mutating(h.fly).filter((c) => c === "POST /machines")).toHaveLength(3);
  expect(machines.every((m) => m.config.image === IMAGE_V1)).toBe(true);
});

test("scale sticks: after scale 5 -> 2 a deploy of a new image keeps 2 machines; scale 2 -> 5 reuses the volumes", async () => {
  h = await harness();
  await h.seedSecrets();
  await runDeploy(h.options());
  expect(appMachines(h.fly).every((m) => m.config.metadata?.flightdeck_fleet_size === "5")).toBe(true);
  const volumesBefore = new Set(appMachines(h.fly).map((m) => m.config.mounts?.[0]?.volume));

  await runDeploy(h.options({ machineCount: 2, requiredSecrets: [] }), { kind: "scale", count: 2 });
  const kept = appMachines(h.fly);
  expect(kept).toHaveLength(2);
  // The kept machines learnt the size through a metadata write under a lease: no update, no restart.
  expect(kept.every((m) => m.config.metadata?.flightdeck_fleet_size === "2")).toBe(true);
  const metadataWrites = h.fly.calls.filter(
    (c) => c.method === "POST" && c.path.endsWith("/metadata/flightdeck_fleet_size"),
  );
  expect(metadataWrites).toHaveLength(2);
  expect(metadataWrites.every((c) => c.leaseNonce)).toBe(true);

  // No machineCount: deploy reads the recorded size.
  h.fly.calls.length = 0;
  const result = await runDeploy(h.options({ image: IMAGE_V2 }));
  expect(result.plan.target.machineCount).toBe(2);
  const after = appMachines(h.fly);
  expect(after.map((m) => m.id).sort()).toEqual(kept.map((m) => m.id).sort());
  expect(
    after.every(
      (m) => m.config.image === IMAGE_V2 && m.state === "started" && m.config.metadata?.flightdeck_fleet_size === "2",
    ),
  ).toBe(true);
  const appCreates = h.fly.calls.filter(
    (c) =>
      c.method === "POST" &&
      c.path.endsWith("/machines") &&
      (c.body as { config: { metadata?: Record<string, string> } }).config.metadata?.fly_process_group === "app",
  );
  expect(appCreates).toEqual([]);
  expect(mutating(h.fly).filter((c) => /^DELETE \/machines\/[^/]+$/.test(c))).toEqual([]);
  h.fly.calls.length = 0;
  await runDeploy(h.options({ image: IMAGE_V2 }));
  expect(h.fly.mutatingCalls()).toEqual([]);

  await runDeploy(h.options({ machineCount: 5, requiredSecrets: [] }), { kind: "scale", count: 5 });
  const five = appMachines(h.fly);
  expect(five).toHaveLength(5);
  expect(new Set(five.map((m) => m.config.mounts?.[0]?.volume))).toEqual(volumesBefore);
  expect(five.every((m) => m.config.image === IMAGE_V2 && m.config.metadata?.flightdeck_fleet_size === "5")).toBe(true);
  h.fly.calls.length = 0;
  await runDeploy(h.options({ image: IMAGE_V2 }));
  expect(appMachines(h.fly)).toHaveLength(5);
  expect(h.fly.mutatingCalls()).toEqual([]);
});

test("a scale down interrupted after recording the size is finished by the next deploy", async () => {
  h = await harness();
  await h.seedSecrets();
  await runDeploy(h.options());
  const controller = new AbortController();
  // Abort once both kept machines have recorded 2, before any destroy: three machines still say 5.
  let writes = 0;
  const client = createFlyClient({
    baseUrl: h.fly.url,
    token: h.fly.token,
    onRequest: (info) => {
      if (
        info.method === "POST" &&
        info.path.endsWith("/metadata/flightdeck_fleet_size") &&
        info.status < 300 &&
        ++writes === 2
      )
        controller.abort(new Error("killed by test"));
    },
  });
  // Short leases: a destroy cut off between "lease granted" and the client hearing it leaves a lease nobody can
  // release, which the re-run waits out (as it would a killed CI job's, for flyctl's 13 s).
  const error = await runDeploy(
    h.options({ client, signal: controller.signal, machineCount: 2, requiredSecrets: [], leaseTtlSeconds: 1 }),
    { kind: "scale", count: 2 },
  ).catch((e) => e);
  expect(error.code).toBe("aborted");
  expect(appMachines(h.fly)).toHaveLength(5);
  expect(
    appMachines(h.fly)
      .map((m) => m.config.metadata?.flightdeck_fleet_size)
      .sort(),
  ).toEqual(["2", "2", "5", "5", "5"]);
  await runDeploy(h.options({ image: IMAGE_V2, waitForLockMs: 5_000 }));
  const machines = appMachines(h.fly);
  expect(machines).toHaveLength(2);
  expect(machines.every((m) => m.config.image === IMAGE_V2 && m.config.metadata?.flightdeck_fleet_size === "2")).toBe(
    true,
  );
});

test("secrets change rolls every machine with an update carrying min_secrets_version", async () => {
  h = await harness();
  await h.seedSecrets();
  await runDeploy(h.options());
  h.fly.calls.length = 0;
  const change = await setSecrets(
    { client: h.client, config: h.options().config, output: h.output, org: "personal", pollMs: 10 },
    { SECRET_KEY: "n".repeat(48) },
  );
  expect(change.rolled).toHaveLength(5);
  const updates = h.fly.calls.filter((c) => c.method === "POST" && /\/machines\/[^/]+$/.test(c.path));
  expect(updates).toHaveLength(5);
  for (const u of updates) {
    expect((u.body as { min_secrets_version?: number }).min_secrets_version).toBe(change.version);
    expect(u.leaseNonce).toBeTruthy();
  }
  const machines = appMachines(h.fly);
  expect(machines.every((m) => m.secretsVersion === change.version && m.state === "started")).toBe(true);
  expect(machines.every((m) => m.config.metadata?.flightdeck_secrets_version === String(change.version))).toBe(true);
  // The secrets roll keeps each machine's config: the next deploy of the same image is still a no-op.
  h.fly.calls.length = 0;
  await runDeploy(h.options());
  expect(h.fly.mutatingCalls()).toEqual([]);
  // A deploy of a new image sends the version the fleet carries.
  await runDeploy(h.options({ image: IMAGE_V2 }));
  const next = h.fly.calls.filter((c) => c.method === "POST" && /\/machines\/[^/]+$/.test(c.path));
  expect(next.every((c) => (c.body as { min_secrets_version?: number }).min_secrets_version === change.version)).toBe(
    true,
  );
});

test("secrets set on a missing app creates it and stages the secrets", async () => {
  h = await harness();
  const change = await setSecrets(
    { client: h.client, config: h.options().config, output: h.output, org: "personal" },
    { SECRET_KEY: "n".repeat(48) },
  );
  expect(change.createdApp).toBe(true);
  expect(change.rolled).toEqual([]);
  expect([...h.fly.state.apps.get(APP)!.secrets.keys()]).toEqual(["SECRET_KEY"]);
});

test("bluegreen on a volume-less app: greens healthy before blues go; failure keeps blues", async () => {
  const config = await previewConfig();
  h = await harness({}, config);
  await runDeploy(h.options({ machineCount: 1, requiredSecrets: [], strategy: "bluegreen" }));
  const [blue] = appMachines(h.fly, config.app);
  expect(blue?.config.image).toBe(IMAGE_V1);

  await runDeploy(h.options({ machineCount: 1, requiredSecrets: [], strategy: "bluegreen", image: IMAGE_V2 }));
  const after = appMachines(h.fly, config.app);
  expect(after).toHaveLength(1);
  expect(after[0]!.id).not.toBe(blue!.id);
  expect(after[0]!.config.image).toBe(IMAGE_V2);
  expect(after[0]!.cordoned).toBe(false);

  h.fly.faults.checksNeverPass((m) => m.config.image === "registry.fly.io/flightdeck:deployment-v3");
  const error = await runDeploy(
    h.options({
      machineCount: 1,
      requiredSecrets: [],
      strategy: "bluegreen",
      image: "registry.fly.io/flightdeck:deployment-v3",
    }),
  ).catch((e) => e);
  expect(error.exitCode).toBe(1);
  const left = appMachines(h.fly, config.app);
  expect(left.map((m) => m.id)).toEqual([after[0]!.id]);
  expect(left[0]!.config.image).toBe(IMAGE_V2);
});

test("canary on a volume-less app boots and removes a trial machine, then rolls", async () => {
  const config = await previewConfig();
  h = await harness({}, config);
  await runDeploy(h.options({ machineCount: 1, requiredSecrets: [] }));
  h.fly.calls.length = 0;
  await runDeploy(h.options({ machineCount: 1, requiredSecrets: [], strategy: "canary", image: IMAGE_V2 }));
  const creates = h.fly.calls.filter((c) => c.method === "POST" && c.path.endsWith("/machines"));
  expect(
    creates.some(
      (c) => (c.body as { config: { metadata?: Record<string, string> } }).config.metadata?.fly_canary === "true",
    ),
  ).toBe(true);
  const machines = appMachines(h.fly, config.app);
  expect(machines).toHaveLength(1);
  expect(machines[0]!.config.image).toBe(IMAGE_V2);
});

test("rollback finds the previous image in the release history on the machines, even when versions say nothing", async () => {
  h = await harness();
  await h.seedSecrets();
  await runDeploy(h.options());
  await runDeploy(h.options({ image: IMAGE_V2 }));
  // A server whose versions API returns less than the spec promises (fly-machines-api.md §12.17).
  for (const m of appMachines(h.fly)) m.versions = [];
  const image = await previousImage(h.client, APP);
  expect(image).toBe(IMAGE_V1);
  await runDeploy(h.options({ image }), { kind: "rollback", image });
  expect(appMachines(h.fly).map((m) => m.config.image)).toEqual(Array(5).fill(IMAGE_V1));
});

test("a secrets roll and a deploy at once run one after the other: the fleet ends on the new image and the new secrets", async () => {
  h = await harness();
  await h.seedSecrets();
  await runDeploy(h.options());
  const config = h.options().config;
  const [deployed, secrets] = await Promise.all([
    runDeploy(h.options({ image: IMAGE_V2, waitForLockMs: 20_000 })),
    setSecrets(
      { client: h.client, config, output: h.output, org: "personal", pollMs: 10, waitForLockMs: 20_000 },
      { SECRET_KEY: "r".repeat(48) },
    ),
  ]);
  expect(deployed.machines.every((m) => m.image === IMAGE_V2)).toBe(true);
  const machines = appMachines(h.fly);
  expect(machines).toHaveLength(5);
  // Whichever went second saw what the first left: every machine on v2, booted with the new secrets.
  expect(
    machines.every((m) => m.config.image === IMAGE_V2 && m.secretsVersion === secrets.version && m.state === "started"),
  ).toBe(true);
});
