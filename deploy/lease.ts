// Machine leases, the way flyctl holds them (flyctl-behaviours.md §2.5): take a short lease (13 s), refresh
// it every (13 - 1) / 3 = 4 s while the work runs, send its nonce on every mutating call, and release it
// afterwards — also when the work failed or was aborted, so a re-run is not locked out for the TTL.

import type { FlyClient } from "../lib/fly/client.ts";
import { isFlyApiError } from "../lib/fly/errors.ts";
import { DeployError } from "./deploy-error.ts";

export interface LeaseContext {
  client: FlyClient;
  app: string;
  ttlSeconds?: number;
  /**
   * How long to wait for someone else's lease to go away before giving up. A killed earlier run of ours
   * leaves a lease that expires within its TTL, so the default waits just past one TTL.
   */
  waitForLeaseMs?: number;
  signal?: AbortSignal;
  onWarning?: (message: string) => void;
}

const DEFAULT_TTL_SECONDS = 13;

export async function withLease<T>(ctx: LeaseContext, machineId: string, work: (nonce: string) => Promise<T>): Promise<T> {
  const ttlSeconds = ctx.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  const nonce = await acquire(ctx, machineId, ttlSeconds);
  let refreshing: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    refreshing = ctx.client.refreshLease(ctx.app, machineId, nonce, { ttlSeconds }).catch((error: unknown) => {
      ctx.onWarning?.(`could not refresh the lease on machine ${machineId}: ${error instanceof Error ? error.message : String(error)}`);
    });
  }, ((ttlSeconds - 1) * 1000) / 3);
  try {
    return await work(nonce);
  } finally {
    clearInterval(timer);
    await refreshing;
    // No abort signal here: the release must go out even when the run itself was aborted.
    await ctx.client.releaseLease(ctx.app, machineId, nonce).catch((error: unknown) => {
      // A destroyed machine has no lease left to release.
      if (isFlyApiError(error) && error.status === 404) return;
      ctx.onWarning?.(`could not release the lease on machine ${machineId} (it expires in ${ttlSeconds}s): ${error instanceof Error ? error.message : String(error)}`);
    });
  }
}

async function acquire(ctx: LeaseContext, machineId: string, ttlSeconds: number): Promise<string> {
  const deadline = Date.now() + (ctx.waitForLeaseMs ?? (ttlSeconds + 2) * 1000);
  let delay = 250;
  for (;;) {
    try {
      const lease = await ctx.client.acquireLease(ctx.app, machineId, { ttlSeconds, description: "flightdeck deploy", signal: ctx.signal });
      if (!lease.nonce) throw new DeployError("api_error", `lease on machine ${machineId} came back without a nonce`);
      return lease.nonce;
    } catch (error) {
      if (!(isFlyApiError(error) && error.status === 409)) throw error;
      if (Date.now() + delay > deadline) {
        const holder = await ctx.client.getLease(ctx.app, machineId).catch(() => undefined);
        const who = holder?.owner ? ` by ${holder.owner}${holder.description ? ` (${holder.description})` : ""}` : "";
        throw new DeployError(
          "lease_held",
          `machine ${machineId} is leased${who}: another deploy or flyctl command is changing it. Wait for it to finish (or for its lease to expire) and run again.`,
          1,
          { machineId, owner: holder?.owner },
        );
      }
      await sleep(delay, ctx.signal);
      delay = Math.min(delay * 2, 2000);
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function abortError(signal: AbortSignal): DeployError {
  const reason = signal.reason instanceof Error ? signal.reason.message : signal.reason ? String(signal.reason) : "aborted";
  return new DeployError("aborted", `deploy aborted: ${reason}`);
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}
