/**
 * The volume's own identity: a small file at `<MEDIA_DIR>/.flightdeck-volume` written the first time a machine
 * mounts the volume, and read on every later boot. Fly volumes outlive machines (a scale down and up can bring
 * a volume back on a machine with a new id, https://fly.io/docs/volumes/overview/), so files are recorded
 * against this identity, never against a machine id.
 *
 * Created atomically: the content is written and synced under a temporary name, then hard-linked to the marker
 * name, which fails with EEXIST if another process got there first (the same guarantee as O_EXCL, without a
 * window in which the marker exists but is empty). A marker that exists but cannot be read is an error, never a
 * reason to mint a new identity: that would orphan every file already on the volume.
 * @module
 */
import { link, mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fsyncPath } from "./durable.ts";

export const MARKER_NAME = ".flightdeck-volume";

export interface VolumeMarker {
  id: string;
  createdAt: string;
  createdBy: string;
}

export class VolumeMarkerError extends Error {
  readonly code = "volume_marker_unreadable";
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(
      `the volume marker ${path} exists but ${reason}; refusing to guess a new identity (files on this volume would be orphaned). Restore the file, or remove it only if the volume holds no files`,
    );
    this.name = "VolumeMarkerError";
  }
}

/** Reads the marker, creating it first if this volume has none. `created` says which happened. */
export async function ensureVolumeMarker(
  mediaDir: string,
  machineId: string,
): Promise<VolumeMarker & { created: boolean }> {
  await mkdir(mediaDir, { recursive: true });
  const path = join(mediaDir, MARKER_NAME);
  const existing = await readMarker(path);
  if (existing) return { ...existing, created: false };

  const fresh: VolumeMarker = {
    id: `vol-${Bun.randomUUIDv7()}`,
    createdAt: new Date().toISOString(),
    createdBy: machineId,
  };
  const temp = join(mediaDir, `${MARKER_NAME}.${crypto.randomUUID()}.tmp`);
  const handle = await open(temp, "wx");
  try {
    await handle.writeFile(`${JSON.stringify(fresh)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, path);
  } catch (error) {
    if ((error as { code?: string }).code !== "EEXIST") throw error;
    // Another process on this volume won the race: its marker is the identity.
    const winner = await readMarker(path);
    if (!winner) throw new VolumeMarkerError(path, "vanished while it was being created");
    return { ...winner, created: false };
  } finally {
    await rm(temp, { force: true });
  }
  await fsyncPath(mediaDir);
  return { ...fresh, created: true };
}

async function readMarker(path: string): Promise<VolumeMarker | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw new VolumeMarkerError(path, `cannot be read (${(error as { code?: string }).code ?? String(error)})`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<VolumeMarker>;
    if (typeof parsed.id === "string" && /^vol-[0-9a-f-]{36}$/.test(parsed.id)) {
      return { id: parsed.id, createdAt: String(parsed.createdAt ?? ""), createdBy: String(parsed.createdBy ?? "") };
    }
  } catch {
    // fall through to the error below
  }
  throw new VolumeMarkerError(path, "does not hold a volume identity");
}
