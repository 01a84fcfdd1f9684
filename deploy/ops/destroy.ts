// Deleting an app with everything in it (machines, volumes, IPs, secrets), under the fleet lock like every
// other change (fleet-lock.ts): a deploy in progress either finishes first or this waits for it, and a run
// that finds the lock held past --wait-for-lock exits 2 having changed nothing.
//
// The lock's anchor and every leased machine go with the app, so once the delete is accepted there is no
// lease left to release: the lock is abandoned rather than released, and a release that could only fail can
// never turn a finished destroy into an error.
//
// Fly deletes an app asynchronously: DELETE answers 202 and GET app keeps answering for a while. Exit 0 says
// the app is gone, so after the delete is accepted this reads the app again until it answers 404, within a
// bounded wait (default 1 minute); an app still there when the wait runs out is a failure (app_not_deleted)
// whose fix is to run the same command again (it deletes again and waits again).

import type { FlyClient } from "../../lib/fly/client.ts";
import { isFlyApiError } from "../../lib/fly/errors.ts";
import { DeployError } from "../deploy-error.ts";
import { type FleetLock, withFleetLock } from "../fleet/lock.ts";
import type { Output } from "../output.ts";
import { formatMs, pollUntil } from "../apply/waits.ts";

/** How long a destroy waits for Fly to finish removing an app it accepted to delete. */
export const DEFAULT_APP_GONE_TIMEOUT_MS = 60_000;

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
  /** How long to wait, after the delete is accepted, for GET app to answer 404 (default 1 minute). */
  goneTimeoutMs?: number;
  /** First pause between those reads (grows; default 250 ms). */
  pollMs?: number;
}

export interface DeleteAppOptions {
  signal?: AbortSignal;
  goneTimeoutMs?: number;
  pollMs?: number;
  /** The command that retries this delete, for the message when the app outlives the wait. */
  rerun: string;
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
        client,
        app,
        output: opts.output,
        command: "destroy",
        ...(opts.waitForLockMs !== undefined ? { waitForLockMs: opts.waitForLockMs } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        env: opts.env ?? process.env,
      },
      (lock) =>
        deleteAppHoldingLock(client, app, lock, {
          rerun: `bun deploy/run.ts destroy --app ${app} --yes`,
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.goneTimeoutMs !== undefined ? { goneTimeoutMs: opts.goneTimeoutMs } : {}),
          ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
        }),
    );
  } catch (error) {
    // Another run deleted it while this one waited for the lock: what was asked for is done.
    if (error instanceof DeployError && error.code === "app_not_found") return { app, existed: false };
    throw error;
  }
}

/**
 * Deletes the app for a caller that already holds its fleet lock (preview down), abandons the lock, then waits
 * until Fly no longer has the app. Throws DeployError app_not_deleted (exit 1) when it outlives the wait.
 */
export async function deleteAppHoldingLock(
  client: FlyClient,
  app: string,
  lock: FleetLock,
  opts: DeleteAppOptions,
): Promise<DestroyedApp> {
  if (!(await appExists(client, app, opts.signal))) {
    lock.abandon();
    return { app, existed: false };
  }
  await client.deleteApp(app, opts.signal ? { signal: opts.signal } : {});
  lock.abandon();
  await waitAppGone(client, app, opts);
  return { app, existed: true };
}

/** Reads the app until it answers 404 (within opts.goneTimeoutMs), or throws app_not_deleted. */
async function waitAppGone(client: FlyClient, app: string, opts: DeleteAppOptions): Promise<void> {
  const timeoutMs = opts.goneTimeoutMs ?? DEFAULT_APP_GONE_TIMEOUT_MS;
  const gone = await pollUntil(async () => !(await appExists(client, app, opts.signal)), {
    timeoutMs,
    ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (gone) return;
  throw new DeployError(
    "app_not_deleted",
    `Fly accepted the delete of ${app}, but the app still exists ${formatMs(timeoutMs)} later (its machines and leases may already be gone). ` +
      `Run \`${opts.rerun}\` again: it deletes the app again and waits for it to disappear.`,
    1,
    { app, waitedMs: timeoutMs },
  );
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
