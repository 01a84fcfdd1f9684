/**
 * Volumes belong to one machine, so a file is readable only where it was written. When its row names another
 * machine, the answer is an empty response with `fly-replay: instance=<id>`, and Fly's proxy replays the
 * request on that machine (https://fly.io/docs/networking/dynamic-request-routing/). Without FLY_MACHINE_ID
 * (local runs, tests) every file is local.
 * @module
 */

export const LOCAL_MACHINE = "local";

export function thisMachine(machineId: string | undefined): string {
  return machineId ?? LOCAL_MACHINE;
}

/** The machine to replay to, or undefined when the file is here. */
export function replayTarget(fileMachine: string, currentMachine: string | undefined): string | undefined {
  if (currentMachine === undefined) return undefined;
  return fileMachine === currentMachine ? undefined : fileMachine;
}

/**
 * 409 with no body: the proxy acts on the header whatever the status, and a client reached without the proxy
 * sees a conflict rather than an empty success.
 */
export function replayResponse(target: string, set?: { status?: number | string }): Response {
  if (set) set.status = 409;
  return new Response(null, { status: 409, headers: { "fly-replay": `instance=${target}` } });
}
