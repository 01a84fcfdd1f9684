import { describe, expect, test } from "bun:test";
import {
  type DesiredState,
  type ObservedMachine,
  type ObservedState,
  type ObservedVolume,
  type Plan,
  type UpdateCause,
  PRODUCTION_MACHINE_COUNT,
  currentImage,
  formatPlan,
  planDeploy,
  planRollback,
  planScale,
  recordedFleetSize,
} from "../../../deploy/plan/plan.ts";

const NEW = "registry.fly.io/flightdeck:deployment-2";
const OLD = "registry.fly.io/flightdeck:deployment-1";

const desired: DesiredState = {
  app: "flightdeck",
  org: "personal",
  region: "ewr",
  image: NEW,
  configDigest: "d".repeat(64),
  machineCount: PRODUCTION_MACHINE_COUNT,
  hasServices: true,
  volume: { name: "media", sizeGb: 1 },
  requiredSecrets: ["DATABASE_URL", "SECRET_KEY"],
  strategy: "rolling",
  releaseCommand: "bun run migrate",
};

function machine(id: string, over: Partial<ObservedMachine> = {}): ObservedMachine {
  return {
    id,
    region: "ewr",
    state: "started",
    image: NEW,
    platformVersion: "v2",
    processGroup: "app",
    configDigest: "d".repeat(64),
    releaseVersion: "2",
    secretsVersion: 3,
    volumeId: `vol_${id}`,
    ...over,
  };
}

function volume(id: string, over: Partial<ObservedVolume> = {}): ObservedVolume {
  return {
    id,
    name: "media",
    region: "ewr",
    zone: "z1",
    attachedMachineId: null,
    state: "created",
    hostStatus: "ok",
    sizeGb: 1,
    ...over,
  };
}

function fleet(machines: ObservedMachine[], over: Partial<ObservedState> = {}): ObservedState {
  return {
    app: { exists: true, name: "flightdeck", org: "personal" },
    ips: [
      { address: "2a09:8280:1::1", kind: "public_v6" },
      { address: "66.241.124.1", kind: "public_v4" },
    ],
    secrets: { names: ["DATABASE_URL", "SECRET_KEY"], version: 3 },
    volumes: machines
      .filter((m) => m.volumeId)
      .map((m) => volume(m.volumeId as string, { attachedMachineId: m.id, region: m.region })),
    machines,
    ...over,
  };
}

const five = () => ["m1", "m2", "m3", "m4", "m5"].map((id) => machine(id));

function kinds(plan: Plan): string[] {
  return plan.actions.map((a) =>
    a.kind === "allocate_ip"
      ? `allocate_ip:${a.type}`
      : a.kind === "update_machine" || a.kind === "destroy_machine"
        ? `${a.kind}:${a.machineId}`
        : a.kind,
  );
}

describe("planDeploy", () => {
  test("from nothing: app, IPs, release, then a volume and a machine each, pinned in full", () => {
    const nothing: ObservedState = {
      app: { exists: false },
      ips: [],
      secrets: { names: [] },
      volumes: [],
      machines: [],
    };
    const plan = planDeploy(nothing, { ...desired, machineCount: 2, requiredSecrets: [] });
    expect(plan).toEqual({
      kind: "deploy",
      app: "flightdeck",
      target: { image: NEW, configDigest: "d".repeat(64), region: "ewr", machineCount: 2, strategy: "rolling" },
      actions: [
        { kind: "create_app", app: "flightdeck", org: "personal", reason: "app does not exist" },
        { kind: "allocate_ip", type: "v6", reason: "app has [http_service] and no public IPv6" },
        { kind: "allocate_ip", type: "shared_v4", reason: "app has [http_service] and no public IPv4" },
        {
          kind: "run_release",
          command: "bun run migrate",
          image: NEW,
          region: "ewr",
          reason: "[deploy] release_command runs before any machine changes",
        },
        {
          kind: "create_volume",
          ref: "vol-new-1",
          name: "media",
          region: "ewr",
          sizeGb: 1,
          requireUniqueZone: true,
          forMachine: "new-1",
          reason: "no unattached volume to reuse",
        },
        {
          kind: "create_machine",
          ref: "new-1",
          region: "ewr",
          image: NEW,
          volumeRef: "vol-new-1",
          reason: "machine 1 of 2",
        },
        {
          kind: "create_volume",
          ref: "vol-new-2",
          name: "media",
          region: "ewr",
          sizeGb: 1,
          requireUniqueZone: true,
          forMachine: "new-2",
          reason: "no unattached volume to reuse",
        },
        {
          kind: "create_machine",
          ref: "new-2",
          region: "ewr",
          image: NEW,
          volumeRef: "vol-new-2",
          reason: "machine 2 of 2",
        },
      ],
      mutating: true,
      ignored: [],
      warnings: [],
      problems: [],
    });
  });

  test("from nothing without required secrets: the plan carries a problem naming them and the fix", () => {
    const plan = planDeploy(
      { app: { exists: false }, ips: [], secrets: { names: [] }, volumes: [], machines: [] },
      desired,
    );
    expect(plan.problems).toEqual([
      {
        code: "secrets_missing",
        message:
          "app flightdeck is missing secrets DATABASE_URL, SECRET_KEY; set them with `bun deploy/run.ts secrets set DATABASE_URL=... SECRET_KEY=...`",
      },
    ]);
    expect(kinds(plan).filter((k) => k === "create_machine")).toHaveLength(5);
  });

  test("a single volume in the region does not ask for a unique zone", () => {
    const plan = planDeploy(fleet([]), { ...desired, machineCount: 1 });
    expect(plan.actions.find((a) => a.kind === "create_volume")).toMatchObject({ requireUniqueZone: false });
  });

  test("no change: only a noop, nothing mutating", () => {
    const plan = planDeploy(fleet(five()), desired);
    expect(plan.actions).toEqual([
      { kind: "noop", reason: `5 machine(s) already run ${NEW} with config dddddddddddd` },
    ]);
    expect(plan.mutating).toBe(false);
    expect(plan.problems).toEqual([]);
  });

  test("image change: release first, then every machine updated with cause image", () => {
    const plan = planDeploy(fleet(five().map((m) => ({ ...m, image: OLD }))), desired);
    expect(kinds(plan)).toEqual([
      "run_release",
      "update_machine:m1",
      "update_machine:m2",
      "update_machine:m3",
      "update_machine:m4",
      "update_machine:m5",
    ]);
    expect(plan.actions[1]).toEqual({
      kind: "update_machine",
      machineId: "m1",
      region: "ewr",
      state: "started",
      causes: ["image"],
      from: { image: OLD, configDigest: "d".repeat(64) },
      skipLaunch: false,
      volumeId: "vol_m1",
      reason: `image ${OLD} -> ${NEW}`,
    });
  });

  test("config change: cause config with both digests in the reason", () => {
    const plan = planDeploy(fleet(five().map((m) => ({ ...m, configDigest: "c".repeat(64) }))), desired);
    expect(kinds(plan)[0]).toBe("run_release");
    const u = plan.actions[1];
    expect(u?.kind === "update_machine" && u.causes).toEqual(["config"]);
    expect(u?.reason).toBe("config cccccccccccc -> dddddddddddd");
  });

  test("a machine without a digest (deployed by flyctl) counts as a config change", () => {
    const plan = planDeploy(fleet([machine("m1", { configDigest: undefined })]), { ...desired, machineCount: 1 });
    expect(plan.actions[1]).toMatchObject({ kind: "update_machine", causes: ["config"], from: { image: NEW } });
  });

  test("secrets change: machines updated to pick up the new version, no release command", () => {
    const observed = fleet(five(), { secrets: { names: ["DATABASE_URL", "SECRET_KEY"], version: 4 } });
    const plan = planDeploy(observed, desired);
    expect(kinds(plan)).toEqual([
      "update_machine:m1",
      "update_machine:m2",
      "update_machine:m3",
      "update_machine:m4",
      "update_machine:m5",
    ]);
    expect(plan.actions[0]).toMatchObject({ causes: ["secrets"], reason: "secrets v3 -> v4" });
    expect(plan.target.secretsVersion).toBe(4);
  });

  test("interrupted deploy: converges from partial state (some machines moved, a volume without machine, no IPs)", () => {
    const machines = [machine("m1"), machine("m2"), machine("m3", { image: OLD, configDigest: "c".repeat(64) })];
    const observed = fleet(machines, { ips: [] });
    observed.volumes.push(volume("vol_orphan"));
    const plan = planDeploy(observed, desired);
    expect(kinds(plan)).toEqual([
      "allocate_ip:v6",
      "allocate_ip:shared_v4",
      "run_release",
      "update_machine:m3",
      "reuse_volume",
      "create_machine",
      "create_volume",
      "create_machine",
    ]);
    expect(plan.actions[3]).toMatchObject({ causes: ["image", "config"] });
    expect(plan.actions[4]).toEqual({
      kind: "reuse_volume",
      volumeId: "vol_orphan",
      name: "media",
      region: "ewr",
      forMachine: "new-1",
      reason: "unattached volume of the same name in the region",
    });
    expect(plan.actions[5]).toMatchObject({
      kind: "create_machine",
      ref: "new-1",
      volumeId: "vol_orphan",
      reason: "machine 4 of 5",
    });
    expect(plan.actions[7]).toMatchObject({
      kind: "create_machine",
      ref: "new-2",
      volumeRef: "vol-new-2",
      reason: "machine 5 of 5",
    });
  });

  test("interrupted first deploy: app exists with no IPs and no machines", () => {
    const plan = planDeploy(fleet([], { ips: [{ address: "fdaa:0:1::2", kind: "private_v6" }] }), {
      ...desired,
      machineCount: 1,
    });
    expect(kinds(plan)).toEqual([
      "allocate_ip:v6",
      "allocate_ip:shared_v4",
      "run_release",
      "create_volume",
      "create_machine",
    ]);
  });

  test("once every machine is on target, re-running adds machines without re-running the release", () => {
    const plan = planDeploy(fleet([machine("m1"), machine("m2")]), desired);
    expect(kinds(plan)).not.toContain("run_release");
    expect(kinds(plan).filter((k) => k === "create_machine")).toHaveLength(3);
  });

  test("stopped and suspended machines are updated with skip_launch; started and failed ones are launched", () => {
    const machines = five().map((m) => ({ ...m, image: OLD }));
    (machines[1] as ObservedMachine).state = "stopped";
    (machines[2] as ObservedMachine).state = "suspended";
    (machines[3] as ObservedMachine).state = "failed";
    const plan = planDeploy(fleet(machines), desired);
    const skip = plan.actions.flatMap((a) => (a.kind === "update_machine" ? [[a.machineId, a.skipLaunch]] : []));
    expect(skip).toEqual([
      ["m1", false],
      ["m2", true],
      ["m3", true],
      ["m4", false],
      ["m5", false],
    ]);
    expect(plan.actions[2]?.reason).toBe(
      `image ${OLD} -> ${NEW} (stopped: stays stopped, started once by the standby check)`,
    );
  });

  test.each([
    ["image and config current", {}, ["failed"], "machine is failed: relaunched by the update"],
    [
      "old image too",
      { image: OLD },
      ["image", "failed"],
      `image ${OLD} -> ${NEW}; machine is failed: relaunched by the update`,
    ],
    [
      "behind on secrets too",
      { secretsVersion: 2 },
      ["secrets", "failed"],
      "secrets v2 -> v3; machine is failed: relaunched by the update",
    ],
  ] as [string, Partial<ObservedMachine>, UpdateCause[], string][])(
    "a failed machine is updated (launched), never called up to date: %s",
    (_what, over, causes, reason) => {
      const machines = five();
      machines[2] = machine("m3", { state: "failed", ...over });
      const plan = planDeploy(fleet(machines), desired);
      expect(plan.mutating).toBe(true);
      expect(plan.actions.filter((a) => a.kind === "update_machine")).toEqual([
        {
          kind: "update_machine",
          machineId: "m3",
          region: "ewr",
          state: "failed",
          causes: [...causes],
          from: { image: over.image ?? NEW, configDigest: "d".repeat(64) },
          skipLaunch: false,
          volumeId: "vol_m3",
          reason,
        },
      ]);
      // Relaunching the same image and config is not a new release: the release command does not run again.
      expect(kinds(plan).includes("run_release")).toBe(causes.includes("image"));
    },
  );

  test("scale down drops a failed machine before healthy ones; scale never repairs the ones it keeps", () => {
    const machines = five();
    machines[0] = machine("m1", { state: "failed" });
    expect(kinds(planScale(fleet(machines), desired, 4))).toEqual([
      "set_fleet_size",
      "set_fleet_size",
      "set_fleet_size",
      "set_fleet_size",
      "destroy_machine:m1",
    ]);
    expect(kinds(planScale(fleet(machines), desired, 5))).toEqual(["noop"]);
  });

  test("a machine in the wrong region is replaced: created in primary_region first, destroyed last, volume kept", () => {
    const machines = [...five().slice(0, 4), machine("m5", { region: "iad" })];
    const plan = planDeploy(fleet(machines), desired);
    // The other machines already run the target, so the release command already ran for it.
    expect(kinds(plan)).toEqual(["create_volume", "create_machine", "destroy_machine:m5"]);
    expect(plan.actions[1]).toMatchObject({
      region: "ewr",
      reason: "replaces m5 (in region iad, primary_region is ewr)",
    });
    expect(plan.actions[2]).toMatchObject({
      keptVolumeId: "vol_m5",
      reason: "in region iad, primary_region is ewr; replaced in ewr; volume vol_m5 is kept",
    });
    expect(plan.warnings).toHaveLength(1);
    expect(plan.warnings[0]).toContain("vol_m5");
  });

  test("extra unmanaged machines, other groups, release/console machines and destroyed ones are ignored", () => {
    const machines = [
      ...five(),
      machine("x1", { platformVersion: undefined }),
      machine("x2", { processGroup: "fly_app_release_command", volumeId: undefined }),
      machine("x3", { processGroup: "worker", image: OLD }),
      machine("x4", { processGroup: "fly_app_console" }),
      machine("x5", { state: "destroyed", image: OLD }),
    ];
    const plan = planDeploy(fleet(machines), desired);
    expect(plan.actions.map((a) => a.kind)).toEqual(["noop"]);
    expect(plan.ignored).toEqual([
      { machineId: "x1", why: "unmanaged: no fly_platform_version=v2 metadata" },
      { machineId: "x2", why: "release command machine" },
      { machineId: "x3", why: 'process group "worker"' },
      { machineId: "x4", why: "console machine" },
    ]);
  });

  test("a deploy with too many machines destroys the surplus first, preferring outdated then stopped ones", () => {
    const machines = [...five(), machine("m6", { state: "stopped" }), machine("m7", { image: OLD })];
    const plan = planDeploy(fleet(machines), desired);
    expect(kinds(plan)).toEqual(["destroy_machine:m7", "destroy_machine:m6"]);
  });

  test("volumes that are attached, elsewhere, of another name, on a bad host or being destroyed are not reused", () => {
    const observed = fleet([]);
    observed.volumes = [
      volume("v1", { attachedMachineId: "gone" }),
      volume("v2", { region: "iad" }),
      volume("v3", { name: "other" }),
      volume("v4", { hostStatus: "unreachable" }),
      volume("v5", { state: "pending_destroy" }),
      volume("v6"),
    ];
    const plan = planDeploy(observed, { ...desired, machineCount: 2 });
    expect(
      plan.actions.filter((a) => a.kind === "reuse_volume").map((a) => (a.kind === "reuse_volume" ? a.volumeId : "")),
    ).toEqual(["v6"]);
    expect(plan.actions.filter((a) => a.kind === "create_volume")).toHaveLength(1);
  });

  test("preview: one machine, no volume, no release command, IPs on first deploy", () => {
    const preview: DesiredState = {
      ...desired,
      app: "flightdeck-pr-42",
      machineCount: 1,
      volume: undefined,
      requiredSecrets: ["SECRET_KEY"],
      releaseCommand: undefined,
    };
    const plan = planDeploy(
      { app: { exists: false }, ips: [], secrets: { names: ["SECRET_KEY"] }, volumes: [], machines: [] },
      preview,
    );
    expect(kinds(plan)).toEqual(["create_app", "allocate_ip:v6", "allocate_ip:shared_v4", "create_machine"]);
    expect(plan.actions[3]).toEqual({
      kind: "create_machine",
      ref: "new-1",
      region: "ewr",
      image: NEW,
      reason: "machine 1 of 1",
    });
  });

  test("a machine with a volume when fly.toml has no [mounts] is replaced", () => {
    const plan = planDeploy(fleet([machine("m1")]), { ...desired, machineCount: 1, volume: undefined });
    expect(kinds(plan)).toEqual(["run_release", "create_machine", "destroy_machine:m1"]);
  });

  test("invalid machine count and another org are reported", () => {
    const plan = planDeploy(fleet(five(), { app: { exists: true, name: "flightdeck", org: "acme" } }), {
      ...desired,
      machineCount: 0,
    });
    expect(plan.problems.map((p) => p.code)).toEqual(["machine_count_invalid"]);
    expect(plan.warnings).toEqual(["app flightdeck belongs to org acme, not personal; deploying to it anyway"]);
  });

  test("the plan is JSON-serialisable as is", () => {
    const plan = planDeploy(fleet([machine("m1", { image: OLD })], { ips: [] }), desired);
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });
});

describe("cordoned machines", () => {
  test("a machine left cordoned by a deploy (flightdeck_cordon mark) is uncordoned, after the updates; the others are left alone", () => {
    const machines = [
      machine("m1", { cordoned: true, deployCordon: true }),
      machine("m2", { image: OLD, cordoned: true, deployCordon: true }),
      machine("m3", { cordoned: false }),
      machine("m4"),
      machine("m5"),
    ];
    const plan = planDeploy(fleet(machines), desired);
    expect(kinds(plan)).toEqual(["run_release", "update_machine:m2", "uncordon_machine", "uncordon_machine"]);
    expect(
      plan.actions.filter((a) => a.kind === "uncordon_machine").map((a) => "machineId" in a && a.machineId),
    ).toEqual(["m1", "m2"]);
    expect(plan.mutating).toBe(true);
    expect(formatPlan(plan)).toContain("~ uncordon machine m1 (ewr)");
  });

  test("a cordon without the mark is a person's: no action, a warning in the plan naming the machine", () => {
    const machines = [machine("m1", { cordoned: true }), machine("m2"), machine("m3"), machine("m4"), machine("m5")];
    const plan = planDeploy(fleet(machines), desired);
    expect(kinds(plan)).toEqual(["noop"]);
    expect(plan.mutating).toBe(false);
    expect(plan.warnings).toEqual([
      "machine m1 is cordoned by someone else; left alone (the proxy sends it no requests until whoever cordoned it uncordons it)",
    ]);
    expect(formatPlan(plan)).toContain("warning: machine m1 is cordoned by someone else; left alone");
  });

  test("a mark without a cordon (a run stopped mid-way) is cleared, so a later hand cordon is not taken for ours; unknown cordon state: left", () => {
    const machines = [
      machine("m1", { cordoned: false, deployCordon: true }),
      machine("m2", { deployCordon: true }),
      machine("m3"),
      machine("m4"),
      machine("m5"),
    ];
    const plan = planDeploy(fleet(machines), desired);
    expect(kinds(plan)).toEqual(["clear_cordon_mark"]);
    expect(plan.actions[0]).toMatchObject({ kind: "clear_cordon_mark", machineId: "m1" });
    expect(plan.mutating).toBe(true);
    expect(formatPlan(plan)).toContain("~ clear cordon mark on machine m1 (ewr)");
  });

  test("not cordoned, or the API did not say: nothing to do", () => {
    const plan = planDeploy(
      fleet([machine("m1", { cordoned: false }), machine("m2"), machine("m3"), machine("m4"), machine("m5")]),
      desired,
    );
    expect(kinds(plan)).toEqual(["noop"]);
    expect(plan.mutating).toBe(false);
  });
});

describe("planScale", () => {
  test("scale up reuses unattached volumes first and never updates existing machines", () => {
    const machines = ["m1", "m2", "m3"].map((id) => machine(id, { image: OLD, configDigest: "c".repeat(64) }));
    const observed = fleet(machines);
    observed.volumes.push(volume("vol_a"), volume("vol_b"));
    const plan = planScale(observed, desired, 6);
    expect(plan.kind).toBe("scale");
    expect(plan.target.image).toBe(OLD);
    // The kept machines learn the new size first (then an interrupted scale leaves it behind), with no update.
    expect(kinds(plan)).toEqual([
      "set_fleet_size",
      "set_fleet_size",
      "set_fleet_size",
      "reuse_volume",
      "create_machine",
      "reuse_volume",
      "create_machine",
      "create_volume",
      "create_machine",
    ]);
    expect(plan.actions[0]).toEqual({
      kind: "set_fleet_size",
      machineId: "m1",
      size: 6,
      reason: "fleet size unset -> 6",
    });
    expect(plan.actions[4]).toMatchObject({ volumeId: "vol_a", image: OLD });
    expect(plan.actions[6]).toMatchObject({ volumeId: "vol_b" });
  });

  test("scale down destroys stopped machines first, then the newest, keeping their volumes", () => {
    const machines = five();
    (machines[1] as ObservedMachine).state = "stopped";
    const plan = planScale(fleet(machines), desired, 3);
    expect(kinds(plan)).toEqual([
      "set_fleet_size",
      "set_fleet_size",
      "set_fleet_size",
      "destroy_machine:m2",
      "destroy_machine:m5",
    ]);
    expect(
      plan.actions.slice(0, 3).map((a) => (a.kind === "set_fleet_size" ? `${a.machineId}=${a.size}` : "")),
    ).toEqual(["m1=3", "m3=3", "m4=3"]);
    expect(plan.actions[3]).toEqual({
      kind: "destroy_machine",
      machineId: "m2",
      region: "ewr",
      state: "stopped",
      keptVolumeId: "vol_m2",
      reason: "scale down 5 -> 3; volume vol_m2 is kept",
    });
  });

  test("scale to the current count is a noop; scaling an empty app is a problem", () => {
    expect(planScale(fleet(five()), desired, 5).mutating).toBe(false);
    expect(planScale(fleet([]), desired, 2).problems.map((p) => p.code)).toEqual(["nothing_to_scale"]);
    expect(planScale(fleet(five()), desired, 0).actions.filter((a) => a.kind === "destroy_machine")).toHaveLength(5);
  });
});

describe("fleet size", () => {
  const sized = (sizes: (number | undefined)[], over: Partial<ObservedMachine> = {}) =>
    sizes.map((fleetSize, i) => machine(`m${i + 1}`, { ...over, ...(fleetSize !== undefined ? { fleetSize } : {}) }));

  test.each([
    ["an empty app: the production size", [], 5],
    ["machines from before the key existed count as 5", [undefined, undefined], 5],
    ["a scale to 2 that finished", [2, 2], 2],
    ["an interrupted first deploy: every machine made so far says 5", [5, 5], 5],
    ["an interrupted scale 5 -> 2: the smaller size wins", [2, 5, 5, 5, 5], 2],
    ["an interrupted scale 2 -> 5: the smaller size wins", [5, 2], 2],
    ["hand-edited values outside 1..5 are ignored", [9, 3, 0], 3],
  ] as const)("recordedFleetSize: %s", (_what, sizes, expected) => {
    expect(recordedFleetSize(fleet(sized([...sizes])))).toBe(expected);
  });

  test("recordedFleetSize ignores other groups, unmanaged and destroyed machines", () => {
    const machines = [
      machine("m1", { fleetSize: 3 }),
      machine("w1", { fleetSize: 1, processGroup: "worker" }),
      machine("x1", { fleetSize: 1, platformVersion: undefined }),
      machine("d1", { fleetSize: 1, state: "destroyed" }),
      machine("r1", { fleetSize: 1, processGroup: "fly_app_release_command" }),
    ];
    expect(recordedFleetSize(fleet(machines))).toBe(3);
  });

  test("a deploy of a new image after scale 5 -> 2 updates the 2 machines and records nothing else", () => {
    const machines = sized([2, 2], { image: OLD, configDigest: "c".repeat(64) });
    const observed = fleet(machines);
    observed.volumes.push(volume("vol_x"), volume("vol_y"), volume("vol_z"));
    const plan = planDeploy(observed, { ...desired, machineCount: recordedFleetSize(observed) });
    expect(plan.target.machineCount).toBe(2);
    expect(kinds(plan)).toEqual(["run_release", "update_machine:m1", "update_machine:m2"]);
  });

  test("an up-to-date fleet whose size is recorded is a no-op", () => {
    const observed = fleet(sized([2, 2]));
    expect(planDeploy(observed, { ...desired, machineCount: recordedFleetSize(observed) }).mutating).toBe(false);
  });

  test("after an interrupted scale down, deploy finishes it and records the size on machines it keeps but does not update", () => {
    const machines = sized([2, 5, 5, 5, 5]);
    (machines[1] as ObservedMachine).image = OLD; // m2 needs an update: destroyed first
    const observed = fleet(machines);
    const plan = planDeploy(observed, { ...desired, machineCount: recordedFleetSize(observed) });
    expect(kinds(plan)).toEqual(["set_fleet_size", "destroy_machine:m2", "destroy_machine:m5", "destroy_machine:m4"]);
    expect(plan.actions[0]).toEqual({ kind: "set_fleet_size", machineId: "m3", size: 2, reason: "fleet size 5 -> 2" });
    expect(formatPlan(plan)).toContain("~ record fleet size 2 on machine m3");
  });

  test("a legacy fleet (no key) at 5 is a no-op, and the key is written once the size changes", () => {
    expect(planDeploy(fleet(five()), desired).mutating).toBe(false);
    const plan = planScale(fleet(five()), desired, 4);
    expect(kinds(plan)).toEqual([
      "set_fleet_size",
      "set_fleet_size",
      "set_fleet_size",
      "set_fleet_size",
      "destroy_machine:m5",
    ]);
  });
});

describe("rollback", () => {
  test("a split fleet's current image is the oldest release's", () => {
    const machines = [
      machine("m1"),
      machine("m2", { image: OLD, releaseVersion: "1" }),
      machine("m3", { image: OLD, releaseVersion: "1" }),
    ];
    expect(currentImage(fleet(machines))).toBe(OLD);
  });

  test("planRollback moves every machine to the older image without running the release command", () => {
    const plan = planRollback(fleet(five()), desired, OLD);
    expect(plan.kind).toBe("rollback");
    expect(kinds(plan)).toEqual([
      "update_machine:m1",
      "update_machine:m2",
      "update_machine:m3",
      "update_machine:m4",
      "update_machine:m5",
    ]);
    expect(plan.actions[0]).toMatchObject({ causes: ["image"], reason: `image ${NEW} -> ${OLD}` });
  });
});

describe("formatPlan", () => {
  test("one line per action with its reason, then ignored machines, warnings and problems", () => {
    const observed = fleet(
      [machine("m1", { image: OLD }), machine("m2", { region: "iad" }), machine("x1", { platformVersion: undefined })],
      { ips: [] },
    );
    const text = formatPlan(planDeploy(observed, { ...desired, machineCount: 2, requiredSecrets: ["NOPE"] }));
    expect(text.split("\n")).toEqual([
      `deploy flightdeck: ${NEW}, 2 machine(s) in ewr, strategy rolling`,
      "  + allocate v6 IP                                          # app has [http_service] and no public IPv6",
      "  + allocate shared_v4 IP                                   # app has [http_service] and no public IPv4",
      "  > run release command `bun run migrate` in ewr            # [deploy] release_command runs before any machine changes",
      `  ~ update machine m1 (ewr, started)                        # image ${OLD} -> ${NEW}`,
      "  + create volume media 1GB in ewr (unique zone) for new-1  # no unattached volume to reuse",
      "  + create machine new-1 in ewr with vol-new-1              # replaces m2 (in region iad, primary_region is ewr)",
      "  - destroy machine m2 (iad, started)                       # in region iad, primary_region is ewr; replaced in ewr; volume vol_m2 is kept",
      "  (ignored x1: unmanaged: no fly_platform_version=v2 metadata)",
      "warning: machine m2 in region iad, primary_region is ewr: it is replaced and its volume vol_m2 is kept, but files on it are no longer served until you move them",
      "error: app flightdeck is missing secrets NOPE; set them with `bun deploy/run.ts secrets set NOPE=...`",
    ]);
  });

  test("a noop plan says so", () => {
    expect(formatPlan(planDeploy(fleet(five()), desired))).toContain("= no changes  # 5 machine(s) already run");
  });
});
