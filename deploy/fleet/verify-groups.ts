// verify.ts's promise for an app with process groups: every group of fly.toml runs its own digest and count (and
// the image the plan gave it), so exit 0 covers the worker group as much as the web one. Pure.

import type { DeployConfig } from "../config/flytoml.ts";
import { defaultProcessName } from "../config/flytoml-groups.ts";
import type { ObservedState, Plan } from "../plan/types.ts";
import { type Verification, type VerifiedMachine, verifyFleet } from "./verify.ts";

export function verifyGroups(state: ObservedState, target: Plan["target"], cfg: DeployConfig): Verification {
  if (!target.groups) return verifyFleet(state, target, defaultProcessName(cfg));
  const machines: VerifiedMachine[] = [];
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const [group, want] of Object.entries(target.groups)) {
    const v = verifyFleet(
      state,
      {
        ...target,
        image: want.image ?? target.image,
        configDigest: want.configDigest,
        machineCount: want.machineCount,
      },
      group,
    );
    machines.push(...v.machines);
    if (!v.ok) problems.push(...v.problems.map((p) => `group ${group}: ${p}`));
    warnings.push(...v.warnings.map((w) => `group ${group}: ${w}`));
  }
  machines.sort((a, b) => a.id.localeCompare(b.id));
  return problems.length === 0 ? { ok: true, machines, warnings } : { ok: false, machines, problems, warnings };
}
