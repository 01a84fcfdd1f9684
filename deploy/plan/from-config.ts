// fly.toml + the observed app + the CLI's choices -> the Plan for deploy, scale or rollback. Pure. One group (no
// [processes]) plans exactly as before; with [processes] every group gets its own desired state (its command, services,
// mounts, VM and count) and plan-groups.ts merges them.

import type { DeployConfig, Strategy } from "../config/flytoml.ts";
import { defaultProcessName, httpGroups, processNames } from "../config/flytoml-groups.ts";
import { type DesiredOptions, desiredState, type TargetRegion } from "../machine/desired.ts";
import { anyCurrentImage, planGroups, recordedGroupSize, removeDroppedGroups } from "./groups.ts";
import type { ObservedState, Plan } from "./types.ts";
import { ipv4Needed } from "../config/public-address.ts";
import { currentImage, planDeploy, planRollback, planScale, recordedFleetSize } from "./plan.ts";

export type PlanMode =
  | { kind: "deploy" }
  | { kind: "scale"; count: number; group?: string }
  | { kind: "rollback"; image: string };

export type PlanInputs = {
  image: string;
  org: string;
  region: TargetRegion;
  requiredSecrets: readonly string[];
  appVersion: string;
  strategy?: Strategy;
  secretsVersion?: number;
  /** Every group's count (previews: 1 each); default: what the machines record. */
  machineCount?: number;
};

/** The groups whose size follows production's 1-5 rule: those serving [http_service], else the default group. */
export function primaryGroups(cfg: DeployConfig): string[] {
  const http = httpGroups(cfg);
  return http.length > 0 ? http : [defaultProcessName(cfg)];
}

/** Whether fly.toml names its process groups ([processes]); without, the one group "app" plans as it always has. */
export function hasProcessGroups(cfg: DeployConfig): boolean {
  return Object.keys(cfg.processes).length > 0;
}

/** The image scale copies: the one the group runs, else the one the app runs (a group coming back from 0). */
export function scaleImage(cfg: DeployConfig, observed: ObservedState, group?: string): string | undefined {
  if (!hasProcessGroups(cfg)) return currentImage(observed);
  return currentImage(observed, group ?? defaultProcessName(cfg)) ?? anyCurrentImage(observed, processNames(cfg));
}

export function planForConfig(cfg: DeployConfig, observed: ObservedState, inputs: PlanInputs, mode: PlanMode): Plan {
  let plan = planByGroup(cfg, observed, inputs, mode);
  if (mode.kind === "deploy") plan = removeDroppedGroups(plan, observed, processNames(cfg));
  if (plan.actions.some((a) => a.kind === "allocate_ip" && a.type === "shared_v4") && ipv4Needed(cfg) === "dedicated") {
    plan.warnings.push(
      "[[services]] use UDP or ports other than HTTP on 80 and HTTP+TLS on 443, which a shared IPv4 does not carry (flyctl DetermineIPType): they are reachable over IPv6 only until a dedicated IPv4 is allocated in the Fly dashboard",
    );
  }
  return plan;
}

function planByGroup(cfg: DeployConfig, observed: ObservedState, inputs: PlanInputs, mode: PlanMode): Plan {
  const base: Omit<DesiredOptions, "machineCount"> = {
    image: inputs.image,
    org: inputs.org,
    region: inputs.region,
    requiredSecrets: inputs.requiredSecrets,
    appVersion: inputs.appVersion,
    ...(inputs.strategy ? { strategy: inputs.strategy } : {}),
    ...(inputs.secretsVersion !== undefined ? { secretsVersion: inputs.secretsVersion } : {}),
  };
  if (!hasProcessGroups(cfg)) {
    const desired = desiredState(cfg, { ...base, machineCount: inputs.machineCount ?? recordedFleetSize(observed) });
    if (mode.kind === "scale") return planScale(observed, desired, mode.count);
    if (mode.kind === "rollback") return planRollback(observed, desired, mode.image);
    return planDeploy(observed, desired);
  }
  const groups = processNames(cfg);
  const primary = new Set(primaryGroups(cfg));
  const scaled = mode.kind === "scale" ? (mode.group ?? defaultProcessName(cfg)) : undefined;
  const sizes: Record<string, number> = {};
  for (const g of groups)
    sizes[g] =
      g === scaled && mode.kind === "scale"
        ? mode.count
        : (inputs.machineCount ?? recordedGroupSize(observed, { name: g, primary: primary.has(g) }));
  const desireds = groups.map((g) => {
    const image =
      mode.kind === "scale"
        ? (currentImage(observed, g) ?? inputs.image)
        : mode.kind === "rollback"
          ? mode.image
          : inputs.image;
    const d = desiredState(cfg, { ...base, image, processGroup: g, machineCount: sizes[g] ?? 0 });
    return { ...d, minCount: primary.has(g) && mode.kind !== "scale" ? 1 : 0, groupSizes: sizes };
  });
  const plan = planGroups(observed, desireds, mode.kind);
  if (mode.kind === "scale" && anyCurrentImage(observed, groups) === undefined && (sizes[scaled ?? ""] ?? 0) > 0) {
    plan.problems.push({
      code: "nothing_to_scale",
      message: `app ${cfg.app} has no machines to copy; run deploy first`,
    });
  }
  return plan;
}
