/**
 * More journeys on Fly's clock (issue 20): real `bun deploy/run.ts` processes against the fake in clock mode with
 * the documented rate limits and a lagging list on (20x clock, as journey.test.ts): secrets written then a
 * deploy, a rollback, a failed rollout rolled back, a deploy killed mid-rollout (SIGTERM, SIGKILL) and its
 * re-run, and two deploys at once for FLIGHTDECK_CLOCK_ROUNDS rounds (issue 20 asks for 20; the default, 6,
 * keeps this file under a minute; FLIGHTDECK_CLOCK_ROUNDS=20 runs the number).
 * @module
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFlyClient, type FlyClient } from "../../../lib/fly/client.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";
import { cliDir, type CliDir, type Finished } from "../cli-process.ts";
import { APP, appMachines, GOOD_SECRETS } from "../harness.ts";

setDefaultTimeout(180_000);

const ROUNDS = Number(process.env.FLIGHTDECK_CLOCK_ROUNDS ?? 6);

let fly: FakeFly;
let client: FlyClient;
let dir: CliDir;

beforeAll(async () => {
  fly = startFakeFly({ clock: { scale: 0.05 } });
  client = createFlyClient({ baseUrl: fly.url, token: fly.token });
  dir = await cliDir(fly, { wait: "20s" });
  await client.createApp({ name: APP, org_slug: "personal" });
  await client.setSecrets(APP, GOOD_SECRETS);
  expect(ok(await dir.run(["deploy", "--image", image("v1")]))).toBe(0);
});
afterAll(async () => {
  await fly.close();
  dir.remove();
});

const image = (tag: string) => `registry.fly.io/${APP}:${tag}`;

/** The exit code, with the run's stderr shown when it is not 0 (a failing journey says why). */
function ok(run: Finished): number {
  if (run.code !== 0) console.error(run.stderr);
  return run.code;
}

/** The fleet settled on one image: every machine started, on it, out of no cordon and under no lease. */
function expectFleetOn(tag: string, count = 5): void {
  const machines = appMachines(fly);
  expect(machines.map((m) => [m.state, m.config.image])).toEqual(Array(count).fill(["started", image(tag)]));
  expect(machines.every((m) => m.lease === undefined && m.cordoned !== true)).toBe(true);
}

test("secrets set, then a deploy: every machine on the new image and the newest secrets version", async () => {
  expect(ok(await dir.run(["secrets", "set", "FEATURE_FLAG=on"]))).toBe(0);
  expect(ok(await dir.run(["deploy", "--image", image("v2")]))).toBe(0);
  expectFleetOn("v2");
  const version = String(fly.state.apps.get(APP)!.secretsVersion);
  expect(appMachines(fly).map((m) => m.config.metadata?.flightdeck_secrets_version)).toEqual(Array(5).fill(version));
});

test("secrets import from a dotenv file, then a deploy: the same, one secrets write for the file", async () => {
  const file = join(dir.dir, ".env.clock");
  writeFileSync(file, "IMPORTED_ONE=1\nIMPORTED_TWO='two words'\n");
  const before = fly.state.apps.get(APP)!.secretsVersion;
  expect(ok(await dir.run(["secrets", "import", "--file", file]))).toBe(0);
  expect(fly.state.apps.get(APP)!.secretsVersion).toBe(before + 1);
  expect(ok(await dir.run(["deploy", "--image", image("v3")]))).toBe(0);
  expectFleetOn("v3");
  const version = String(before + 1);
  expect(appMachines(fly).map((m) => m.config.metadata?.flightdeck_secrets_version)).toEqual(Array(5).fill(version));
});

test("rollback: back on the previous good image, every machine started", async () => {
  const back = await dir.run(["rollback", "--json"]);
  expect(ok(back)).toBe(0);
  expectFleetOn("v2");
  // The report is the fleet re-read after it settled: every machine there, started, on the image.
  const report = JSON.parse(back.stdout) as { machines: { state: string; image: string }[] };
  expect(report.machines.map((m) => [m.state, m.image])).toEqual(Array(5).fill(["started", image("v2")]));
});

test("a failed rollout is rolled back, and `fleet now` is the fleet after it settled", async () => {
  // The app's machines fail on the image; the release command (its own group) passes, so the rollout starts.
  fly.faults.failStart((m) => m.config.image === image("broken") && m.config.metadata?.fly_process_group === "app");
  const failed = await dir.run(["deploy", "--image", image("broken")]);
  fly.faults.clear();
  expect(failed.code).toBe(1);
  expect(failed.stderr).toContain("rolled back");
  // Not a snapshot mid-restore (`replacing`, `updating`, `starting`): where every machine landed.
  expect(failed.stderr).toContain(`fleet now: 5 machine(s): 5 on ${image("v2")} (5 started)`);
  expectFleetOn("v2");
  // And the next deploy starts from there.
  expect(ok(await dir.run(["deploy", "--image", image("v4")]))).toBe(0);
  expectFleetOn("v4");
});

/** Starts a deploy and kills it with `signal` once the first machine has taken the new config. */
async function killedMidRollout(tag: string, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
  const proc = dir.spawn(["deploy", "--image", image(tag)]);
  const reader = (proc.stderr as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let seen = "";
  // Killed once the first machine has taken the new config: part of the fleet moved, part did not.
  while (!seen.includes("updated machine")) {
    const chunk = await reader.read();
    if (chunk.done) break;
    seen += decoder.decode(chunk.value);
  }
  expect(seen).toContain("updated machine");
  proc.kill(signal);
  for (;;) if ((await reader.read()).done) break;
  expect(await proc.exited).not.toBe(0);
  expect(appMachines(fly).some((m) => m.config.image !== image(tag))).toBe(true);
}

test("a deploy killed mid-rollout (SIGTERM, a cancelled CI job): its re-run converges", async () => {
  await killedMidRollout("v5", "SIGTERM");
  expect(ok(await dir.run(["deploy", "--image", image("v5"), "--wait-for-lock", "30s"]))).toBe(0);
  expectFleetOn("v5");
});

test("a deploy killed hard (SIGKILL, nothing released): its re-run waits out the leases and converges", async () => {
  await killedMidRollout("v6", "SIGKILL");
  // The killed run's leases (13 s TTL, flyctl's) are not released: the re-run waits for them to expire.
  const rerun = await dir.run(["deploy", "--image", image("v6"), "--wait-for-lock", "60s"]);
  expect(ok(rerun)).toBe(0);
  expectFleetOn("v6");
});

test(`two deploys at once, ${ROUNDS} rounds: one image on the fleet, exit codes that tell the truth`, async () => {
  const outcomes: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const a = `race-${round}-a`;
    const b = `race-${round}-b`;
    // Odd rounds give up at once (the loser exits 2 having changed nothing), even rounds wait and deploy over.
    const wait = round % 2 === 1 ? "0s" : "60s";
    const [ra, rb] = await Promise.all([
      dir.run(["deploy", "--image", image(a), "--wait-for-lock", wait, "--json"]),
      dir.run(["deploy", "--image", image(b), "--wait-for-lock", wait, "--json"]),
    ]);
    const images = [...new Set(appMachines(fly).map((m) => m.config.image))];
    expect(images).toHaveLength(1);
    const onFleet = images[0] === image(a) ? a : b;
    expect(images).toEqual([image(onFleet)]);
    const [winner, loser] = onFleet === a ? [ra, rb] : [rb, ra];
    expect(ok(winner)).toBe(0);
    const report = JSON.parse(winner.stdout) as { machines: { state: string; image: string }[] };
    expect(report.machines.map((m) => [m.state, m.image])).toEqual(Array(5).fill(["started", image(onFleet)]));
    if (loser.code === 2) expect(loser.stderr).toContain(`another deploy is working on ${APP}; nothing was changed`);
    else {
      // Both succeeded: the other waited for the lock, deployed first, and was deployed over.
      expect(ok(loser)).toBe(0);
      expect(loser.endedAt).toBeLessThanOrEqual(winner.endedAt);
    }
    expectFleetOn(onFleet);
    outcomes.push(loser.code);
  }
  console.error(`clock journeys: ${ROUNDS} concurrent rounds, loser exit codes ${outcomes.join(",")}`);
});
