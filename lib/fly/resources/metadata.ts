/**
 * Machine metadata: read, set one key, merge several (PATCH), delete. None of these makes a new machine version.
 * @module
 */

import type { LeaseOptions } from "./leases.ts";
import { type Caller, machineParams } from "./call.ts";

export function metadataApi({ call, callJson, callDelete }: Caller) {
  return {
    getMetadata(
      appName: string,
      machineId: string,
      opts: { signal?: AbortSignal } = {},
    ): Promise<Record<string, string>> {
      return callJson<Record<string, string>>("getMetadata", {
        params: machineParams(appName, machineId),
        signal: opts.signal,
      });
    },

    async setMetadata(
      appName: string,
      machineId: string,
      key: string,
      value: string,
      opts: LeaseOptions = {},
    ): Promise<void> {
      await call("setMetadata", {
        params: { ...machineParams(appName, machineId), key },
        body: { value },
        leaseNonce: opts.leaseNonce,
        signal: opts.signal,
      });
    },

    /** Sets several keys at once (PATCH merges; other keys are untouched). 412 if `machineVersion` is stale. */
    async updateMetadata(
      appName: string,
      machineId: string,
      metadata: Record<string, string>,
      opts: LeaseOptions & { machineVersion?: string } = {},
    ): Promise<void> {
      const body = { metadata, ...(opts.machineVersion ? { machine_version: opts.machineVersion } : {}) };
      await call("updateMetadata", {
        params: machineParams(appName, machineId),
        body,
        leaseNonce: opts.leaseNonce,
        signal: opts.signal,
      });
    },

    deleteMetadata(appName: string, machineId: string, key: string, opts: LeaseOptions = {}): Promise<void> {
      return callDelete("deleteMetadata", {
        params: { ...machineParams(appName, machineId), key },
        leaseNonce: opts.leaseNonce,
        signal: opts.signal,
      });
    },
  };
}
