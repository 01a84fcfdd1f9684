/**
 * One-off commands on a started machine (POST .../machines/{id}/exec), never replayed after an ambiguous
 * failure: the command may have run.
 * @module
 */

import type { MachineExecResponse } from "../types.ts";
import { type Caller, machineParams, WAIT_MARGIN_MS } from "./call.ts";

export function execApi({ callJson }: Caller) {
  return {
    /**
     * Runs a command on a started machine and returns its output. Never replayed after an ambiguous failure:
     * the command may have run. `timeoutSeconds` bounds the command on Fly's side; the HTTP request waits that
     * long plus a margin. fly-go's MachineExecResponse tags exit_code `omitempty`, so a command that exited 0
     * may come back without the field (the deploy library's exec command reads it that way).
     */
    execMachine(
      appName: string,
      machineId: string,
      input: { command: readonly string[]; timeoutSeconds: number; stdin?: string },
      opts: { signal?: AbortSignal } = {},
    ): Promise<MachineExecResponse> {
      const body = {
        command: [...input.command],
        timeout: input.timeoutSeconds,
        ...(input.stdin !== undefined ? { stdin: input.stdin } : {}),
      };
      return callJson<MachineExecResponse>("execMachine", {
        params: machineParams(appName, machineId),
        body,
        replay: "unsafe",
        timeoutMs: input.timeoutSeconds * 1000 + WAIT_MARGIN_MS,
        signal: opts.signal,
      });
    },
  };
}
