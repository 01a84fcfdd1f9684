// The rolling strategy takes each running machine out of the proxy's rotation before its update stops it and
// puts it back once it is healthy (deploy/apply/strategies/rolling.ts). Against the fake Fly API, which records
// every call and holds each machine's `cordoned` flag and metadata.
//
// A run's own cordons carry the metadata mark flightdeck_cordon (deploy/apply/rollout.ts): the next run undoes only
// those, and leaves a cordon a person made in place (deploy/plan/plan.ts, deploy/fleet/verify.ts).
import { afterEach, describe, expect, test } from "bun:test";
import { runDeploy } from "../../../deploy/apply/deploy.ts";
import { METADATA } from "../../../deploy/machine/machine-config.ts";
import type { ObservedMachine, ObservedState } from "../../../deploy/plan/types.ts";
import { verifyFleet, verifySecretsRoll } from "../../../deploy/fleet/verify.ts";
import { createFlyClient } from "../../../lib/fly/index.ts";
import { APP, appMachines, deployedFleet, type Harness, IMAGE_V1, IMAGE_V2, stopOneMachine } from "../harness.ts";

let h: Harness;
afterEach(() => h?.close());

/** What the run did to one machine, in order: cordon, update, uncordon, stop, start... (leases and reads left out). */
function actionsOn(machineId: string): string[] {
  const base = `/v1/apps/${APP}/machines/${machineId}`;
  return h.fly.calls
    .filter(
      (c) =>
        c.mutating &&
        (c.path === base || /^\/(cordon|uncordon|stop|start|restart)$/.test(c.path.slice(base.length))) &&
        c.path.startsWith(base),
    )
    .map((c) =>
      c.path === base ? (c.method === "POST" ? "update" : c.method.toLowerCase()) : c.path.slice(base.length + 1),
    );
}

test("each running machine is cordoned before its update and uncordoned after it is healthy again; none stays cordoned", async () => {
  h = await deployedFleet();
  await runDeploy(h.options({ image: IMAGE_V2 }));

  const machines = appMachines(h.fly);
  expect(machines).toHaveLength(5);
  for (const m of machines) {
    expect(actionsOn(m.id)).toEqual(["cordon", "update", "uncordon"]);
    expect(m.cordoned).toBe(false);
    expect(m.config.image).toBe(IMAGE_V2);
    // The health poll of the new version came between the update and the uncordon.
    const update = h.fly.calls.find((c) => c.method === "POST" && c.path === `/v1/apps/${APP}/machines/${m.id}`)!;
    const uncordon = h.fly.calls.find((c) => c.path.endsWith(`/machines/${m.id}/uncordon`))!;
    expect(
      h.fly.calls.some(
        (c) =>
          c.method === "GET" &&
          c.path === `/v1/apps/${APP}/machines/${m.id}` &&
          c.at >= update.at &&
          c.at <= uncordon.at,
      ),
    ).toBe(true);
  }
  // Rolling: the second machine is cordoned only once the spearhead is back in rotation.
  const cordons = h.fly.calls.filter((c) => c.path.endsWith("/cordon"));
  const firstUncordon = h.fly.calls.find((c) => c.path.endsWith("/uncordon"))!;
  expect(cordons[1]!.at).toBeGreaterThanOrEqual(firstUncordon.at);

  // Re-running the finished deploy changes nothing: no cordon, no update.
  h.fly.calls.length = 0;
  await runDeploy(h.options({ image: IMAGE_V2 }));
  expect(h.fly.mutatingCalls()).toEqual([]);
});

test("a machine the proxy had stopped is updated without a cordon (it serves nothing) and stays stopped", async () => {
  h = await deployedFleet();
  const stoppedId = await stopOneMachine(h);

  await runDeploy(h.options({ image: IMAGE_V2 }));

  // The update itself has no cordon; the standby check (standby-check.ts) then cordons it for its one test start.
  expect(actionsOn(stoppedId)).toEqual(["update", "cordon", "start", "stop", "uncordon"]);
  expect(appMachines(h.fly).find((m) => m.id === stoppedId)).toMatchObject({ state: "stopped", cordoned: false });
});

test("a machine whose new version never passes its checks is rolled back and put back into rotation", async () => {
  h = await deployedFleet();
  const victim = appMachines(h.fly)[0]!.id;
  h.fly.faults.checksNeverPass((m) => m.id === victim && m.config.image === IMAGE_V2);

  const error = await runDeploy(h.options({ image: IMAGE_V2 })).catch((e: unknown) => e);

  expect(error).toMatchObject({ exitCode: 1 });
  const machines = appMachines(h.fly);
  expect(machines.every((m) => m.config.image === IMAGE_V1)).toBe(true);
  expect(machines.filter((m) => m.cordoned).map((m) => m.id)).toEqual([]);
  const victimActions = actionsOn(victim);
  expect(victimActions.slice(0, 2)).toEqual(["cordon", "update"]);
  expect(victimActions).toContain("uncordon");
});

const MARK = METADATA.deployCordon;
const marked = () =>
  appMachines(h.fly)
    .filter((m) => m.config.metadata?.[MARK] !== undefined)
    .map((m) => m.id);
const cordoned = () =>
  appMachines(h.fly)
    .filter((m) => m.cordoned)
    .map((m) => m.id);

test("a machine a person cordoned survives a deploy: updated, never uncordoned, named in a warning; the next deploy changes nothing", async () => {
  h = await deployedFleet();
  const handId = appMachines(h.fly)[2]!.id;
  // As a person would, with the Machines API and no lease: between runs nobody holds the fleet.
  await h.client.cordonMachine(APP, handId);
  h.fly.calls.length = 0;

  const result = await runDeploy(h.options({ image: IMAGE_V2 }));

  expect(result.machines.map((m) => m.image)).toEqual(Array(5).fill(IMAGE_V2));
  expect(actionsOn(handId)).toEqual(["update"]);
  expect(cordoned()).toEqual([handId]);
  for (const m of appMachines(h.fly).filter((x) => x.id !== handId))
    expect(actionsOn(m.id)).toEqual(["cordon", "update", "uncordon"]);
  // The hand cordon never got the mark; the run's own marks are all gone again.
  expect(marked()).toEqual([]);
  expect(h.lines.some((l) => l.includes(`machine ${handId} is cordoned by someone else; left alone`))).toBe(true);
  expect(h.lines.some((l) => l.includes(`machine ${handId} is cordoned by someone else and was left alone`))).toBe(
    true,
  );

  h.fly.calls.length = 0;
  h.lines.length = 0;
  await runDeploy(h.options({ image: IMAGE_V2 }));
  expect(h.fly.mutatingCalls()).toEqual([]);
  expect(cordoned()).toEqual([handId]);
  expect(h.lines.some((l) => l.includes(`machine ${handId} is cordoned by someone else`))).toBe(true);
});

test("on a server whose update clears the cordon, a person's cordon is put back after its machine's update", async () => {
  h = await deployedFleet({ updateClearsCordon: true });
  const handId = appMachines(h.fly)[1]!.id;
  await h.client.cordonMachine(APP, handId);
  h.fly.calls.length = 0;

  await runDeploy(h.options({ image: IMAGE_V2 }));

  expect(actionsOn(handId)).toEqual(["update", "cordon"]);
  expect(cordoned()).toEqual([handId]);
  expect(marked()).toEqual([]);
});

type Stop = {
  name: string;
  hit: (method: string, path: string) => boolean;
  left: { cordoned: boolean; marked: boolean };
};
// The update replaces the machine's metadata: the mark survives only because the run puts it in the config.
const UPDATED: Stop = {
  name: "updated, not yet uncordoned",
  hit: (m, p) => m === "POST" && /\/machines\/[^/]+$/.test(p),
  left: { cordoned: true, marked: true },
};

/**
 * A client whose run is killed right after the first successful call `hit` matches, as a deploy killed there
 * would be; `spearhead()` is the machine that call was about.
 */
function killedAt(hit: Stop["hit"]) {
  const controller = new AbortController();
  let spearhead: string | undefined;
  const client = createFlyClient({
    baseUrl: h.fly.url,
    token: h.fly.token,
    onRequest: (info) => {
      if (spearhead || info.status >= 300 || !hit(info.method, info.path)) return;
      spearhead = /\/machines\/([^/]+)/.exec(info.path)?.[1];
      controller.abort(new Error("killed by test"));
    },
  });
  return { client, signal: controller.signal, spearhead: () => spearhead };
}

/** Where a killed run can stop in the cordon's life: right after each of its calls answered. */
const STOPS: Stop[] = [
  {
    name: "the mark was set, the cordon not yet",
    hit: (m, p) => m === "POST" && p.endsWith(`/metadata/${MARK}`),
    left: { cordoned: false, marked: true },
  },
  {
    name: "cordoned, not yet updated",
    hit: (m, p) => m === "POST" && p.endsWith("/cordon"),
    left: { cordoned: true, marked: true },
  },
  UPDATED,
  {
    name: "uncordoned, the mark not yet removed",
    hit: (m, p) => m === "POST" && p.endsWith("/uncordon"),
    left: { cordoned: false, marked: true },
  },
];

describe("a deploy killed in the middle of a cordon", () => {
  for (const stop of STOPS) {
    test(`${stop.name}: the next run converges, no cordon or mark of a run is left`, async () => {
      h = await deployedFleet();
      const killer = killedAt(stop.hit);
      const error = await runDeploy(h.options({ client: killer.client, image: IMAGE_V2, signal: killer.signal })).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: "aborted" });
      const spearhead = killer.spearhead();
      expect(spearhead).toBeDefined();
      // What the killed run left on the spearhead: every cordon of a run carries the mark.
      expect({ cordoned: cordoned().includes(spearhead!), marked: marked().includes(spearhead!) }).toEqual(stop.left);
      expect(cordoned().every((id) => marked().includes(id))).toBe(true);

      await runDeploy(h.options({ image: IMAGE_V2 }));
      expect(appMachines(h.fly).map((m) => m.config.image)).toEqual(Array(5).fill(IMAGE_V2));
      expect(cordoned()).toEqual([]);
      expect(marked()).toEqual([]);
      h.fly.calls.length = 0;
      await runDeploy(h.options({ image: IMAGE_V2 }));
      expect(h.fly.mutatingCalls()).toEqual([]);
    });
  }

  test("in the same next run, the killed run's cordon is undone and a person's cordon is left alone", async () => {
    h = await deployedFleet();
    // Killed right after the spearhead's update answered: it is on the new image, still cordoned by the run.
    const killer = killedAt(UPDATED.hit);
    await runDeploy(h.options({ client: killer.client, image: IMAGE_V2, signal: killer.signal })).catch(
      () => undefined,
    );
    const spearhead = killer.spearhead();
    expect(cordoned()).toEqual([spearhead!]);
    const handId = appMachines(h.fly).find((m) => m.id !== spearhead)!.id;
    await h.client.cordonMachine(APP, handId);
    h.fly.calls.length = 0;

    await runDeploy(h.options({ image: IMAGE_V2 }));

    expect(cordoned()).toEqual([handId]);
    expect(marked()).toEqual([]);
    expect(actionsOn(spearhead!)).toEqual(["uncordon"]);
    expect(actionsOn(handId)).toEqual(["update"]);
  });
});

describe("verify and cordons", () => {
  const target = { image: IMAGE_V2, configDigest: "d1", region: "ewr", machineCount: 3, strategy: "rolling" as const };
  const m = (id: string, extra: Partial<ObservedMachine> = {}): ObservedMachine => ({
    id,
    region: "ewr",
    state: "started",
    image: IMAGE_V2,
    platformVersion: "v2",
    processGroup: "app",
    configDigest: "d1",
    cordoned: false,
    ...extra,
  });
  const state = (machines: ObservedMachine[]): ObservedState => ({
    app: { exists: true, name: APP },
    ips: [],
    secrets: { names: [] },
    volumes: [],
    machines,
  });

  test("a person's cordon passes with a warning naming the machine", () => {
    const v = verifyFleet(state([m("a", { cordoned: true }), m("b"), m("c")]), target);
    expect(v).toMatchObject({
      ok: true,
      warnings: ["machine a is cordoned by someone else and was left alone: the proxy sends it no requests"],
    });
  });

  test("a run's cordon (marked) is a problem: the deploy did not finish", () => {
    const v = verifyFleet(state([m("a", { cordoned: true, deployCordon: true }), m("b"), m("c")]), target);
    expect(v.ok).toBe(false);
    expect(!v.ok && v.problems).toEqual([
      "machine a is still cordoned by a deploy (the proxy sends it no requests); run deploy again",
    ]);
  });

  test("a secrets roll is not done while it left a machine cordoned; a person's cordon does not stop it", () => {
    const rolled = state([
      m("a", { cordoned: true, deployCordon: true, secretsVersion: 3 }),
      m("b", { cordoned: true, secretsVersion: 3 }),
      m("c", { secretsVersion: 3 }),
    ]);
    expect(verifySecretsRoll(rolled, ["a", "b", "c"], 3)).toEqual([
      "machine a is still cordoned by a deploy (the proxy sends it no requests); run deploy again",
    ]);
  });

  test("every machine cordoned by hand: nothing serves, not exit 0", () => {
    const v = verifyFleet(
      state([m("a", { cordoned: true }), m("b", { cordoned: true }), m("c", { cordoned: true })]),
      target,
    );
    expect(v.ok).toBe(false);
    expect(!v.ok && v.problems).toEqual([
      "no machine serves: every one (a, b, c) is cordoned by someone else; the proxy has nowhere to send requests until one is uncordoned",
    ]);
  });
});
