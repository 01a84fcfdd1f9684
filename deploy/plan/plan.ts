// Observed state + desired state -> Plan. Pure: no I/O, no clock, deterministic order, so
// `plan` prints exactly what `deploy` will do and a re-run after an interruption picks up where it stopped.
//
// Choices, with their source:
// - Managed machines = fly_platform_version "v2", not destroyed, in our process group; release-command,
//   console and other groups' machines are never touched (flyctl `ListFlyAppsMachines`).
// - Non-started machines are updated with skip_launch and stay stopped (flyctl `shouldSkipLaunch`, flyctl#2992):
//   the proxy started/stopped them by load and will start them again on demand.
// - Scale up reuses unattached, healthy volumes of the mount's name in the region before creating new ones,
//   with require_unique_zone once the region holds more than one (flyctl `scale count`). Scale down never
//   deletes volumes; the machine goes, its volume stays for a later scale up.
// - The fleet size is recorded on every machine (metadata flightdeck_fleet_size): creates and updates carry
//   it in their config, machines the run leaves alone get a metadata write (set_fleet_size) before anything
//   is created or destroyed. `deploy` aims for the recorded size (recordedFleetSize), so a scale sticks.
// - A machine in state `failed` is updated even when its image and config are current: the digest says what
//   it should run, not that it runs, and an update is how flyctl's deploy relaunches it (failed counts as
//   launched there too). Without this a re-run would call a broken fleet "up to date" forever.
// - Machines outside primary_region, or whose volume presence disagrees with [mounts], are replaced
//   (created first, destroyed last), because flyctl cannot attach/detach a volume in place and
//   min_machines_running only counts the primary region.

import { formatGroupSizes } from "../machine/machine-config.ts";
import { describeCauses, shortDigest, updateCauses } from "./causes.ts";
import {
  type DesiredState,
  NON_MUTATING_ACTIONS,
  type ObservedMachine,
  type ObservedState,
  type ObservedVolume,
  type Plan,
  type PlanAction,
  type PlanKind,
} from "./types.ts";
import { DEFAULT_PROCESS_GROUP, FLY_OWN_GROUPS, groupOf, isFlyOwnGroup, isLive } from "../fleet/members.ts";

export * from "./types.ts";
export { formatPlan } from "./format.ts";

/** Production fleet size (DESIGN.md): 5 machines, 1 always on, the proxy starts the rest by load. */
export const PRODUCTION_MACHINE_COUNT = 5;
/** A preview is one machine that scales to zero. */
export const PREVIEW_MACHINE_COUNT = 1;

const LAUNCHED_STATES = new Set(["started", "starting", "failed"]);

function partition(observed: ObservedState, group: string) {
  const managed: ObservedMachine[] = [];
  const ignored: Plan["ignored"] = [];
  for (const m of observed.machines) {
    if (!isLive(m)) continue;
    const g = groupOf(m, group);
    if (m.platformVersion !== "v2")
      ignored.push({ machineId: m.id, why: "unmanaged: no fly_platform_version=v2 metadata" });
    else if (isFlyOwnGroup(g)) ignored.push({ machineId: m.id, why: FLY_OWN_GROUPS[g] as string });
    else if (g !== group) ignored.push({ machineId: m.id, why: `process group "${g}"` });
    else managed.push(m);
  }
  managed.sort((a, b) => a.id.localeCompare(b.id));
  return { managed, ignored };
}

function misfit(m: ObservedMachine, d: DesiredState): string | undefined {
  if (!d.keepRegions && m.region !== d.region) return `in region ${m.region}, primary_region is ${d.region}`;
  if (d.volume && !m.volumeId) return `has no volume but [mounts] asks for "${d.volume.name}"`;
  if (!d.volume && m.volumeId) return `has volume ${m.volumeId} but fly.toml has no [mounts]`;
  return undefined;
}

function reusable(v: ObservedVolume, d: DesiredState): boolean {
  return (
    d.volume !== undefined &&
    v.name === d.volume.name &&
    v.region === d.region &&
    v.state === "created" &&
    !v.attachedMachineId &&
    (v.hostStatus === undefined || v.hostStatus === "ok")
  );
}

export type CoreOptions = { kind: PlanKind; updateExisting: boolean; runRelease: boolean };

export function plan(observed: ObservedState, desired: DesiredState, opts: CoreOptions): Plan {
  const group = desired.processGroup ?? DEFAULT_PROCESS_GROUP;
  const secretsVersion = observed.secrets.version;
  const problems: Plan["problems"] = [];
  const warnings: string[] = [];
  const minCount = desired.minCount ?? (opts.kind === "scale" ? 0 : 1);
  // With process groups every machine action names its group (apply builds that group's config).
  const tag = desired.processGroup === undefined ? {} : { group: desired.processGroup };
  const refPrefix = desired.processGroup === undefined ? "" : `${desired.processGroup}-`;
  if (!Number.isInteger(desired.machineCount) || desired.machineCount < minCount) {
    problems.push({
      code: "machine_count_invalid",
      message: `machine count must be a whole number >= ${minCount}, got ${desired.machineCount}`,
    });
  }
  const missing = desired.requiredSecrets.filter((n) => !observed.secrets.names.includes(n));
  if (missing.length > 0) {
    problems.push({
      code: "secrets_missing",
      message: `app ${desired.app} is missing secrets ${missing.join(", ")}; set them with \`bun deploy/run.ts secrets set ${missing.map((n) => `${n}=...`).join(" ")}\``,
    });
  }
  if (observed.app.exists && observed.app.org !== undefined && observed.app.org !== desired.org) {
    warnings.push(`app ${desired.app} belongs to org ${observed.app.org}, not ${desired.org}; deploying to it anyway`);
  }

  const { managed, ignored } = partition(observed, group);
  const actions: PlanAction[] = [];
  if (!observed.app.exists)
    actions.push({ kind: "create_app", app: desired.app, org: desired.org, reason: "app does not exist" });
  if (desired.hasServices) {
    // flyctl first deploy: a dedicated IPv6 (free) and a shared IPv4 when the app has services and no IPs.
    if (!observed.ips.some((ip) => ip.kind === "public_v6"))
      actions.push({ kind: "allocate_ip", type: "v6", reason: "app has [http_service] and no public IPv6" });
    if (!observed.ips.some((ip) => ip.kind === "public_v4"))
      actions.push({ kind: "allocate_ip", type: "shared_v4", reason: "app has [http_service] and no public IPv4" });
  }

  const fitting: ObservedMachine[] = [];
  const misfits: { m: ObservedMachine; why: string }[] = [];
  for (const m of managed) {
    const why = misfit(m, desired);
    if (why) misfits.push({ m, why });
    else fitting.push(m);
  }

  // Scale down: drop machines that would need an update, then stopped ones, then the newest ids.
  const count = Math.max(0, desired.machineCount);
  const byDestroyPreference = [...fitting].sort((a, b) => {
    const ua = updateCauses(a, desired, observed.secrets).length > 0 ? 0 : 1;
    const ub = updateCauses(b, desired, observed.secrets).length > 0 ? 0 : 1;
    if (ua !== ub) return ua - ub;
    const la = LAUNCHED_STATES.has(a.state) ? 1 : 0;
    const lb = LAUNCHED_STATES.has(b.state) ? 1 : 0;
    if (la !== lb) return la - lb;
    return b.id.localeCompare(a.id);
  });
  const surplus = byDestroyPreference.slice(0, Math.max(0, fitting.length - count));
  const kept = fitting.filter((m) => !surplus.includes(m));
  const toCreate = Math.max(0, count - kept.length);

  const updates: Extract<PlanAction, { kind: "update_machine" }>[] = [];
  let imageOrConfigChanges = false;
  if (opts.updateExisting) {
    for (const m of kept) {
      const causes = updateCauses(m, desired, observed.secrets);
      if (causes.length === 0) continue;
      if (causes.includes("image") || causes.includes("config")) imageOrConfigChanges = true;
      const skipLaunch = !LAUNCHED_STATES.has(m.state);
      const action: Extract<PlanAction, { kind: "update_machine" }> = {
        ...tag,
        kind: "update_machine",
        machineId: m.id,
        region: m.region,
        state: m.state,
        causes,
        from: m.configDigest === undefined ? { image: m.image } : { image: m.image, configDigest: m.configDigest },
        skipLaunch,
        reason:
          describeCauses(m, desired, causes, observed.secrets) +
          (skipLaunch ? ` (${m.state}: stays ${m.state}, started once by the standby check)` : ""),
      };
      if (m.volumeId) action.volumeId = m.volumeId;
      updates.push(action);
    }
  }

  const fleetAlreadyOnTarget = kept.some((m) => m.image === desired.image && m.configDigest === desired.configDigest);
  if (opts.runRelease && desired.releaseCommand && (imageOrConfigChanges || (toCreate > 0 && !fleetAlreadyOnTarget))) {
    actions.push({
      kind: "run_release",
      command: desired.releaseCommand,
      image: desired.image,
      region: desired.region,
      reason: "[deploy] release_command runs before any machine changes",
    });
  }

  // Kept machines the run does not update still learn the new size, first: an interrupted scale then leaves
  // the new size on the machines that remain (recordedFleetSize reads it back), not the old one.
  const updated = new Set(updates.map((u) => u.machineId));
  for (const m of kept) {
    const sizesStale =
      desired.groupSizes !== undefined && formatGroupSizes(m.groupSizes ?? {}) !== formatGroupSizes(desired.groupSizes);
    if (updated.has(m.id) || (recordedSize(m) === count && !sizesStale)) continue;
    const mark: Extract<PlanAction, { kind: "set_fleet_size" }> = {
      ...tag,
      kind: "set_fleet_size",
      machineId: m.id,
      size: count,
      reason: `fleet size ${m.fleetSize ?? "unset"} -> ${count}`,
    };
    if (desired.groupSizes !== undefined) {
      mark.groupSizes = desired.groupSizes;
      if (sizesStale)
        mark.reason += `; group sizes ${formatGroupSizes(m.groupSizes ?? {}) || "unset"} -> ${formatGroupSizes(desired.groupSizes)}`;
    }
    actions.push(mark);
  }

  for (const m of surplus) {
    const a: PlanAction = {
      ...tag,
      kind: "destroy_machine",
      machineId: m.id,
      region: m.region,
      state: m.state,
      reason: `scale down ${fitting.length} -> ${count}`,
    };
    if (m.volumeId) {
      a.keptVolumeId = m.volumeId;
      a.reason += `; volume ${m.volumeId} is kept`;
    }
    actions.push(a);
  }
  actions.push(...updates);
  // After the updates: a rolling update cordons and uncordons the machines it moves itself, so this is for the
  // ones a run interrupted between the two left out of rotation (and it is harmless after an update). Only a
  // cordon carrying the flightdeck_cordon mark is a run's: a run sets the mark before it cordons and removes it
  // after it uncordons (rollout.ts), so every cordon of ours is marked. One without the mark is a person's.
  for (const m of kept) {
    if (m.cordoned === true && m.deployCordon) {
      actions.push({
        ...tag,
        kind: "uncordon_machine",
        machineId: m.id,
        region: m.region,
        reason: "left cordoned by an interrupted deploy (flightdeck_cordon mark): the proxy sends it no requests",
      });
    } else if (m.cordoned === true) {
      warnings.push(
        `machine ${m.id} is cordoned by someone else; left alone (the proxy sends it no requests until whoever cordoned it uncordons it)`,
      );
    } else if (m.cordoned === false && m.deployCordon) {
      // A run stopped between setting the mark and cordoning, or between uncordoning and clearing it. A stale
      // mark would make a later hand cordon of this machine look like ours, so it goes. (Cordon state unknown:
      // left for a run that can see it.)
      actions.push({
        ...tag,
        kind: "clear_cordon_mark",
        machineId: m.id,
        region: m.region,
        reason: "a deploy's cordon mark without a cordon (a run stopped mid-way)",
      });
    }
  }

  const pool = observed.volumes.filter((v) => reusable(v, desired)).sort((a, b) => a.id.localeCompare(b.id));
  const inRegionAfter = kept.length + toCreate;
  for (let i = 1; i <= toCreate; i++) {
    const ref = `${refPrefix}new-${i}`;
    const create: PlanAction & { kind: "create_machine" } = {
      ...tag,
      kind: "create_machine",
      ref,
      region: desired.region,
      image: desired.image,
      reason:
        i <= misfits.length
          ? `replaces ${misfits[i - 1]?.m.id} (${misfits[i - 1]?.why})`
          : `machine ${kept.length + i} of ${count}`,
    };
    if (desired.volume) {
      const vol = pool.shift();
      if (vol) {
        actions.push({
          kind: "reuse_volume",
          volumeId: vol.id,
          name: vol.name,
          region: vol.region,
          forMachine: ref,
          reason: "unattached volume of the same name in the region",
        });
        create.volumeId = vol.id;
      } else {
        const volRef = `vol-${ref}`;
        actions.push({
          ...tag,
          kind: "create_volume",
          ref: volRef,
          name: desired.volume.name,
          region: desired.region,
          sizeGb: desired.volume.sizeGb,
          requireUniqueZone: inRegionAfter > 1,
          forMachine: ref,
          reason: "no unattached volume to reuse",
        });
        create.volumeRef = volRef;
      }
    }
    actions.push(create);
  }
  for (const { m, why } of misfits) {
    const a: PlanAction = {
      ...tag,
      kind: "destroy_machine",
      machineId: m.id,
      region: m.region,
      state: m.state,
      reason: `${why}; replaced in ${desired.region}`,
    };
    if (m.volumeId) {
      a.keptVolumeId = m.volumeId;
      a.reason += `; volume ${m.volumeId} is kept`;
      warnings.push(
        `machine ${m.id} ${why}: it is replaced and its volume ${m.volumeId} is kept, but files on it are no longer served until you move them`,
      );
    }
    actions.push(a);
  }

  if (actions.length === 0) {
    actions.push({
      kind: "noop",
      reason: `${kept.length} machine(s) already run ${desired.image} with config ${shortDigest(desired.configDigest)}`,
    });
  }
  const target: Plan["target"] = {
    image: desired.image,
    configDigest: desired.configDigest,
    region: desired.region,
    machineCount: count,
    strategy: desired.strategy,
  };
  if (secretsVersion !== undefined) target.secretsVersion = secretsVersion;
  return {
    kind: opts.kind,
    app: desired.app,
    target,
    actions,
    mutating: actions.some((a) => !NON_MUTATING_ACTIONS.has(a.kind)),
    ignored,
    warnings,
    problems,
  };
}

/** A machine's recorded fleet size; machines from before the key existed were placed by a deploy of 5. */
function recordedSize(m: ObservedMachine): number {
  return m.fleetSize ?? PRODUCTION_MACHINE_COUNT;
}

/**
 * The machine count `deploy` aims for: the fleet size recorded on the managed machines (set by the last deploy
 * or scale), PRODUCTION_MACHINE_COUNT for an empty app. A first deploy that was interrupted converges to 5
 * because every machine it created carries 5. The machines only disagree after a scale that was interrupted
 * while writing the new size; then the smaller size wins, so the next deploy finishes a half-done scale down
 * and does not finish a half-done scale up: it never adds machines (and billed volumes) on a guess. Values
 * outside 1..5 are not ours (hand-edited metadata) and are ignored.
 */
export function recordedFleetSize(observed: ObservedState, processGroup = DEFAULT_PROCESS_GROUP): number {
  const sizes = partition(observed, processGroup)
    .managed.map(recordedSize)
    .filter((n) => Number.isInteger(n) && n >= 1 && n <= PRODUCTION_MACHINE_COUNT);
  return sizes.length === 0 ? PRODUCTION_MACHINE_COUNT : Math.min(...sizes);
}

/** What `deploy` would do to reach `desired` from `observed`. */
export function planDeploy(observed: ObservedState, desired: DesiredState): Plan {
  return plan(observed, desired, { kind: "deploy", updateExisting: true, runRelease: true });
}

/** The image most managed machines run now (ties: the lexically first), or undefined for an empty fleet. */
export function currentImage(observed: ObservedState, processGroup = DEFAULT_PROCESS_GROUP): string | undefined {
  const counts = new Map<string, number>();
  for (const m of partition(observed, processGroup).managed) counts.set(m.image, (counts.get(m.image) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

/**
 * `scale --count N`: create or destroy machines only, running the image the fleet runs now (like
 * `fly scale count`, which clones an existing machine); existing machines are not updated and no release runs.
 * `desired.configDigest` must describe the config new machines get (built with `plan.target.image`).
 */
export function planScale(observed: ObservedState, desired: DesiredState, count: number): Plan {
  const image = currentImage(observed, desired.processGroup);
  const p = plan(
    observed,
    { ...desired, image: image ?? desired.image, machineCount: count },
    { kind: "scale", updateExisting: false, runRelease: false },
  );
  if (image === undefined && count > 0)
    p.problems.push({
      code: "nothing_to_scale",
      message: `app ${desired.app} has no machines to copy; run deploy first`,
    });
  return p;
}

/** Rollback is a normal deploy of an older image (flyctl rollback guide); migrations are not undone. */
export function planRollback(observed: ObservedState, desired: DesiredState, toImage: string): Plan {
  return plan(observed, { ...desired, image: toImage }, { kind: "rollback", updateExisting: true, runRelease: false });
}
