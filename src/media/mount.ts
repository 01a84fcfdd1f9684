/**
 * Is MEDIA_DIR a mount point? In production the media must live on the machine's Fly volume: a directory on the
 * root filesystem is thrown away with the next deploy, and uploads to it vanish (https://fly.io/docs/volumes/overview/).
 * Answered from /proc/self/mountinfo (proc_pid_mountinfo(5)), so it also holds inside a container where the
 * device-number trick (stat the dir and its parent) is fooled by overlay filesystems.
 * @module
 */
import { realpath } from "node:fs/promises";

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
}

/**
 * Parses mountinfo text. Each line: `id parent major:minor root mount-point options [optional...] - fstype
 * source super-options`; spaces, tabs, newlines and backslashes in paths are written as octal escapes (\040...).
 */
export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(" ");
    const separator = fields.indexOf("-", 6);
    if (fields.length < 10 || separator === -1 || fields[4] === undefined) continue;
    entries.push({
      mountPoint: unescapeOctal(fields[4]),
      fsType: fields[separator + 1] ?? "",
      source: unescapeOctal(fields[separator + 2] ?? ""),
    });
  }
  return entries;
}

function unescapeOctal(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** The mount whose mount point is exactly `dir` (already a real path), the last one if stacked; else undefined. */
export function mountAt(dir: string, entries: MountEntry[]): MountEntry | undefined {
  const normal = dir.length > 1 ? dir.replace(/\/+$/, "") : dir;
  return entries.findLast((entry) => entry.mountPoint === normal);
}

export type MountCheck = { ok: true; mount?: MountEntry } | { ok: false; reason: string };

/**
 * Whether `mediaDir` satisfies the requirement: always when not `required`; otherwise it must exist and be a
 * mount point. Never creates the directory: making /app/media on the root filesystem is the mistake this prevents.
 */
export async function checkMediaMount(
  mediaDir: string,
  required: boolean,
  mountinfoPath = "/proc/self/mountinfo",
): Promise<MountCheck> {
  if (!required) return { ok: true };
  let dir: string;
  try {
    dir = await realpath(mediaDir);
  } catch {
    return {
      ok: false,
      reason: `MEDIA_DIR ${mediaDir} does not exist: the volume is not mounted (fly.toml [mounts] destination must be ${mediaDir})`,
    };
  }
  let text: string;
  try {
    text = await Bun.file(mountinfoPath).text();
  } catch (error) {
    return { ok: false, reason: `cannot read ${mountinfoPath} to check MEDIA_DIR: ${(error as Error).message}` };
  }
  const mount = mountAt(dir, parseMountInfo(text));
  if (mount === undefined)
    return {
      ok: false,
      reason: `MEDIA_DIR ${mediaDir} is not a mount point: files there would be on the root filesystem and lost on the next deploy; mount the volume there (fly.toml [mounts]) or set MEDIA_REQUIRE_MOUNT=false`,
    };
  return { ok: true, mount };
}
