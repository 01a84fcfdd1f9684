// The one definition of the fleet (deploy/fleet/members.ts): which machines plan, lock, verify, apply and the CLI
// count as ours, on both shapes a machine has (as observed, and as the Machines API lists it).
import { describe, expect, test } from "bun:test";
import {
  DEFAULT_PROCESS_GROUP,
  groupMembers,
  groupOf,
  groupOfApiMachine,
  isApiMember,
  isFlyOwnGroup,
  isLive,
  isMember,
} from "../../../deploy/fleet/members.ts";
import type { ObservedMachine } from "../../../deploy/plan/types.ts";
import type { Machine } from "../../../lib/fly/types.ts";

function observed(id: string, over: Partial<ObservedMachine> = {}): ObservedMachine {
  return { id, region: "ewr", state: "started", image: "img:1", configDigest: "d", platformVersion: "v2", ...over };
}

function api(id: string, state: string, metadata: Record<string, string>): Machine {
  return { id, state, config: { image: "img:1", metadata } } as Machine;
}

describe("observed machines", () => {
  test("live v2 machines of any app group are members; gone, unmanaged and Fly's own are not", () => {
    const machines = [
      observed("a"),
      observed("b", { processGroup: "worker" }),
      observed("c", { state: "destroyed" }),
      observed("d", { state: "destroying" }),
      observed("e", { platformVersion: undefined }),
      observed("f", { processGroup: "fly_app_release_command" }),
      observed("g", { processGroup: "fly_app_console" }),
      observed("h", { state: "stopped" }),
    ];
    expect(machines.filter(isMember).map((m) => m.id)).toEqual(["a", "b", "h"]);
  });

  test("groupMembers: one group, sorted by id; a machine without a group is in the default group", () => {
    const machines = [observed("z"), observed("b", { processGroup: "worker" }), observed("a", { processGroup: "app" })];
    expect(groupMembers(machines).map((m) => m.id)).toEqual(["a", "z"]);
    expect(groupMembers(machines, "worker").map((m) => m.id)).toEqual(["b"]);
    expect(DEFAULT_PROCESS_GROUP).toBe("app");
    expect(groupOf(observed("x"))).toBe("app");
    expect(groupOf(observed("x"), "web")).toBe("web");
    expect(groupOf(observed("x", { processGroup: "worker" }), "web")).toBe("worker");
  });

  test("Fly's own groups are exactly flyctl's ListFlyAppsMachines exclusions", () => {
    expect(isFlyOwnGroup("fly_app_release_command")).toBe(true);
    expect(isFlyOwnGroup("fly_app_console")).toBe(true);
    expect(isFlyOwnGroup("app")).toBe(false);
    expect(isFlyOwnGroup("fly_app_something_else")).toBe(false);
  });
});

describe("machines as the Machines API lists them", () => {
  test("the same rule on metadata", () => {
    const machines = [
      api("a", "started", { fly_platform_version: "v2" }),
      api("b", "stopped", { fly_platform_version: "v2", fly_process_group: "worker" }),
      api("c", "destroying", { fly_platform_version: "v2" }),
      api("d", "started", {}),
      api("e", "started", { fly_platform_version: "v2", fly_process_group: "fly_app_release_command" }),
    ];
    expect(machines.filter(isApiMember).map((m) => m.id)).toEqual(["a", "b"]);
    expect(machines.map(groupOfApiMachine)).toEqual(["app", "worker", "app", "app", "fly_app_release_command"]);
    expect(machines.map(isLive)).toEqual([true, true, false, true, true]);
  });
});
