/** IP assignments: list, allocate (flyctl's first deploy allocates v6 then shared_v4) and release. @module */

import type { AssignIpRequest, AssignIpResponse, IpAssignment } from "../types.ts";
import { appParams, type Caller } from "./call.ts";

export function ipsApi({ callJson, callDelete }: Caller) {
  return {
    async listIpAssignments(appName: string, opts: { signal?: AbortSignal } = {}): Promise<IpAssignment[]> {
      const body = await callJson<{ ips?: IpAssignment[] }>("listIpAssignments", {
        params: appParams(appName),
        signal: opts.signal,
      });
      return body.ips ?? [];
    },

    /** Allocates an address (flyctl first deploy: `{type:"v6"}` then `{type:"shared_v4"}`). Not replayed blindly. */
    assignIp(
      appName: string,
      input: AssignIpRequest & { type: NonNullable<AssignIpRequest["type"]> },
      opts: { signal?: AbortSignal } = {},
    ): Promise<AssignIpResponse> {
      return callJson<AssignIpResponse>("assignIp", {
        params: appParams(appName),
        body: input,
        replay: "unsafe",
        signal: opts.signal,
      });
    },

    deleteIp(appName: string, ip: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
      return callDelete("deleteIp", { params: { app_name: appName, ip }, signal: opts.signal });
    },
  };
}
