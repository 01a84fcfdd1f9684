/**
 * Which machine holds each volume now. A machine registers its volume at boot (and whenever it changes, e.g. a
 * volume that came back on a new machine after a scale down and up), refreshes `seen_at` while it runs and
 * marks the volume stopped on a graceful shutdown. Readers decide "running" from that (src/media/placement.ts).
 * @module
 */
import { and, eq, isNull } from "drizzle-orm";
import type * as pgSchema from "./schema/pg.ts";

export interface VolumeRecord {
  id: string;
  machineId: string;
  region: string;
  seenAt: Date;
  stoppedAt: Date | null;
  createdAt: Date;
}

export interface VolumesRepository {
  /** Records that `machineId` holds the volume now (insert or take over), running as of `at`. */
  register(input: { id: string; machineId: string; region: string }, at: Date): Promise<VolumeRecord>;
  /**
   * Refreshes seen_at, only while this machine is still the recorded holder; false when another machine has
   * registered the volume since (a volume is attached to one machine at a time, so that means a copy of it).
   */
  heartbeat(id: string, machineId: string, at: Date): Promise<boolean>;
  markStopped(id: string, machineId: string, at: Date): Promise<void>;
  get(id: string): Promise<VolumeRecord | undefined>;
  all(): Promise<VolumeRecord[]>;
  /** Rows written before volumes were recorded name only their machine: they belong to the volume it holds. */
  claimUnplacedFiles(volumeId: string, machineId: string): Promise<number>;
}

// biome-ignore lint/suspicious/noExplicitAny: the drizzle handle of either dialect, see repository.ts
export function createVolumesRepository(db: any, t: typeof pgSchema): VolumesRepository {
  return {
    register: async ({ id, machineId, region }, at) => {
      const [row] = await db
        .insert(t.volumes)
        .values({ id, machineId, region, seenAt: at, stoppedAt: null, createdAt: at })
        .onConflictDoUpdate({ target: t.volumes.id, set: { machineId, region, seenAt: at, stoppedAt: null } })
        .returning();
      return row as VolumeRecord;
    },
    heartbeat: async (id, machineId, at) =>
      (
        await db
          .update(t.volumes)
          .set({ seenAt: at, stoppedAt: null })
          .where(and(eq(t.volumes.id, id), eq(t.volumes.machineId, machineId)))
          .returning({ id: t.volumes.id })
      ).length > 0,
    markStopped: async (id, machineId, at) => {
      await db
        .update(t.volumes)
        .set({ stoppedAt: at })
        .where(and(eq(t.volumes.id, id), eq(t.volumes.machineId, machineId)));
    },
    get: async (id) => (await db.select().from(t.volumes).where(eq(t.volumes.id, id)).limit(1))[0],
    all: async () => db.select().from(t.volumes),
    claimUnplacedFiles: async (volumeId, machineId) =>
      (
        await db
          .update(t.files)
          .set({ volumeId })
          .where(and(isNull(t.files.volumeId), eq(t.files.machineId, machineId)))
          .returning({ id: t.files.id })
      ).length,
  };
}
