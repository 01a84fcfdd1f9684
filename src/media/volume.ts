/**
 * This machine's volume: its identity (the marker on the volume), its registration in the database (volume id
 * -> machine id, region, seen_at), the heartbeat that keeps seen_at fresh, and where another volume's files
 * can be reached from here.
 *
 * Registration happens at boot and again on every heartbeat that finds the row missing, so a volume that comes
 * back on a new machine id is re-pointed as soon as that machine runs. A graceful shutdown marks the volume
 * stopped; a crash is noticed when seen_at is older than three heartbeats.
 * @module
 */
import { readdir } from "node:fs/promises";
import type { Logger } from "../../lib/log.ts";
import type { FileRecord, Repository } from "../db/repository.ts";
import type { VolumeRecord } from "../db/volumes-repository.ts";
import { HttpError } from "../errors.ts";
import { dependencyFault } from "../faults/classify.ts";
import { checkMediaMount } from "./mount.ts";
import { type Placement, placeFile } from "./placement.ts";
import { replayState, thisMachine } from "./replay.ts";
import { ensureVolumeMarker, MARKER_NAME } from "./volume-marker.ts";

export interface VolumeIdentity {
  id: string;
  machineId: string;
  region: string;
}

export interface VolumeOptions {
  mediaDir: string;
  /** FLY_MACHINE_ID, or undefined outside Fly. */
  flyMachineId: string | undefined;
  region: string;
  repo: Pick<Repository, "volumes" | "deletions">;
  heartbeatMs: number;
  clock: () => number;
  logger: Logger;
  /** MEDIA_DIR must be a mount point before anything is written there (see mount.ts). */
  requireMount?: boolean;
}

/** Seconds a client should wait before asking again for a file whose volume is not reachable now. */
export const UNAVAILABLE_RETRY_AFTER_S = 30;

export class Volume {
  private registered: Promise<VolumeIdentity> | undefined;
  private known: VolumeIdentity | undefined;
  readonly staleAfterMs: number;

  constructor(private readonly opts: VolumeOptions) {
    this.staleAfterMs = opts.heartbeatMs * 3;
  }

  get machineId(): string {
    return thisMachine(this.opts.flyMachineId);
  }

  /** The identity once registered (for /health); undefined before. */
  current(): VolumeIdentity | undefined {
    return this.known;
  }

  /**
   * Reads or creates the marker and registers the volume, once; a failure (database down, schema behind) is
   * not remembered, so the next caller tries again.
   */
  identity(): Promise<VolumeIdentity> {
    this.registered ??= this.register().catch((error) => {
      this.registered = undefined;
      throw error;
    });
    return this.registered;
  }

  /** identity() for request handlers: a 503 the client can retry instead of a 500. */
  async identityOr503(): Promise<VolumeIdentity> {
    try {
      return await this.identity();
    } catch (error) {
      if (error instanceof HttpError && error.code === "volume_missing") throw error;
      // The database being down is said as such (503 database_unavailable, logged once per outage).
      if (dependencyFault(error)) throw error;
      this.opts.logger.error("this machine's volume is not registered", { error });
      throw new HttpError(
        503,
        "volume_not_registered",
        "this machine has not registered its volume yet; retry shortly",
        undefined,
        { "retry-after": String(UNAVAILABLE_RETRY_AFTER_S) },
      );
    }
  }

  /** Why MEDIA_DIR cannot take files (not a mount point where one is required), or undefined when it can. */
  async mountProblem(): Promise<string | undefined> {
    const check = await checkMediaMount(this.opts.mediaDir, this.opts.requireMount ?? false);
    return check.ok ? undefined : check.reason;
  }

  private async register(): Promise<VolumeIdentity> {
    // Checked before the marker, which would create MEDIA_DIR: never on the root filesystem.
    const problem = await this.mountProblem();
    if (problem !== undefined) {
      throw new HttpError(503, "volume_missing", `this machine's volume is missing: ${problem}`, undefined, {
        "retry-after": String(UNAVAILABLE_RETRY_AFTER_S),
      });
    }
    const marker = await ensureVolumeMarker(this.opts.mediaDir, this.machineId);
    const identity = { id: marker.id, machineId: this.machineId, region: this.opts.region };
    const before = await this.opts.repo.volumes.get(identity.id);
    await this.opts.repo.volumes.register(identity, new Date(this.opts.clock()));
    const claimed = await this.opts.repo.volumes.claimUnplacedFiles(identity.id, identity.machineId);
    // A volume mounted for the first time and empty has no bytes of anything deleted before: its share of the
    // deletion history is done, and its first drain need not walk it. (A volume from before volumes were
    // recorded gets its marker now too, but holds files, so it drains its history like any other.)
    const settled =
      marker.created && (await holdsNoFiles(this.opts.mediaDir))
        ? await this.opts.repo.deletions.receiptAll(identity.id, new Date(this.opts.clock()))
        : 0;
    this.opts.logger.info("volume registered", {
      volume_id: identity.id,
      machine: identity.machineId,
      region: identity.region,
      marker_created: marker.created,
      previous_machine: before && before.machineId !== identity.machineId ? before.machineId : undefined,
      claimed_files: claimed,
      deletions_settled_as_empty: settled,
    });
    this.known = identity;
    return identity;
  }

  /** Refreshes seen_at; re-registers if the row went missing. */
  async heartbeat(): Promise<void> {
    const identity = await this.identity();
    const stillOurs = await this.opts.repo.volumes.heartbeat(
      identity.id,
      identity.machineId,
      new Date(this.opts.clock()),
    );
    if (stillOurs) return;
    const row = await this.opts.repo.volumes.get(identity.id);
    if (!row) {
      await this.opts.repo.volumes.register(identity, new Date(this.opts.clock()));
      return;
    }
    // Fly attaches a volume to one machine at a time, so another live holder means a copy of this volume (a
    // fork or a snapshot restore). Fighting over the row would send replays back and forth; say so and stop.
    this.opts.logger.error(
      "another machine has registered this volume; this machine holds a copy of it and no longer refreshes the record",
      {
        volume_id: identity.id,
        holder: row.machineId,
      },
    );
  }

  /** A graceful shutdown: replays stop at once instead of after the heartbeat goes stale. */
  async markStopped(): Promise<void> {
    if (!this.known) return;
    await this.opts.repo.volumes.markStopped(this.known.id, this.known.machineId, new Date(this.opts.clock()));
  }

  /** Where `file` can be served from, as seen from this machine. */
  async place(file: Pick<FileRecord, "volumeId" | "machineId">, request: Request): Promise<Placement> {
    const identity = await this.identityOr503();
    let holder: VolumeRecord | undefined;
    if (file.volumeId !== null && file.volumeId !== identity.id)
      holder = await this.opts.repo.volumes.get(file.volumeId);
    return placeFile({
      file,
      volumeId: identity.id,
      machineId: this.opts.flyMachineId,
      holder,
      ...replayState(request),
      now: this.opts.clock(),
      staleAfterMs: this.staleAfterMs,
    });
  }
}

async function holdsNoFiles(mediaDir: string): Promise<boolean> {
  const entries = await readdir(mediaDir);
  return entries.every((name) => name === MARKER_NAME || name === ".tmp");
}

/** The 503 for a file whose volume no running machine holds: never a 404 (the file exists), never a replay to a dead machine. */
export function volumeUnavailable(placement: Extract<Placement, { kind: "unavailable" }>): HttpError {
  return new HttpError(
    503,
    placement.code,
    placement.message,
    { volume_id: placement.volumeId, machine_id: placement.machineId },
    { "retry-after": String(UNAVAILABLE_RETRY_AFTER_S) },
  );
}
