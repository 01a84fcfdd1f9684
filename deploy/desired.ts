// DeployConfig + image + fleet size -> the planner's DesiredState. Pure; the one place that decides
// which digest a deploy aims for, so plan, apply and status agree on it.

import type { DeployConfig, Strategy } from "./flytoml.ts";
import { buildMachineConfig, configDigest } from "./machine-config.ts";
import type { DesiredState } from "./plan-types.ts";

export type DesiredOptions = {
  image: string;
  org: string;
  /** PRODUCTION_MACHINE_COUNT / PREVIEW_MACHINE_COUNT from plan.ts, or `scale --count`. */
  machineCount: number;
  requiredSecrets: string[];
  /** Overrides [deploy] strategy (the --strategy flag). */
  strategy?: Strategy;
  /** Env APP_VERSION; must be derived from the image only, or every deploy would look like a config change. */
  appVersion?: string;
  processGroup?: string;
};

export function desiredState(cfg: DeployConfig, opts: DesiredOptions): DesiredState {
  // The release version is volatile metadata, outside the digest, so any placeholder gives the same digest.
  const config = buildMachineConfig(cfg, {
    image: opts.image,
    releaseVersion: 0,
    ...(opts.appVersion !== undefined ? { appVersion: opts.appVersion } : {}),
    ...(opts.processGroup !== undefined ? { processGroup: opts.processGroup } : {}),
  });
  const desired: DesiredState = {
    app: cfg.app,
    org: opts.org,
    region: cfg.primaryRegion,
    image: opts.image,
    configDigest: configDigest(config),
    machineCount: opts.machineCount,
    hasServices: cfg.httpService !== undefined,
    requiredSecrets: opts.requiredSecrets,
    strategy: opts.strategy ?? cfg.deploy.strategy,
  };
  if (cfg.mount) desired.volume = { name: cfg.mount.source, sizeGb: cfg.mount.initialSizeGb };
  if (cfg.deploy.releaseCommand !== undefined) desired.releaseCommand = cfg.deploy.releaseCommand;
  if (opts.processGroup !== undefined) desired.processGroup = opts.processGroup;
  return desired;
}
