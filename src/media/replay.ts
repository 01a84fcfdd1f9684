/**
 * Volumes belong to one machine, so a file is readable only where its volume is mounted. When it is mounted on
 * another running machine the answer is an empty response with `fly-replay: instance=<id>`, and Fly's proxy
 * replays the request there (https://fly.io/docs/networking/dynamic-request-routing/), adding a
 * `fly-replay-src` header to the replayed request.
 *
 * The holder is only known to have been running at its last heartbeat. `fallback=force_self` (same doc, "Replay
 * Timeout and Fallback") makes the proxy bring the request back here with `fly-replay-failed` when it cannot
 * reach the holder (crashed since), so the client gets this service's 503 instead of a bare proxy error; a
 * fallback request may not be replayed again, and is not.
 * @module
 */

export const LOCAL_MACHINE = "local";

/** Fly's proxy refuses to replay a request whose body is larger than 1 MB (same doc, "Requests larger than 1MB cannot be replayed"). */
export const MAX_REPLAY_BODY_BYTES = 1_000_000;

export function thisMachine(machineId: string | undefined): string {
  return machineId ?? LOCAL_MACHINE;
}

/** Arrived through a replay, or came back from a failed one: either way it must not be replayed (again). */
export function replayState(request: Request): { replayed: boolean; replayFailed: string | undefined } {
  return {
    replayed: request.headers.has("fly-replay-src"),
    replayFailed: request.headers.get("fly-replay-failed") ?? undefined,
  };
}

/** How long the proxy may try to reach the holder before falling back here. */
export const REPLAY_TIMEOUT = "5s";

/**
 * 409 with no body: the proxy acts on the header whatever the status, and a client reached without the proxy
 * sees a conflict rather than an empty success.
 */
export function replayResponse(target: string, set?: { status?: number | string }): Response {
  if (set) set.status = 409;
  return new Response(null, {
    status: 409,
    headers: { "fly-replay": `instance=${target};timeout=${REPLAY_TIMEOUT};fallback=force_self` },
  });
}
