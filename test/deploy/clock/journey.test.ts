/**
 * The deploy journey on Fly's clock: real `bun deploy/run.ts` processes against the fake in clock mode (rate
 * limits, list lag, 404 for a just-created machine, lasting transient states) on a 20x clock.
 * @module
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { createFlyClient, type FlyClient } from "../../../lib/fly/client.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";
import { cliDir, type CliDir } from "../cli-process.ts";
import { APP, appMachines, GOOD_SECRETS } from "../harness.ts";

setDefaultTimeout(120_000);

let fly: FakeFly;
let client: FlyClient;
let dir: CliDir;

beforeAll(async () => {
  fly = startFakeFly({ clock: { scale: 0.05 } });
  client = createFlyClient({ baseUrl: fly.url, token: fly.token });
  dir = await cliDir(fly, { wait: "20s" });
  await client.createApp({ name: APP, org_slug: "personal" });
  await client.setSecrets(APP, GOOD_SECRETS);
});
afterAll(async () => {
  await fly.close();
  dir.remove();
});

const image = (tag: string) => `registry.fly.io/${APP}:${tag}`;

test("first deploy: 5 machines on the image, no 429 met", async () => {
  const first = await dir.run(["deploy", "--image", image("v1")]);
  if (first.code !== 0) console.error(first.stderr);
  expect(first.code).toBe(0);
  const machines = appMachines(fly);
  expect(machines.length).toBe(5);
  expect(new Set(machines.map((m) => m.config.image))).toEqual(new Set([image("v1")]));
  expect(fly.clock!.rejected).toBe(0);
});

test("no-op re-deploy: nothing written", async () => {
  const from = fly.calls.length;
  const again = await dir.run(["deploy", "--image", image("v1")]);
  if (again.code !== 0) console.error(again.stderr);
  expect(again.code).toBe(0);
  // The fleet lock and its release are the run's own bookkeeping; no machine of the fleet is changed.
  const writes = fly.calls.slice(from).filter((c) => c.mutating && /\/machines\/[^/]+$/.test(c.path));
  expect(writes).toEqual([]);
});

test("image update: every machine on v2 after a rolling update, still no 429", async () => {
  const update = await dir.run(["deploy", "--image", image("v2")]);
  if (update.code !== 0) console.error(update.stderr);
  expect(update.code).toBe(0);
  const machines = appMachines(fly);
  expect(machines.length).toBe(5);
  expect(new Set(machines.map((m) => m.config.image))).toEqual(new Set([image("v2")]));
  expect(fly.clock!.rejected).toBe(0);
});

test("preview up against a server whose create answers `creating`: ready, started on the image", async () => {
  const up = await dir.run(["preview", "up", "--pr", "7", "--image", image("pr-7")]);
  if (up.code !== 0) console.error(up.stderr);
  expect(up.code).toBe(0);
  expect(up.stderr).toContain("preview ready");
  const machines = fly.machines(`${APP}-pr-7`).filter((m) => m.config.metadata?.flightdeck_role !== "fleet-lock");
  expect(machines.map((m) => [m.state, m.config.image])).toEqual([["started", image("pr-7")]]);
});

test("scale down to 4 on a lagging list: 4 left, the destroyed one not judged from the list", async () => {
  const down = await dir.run(["scale", "--count", "4"]);
  if (down.code !== 0) console.error(down.stderr);
  expect(down.code).toBe(0);
  expect(appMachines(fly).length).toBe(4);
});

test("a create whose answer is lost leaves one machine: scale back to 5 makes exactly one more", async () => {
  const before = new Set(appMachines(fly).map((m) => m.id));
  const from = fly.calls.length;
  fly.faults.loseCreateAnswer();
  const scaled = await dir.run(["scale", "--count", "5"]);
  if (scaled.code !== 0) console.error(scaled.stderr);
  expect(scaled.code).toBe(0);
  const machines = appMachines(fly);
  expect(machines.length).toBe(5);
  expect(new Set(machines.map((m) => m.config.image))).toEqual(new Set([image("v2")]));
  const creates = fly.calls.slice(from).filter((c) => c.method === "POST" && c.path === `/v1/apps/${APP}/machines`);
  // The fault was used: the create did happen without its answer reaching the run, and it was never sent again.
  expect(creates.map((c) => c.status)).toEqual([0]);
  // Found by its launch id: the list asked for that tag, and the new machine carries the one the create sent.
  const made = machines.filter((m) => !before.has(m.id));
  expect(made.length).toBe(1);
  const launchId = made[0]!.config.metadata?.flightdeck_launch_id;
  expect(launchId).toBe(
    (creates[0]!.body as { config: { metadata: Record<string, string> } }).config.metadata.flightdeck_launch_id,
  );
  expect(
    fly.calls
      .slice(from)
      .some((c) => c.method === "GET" && c.query.includes(`metadata.flightdeck_launch_id=${launchId}`)),
  ).toBe(true);
  expect(scaled.stderr).toContain("found it by its launch id");
});
