/**
 * Which machines are the fleet, and which of them are ours to manage: the one definition plan, the fleet lock,
 * verify, apply and the CLI read. flyctl's `ListFlyAppsMachines` (flyctl-behaviours.md §2.1 step 3): a machine
 * counts when it is not destroyed or being destroyed, carries `fly_platform_version=v2` (flyctl's mark on the
 * machines a deploy made) and is not one of Fly's own machines (the release command's, a console's). The fleet
 * lock's anchor machine (fleet/lock.ts) is the lock, not a member. Pure: it reads the machine, nothing else.
 * @module
 */

import type { Machine } from "../../lib/fly/types.ts";
import { DEFAULT_PROCESS_GROUP } from "../config/flytoml-groups.ts";
import { METADATA, RELEASE_COMMAND_GROUP } from "../machine/machine-config.ts";
import type { ObservedMachine } from "../plan/types.ts";

export { DEFAULT_PROCESS_GROUP };

/** Machines API states of a machine that is gone or going: never part of the fleet, never waited on. */
const GONE_STATES: ReadonlySet<string> = new Set(["destroyed", "destroying"]);

/** flyctl's `fly_app_console` group: `fly console` machines. */
export const CONSOLE_GROUP = "fly_app_console";

/** Fly's own machines, by process group, and why the plan leaves them alone (flyctl `ListFlyAppsMachines`). */
export const FLY_OWN_GROUPS: Readonly<Record<string, string>> = {
  [RELEASE_COMMAND_GROUP]: "release command machine",
  [CONSOLE_GROUP]: "console machine",
};

/** Not destroyed and not being destroyed. */
export function isLive(machine: { state?: string }): boolean {
  return machine.state === undefined || !GONE_STATES.has(machine.state);
}

/** A release-command or console machine: Fly's, not a group of the app. */
export function isFlyOwnGroup(group: string): boolean {
  return Object.hasOwn(FLY_OWN_GROUPS, group);
}

/**
 * A machine's process group. A machine without the metadata counts as `fallback`: "app" (flyctl's default
 * group) unless the caller plans one named group, whose unlabelled machines it takes as its own.
 */
export function groupOf(machine: Pick<ObservedMachine, "processGroup">, fallback = DEFAULT_PROCESS_GROUP): string {
  return machine.processGroup ?? fallback;
}

/** The same for a machine as the Machines API lists it. */
export function groupOfApiMachine(machine: Pick<Machine, "config">): string {
  return machine.config?.metadata?.[METADATA.processGroup] ?? DEFAULT_PROCESS_GROUP;
}

/** A live v2 machine of the app (any of its groups), not Fly's own: ours to manage. */
export function isMember(machine: ObservedMachine): boolean {
  return isLive(machine) && machine.platformVersion === "v2" && !isFlyOwnGroup(groupOf(machine));
}

/** The same for a machine as the Machines API lists it (the anchor is not listed here: see fleet/lock.ts). */
export function isApiMember(machine: Machine): boolean {
  return (
    isLive(machine) &&
    machine.config?.metadata?.[METADATA.platformVersion] === "v2" &&
    !isFlyOwnGroup(groupOfApiMachine(machine))
  );
}

/** The members of one process group, by machine id. */
export function groupMembers(machines: readonly ObservedMachine[], group = DEFAULT_PROCESS_GROUP): ObservedMachine[] {
  return machines.filter((m) => isMember(m) && groupOf(m) === group).sort((a, b) => a.id.localeCompare(b.id));
}
