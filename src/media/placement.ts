/**
 * Where a file's bytes can be served from, decided from its row, the volume this machine holds and the volume
 * table. Pure: the routes turn the answer into a local read, a `fly-replay`, or a 503.
 *
 * "Running" means the holder refreshed its volume's seen_at within `staleAfterMs` (three heartbeats, see
 * src/media/volume.ts) and has not marked it stopped on a graceful shutdown. A machine that died without
 * shutting down is therefore replayed to for at most that long; Fly's proxy answers those replays with an error.
 * @module
 */
import type { FileRecord } from "../db/repository.ts";
import type { VolumeRecord } from "../db/volumes-repository.ts";

export type Placement =
  | { kind: "here" }
  | { kind: "replay"; machineId: string }
  | { kind: "unavailable"; code: string; message: string; volumeId: string | null; machineId: string | null };

export interface PlacementInput {
  file: Pick<FileRecord, "volumeId" | "machineId">;
  /** The volume this machine holds. */
  volumeId: string;
  /** FLY_MACHINE_ID; undefined when no Fly proxy is in front (local runs), so nothing can be replayed. */
  machineId: string | undefined;
  holder: VolumeRecord | undefined;
  /** The request arrived through a replay (Fly-Replay-Src): it is never replayed again. */
  replayed: boolean;
  /** The proxy could not reach the holder and brought the request back (Fly-Replay-Failed): no second try. */
  replayFailed?: string;
  now: number;
  staleAfterMs: number;
}

export function isRunning(
  volume: Pick<VolumeRecord, "seenAt" | "stoppedAt">,
  now: number,
  staleAfterMs: number,
): boolean {
  return volume.stoppedAt === null && now - volume.seenAt.getTime() <= staleAfterMs;
}

export function placeFile(input: PlacementInput): Placement {
  const { file, holder } = input;
  if (file.volumeId === input.volumeId) return { kind: "here" };
  const unavailable = (code: string, message: string): Placement => ({
    kind: "unavailable",
    code,
    message,
    volumeId: file.volumeId,
    machineId: holder?.machineId ?? null,
  });

  if (file.volumeId === null) {
    return unavailable(
      "volume_not_recorded",
      `the file was written by machine ${file.machineId} before volumes were recorded; it is served again once that machine has started`,
    );
  }
  if (input.replayFailed !== undefined) {
    const reason = /(?:^|;)\s*reason=([a-z_]+)/.exec(input.replayFailed)?.[1] ?? "unknown";
    return unavailable(
      "volume_unreachable",
      `the file is on volume ${file.volumeId}${holder ? ` (machine ${holder.machineId})` : ""}, which the proxy could not reach (${reason})`,
    );
  }
  if (input.replayed) {
    return unavailable(
      "file_not_on_this_volume",
      `this request was replayed here, but the file is on volume ${file.volumeId}${holder ? ` (machine ${holder.machineId})` : ""}; a replayed request is not replayed again`,
    );
  }
  if (!holder)
    return unavailable("volume_unavailable", `the file is on volume ${file.volumeId}, which no machine has registered`);
  if (!isRunning(holder, input.now, input.staleAfterMs)) {
    return unavailable(
      "volume_unavailable",
      `the file is on volume ${file.volumeId}, held by machine ${holder.machineId}, which is not running (last seen ${holder.seenAt.toISOString()})`,
    );
  }
  if (input.machineId === undefined || holder.machineId === input.machineId) {
    return unavailable("volume_unavailable", `the file is on volume ${file.volumeId}, which this machine cannot reach`);
  }
  return { kind: "replay", machineId: holder.machineId };
}
