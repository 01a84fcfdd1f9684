/**
 * `suspended` is a settled state (auto_stop_machines = "suspend"): a fleet whose proxy suspended some machines is a
 * fleet working as configured. The plan leaves such a machine alone when it is current and updates it with
 * skip_launch when not; verification passes it. Pure: plan and verify only.
 * @module
 */
import { describe, expect, test } from "bun:test";
import { verifyFleet } from "../../../deploy/fleet/verify.ts";
import { type DesiredState, type ObservedMachine, type ObservedState, planDeploy } from "../../../deploy/plan/plan.ts";

const IMAGE = "registry.fly.io/flightdeck:deployment-2";
const OLD = "registry.fly.io/flightdeck:deployment-1";
const DIGEST = "d".repeat(64);

const desired: DesiredState = {
  app: "flightdeck",
  org: "personal",
  region: "ewr",
  image: IMAGE,
  configDigest: DIGEST,
  machineCount: 3,
  hasServices: true,
  requiredSecrets: [],
  strategy: "rolling",
};

const m = (id: string, over: Partial<ObservedMachine> = {}): ObservedMachine => ({
  id,
  region: "ewr",
  state: "started",
  image: IMAGE,
  platformVersion: "v2",
  processGroup: "app",
  configDigest: DIGEST,
  releaseVersion: "2",
  fleetSize: 3,
  cordoned: false,
  ...over,
});

const fleet = (machines: ObservedMachine[]): ObservedState => ({
  app: { exists: true, name: "flightdeck", org: "personal" },
  ips: [
    { address: "2a09:8280:1::1", kind: "public_v6" },
    { address: "66.241.124.1", kind: "public_v4" },
  ],
  secrets: { names: [] },
  volumes: [],
  machines,
});

describe("suspended machines", () => {
  test("a current fleet with suspended machines plans nothing: they are not relaunched", () => {
    const plan = planDeploy(fleet([m("a"), m("b", { state: "suspended" }), m("c", { state: "suspended" })]), desired);
    expect(plan.actions.map((a) => a.kind)).toEqual(["noop"]);
    expect(plan.mutating).toBe(false);
  });

  test("an outdated suspended machine is updated with skip_launch", () => {
    const plan = planDeploy(
      fleet([m("a", { image: OLD }), m("b", { image: OLD, state: "suspended" }), m("c")]),
      desired,
    );
    const updates = plan.actions.flatMap((a) =>
      a.kind === "update_machine" ? [[a.machineId, a.state, a.skipLaunch]] : [],
    );
    expect(updates).toEqual([
      ["a", "started", false],
      ["b", "suspended", true],
    ]);
  });

  test("verification passes suspended machines, and still fails a failed one (and one still suspending)", () => {
    const target = { image: IMAGE, configDigest: DIGEST, region: "ewr", machineCount: 3, strategy: "rolling" as const };
    expect(verifyFleet(fleet([m("a"), m("b", { state: "suspended" }), m("c")]), target).ok).toBe(true);
    // verify judges a reading made once every machine settled (fleet/settle.ts waits for `suspending` to end), so
    // a machine still suspending there outlasted wait_timeout.
    const stuck = verifyFleet(fleet([m("a"), m("b", { state: "suspended" }), m("c", { state: "suspending" })]), target);
    expect(!stuck.ok && stuck.problems).toEqual([
      "machine c is still suspending (it did not settle within wait_timeout)",
    ]);
    const failed = verifyFleet(fleet([m("a"), m("b", { state: "suspended" }), m("c", { state: "failed" })]), target);
    expect(!failed.ok && failed.problems).toEqual(["machine c is failed"]);
  });
});
