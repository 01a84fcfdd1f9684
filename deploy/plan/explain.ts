/**
 * Puts the field diff (plan/diff.ts) on a Plan: each update_machine gets the changes from its live config to the
 * config apply would send, and machines of one group and region that get the same changes are collapsed into one
 * change set ("5 machines in ewr: ..."), the way `fly machine update` and Terraform show fields rather than a hash.
 * Secrets are listed by name (secrets-diff.ts), never by value. Pure: the live configs are the ones observe() already read.
 *
 * @module
 */

import type { Machine } from "../../lib/fly/types.ts";
import type { DeployConfig } from "../config/flytoml.ts";
import { defaultProcessName } from "../config/flytoml-groups.ts";
import { buildMachineConfig, type MachineConfig } from "../machine/machine-config.ts";
import { diffMachineConfigs, type FieldChange, imageOnly } from "./diff.ts";
import type { ChangeSet, ObservedState, Plan } from "./types.ts";
import { parseSecretDigests, SECRETS_KEY, secretChanges } from "./secrets-diff.ts";

/** `secrets`: the app's names and digests now, compared with what each machine records it was given (secrets-diff.ts). */
export type ExplainInputs = { appVersion?: string; secrets?: ObservedState["secrets"] };

/** The desired config of a group's machines, as apply builds it (release version and volume are not compared). */
function desiredConfig(cfg: DeployConfig, plan: Plan, group: string, inputs: ExplainInputs): MachineConfig {
  const image = plan.target.groups?.[group]?.image ?? plan.target.image;
  return buildMachineConfig(cfg, {
    image,
    releaseVersion: 0,
    processGroup: group,
    ...(inputs.appVersion !== undefined ? { appVersion: inputs.appVersion } : {}),
  });
}

/** Groups update actions with equal changes (same group, region and field list), in plan order. */
export function collapseChanges(
  updates: readonly { machineId: string; region: string; group?: string; changes: FieldChange[] }[],
): ChangeSet[] {
  const sets = new Map<string, ChangeSet>();
  for (const u of updates) {
    const key = JSON.stringify([u.group ?? null, u.region, u.changes]);
    const set = sets.get(key);
    if (set) set.machines.push(u.machineId);
    else
      sets.set(key, {
        region: u.region,
        ...(u.group !== undefined ? { group: u.group } : {}),
        machines: [u.machineId],
        imageOnly: imageOnly(u.changes),
        changes: u.changes,
      });
  }
  return [...sets.values()];
}

/** Returns the plan with `changes` on every update_machine whose live config is known, and `changeSets`. */
export function explainPlan(plan: Plan, cfg: DeployConfig, machines: readonly Machine[], inputs: ExplainInputs): Plan {
  const live = new Map(
    machines.filter((m) => m.id && m.config).map((m) => [m.id as string, m.config as MachineConfig]),
  );
  const desired = new Map<string, MachineConfig>();
  const explained: { machineId: string; region: string; group?: string; changes: FieldChange[] }[] = [];
  const actions = plan.actions.map((a) => {
    if (a.kind !== "update_machine") return a;
    const before = live.get(a.machineId);
    if (!before) return a;
    const group = a.group ?? before.metadata?.fly_process_group ?? defaultProcessName(cfg);
    let after = desired.get(group);
    if (!after) {
      after = desiredConfig(cfg, plan, group, inputs);
      desired.set(group, after);
    }
    const secrets = inputs.secrets
      ? secretChanges(parseSecretDigests(before.metadata?.[SECRETS_KEY]), inputs.secrets)
      : [];
    const changes = [...diffMachineConfigs(before, after), ...secrets];
    explained.push({
      machineId: a.machineId,
      region: a.region,
      ...(a.group !== undefined ? { group: a.group } : {}),
      changes,
    });
    // The digest moves with the image (env APP_VERSION), so "config x -> y" would misexplain an image-only change.
    const reason = imageOnly(changes) ? a.reason.replace(/; config \S+ -> \S+/, "") : a.reason;
    return { ...a, changes, reason };
  });
  return { ...plan, actions, changeSets: collapseChanges(explained) };
}
