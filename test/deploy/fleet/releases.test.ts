// The pure parts behind rollback and exit 0: the release history (deploy/fleet/releases.ts) and the fleet
// verification (deploy/fleet/verify.ts). Plus two first deploys at once, which must never leave ten machines.
import { afterEach, expect, test } from "bun:test";
import { createFlyClient } from "../../../lib/fly/client.ts";
import { runDeploy } from "../../../deploy/apply/deploy.ts";
import type { ObservedMachine, ObservedState, Plan } from "../../../deploy/plan/types.ts";
import {
  encodeReleases,
  historyAfter,
  parseReleases,
  releaseHistory,
  rollbackChoice,
  withRelease,
  type ReleaseRecord,
} from "../../../deploy/fleet/releases.ts";
import { verifyFleet } from "../../../deploy/fleet/verify.ts";
import { APP, appMachines, harness, IMAGE_V1, IMAGE_V2, type Harness } from "../harness.ts";

const r = (version: number, image: string, outcome: "good" | "failed"): ReleaseRecord => ({
  version,
  image,
  at: `2026-01-0${version}T00:00:00Z`,
  outcome,
});

test("history: parsed defensively, merged across machines (later record wins), newest first, trimmed to 10", () => {
  expect(parseReleases(undefined)).toEqual([]);
  expect(parseReleases("not json")).toEqual([]);
  expect(
    parseReleases(
      JSON.stringify([
        { version: "1", image: "x", outcome: "good" },
        { version: 2, image: "", outcome: "good" },
        { version: 3, image: "i", outcome: "meh" },
      ]),
    ),
  ).toEqual([]);
  const a = encodeReleases([r(2, "b", "good"), r(1, "a", "good")]);
  const b = encodeReleases([{ ...r(2, "b", "failed"), at: "2026-02-01T00:00:00Z" }, r(1, "a", "good")]);
  const merged = releaseHistory([
    { config: { metadata: { flightdeck_releases: a } } },
    { config: { metadata: { flightdeck_releases: b } } },
    { state: "destroyed", config: { metadata: { flightdeck_releases: encodeReleases([r(9, "z", "good")]) } } },
  ]);
  expect(merged.map((x) => [x.version, x.outcome])).toEqual([
    [2, "failed"],
    [1, "good"],
  ]);
  let long: ReleaseRecord[] = [];
  for (let v = 1; v <= 14; v++) long = withRelease(long, r(v, `i${v}`, "good"));
  expect(long.map((x) => x.version)).toEqual([14, 13, 12, 11, 10, 9, 8, 7, 6, 5]);
});

test("rollback choice: the newest good release before the one the fleet runs; failed releases never", () => {
  const history = [r(4, "d", "failed"), r(3, "c", "good"), r(2, "b", "failed"), r(1, "a", "good")];
  expect(rollbackChoice(history, ["c", "c"])).toEqual({ ok: true, image: "a", version: 1 });
  // A fleet on an image the history does not know (deployed by hand): the newest good one.
  expect(rollbackChoice(history, ["x"])).toEqual({ ok: true, image: "c", version: 3 });
  // Split by an interrupted rollout between c and d: back to c, the newest good image.
  expect(rollbackChoice(history, ["c", "d"])).toEqual({ ok: true, image: "c", version: 3 });
  expect(rollbackChoice([], ["a"])).toMatchObject({ ok: false, reason: expect.stringContaining("no release history") });
  expect(rollbackChoice([r(2, "b", "failed"), r(1, "a", "good")], ["a"])).toMatchObject({
    ok: false,
    reason: expect.stringContaining("no good release before"),
  });
});

test("who/why fields round-trip, bounded; older records without them parse; a rollback marks what it replaced", () => {
  const noted = { ...r(2, "b", "good"), by: "Ada <a@x>", url: "https://ci/1", message: "m".repeat(300), rollbackTo: 1 };
  const [back] = parseReleases(encodeReleases([noted]));
  expect(back).toEqual({ ...noted, message: "m".repeat(200) });
  expect(parseReleases(JSON.stringify([{ version: 1, image: "a", at: "t", outcome: "good" }]))).toEqual([
    { version: 1, image: "a", at: "t", outcome: "good" },
  ]);
  expect(parseReleases(JSON.stringify([{ version: 1, image: "a", outcome: "rolled_back", by: 7 }]))).toEqual([
    { version: 1, image: "a", at: "", outcome: "rolled_back" },
  ]);
  const history = [r(3, "c", "failed"), r(2, "b", "good"), r(1, "a", "good")];
  const after = historyAfter(history, r(4, "a", "good"), ["b", "b"]);
  expect(after.map((x) => [x.version, x.outcome, x.rollbackTo])).toEqual([
    [4, "good", 1],
    [3, "failed", undefined],
    [2, "rolled_back", undefined],
    [1, "good", undefined],
  ]);
  // A failed rollback marks nothing (the fleet was put back on b); a split fleet names no replaced release.
  expect(historyAfter(history, r(4, "a", "failed"), ["b"]).map((x) => x.outcome)).toEqual([
    "failed",
    "failed",
    "good",
    "good",
  ]);
  expect(historyAfter(history, r(4, "a", "good"), ["b", "c"])[2]?.outcome).toBe("good");
  expect(rollbackChoice(after, ["a"])).toMatchObject({ ok: false });
});

const target: Plan["target"] = {
  image: "img:2",
  configDigest: "d2",
  region: "ewr",
  machineCount: 3,
  strategy: "rolling",
};
const machine = (id: string, extra: Partial<ObservedMachine> = {}): ObservedMachine => ({
  id,
  region: "ewr",
  state: "started",
  image: "img:2",
  configDigest: "d2",
  platformVersion: "v2",
  processGroup: "app",
  ...extra,
});
const state = (machines: ObservedMachine[]): ObservedState => ({
  app: { exists: true, name: "a" },
  ips: [],
  secrets: { names: [] },
  volumes: [],
  machines,
});

test("verification: image, digest, state and count, each difference named with what the machine runs", () => {
  expect(
    verifyFleet(
      state([machine("a"), machine("b", { state: "stopped" }), machine("c", { state: "suspended" })]),
      target,
    ),
  ).toMatchObject({ ok: true });
  const bad = verifyFleet(
    state([
      machine("a", { image: "img:1" }),
      machine("b", { configDigest: "d1" }),
      machine("c", { state: "failed" }),
      machine("d", { state: "replacing" }),
    ]),
    target,
  );
  expect(bad.ok).toBe(false);
  if (bad.ok) return;
  expect(bad.problems).toEqual([
    "machine a runs img:1",
    "machine b config d1 (want d2)",
    "machine c is failed",
    // Judged on a reading made after the settle wait: still transient means it outlasted wait_timeout.
    "machine d is still replacing (it did not settle within wait_timeout)",
    "4 machine(s), want 3",
  ]);
  // A run's cordon (flightdeck_cordon mark) is a problem; a person's is a warning (test/deploy/rolling-cordon.test.ts).
  const cordoned = verifyFleet(
    state([machine("a", { cordoned: true, deployCordon: true }), machine("b", { cordoned: false }), machine("c")]),
    target,
  );
  expect(cordoned).toMatchObject({
    ok: false,
    problems: ["machine a is still cordoned by a deploy (the proxy sends it no requests); run deploy again"],
  });
  // Machines of other process groups, unmanaged ones and destroyed ones are not the fleet.
  const others = [
    machine("x", { processGroup: "worker", image: "w" }),
    machine("y", { platformVersion: undefined as unknown as string }),
    machine("z", { state: "destroyed" }),
    // One we destroyed and the lagging list still shows as `destroying` is gone, not a member.
    machine("w", { state: "destroying" }),
  ];
  expect(verifyFleet(state([machine("a"), machine("b"), machine("c"), ...others]), target).ok).toBe(true);
});

let h: Harness | undefined;
afterEach(() => h?.close());

for (const uniqueMachineNames of [true, false]) {
  test(`two first deploys at once (app and fleet missing${uniqueMachineNames ? "" : ", a server that lets machine names repeat"}): one fleet of five, one anchor`, async () => {
    h = await harness({ uniqueMachineNames });
    // No app yet: both runs race to create it, then for the anchor, then one waits for the other.
    const [a, b] = await Promise.allSettled([
      runDeploy(h.options({ image: IMAGE_V1, requiredSecrets: [], waitForLockMs: 20_000 })),
      runDeploy(h.options({ image: IMAGE_V2, requiredSecrets: [], waitForLockMs: 20_000 })),
    ]);
    expect(a.status).toBe("fulfilled");
    expect(b.status).toBe("fulfilled");
    const machines = appMachines(h.fly);
    expect(machines).toHaveLength(5);
    expect(new Set(machines.map((m) => m.config.image)).size).toBe(1);
    const app = h.fly.state.apps.get(APP)!;
    // Never more than five app machines, even for a moment: the second run updated the first one's fleet.
    expect([...app.machines.values()].filter((m) => m.config.metadata?.fly_process_group === "app")).toHaveLength(5);
    const anchors = [...app.machines.values()].filter(
      (m) => m.name === "flightdeck-fleet-lock" && m.state !== "destroyed" && m.state !== "destroying",
    );
    expect(anchors).toHaveLength(1);
  });
}

test("a machine created behind the lock's back during a rollout is converged away before the run reports success", async () => {
  h = await harness();
  await h.seedSecrets();
  await runDeploy(h.options());
  const outsider = createFlyClient({ baseUrl: h.fly.url, token: h.fly.token });
  const template = appMachines(h.fly)[0]!.config;
  let injected = false;
  const client = createFlyClient({
    baseUrl: h.fly.url,
    token: h.fly.token,
    onRequest: (info) => {
      // Right after the first machine update: a tool that ignores leases adds a sixth app machine.
      if (!injected && info.method === "POST" && /\/machines\/[^/]+$/.test(info.path) && info.status === 200) {
        injected = true;
        void outsider.createMachine(APP, { config: { ...structuredClone(template), mounts: [] }, region: "ewr" });
      }
    },
  });
  const result = await runDeploy(h.options({ client, image: IMAGE_V2 }));
  expect(injected).toBe(true);
  expect(h.lines.join("\n")).toContain("converging once more");
  expect(result.machines).toHaveLength(5);
  expect(appMachines(h.fly)).toHaveLength(5);
  expect(appMachines(h.fly).every((m) => m.config.image === IMAGE_V2 && m.state === "started")).toBe(true);
});
