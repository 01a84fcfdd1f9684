import { afterEach, expect, test } from "bun:test";
import { runDeploy } from "../../../deploy/apply/deploy.ts";
import { APP, appMachines, harness, IMAGE_V1, mutating, type Harness } from "../harness.ts";

let h: Harness;
afterEach(() => h?.close());

test("first deploy from nothing: app, IPs, release command, 5 volumes and 5 healthy machines", async () => {
  h = await harness();
  await h.seedSecrets();
  const result = await runDeploy(h.options());

  const machines = appMachines(h.fly);
  expect(machines).toHaveLength(5);
  for (const m of machines) {
    expect(m.state).toBe("started");
    expect(m.config.image).toBe(IMAGE_V1);
    expect(m.region).toBe("ewr");
    expect(m.config.mounts?.[0]?.volume).toMatch(/^vol_/);
    expect(m.checks.every((c) => c.status === "passing")).toBe(true);
  }
  const volumeIds = new Set(machines.map((m) => m.config.mounts?.[0]?.volume));
  expect(volumeIds.size).toBe(5);
  const app = h.fly.state.apps.get(APP)!;
  expect([...app.volumes.values()].every((v) => v.name === "media" && v.region === "ewr")).toBe(true);
  expect(app.ips.map((ip) => (ip.ip?.includes(":") ? "v6" : "v4")).sort()).toEqual(["v4", "v6"]);

  const calls = mutating(h.fly);
  expect(calls.filter((c) => c === "POST /ip_assignments")).toHaveLength(2);
  expect(calls.filter((c) => c === "POST /volumes")).toHaveLength(5);
  // the fleet lock's anchor + the release machine + 5 app machines
  expect(calls.filter((c) => c === "POST /machines")).toHaveLength(7);
  const [anchor, ...creates] = h.fly.calls.filter((c) => c.method === "POST" && c.path.endsWith("/machines"));
  expect(anchor!.body).toMatchObject({
    name: "flightdeck-fleet-lock",
    skip_launch: true,
    config: { image: IMAGE_V1, metadata: { flightdeck_role: "fleet-lock" } },
  });
  // Every app machine is leased right after its create (and the anchor before anything else).
  const leased = new Set(
    h.fly.calls
      .filter((c) => c.method === "POST" && c.path.endsWith("/lease") && c.status === 201)
      .map((c) => c.path.split("/")[5]),
  );
  for (const m of machines) expect(leased.has(m.id)).toBe(true);
  const release = creates[0]!.body as {
    config: {
      env: Record<string, string>;
      services?: unknown;
      mounts?: unknown;
      auto_destroy?: boolean;
      restart?: { policy?: string };
    };
  };
  expect(release.config.env.RELEASE_COMMAND).toBe("1");
  expect(release.config.services).toBeUndefined();
  expect(release.config.mounts).toBeUndefined();
  expect(release.config.auto_destroy).toBe(true);
  expect(release.config.restart?.policy).toBe("no");
  for (const create of creates)
    expect((create.body as { min_secrets_version?: number }).min_secrets_version).toBeUndefined();

  expect(result).toMatchObject({
    app: APP,
    url: "https://flightdeck.fly.dev/",
    image: IMAGE_V1,
    release: 1,
    changed: true,
  });
  expect(result.machines).toHaveLength(5);
});

test("app missing and no secrets: preflight refuses with exit code 2 and changes nothing", async () => {
  h = await harness();
  const error = await runDeploy(h.options()).catch((e) => e);
  expect(error.exitCode).toBe(2);
  expect(error.message).toContain("DATABASE_URL");
  expect(error.message).toContain("secrets set");
  expect(h.fly.mutatingCalls()).toHaveLength(0);
});
