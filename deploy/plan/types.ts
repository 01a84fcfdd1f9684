// The shapes planDeploy works on. ObservedState is what deploy/fleet/observe.ts reads from the Machines API;
// DesiredState is what fly.toml + the image + the CLI ask for; Plan is the JSON-serialisable answer.

import type { FieldChange } from "./diff.ts";
import type { Strategy } from "../config/flytoml.ts";

export type ObservedMachine = {
  id: string;
  region: string;
  /** Machines API state: started, stopped, suspended, created, failed, replacing, destroyed, ... */
  state: string;
  image: string;
  /** metadata: fly_platform_version / fly_process_group / flightdeck_config_digest / fly_release_version. */
  platformVersion?: string;
  processGroup?: string;
  configDigest?: string;
  releaseVersion?: string;
  /** metadata flightdeck_secrets_version: the app secrets version the machine was last created/updated with. */
  secretsVersion?: number;
  /** metadata flightdeck_secrets: the secret names (and digest prefixes) it was given (plan/secrets-diff.ts). */
  secretDigests?: Record<string, string>;
  /** metadata flightdeck_fleet_size (a whole number >= 1), absent on machines from before it existed. */
  fleetSize?: number;
  /** metadata flightdeck_group_sizes: every process group's size at the machine's last create/update/mark. */
  groupSizes?: Record<string, number>;
  /** config.mounts[0].volume */
  volumeId?: string;
  /** Machine.cordoned: true when the proxy routes nothing to it; absent when the API did not say. */
  cordoned?: boolean;
  /** metadata flightdeck_cordon: a Flightdeck run cordoned it (or was about to); without it a cordon is a person's. */
  deployCordon?: boolean;
};

export type ObservedVolume = {
  id: string;
  name: string;
  region: string;
  zone?: string;
  attachedMachineId?: string | null;
  /** created, pending_destroy, destroying, destroyed, restoring, ... */
  state: string;
  sizeGb?: number;
  hostStatus?: "ok" | "unknown" | "unreachable";
};

/** Public IPs matter for reachability; private (Flycast) and egress addresses do not count. */
export type IpKind = "public_v6" | "public_v4" | "private_v6" | "egress";
export type ObservedIp = { address: string; kind: IpKind };

export type ObservedState = {
  app: { exists: false } | { exists: true; name: string; org?: string };
  ips: ObservedIp[];
  /** Names (and digests) only; values never leave Fly. `version` is the current app secrets version. */
  secrets: { names: string[]; digests?: Record<string, string>; version?: number };
  volumes: ObservedVolume[];
  machines: ObservedMachine[];
};

export type DesiredState = {
  app: string;
  org: string;
  region: string;
  /** No primary_region: machines stay in the regions they are in; only new machines go to `region`. */
  keepRegions?: boolean;
  image: string;
  /** configDigest(buildMachineConfig(...)), i.e. metadata flightdeck_config_digest of the desired config. */
  configDigest: string;
  /** Production: PRODUCTION_MACHINE_COUNT (5); preview: PREVIEW_MACHINE_COUNT (1); scale: --count. */
  machineCount: number;
  /** [http_service] present: the app needs public IPs. */
  hasServices: boolean;
  /** From [mounts]: one volume of this name per machine; absent = no volumes. */
  volume?: { name: string; sizeGb: number };
  /** Secret names the app cannot boot without (e.g. REQUIRED_PRODUCTION_SECRETS). */
  requiredSecrets: string[];
  strategy: Strategy;
  /** [deploy] release_command; run once before machines change. */
  releaseCommand?: string;
  /** Set when fly.toml has [processes] groups (or the plan covers several): actions then name their group. */
  processGroup?: string;
  /** Fewest machines allowed: 1 for the group serving [http_service] (default), 0 for other groups. */
  minCount?: number;
  /**
   * Every group's size, recorded on every machine (metadata flightdeck_group_sizes) when fly.toml has several
   * groups, so a group scaled to 0 is remembered by the machines of the others.
   */
  groupSizes?: Record<string, number>;
};

/** "failed": the machine is in state failed; an update (same image and config) relaunches it. */
export type UpdateCause = "image" | "config" | "secrets" | "failed";

export type PlanAction =
  | { kind: "create_app"; app: string; org: string; reason: string }
  | { kind: "allocate_ip"; type: "v6" | "shared_v4"; reason: string }
  | { kind: "run_release"; command: string; image: string; region: string; reason: string }
  | { kind: "reuse_volume"; volumeId: string; name: string; region: string; forMachine: string; reason: string }
  | {
      kind: "create_volume";
      ref: string;
      name: string;
      region: string;
      sizeGb: number;
      requireUniqueZone: boolean;
      forMachine: string;
      reason: string;
      group?: string;
    }
  | {
      kind: "create_machine";
      ref: string;
      region: string;
      image: string;
      /** An existing unattached volume (reuse_volume) ... */
      volumeId?: string;
      /** ... or the ref of a create_volume earlier in this plan; apply substitutes the new volume's id. */
      volumeRef?: string;
      reason: string;
      /** The process group; absent = the config's default group. */
      group?: string;
    }
  | {
      kind: "update_machine";
      machineId: string;
      region: string;
      state: string;
      causes: UpdateCause[];
      from: { image: string; configDigest?: string };
      /** flyctl: machines not started/starting/failed get the new config but stay stopped (skip_launch). */
      skipLaunch: boolean;
      /** The fields that change, live config -> desired (plan/explain.ts); absent when the live config was not read. */
      changes?: FieldChange[];
      volumeId?: string;
      reason: string;
      group?: string;
    }
  | {
      kind: "destroy_machine";
      machineId: string;
      region: string;
      state: string;
      keptVolumeId?: string;
      reason: string;
      group?: string;
    }
  /** Puts a cordoned machine back into the proxy's rotation (left cordoned by an interrupted rolling deploy). */
  | { kind: "uncordon_machine"; machineId: string; region: string; reason: string; group?: string }
  /** Removes the flightdeck_cordon mark from a machine that is not cordoned (a run stopped between the two). */
  | { kind: "clear_cordon_mark"; machineId: string; region: string; reason: string; group?: string }
  /**
   * Writes metadata flightdeck_fleet_size (and flightdeck_group_sizes when set) on a machine the run does not otherwise
   * update (no restart, no new version).
   */
  | {
      kind: "set_fleet_size";
      machineId: string;
      size: number;
      reason: string;
      group?: string;
      groupSizes?: Record<string, number>;
    }
  | { kind: "noop"; reason: string };

export type PlanKind = "deploy" | "scale" | "rollback";

export type Plan = {
  kind: PlanKind;
  app: string;
  target: {
    image: string;
    configDigest: string;
    region: string;
    machineCount: number;
    strategy: Strategy;
    secretsVersion?: number;
    /** Per process group, when fly.toml has [processes]: the digest and count each group aims for. */
    groups?: Record<string, { configDigest: string; machineCount: number; image?: string }>;
    /** Every group's size, written on every machine (flightdeck_group_sizes). */
    groupSizes?: Record<string, number>;
  };
  actions: PlanAction[];
  /** True when any action changes something on Fly; a no-op plan has only `noop`. */
  mutating: boolean;
  /** Machines left alone: other process groups, release/console machines, unmanaged (no fly_platform_version=v2). */
  ignored: { machineId: string; why: string }[];
  /** The update_machine changes collapsed: machines of one group and region that get the same change (plan/explain.ts). */
  changeSets?: ChangeSet[];
  /** Things a person should know; the plan still applies. */
  warnings: string[];
  /** Reasons the plan must not be applied (apply refuses, CLI exits 2). */
  problems: { code: string; message: string }[];
};

/** Machines of one group and region that get the same field changes. `imageOnly`: only the image moves. */
export type ChangeSet = {
  region: string;
  group?: string;
  machines: string[];
  imageOnly: boolean;
  changes: FieldChange[];
};

export const NON_MUTATING_ACTIONS: ReadonlySet<PlanAction["kind"]> = new Set(["noop", "reuse_volume"]);
