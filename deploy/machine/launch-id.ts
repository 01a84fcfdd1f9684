/**
 * One create's own tag: a unique id in the new machine's metadata, so a create whose answer never came (a
 * timeout, a dropped connection, a 5xx) can be found on Fly before anything is created again. flyctl does the
 * same for its bluegreen greens (metadata `fly_flyctl_bluegreen_launch_id`, an idempotency ULID;
 * internal/command/deploy/strategy_bluegreen.go). Bookkeeping only: volatile for the digest
 * (machine-config.ts), not a field the plan's diff shows (plan/diff.ts compares what fly.toml decides), and an
 * update does not carry it on (a later deploy sends the desired config, which has none). Pure.
 * @module
 */

import type { MachineConfig } from "../../lib/fly/types.ts";

export const LAUNCH_ID_KEY = "flightdeck_launch_id";

/** A fresh id for one create (one per create call, shared by its retries). */
export function newLaunchId(): string {
  return crypto.randomUUID();
}

/** The config a create sends: the desired one, tagged with the create's launch id. */
export function withLaunchId(config: MachineConfig, launchId: string): MachineConfig {
  return { ...config, metadata: { ...config.metadata, [LAUNCH_ID_KEY]: launchId } };
}

/** The launch id a machine was created with, if it carries one. */
export function launchIdOf(machine: { config?: MachineConfig }): string | undefined {
  return machine.config?.metadata?.[LAUNCH_ID_KEY];
}
