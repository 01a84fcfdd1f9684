/**
 * Volumes belong to one machine, so a file is readable only where its volume is mounted. When it is mounted on
 * another running machine the answer is an empty response with `fly-replay: instance=<id>`, and Fly's proxy
 * replays the request there (https://fly.io/docs/networking/dynamic-request-routing/), adding a
 * `fly-replay-src` header to the replayed request.
 * @module
 */

export const LOCAL_MACHINE = "local";

/** Fly's proxy refuses to replay a request whose body is larger than 1 MB (same doc, "Requests larger than 1MB cannot be replayed"). */
export const MAX_REPLAY_BODY_BYTES = 1_000_000;

export function thisMachine(machineId: string | undefined): string {
  return machineId ?? LOCAL_MACHINE;
}

export function wasReplayed(request: Request): boolean {
  return request.headers.has("fly-replay-src");
}

/**
 * 409 with no body: the proxy acts on the header whatever the status, and a client reached without the proxy
 * sees a conflict rather than an empty success.
 */
export function replayResponse(target: string, set?: { status?: number | string }): Response {
  if (set) set.status = 409;
  return new Response(null, { status: 409, headers: { "fly-replay": `instance=${target}` } });
}
