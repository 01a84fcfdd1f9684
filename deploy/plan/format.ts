// A Plan for people: one line per action with its reason, then warnings and problems.
// (`--json` prints the Plan object itself.)

import type { Plan, PlanAction } from "./types.ts";

function describe(a: PlanAction): string {
  const group = "group" in a && a.group !== undefined ? `[${a.group}] ` : "";
  return group + describeAction(a);
}

function describeAction(a: PlanAction): string {
  switch (a.kind) {
    case "create_app":
      return `+ create app ${a.app} in org ${a.org}`;
    case "allocate_ip":
      return `+ allocate ${a.type} IP`;
    case "run_release":
      return `> run release command \`${a.command}\` in ${a.region}`;
    case "reuse_volume":
      return `= reuse volume ${a.volumeId} (${a.name}, ${a.region}) for ${a.forMachine}`;
    case "create_volume":
      return `+ create volume ${a.name} ${a.sizeGb}GB in ${a.region}${a.requireUniqueZone ? " (unique zone)" : ""} for ${a.forMachine}`;
    case "create_machine":
      return `+ create machine ${a.ref} in ${a.region}${a.volumeId ? ` with ${a.volumeId}` : a.volumeRef ? ` with ${a.volumeRef}` : ""}`;
    case "update_machine":
      return `~ update machine ${a.machineId} (${a.region}, ${a.state})${a.skipLaunch ? " [skip launch]" : ""}`;
    case "destroy_machine":
      return `- destroy machine ${a.machineId} (${a.region}, ${a.state})`;
    case "uncordon_machine":
      return `~ uncordon machine ${a.machineId} (${a.region})`;
    case "clear_cordon_mark":
      return `~ clear cordon mark on machine ${a.machineId} (${a.region})`;
    case "set_fleet_size":
      return `~ record fleet size ${a.size} on machine ${a.machineId}`;
    case "noop":
      return "= no changes";
  }
}

export function formatPlan(plan: Plan): string {
  const t = plan.target;
  const counts = t.groups
    ? Object.entries(t.groups)
        .map(([g, x]) => `${g} ${x.machineCount}`)
        .join(", ")
    : `${t.machineCount}`;
  const lines = [`${plan.kind} ${plan.app}: ${t.image}, ${counts} machine(s) in ${t.region}, strategy ${t.strategy}`];
  const width = Math.max(...plan.actions.map((a) => describe(a).length));
  for (const a of plan.actions) lines.push(`  ${describe(a).padEnd(width)}  # ${a.reason}`);
  for (const i of plan.ignored) lines.push(`  (ignored ${i.machineId}: ${i.why})`);
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  for (const p of plan.problems) lines.push(`error: ${p.message}`);
  return lines.join("\n");
}
