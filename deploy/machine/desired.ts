// DeployConfig + image + fleet size -> the planner's DesiredState. Pure; the one place that decides
// which digest a deploy aims for, so plan, apply and status agree on it.

import type { DeployConfig, Strategy } from "../config/flytoml.ts";
import { defaultProcessName, groupConfig } from "../config/flytoml-groups.ts";
import { DEFAULT_GPU_VOLUME_SIZE_GB } from "../config/flytoml-sections.ts";
import { buildMachineConfig, configDigest } from "./machine-config.ts";
import type { DesiredState, ObservedState } from "../plan/types.ts";

export type DesiredOptions = {
  image: string;
  org: string;
  /** PRODUCTION_MACHINE_COUNT / PREVIEW_MACHINE_COUNT from plan.ts, or `scale --count`. */
  machineCount: number;
  requiredSecrets: readonly string[];
  /** Overrides [deploy] strategy (the --strategy flag). */
  strategy?: Strategy;
  /** Env APP_VERSION; must be derived from the image only, or every deploy would look like a config change. */
  appVersion?: string;
  processGroup?: string;
  /** Where new machines go (regionFor). */
  region: TargetRegion;
  /** Built into the digest like every create/update does (so a machine made by this run plans as up to date). */
  secretsVersion?: number;
};

/** Where new machines and volumes go, and whether machines elsewhere are moved there. */
export type TargetRegion = { region: string; keepRegions: boolean };

/**
 * `primary_region`, else `--region`, else the region most of the app's machines are in (flyctl: a deploy without
 * primary_region leaves machines where they are). Undefined for a first deploy with neither: the caller asks for
 * --region. Only an explicit primary_region moves machines (our planner replaces machines outside it).
 */
export function regionFor(cfg: DeployConfig, observed: ObservedState, flag?: string): TargetRegion | undefined {
  if (cfg.primaryRegion !== undefined) return { region: cfg.primaryRegion, keepRegions: false };
  if (flag !== undefined) return { region: flag, keepRegions: true };
  const counts = new Map<string, number>();
  for (const m of observed.machines)
    if (m.platformVersion === "v2" && m.state !== "destroyed") counts.set(m.region, (counts.get(m.region) ?? 0) + 1);
  const region = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
  return region === undefined ? undefined : { region, keepRegions: true };
}

export function desiredState(cfg: DeployConfig, opts: DesiredOptions): DesiredState {
  const group = opts.processGroup ?? defaultProcessName(cfg);
  const g = groupConfig(cfg, group);
  // The release version is volatile metadata, outside the digest, so any placeholder gives the same digest.
  const config = buildMachineConfig(cfg, {
    image: opts.image,
    releaseVersion: 0,
    processGroup: group,
    ...(opts.appVersion !== undefined ? { appVersion: opts.appVersion } : {}),
    ...(opts.secretsVersion !== undefined ? { secretsVersion: opts.secretsVersion } : {}),
  });
  const desired: DesiredState = {
    app: cfg.app,
    org: opts.org,
    region: opts.region.region,
    image: opts.image,
    configDigest: configDigest(config),
    machineCount: opts.machineCount,
    hasServices: g.httpService !== undefined || g.services.some((s) => s.ports.length > 0),
    requiredSecrets: [...opts.requiredSecrets],
    strategy: opts.strategy ?? cfg.deploy.strategy,
  };
  if (opts.region.keepRegions) desired.keepRegions = true;
  // flyctl deploy: a volume for a GPU machine starts at 100 GB unless initial_size says otherwise.
  if (g.mount)
    desired.volume = {
      name: g.mount.source,
      sizeGb: !g.mount.initialSizeSet && g.vm?.guest.gpuKind ? DEFAULT_GPU_VOLUME_SIZE_GB : g.mount.initialSizeGb,
    };
  if (cfg.deploy.releaseCommand !== undefined) desired.releaseCommand = cfg.deploy.releaseCommand;
  if (opts.processGroup !== undefined) desired.processGroup = opts.processGroup;
  return desired;
}
