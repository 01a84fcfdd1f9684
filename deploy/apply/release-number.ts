/**
 * The numbers a deploy stamps on its machines: the release it writes and APP_VERSION, both read from what the
 * app already has or from the image, never from the clock (a per-run value would update every machine every run).
 * @module
 */

import type { ObservedApp } from "../fleet/observe.ts";
import { releaseHistory } from "../fleet/releases.ts";
import { METADATA } from "../machine/machine-config.ts";

/**
 * The release number a mutating run writes: one past the newest release the app has seen, on its machines
 * (fly_release_version) or in its history (a failed release leaves no machine on its number).
 */
export function nextRelease(observed: ObservedApp): number {
  let max = releaseHistory(observed.machines)[0]?.version ?? 0;
  for (const m of observed.machines) {
    const n = Number(m.config?.metadata?.[METADATA.releaseVersion]);
    if (Number.isInteger(n) && n > max) max = n;
  }
  return max + 1;
}

/** APP_VERSION from the image alone (machine-config.ts: a per-deploy value would update every machine every time). */
export function appVersionOf(image: string): string {
  const at = image.indexOf("@");
  if (at !== -1) return image.slice(at + 1, at + 1 + "sha256:".length + 12);
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  return colon > slash ? image.slice(colon + 1) : "latest";
}
