/**
 * How full the media volume is, from statfs(2) (node:fs statfs): the bytes an unprivileged writer can still
 * use (f_bavail, not f_bfree: root's reserved blocks are not ours) and the volume's size. Under LOW_SPACE_RATIO
 * free, /health says `low_space` so someone can extend the volume (`fly volumes extend`) before uploads fail.
 * @module
 */
import { statfs } from "node:fs/promises";

export const LOW_SPACE_RATIO = 0.1;

export interface VolumeSpace {
  freeBytes: number;
  totalBytes: number;
  lowSpace: boolean;
}

export async function volumeSpace(dir: string): Promise<VolumeSpace | undefined> {
  try {
    const stats = await statfs(dir);
    const freeBytes = stats.bavail * stats.bsize;
    const totalBytes = stats.blocks * stats.bsize;
    return { freeBytes, totalBytes, lowSpace: totalBytes > 0 && freeBytes / totalBytes < LOW_SPACE_RATIO };
  } catch {
    // The directory is missing or unreadable: /health reports it as not writable already.
    return undefined;
  }
}
