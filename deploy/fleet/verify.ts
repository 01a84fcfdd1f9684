// The check behind exit 0 (DESIGN.md: "exit 0 is a promise"): the fleet as re-read after the run, compared with
// what the run was for. Every managed machine runs the target image and config digest, none is failed,
// being replaced or gone, and there are as many as desired. A machine the proxy stopped since (autostop) is
// fine: that is the fleet working as configured. The reading is one made after every machine settled
// (settle.ts: transient means ask again), so a transient state here is one that outlasted wait_timeout.
// Pure; deploy.ts does the read.
//
// Cordons: one a run left (flightdeck_cordon mark) is a problem, the deploy did not finish. One a person made
// is theirs: it does not fail the deploy (it would fail every deploy until they lift it), it is a warning
// naming the machine, and the machine counts as not serving: when none of the group's machines serves, the
// app answers nothing, and that is not exit 0.

import type { ObservedMachine, ObservedState, Plan } from "../plan/types.ts";
import { DEFAULT_PROCESS_GROUP, groupMembers, isLive } from "./members.ts";
import { isTransient } from "./settle.ts";

/**
 * Settled states of a machine that runs (or will run, on demand) the config it was given. A transient one
 * (settle.ts) was read again until it landed, so one still transient here did not settle within wait_timeout.
 */
const SETTLED_OK = new Set(["started", "stopped", "suspended", "created"]);

function stateProblem(state: string): string {
  return isTransient(state) ? `is still ${state} (it did not settle within wait_timeout)` : `is ${state}`;
}

export interface VerifiedMachine {
  id: string;
  region: string;
  state: string;
  image: string;
  release: string | null;
}

export type Verification =
  | { ok: true; machines: VerifiedMachine[]; warnings: string[] }
  | { ok: false; machines: VerifiedMachine[]; problems: string[]; warnings: string[] };

function managed(state: ObservedState, group: string): ObservedMachine[] {
  return groupMembers(state.machines, group);
}

/** A cordon a run left (it carries the flightdeck_cordon mark): that run did not finish. */
const leftCordonedByDeploy = (m: ObservedMachine) => m.cordoned === true && m.deployCordon === true;
const LEFT_CORDONED = "is still cordoned by a deploy (the proxy sends it no requests); run deploy again";

export function verifyFleet(state: ObservedState, target: Plan["target"], group = DEFAULT_PROCESS_GROUP): Verification {
  const machines = managed(state, group);
  const problems: string[] = [];
  const warnings: string[] = [];
  const handCordoned: string[] = [];
  for (const m of machines) {
    const differs: string[] = [];
    if (m.image !== target.image) differs.push(`runs ${m.image || "no image"}`);
    if (m.configDigest !== target.configDigest)
      differs.push(`config ${m.configDigest ?? "unknown"} (want ${target.configDigest})`);
    if (!SETTLED_OK.has(m.state)) differs.push(stateProblem(m.state));
    if (leftCordonedByDeploy(m)) differs.push(LEFT_CORDONED);
    else if (m.cordoned === true) {
      handCordoned.push(m.id);
      warnings.push(`machine ${m.id} is cordoned by someone else and was left alone: the proxy sends it no requests`);
    }
    if (differs.length > 0) problems.push(`machine ${m.id} ${differs.join(", ")}`);
  }
  if (machines.length !== target.machineCount)
    problems.push(`${machines.length} machine(s), want ${target.machineCount}`);
  if (machines.length > 0 && handCordoned.length === machines.length) {
    problems.push(
      `no machine serves: every one (${handCordoned.join(", ")}) is cordoned by someone else; the proxy has nowhere to send requests until one is uncordoned`,
    );
  }
  const view = machines.map((m) => ({
    id: m.id,
    region: m.region,
    state: m.state,
    image: m.image,
    release: m.releaseVersion ?? null,
  }));
  return problems.length === 0
    ? { ok: true, machines: view, warnings }
    : { ok: false, machines: view, problems, warnings };
}

/**
 * A secrets roll's promise: every machine it rolled is still there, carries the new secrets version and runs
 * (or was left stopped by the proxy). Each machine keeps its own image and config, so those are not compared.
 */
export function verifySecretsRoll(state: ObservedState, rolled: readonly string[], version: number): string[] {
  const byId = new Map(state.machines.map((m) => [m.id, m]));
  const problems: string[] = [];
  for (const id of rolled) {
    const m = byId.get(id);
    if (!m || !isLive(m)) problems.push(`machine ${id} is gone`);
    else if ((m.secretsVersion ?? 0) < version)
      problems.push(`machine ${id} is on secrets version ${m.secretsVersion ?? "unknown"}, want ${version}`);
    else if (!SETTLED_OK.has(m.state)) problems.push(`machine ${id} ${stateProblem(m.state)}`);
    // The roll cordons each serving machine for its restart; one it left cordoned serves nothing.
    else if (leftCordonedByDeploy(m)) problems.push(`machine ${id} ${LEFT_CORDONED}`);
  }
  return problems;
}
