/**
 * Machine leases: acquire, refresh, release, read. Responses come in two documented shapes (spec: the lease flat;
 * docs and fly-go: `{status, data}`), and both are read.
 * @module
 */

import { isFlyApiError } from "../errors.ts";
import type { RouteName } from "../routes.ts";
import type { Reply } from "../transport.ts";
import type { Lease } from "../types.ts";
import { type Caller, invalidResponse, machineParams, parseJson } from "./call.ts";

/** For calls on a machine that may be leased: our nonce, sent as `fly-machine-lease-nonce`. */
export interface LeaseOptions {
  leaseNonce?: string;
  signal?: AbortSignal;
}

export function leasesApi({ call, callDelete }: Caller) {
  return {
    /**
     * Takes the machine's lease (flyctl: 13 s TTL, refreshed every 4 s). Not replayed after an ambiguous
     * failure: if the first attempt won, a replay would meet our own lease as a 409 and we would not know its
     * nonce. The response is parsed in both documented shapes (spec: flat; docs/fly-go: `{status, data}`).
     */
    async acquireLease(
      appName: string,
      machineId: string,
      opts: { ttlSeconds?: number; description?: string; signal?: AbortSignal } = {},
    ): Promise<Lease> {
      const body = { ttl: opts.ttlSeconds ?? 13, ...(opts.description ? { description: opts.description } : {}) };
      const reply = await call("acquireLease", {
        params: machineParams(appName, machineId),
        body,
        replay: "unsafe",
        signal: opts.signal,
      });
      return unwrapLease(
        parseJson<unknown>(reply, "acquireLease", machineParams(appName, machineId)),
        reply,
        "acquireLease",
        machineParams(appName, machineId),
      );
    },

    /** Extends our lease: the same POST carrying our nonce (safe to replay, the nonce names the lease). */
    async refreshLease(
      appName: string,
      machineId: string,
      nonce: string,
      opts: { ttlSeconds?: number; signal?: AbortSignal } = {},
    ): Promise<Lease> {
      const reply = await call("acquireLease", {
        params: machineParams(appName, machineId),
        body: { ttl: opts.ttlSeconds ?? 13 },
        leaseNonce: nonce,
        signal: opts.signal,
      });
      return unwrapLease(
        parseJson<unknown>(reply, "acquireLease", machineParams(appName, machineId)),
        reply,
        "acquireLease",
        machineParams(appName, machineId),
      );
    },

    releaseLease(
      appName: string,
      machineId: string,
      nonce: string,
      opts: { signal?: AbortSignal } = {},
    ): Promise<void> {
      return callDelete("releaseLease", {
        params: machineParams(appName, machineId),
        leaseNonce: nonce,
        signal: opts.signal,
      });
    },

    /** The current lease, or undefined when the machine has none (404). */
    async getLease(
      appName: string,
      machineId: string,
      opts: { signal?: AbortSignal } = {},
    ): Promise<Lease | undefined> {
      try {
        const reply = await call("getLease", { params: machineParams(appName, machineId), signal: opts.signal });
        return unwrapLease(
          parseJson<unknown>(reply, "getLease", machineParams(appName, machineId)),
          reply,
          "getLease",
          machineParams(appName, machineId),
        );
      } catch (error) {
        if (isFlyApiError(error) && error.status === 404) return undefined;
        throw error;
      }
    },
  };
}

function unwrapLease(body: unknown, reply: Reply, route: RouteName, params: Record<string, string>): Lease {
  const record = (body ?? {}) as Record<string, unknown>;
  const lease = (record.data && typeof record.data === "object" ? record.data : record) as Lease;
  if (typeof lease.nonce !== "string" && route === "acquireLease") {
    throw invalidResponse(reply, route, params, "lease response has no nonce");
  }
  return lease;
}
