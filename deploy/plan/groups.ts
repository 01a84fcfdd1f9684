// Plans for an app whose fly.toml has [processes]: one core plan per process group (plan.ts), merged into one Plan
// that apply runs in order. App-wide steps (create the app, IPs, the release command) appear once, before any
// machine changes; machine actions name their group. Pure, like plan.ts.
//
// Group sizes (DESIGN.md keeps production at 1-5 machines): the groups serving [http_service] keep that rule and
// start at 5; other groups take any count, 0 included, and start at 1 (flyctl creates one machine for a group
// without services on a first deploy). A size lives on the group's machines (flightdeck_fleet_size) and, for
// groups with no machine left, in flightdeck_group_sizes on every other machine.

import {
  NON_MUTATING_ACTIONS,
  type DesiredState,
  type ObservedState,
  type Plan,
  type PlanAction,
  type PlanKind,
} from "./types.ts";
import { currentImage, plan, PRODUCTION_MACHINE_COUNT, recordedFleetSize } from "./plan.ts";

const APP_WIDE: ReadonlySet<PlanAction["kind"]> = new Set(["create_app", "allocate_ip", "run_release"]);

export type GroupSizing = { name: string; primary: boolean };

/** The machine count a group's deploy aims for: what its machines record, else what the others record for it, else 5 or 1. */
export function recordedGroupSize(observed: ObservedState, group: GroupSizing): number {
  if (group.primary && observed.machines.some((m) => m.platformVersion === "v2" && m.processGroup === group.name))
    return recordedFleetSize(observed, group.name);
  const own = observed.machines
    .filter((m) => m.platformVersion === "v2" && m.processGroup === group.name && m.fleetSize !== undefined)
    .map((m) => m.fleetSize as number);
  if (own.length > 0) return Math.min(...own);
  const valid = (n: number) =>
    Number.isInteger(n) && n >= (group.primary ? 1 : 0) && (!group.primary || n <= PRODUCTION_MACHINE_COUNT);
  const elsewhere = observed.machines
    .map((m) => m.groupSizes?.[group.name])
    .filter((n): n is number => n !== undefined && valid(n));
  if (elsewhere.length > 0) return Math.min(...elsewhere);
  return group.primary ? PRODUCTION_MACHINE_COUNT : 1;
}

/** The image the app runs now, for a group that has no machine to copy (scaling up from 0). */
export function anyCurrentImage(observed: ObservedState, groups: readonly string[]): string | undefined {
  for (const g of groups) {
    const image = currentImage(observed, g);
    if (image !== undefined) return image;
  }
  return undefined;
}

/**
 * Merges one core plan per group. `desireds` must carry processGroup and groupSizes; volumes reused by one group
 * are not offered to the next.
 */
export function planGroups(observed: ObservedState, desireds: readonly DesiredState[], kind: PlanKind): Plan {
  const opts = { kind, updateExisting: kind !== "scale", runRelease: kind === "deploy" };
  const plans: Plan[] = [];
  let volumes = observed.volumes;
  for (const d of desireds) {
    const p = plan({ ...observed, volumes }, d, opts);
    const reused = new Set(p.actions.flatMap((a) => (a.kind === "reuse_volume" ? [a.volumeId] : [])));
    volumes = volumes.filter((v) => !reused.has(v.id));
    plans.push(p);
  }
  const first = plans[0];
  const lead = desireds[0];
  if (!first || !lead) throw new Error("planGroups needs at least one group");

  const head: PlanAction[] = [];
  const seen = new Set<string>();
  const addHead = (a: PlanAction) => {
    const key = a.kind === "allocate_ip" ? `ip:${a.type}` : a.kind;
    if (!seen.has(key)) head.push(a);
    seen.add(key);
  };
  for (const p of plans) for (const a of p.actions) if (a.kind === "create_app" || a.kind === "allocate_ip") addHead(a);
  for (const p of plans) for (const a of p.actions) if (a.kind === "run_release") addHead(a);
  const body = plans.flatMap((p) => p.actions.filter((a) => !APP_WIDE.has(a.kind) && a.kind !== "noop"));
  let actions = [...head, ...body];
  if (actions.length === 0) {
    const reasons = plans.map((p, i) => `${desireds[i]?.processGroup}: ${p.actions[0]?.reason ?? "no changes"}`);
    actions = [{ kind: "noop", reason: reasons.join("; ") }];
  }

  const groupNames = new Set(desireds.map((d) => d.processGroup));
  const ignoredEverywhere = first.ignored.filter((i) =>
    plans.every((p) => p.ignored.some((j) => j.machineId === i.machineId)),
  );
  const ignored = ignoredEverywhere.map((i) => {
    const m = observed.machines.find((x) => x.id === i.machineId);
    return m?.processGroup !== undefined &&
      m.platformVersion === "v2" &&
      !groupNames.has(m.processGroup) &&
      /^process group/.test(i.why)
      ? {
          machineId: i.machineId,
          why: `process group "${m.processGroup}" is not in fly.toml [processes]; left as it is`,
        }
      : i;
  });
  const unique = <T>(xs: T[], key: (x: T) => string) =>
    xs.filter((x, i) => xs.findIndex((y) => key(y) === key(x)) === i);
  const target: Plan["target"] = {
    ...first.target,
    groups: Object.fromEntries(
      plans.map((p, i) => [
        desireds[i]?.processGroup ?? "",
        { configDigest: p.target.configDigest, machineCount: p.target.machineCount, image: p.target.image },
      ]),
    ),
  };
  if (lead.groupSizes) target.groupSizes = lead.groupSizes;
  return {
    kind,
    app: lead.app,
    target,
    actions,
    mutating: actions.some((a) => !NON_MUTATING_ACTIONS.has(a.kind)),
    ignored,
    warnings: unique(
      plans.flatMap((p) => p.warnings),
      (w) => w,
    ),
    problems: unique(
      plans.flatMap((p) => p.problems),
      (p) => p.message,
    ),
  };
}

/**
 * flyctl deploy (`resolveProcessGroupChanges`): machines of a process group that fly.toml no longer has are destroyed,
 * after the new groups' machines are up; their volumes are kept. Fly's own release and console machines are not
 * groups of the app, and machines without fly_platform_version are not ours.
 */
export function removeDroppedGroups(plan: Plan, observed: ObservedState, groups: readonly string[]): Plan {
  const dropped = observed.machines.filter(
    (m) =>
      m.platformVersion === "v2" &&
      m.processGroup !== undefined &&
      !groups.includes(m.processGroup) &&
      !m.processGroup.startsWith("fly_app_") &&
      m.state !== "destroyed" &&
      m.state !== "destroying",
  );
  if (dropped.length === 0) return plan;
  const ids = new Set(dropped.map((m) => m.id));
  const actions: PlanAction[] = plan.actions.filter((a) => a.kind !== "noop");
  for (const m of dropped) {
    const a: PlanAction = {
      kind: "destroy_machine",
      machineId: m.id,
      region: m.region,
      state: m.state,
      group: m.processGroup as string,
      reason: `process group "${m.processGroup}" is no longer in fly.toml`,
    };
    if (m.volumeId) {
      a.keptVolumeId = m.volumeId;
      a.reason += `; volume ${m.volumeId} is kept`;
    }
    actions.push(a);
  }
  const names = [...new Set(dropped.map((m) => m.processGroup))].join(", ");
  return {
    ...plan,
    actions,
    mutating: true,
    ignored: plan.ignored.filter((i) => !ids.has(i.machineId)),
    warnings: [
      ...plan.warnings,
      `process group(s) ${names} are not in fly.toml any more: their ${dropped.length} machine(s) are destroyed, as flyctl does`,
    ],
  };
}
