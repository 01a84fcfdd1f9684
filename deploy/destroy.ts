// Deleting an app with everything in it (machines, volumes, IPs, secrets), under the fleet lock like every
// other change (fleet-lock.ts): a deploy in progress either finishes first or this waits for it, and a run
// that finds the lock held past --wait-for-lock exits 2 having changed nothing.
//
// The lock's anchor and every leased machine go with the app, so once the delete is accepted there is no
// lease left to release: the lock is abandoned rather than released, and a release that could only fail can
// never turn a finished destroy into an error.

import type { FlyClient } from "../lib/fly/client.ts";
import { isFlyApiError } from "../lib/fly/errors.ts";
import { DeployError } from "./deploy-error.ts";
import { type FleetLock, withFleetLock } from "./fleet-lock.ts";
import type { Output } from "./output.ts";

export interface DestroyedApp {
  app: string;
  /** False when there was nothing to delete (never created, or deleted by another run meanwhile). */
  existed: boolean;
}

export interface DestroyAppOptions {
  output: Output;
  /** How long to wait for another run's fleet lock (--wait-for-lock; default 2 minutes). */
  waitForLockMs?: number;
  signal?: AbortSignal;
  env?: Record<string, string | undefined>;
}

/**
 * Takes the fleet lock and deletes the app. An app that is already gone is success, so cleanup can be re-run.
 * Knows nothing about previews: callers decide what may be destroyed (preview.ts guards production).
 */
export async function destroyApp(client: FlyClient, app: string, opts: DestroyAppOptions): Promise<DestroyedApp> {
  if (!(await appExists(client, app, opts.signal))) return { app, existed: false };
  try {
    return await withFleetLock(
      {
        client, app, output: opts.output, command: "destroy",
        ...(opts.waitForLockMs !== undefined ? { waitForLockMs: opts.waitForLockMs } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        env: opts.env ?? process.env,
      },
      (lock) => deleteAppHoldingLock(client, app, lock, { signal: opts.signal }),
    );
  } catch (error) {
    // Another run deleted it while this one waited for the lock: what was asked for is done.
    if (error instanceof DeployError && error.code === "app_not_found") return { app, existed: false };
    throw error;
  }
}

/** Deletes the app for a caller that already holds its fleet lock (preview down), then abandons the lock. */
export async function deleteAppHoldingLock(client: FlyClient, app: string, lock: FleetLock, opts: { signal?: AbortSignal } = {}): Promise<DestroyedApp> {
  if (!(await appExists(client, app, opts.signal))) {
    lock.abandon();
    return { app, existed: false };
  }
  await client.deleteApp(app, opts);
  lock.abandon();
  return { app, existed: true };
}

/** Whether GET app answers (false on 404: not there, or not there yet / any more). */
export async function appExists(client: FlyClient, app: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await client.getApp(app, signal ? { signal } : {});
    return true;
  } catch (error) {
    if (isFlyApiError(error) && error.status === 404) return false;
    throw error;
  }
}
