// Two runs at once, as a laptop and CI would start them: real `bun deploy/run.ts` processes against one fake
// Fly API, which enforces leases as Fly does (a write without the holder's nonce is refused). Every round must
// end with one image on the fleet and exit codes that tell the truth: 0 only from a run whose image the fleet
// ran when it finished (the later of two 0s is the one the fleet runs now), and 2 only from a run that changed
// nothing (its image is in no machine's version history).

import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { createFlyClient, type FlyClient } from "../../../lib/fly/client.ts";
import { startFakeFly, type FakeFly } from "../../fakes/fly-machines.ts";
import { cliDir, type CliDir, type Finished } from "../cli-process.ts";
import { APP, appMachines, GOOD_SECRETS } from "../harness.ts";

setDefaultTimeout(120_000);

const PREVIEW = `${APP}-pr-5`;
let fly: FakeFly;
let client: FlyClient;
let dir: CliDir;

beforeAll(async () => {
  fly = startFakeFly({ bootMs: 15, checksPassMs: 5, runMs: 5, stopMs: 5 });
  client = createFlyClient({ baseUrl: fly.url, token: fly.token });
  // The subprocesses run in the directory with fly.toml and fly.preview.toml, where `preview` finds them.
  dir = await cliDir(fly);
  await client.createApp({ name: APP, org_slug: "personal" });
  await client.setSecrets(APP, GOOD_SECRETS);
  const first = await cli(["deploy", "--image", image(0, "base")]);
  expect(first.code).toBe(0);
});
afterAll(async () => {
  await fly.close();
  dir.remove();
});

const image = (round: number, who: string) => `registry.fly.io/${APP}:race-${round}-${who}`;

const cli = (argv: string[]): Promise<Finished> => dir.run(argv);

/** Every image any machine of the app ever ran (destroyed machines included), from the fake's version history. */
function everRan(app = APP): Set<string> {
  const seen = new Set<string>();
  for (const m of fly.state.apps.get(app)?.machines.values() ?? [])
    for (const v of m.versions) seen.add(v.user_config.image ?? "");
  return seen;
}

function fleetImages(app = APP): string[] {
  return [...new Set(appMachines(fly, app).map((m) => m.config.image ?? ""))];
}

/** Whether `earlier` ran on every machine of the fleet before `later` replaced it (per machine version history). */
function ranBefore(earlier: string, later: string): boolean {
  return appMachines(fly).every((m) => {
    const order = [...m.versions].reverse().map((v) => v.user_config.image);
    const e = order.indexOf(earlier);
    return e !== -1 && e < order.lastIndexOf(later);
  });
}

function expectLoserChangedNothing(loser: Finished, loserImage: string): void {
  expect(loser.stderr).toContain(`another deploy is working on ${APP}; nothing was changed`);
  expect(loser.stderr).toMatch(/flightdeck (deploy|scale|preview up|preview down), host .+, pid \d+/);
  expect(everRan().has(loserImage)).toBe(false);
}

function expectSettled(count: number): void {
  const machines = appMachines(fly);
  expect(machines).toHaveLength(count);
  expect(machines.every((m) => m.state === "started" && m.lease === undefined)).toBe(true);
}

test("two deploys with different images, 20 rounds: one image on the fleet, exit codes that tell the truth", async () => {
  const outcomes: string[] = [];
  for (let round = 1; round <= 20; round++) {
    const a = image(round, "a");
    const b = image(round, "b");
    // Odd rounds give up at once (the loser must exit 2 having changed nothing), even rounds wait and deploy over.
    const wait = round % 2 === 1 ? "0s" : "60s";
    const [ra, rb] = await Promise.all([
      cli(["deploy", "--image", a, "--wait-for-lock", wait, "--json"]),
      cli(["deploy", "--image", b, "--wait-for-lock", wait, "--json"]),
    ]);
    const images = fleetImages();
    expect(images).toHaveLength(1);
    const onFleet = images[0]!;
    expect([a, b]).toContain(onFleet);
    const [winner, loser, loserImage] = onFleet === a ? [ra, rb, b] : [rb, ra, a];
    expect(winner.code).toBe(0);
    // The winner's --json is the fleet it re-read: all five on its image.
    const verified = JSON.parse(winner.stdout) as { image: string; machines: { image: string }[] };
    expect(verified.image).toBe(onFleet);
    expect(verified.machines.map((m) => m.image)).toEqual(Array(5).fill(onFleet));
    if (loser.code === 2) expectLoserChangedNothing(loser, loserImage);
    else {
      // Both succeeded: the other one finished first and its image ran on every machine before this one's.
      expect(loser.code).toBe(0);
      expect(loser.endedAt).toBeLessThanOrEqual(winner.endedAt);
      expect(ranBefore(loserImage, onFleet)).toBe(true);
    }
    expectSettled(5);
    outcomes.push(`${round}:${loser.code}`);
  }
  // Both kinds of round happened: losers that gave up (exit 2) and losers that waited and deployed first.
  expect(outcomes.some((o) => o.endsWith(":2"))).toBe(true);
  expect(outcomes.some((o) => o.endsWith(":0"))).toBe(true);
});

test("deploy against scale, 6 rounds: the fleet ends on the deploy's image at the scale's count", async () => {
  for (let round = 1; round <= 6; round++) {
    const d = image(round, "scaled");
    const count = round % 2 === 1 ? 3 : 4;
    const [rd, rs] = await Promise.all([
      cli(["deploy", "--image", d, "--wait-for-lock", "60s"]),
      cli(["scale", "--count", String(count), "--wait-for-lock", "60s"]),
    ]);
    expect(rd.code).toBe(0);
    expect(rs.code).toBe(0);
    // Whoever went second planned against what the first left: the image from the deploy, the size from the scale.
    expect(fleetImages()).toEqual([d]);
    expectSettled(count);
  }
  expect((await cli(["scale", "--count", "5"])).code).toBe(0);
});

test("preview up against preview down of the same PR, 6 rounds: never a half-removed or half-deployed preview", async () => {
  for (let round = 1; round <= 6; round++) {
    const before = image(round, "preview-before");
    expect((await cli(["preview", "up", "--pr", "5", "--image", before])).code).toBe(0);
    const next = image(round, "preview-next");
    const from = fly.calls.length;
    const [up, down] = await Promise.all([
      cli(["preview", "up", "--pr", "5", "--image", next, "--wait-for-lock", "60s"]),
      cli(["preview", "down", "--pr", "5", "--wait-for-lock", "60s"]),
    ]);
    if (down.code !== 0 || ![0, 2].includes(up.code))
      console.error(`round ${round}\n--- up (${up.code})\n${up.stderr}\n--- down (${down.code})\n${down.stderr}`);
    expect(down.code).toBe(0);
    // The order of events, from the fake's call log: when the app was deleted, and when `next` reached a machine.
    const calls = fly.calls.slice(from).map((c, i) => ({ ...c, i }));
    const deleted = calls.find((c) => c.method === "DELETE" && c.path === `/v1/apps/${PREVIEW}` && c.status < 300)!;
    const deployedNext = calls.filter(
      (c) =>
        c.method === "POST" &&
        c.path.startsWith(`/v1/apps/${PREVIEW}/machines`) &&
        c.status === 200 &&
        (c.body as { config?: { image?: string } })?.config?.image === next,
    );
    expect(deleted).toBeDefined();
    if (fly.state.apps.get(PREVIEW)) {
      // up ran after down had finished: a fresh preview on its image.
      expect(up.code).toBe(0);
      expect(fleetImages(PREVIEW)).toEqual([next]);
      expect(deployedNext.every((c) => c.i > deleted.i)).toBe(true);
    } else if (up.code === 0) {
      // up finished first, with its image on the preview; down then removed it.
      expect(up.stderr).toContain("preview ready");
      expect(deployedNext.length).toBeGreaterThan(0);
      expect(deployedNext.every((c) => c.i < deleted.i)).toBe(true);
    } else {
      // up found the app gone (before or after waiting for down's lock): it changed nothing.
      expect(up.code).toBe(2);
      expect(up.stderr).toContain("nothing was changed");
      expect(deployedNext).toEqual([]);
    }
  }
  expect((await cli(["preview", "down", "--pr", "5"])).code).toBe(0);
});
