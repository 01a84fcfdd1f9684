/**
 * Transient means ask again (issue 20): against a fake whose documented transient states last (a create answers
 * `creating`, an update shows `updating`, each for a second of real time on the 20x clock), a run that does not
 * wait on its own (`immediate`, previews) still ends on a fleet it re-read once every machine settled, and
 * reports that fleet, never a snapshot taken mid-transition.
 * @module
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { createFlyClient, type FlyClient } from "../../../lib/fly/client.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";
import { cliDir, type CliDir, type Finished } from "../cli-process.ts";
import { APP, appMachines, GOOD_SECRETS } from "../harness.ts";

setDefaultTimeout(120_000);

let fly: FakeFly;
let client: FlyClient;
let dir: CliDir;

beforeAll(async () => {
  fly = startFakeFly({ clock: { scale: 0.05, creatingMs: 20_000, updatingMs: 20_000 } });
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

function ok(run: Finished): number {
  if (run.code !== 0) console.error(run.stderr);
  return run.code;
}

type Report = { machines: { state: string; image: string }[] };

test("preview up on a server whose create answers `creating` for a while: ready, verified, started", async () => {
  const up = await dir.run(["preview", "up", "--pr", "9", "--image", image("pr-9")]);
  expect(ok(up)).toBe(0);
  expect(up.stderr).toContain("preview ready");
  const machines = fly.machines(`${APP}-pr-9`).filter((m) => m.config.metadata?.flightdeck_role !== "fleet-lock");
  expect(machines.map((m) => [m.state, m.config.image])).toEqual([["started", image("pr-9")]]);
});

test("a first deploy with `immediate`: the report is the fleet after every `creating` settled", async () => {
  const first = await dir.run(["deploy", "--image", image("v1"), "--strategy", "immediate", "--json"]);
  expect(ok(first)).toBe(0);
  const report = JSON.parse(first.stdout) as Report;
  expect(report.machines.map((m) => [m.state, m.image])).toEqual(Array(5).fill(["started", image("v1")]));
  expect(appMachines(fly).every((m) => m.state === "started")).toBe(true);
});

test("an `immediate` update: judged once every `updating` machine landed, not mid-update", async () => {
  const update = await dir.run(["deploy", "--image", image("v2"), "--strategy", "immediate", "--json"]);
  expect(ok(update)).toBe(0);
  const report = JSON.parse(update.stdout) as Report;
  expect(report.machines.map((m) => [m.state, m.image])).toEqual(Array(5).fill(["started", image("v2")]));
});
