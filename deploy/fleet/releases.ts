// Release history, carried by the machines themselves: which image each release deployed, when, and whether
// it was good (its rollout completed and the fleet was re-read running it) or failed. `rollback` goes to the
// newest earlier good release, never to one whose rollout failed (issue 10), and `status` lists them.
//
// Why on the machines: Fly's releases live in its GraphQL/uiex API, which the Machines API does not offer, and
// the machine versions API (GET …/versions) may return less than the spec promises (fly-machines-api.md
// §12.17: a missing `user_config` means "unknown"), and says nothing about whether a version worked. Every
// managed machine carries the whole (short) history in metadata `flightdeck_releases`, so any one survivor of
// a scale down still knows it; reading merges all of them. The key is written into the config of every
// machine a deploy creates or updates (outside the config digest: it changes each release without changing
// what the machine is) and, once the outcome is known, onto every machine with a metadata write (no restart).
//
// Who and why (issue 21, Kamal's audit log, flyctl `releases`): each record may say who ran it (`by`), the CI run
// (`url`), a `message` (`deploy --message`) and, for a rollback, the version whose image it went back to
// (`rollbackTo`). All optional, so records written before they existed still parse and print. A rollback is its
// own release (flyctl too: a rollback is a new version of an older image); when it succeeds, the release it
// replaced is marked `rolled_back`, which also keeps a second `rollback` from going forward to it again.

import type { FlyClient } from "../../lib/fly/client.ts";
import type { Machine } from "../../lib/fly/types.ts";
import { describeError } from "../deploy-error.ts";
import type { FleetLock } from "./lock.ts";
import type { Output } from "../output.ts";
import { isLive } from "./members.ts";

export const RELEASES_KEY = "flightdeck_releases";
/** Releases kept: enough to roll back several steps, small enough for a metadata value. */
export const KEPT_RELEASES = 10;

export type ReleaseOutcome = "good" | "failed" | "rolled_back";
const OUTCOMES: readonly string[] = ["good", "failed", "rolled_back"];

/** Who ran a release and why; every field optional (older records have none). */
export interface ReleaseNote {
  /** The git identity on a laptop ("Name <email>"), GITHUB_ACTOR under GitHub Actions (ops/identity.ts). */
  by?: string;
  /** The CI run that made it (GitHub Actions run URL). */
  url?: string;
  /** `deploy --message TEXT`. */
  message?: string;
}

export interface ReleaseRecord extends ReleaseNote {
  version: number;
  image: string;
  /** ISO time the outcome was recorded. */
  at: string;
  outcome: ReleaseOutcome;
  /** This release is a rollback to the image of that version. */
  rollbackTo?: number;
}

/** Bounds on the free-text fields: the whole history must stay a small metadata value. */
const NOTE_LIMITS = { by: 120, url: 300, message: 200 } as const;

function note(r: Partial<ReleaseRecord>): ReleaseNote & { rollbackTo?: number } {
  const out: ReleaseNote & { rollbackTo?: number } = {};
  for (const key of ["by", "url", "message"] as const) {
    const v = r[key];
    if (typeof v === "string" && v !== "") out[key] = v.slice(0, NOTE_LIMITS[key]);
  }
  if (typeof r.rollbackTo === "number" && Number.isInteger(r.rollbackTo)) out.rollbackTo = r.rollbackTo;
  return out;
}

/** Parses one machine's history; anything malformed is skipped, never trusted. */
export function parseReleases(value: string | undefined): ReleaseRecord[] {
  if (!value) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  const out: ReleaseRecord[] = [];
  for (const item of raw) {
    const r = item as Partial<ReleaseRecord>;
    if (typeof r?.version !== "number" || !Number.isInteger(r.version) || typeof r.image !== "string" || r.image === "")
      continue;
    if (typeof r.outcome !== "string" || !OUTCOMES.includes(r.outcome)) continue;
    const at = typeof r.at === "string" ? r.at : "";
    out.push({ version: r.version, image: r.image, at, outcome: r.outcome, ...note(r) });
  }
  return out;
}

export function encodeReleases(history: readonly ReleaseRecord[]): string {
  return JSON.stringify(
    history
      .slice(0, KEPT_RELEASES)
      .map((r) => ({ version: r.version, image: r.image, at: r.at, outcome: r.outcome, ...note(r) })),
  );
}

/**
 * The app's history: the union of what its machines carry, newest version first. Two machines disagreeing on
 * a version (one missed the last write) resolve to the later record.
 */
export function releaseHistory(machines: readonly Pick<Machine, "config" | "state">[]): ReleaseRecord[] {
  const byVersion = new Map<number, ReleaseRecord>();
  for (const m of machines) {
    if (!isLive(m)) continue;
    for (const r of parseReleases(m.config?.metadata?.[RELEASES_KEY])) {
      const seen = byVersion.get(r.version);
      if (!seen || r.at > seen.at) byVersion.set(r.version, r);
    }
  }
  return [...byVersion.values()].sort((a, b) => b.version - a.version);
}

/** The history with `record` added (replacing an earlier record of the same version), newest first, trimmed. */
export function withRelease(history: readonly ReleaseRecord[], record: ReleaseRecord): ReleaseRecord[] {
  return [record, ...history.filter((r) => r.version !== record.version)]
    .sort((a, b) => b.version - a.version)
    .slice(0, KEPT_RELEASES);
}

/**
 * The history after a run: `record` added and, when a rollback succeeded, the release it replaced (the newest good
 * one whose image the whole fleet ran before, `fleetImages`) marked rolled_back and `rollbackTo` set to the newest
 * earlier good release of the image it went back to.
 */
export function historyAfter(
  history: readonly ReleaseRecord[],
  record: ReleaseRecord,
  rollbackFrom?: readonly string[],
): ReleaseRecord[] {
  if (rollbackFrom === undefined) return withRelease(history, record);
  const target = history.find((r) => r.outcome === "good" && r.image === record.image && r.version < record.version);
  const entry = target ? { ...record, rollbackTo: target.version } : record;
  const replaced = record.outcome === "good" ? currentRelease(history, rollbackFrom) : undefined;
  const marked = history.map((r) =>
    r.version === replaced?.version && r.image !== record.image ? { ...r, outcome: "rolled_back" as const } : r,
  );
  return withRelease(marked, entry);
}

/** The newest good release whose image every machine of the fleet runs; undefined for a split or unknown fleet. */
function currentRelease(history: readonly ReleaseRecord[], fleetImages: readonly string[]): ReleaseRecord | undefined {
  const running = new Set(fleetImages);
  const uniform = running.size === 1 ? fleetImages[0] : undefined;
  return uniform === undefined ? undefined : history.find((r) => r.outcome === "good" && r.image === uniform);
}

export type RollbackChoice = { ok: true; image: string; version: number } | { ok: false; reason: string };

/**
 * Where `rollback` without `--to` goes: the newest good release older than the release the fleet runs now,
 * with a different image. "Runs now" = the newest good release whose image the fleet runs; when none matches
 * (a fleet deployed before history was kept, or split by an interrupted rollout) every good release with an
 * image the fleet does not run entirely is a candidate. Failed and rolled-back releases are never candidates.
 */
export function rollbackChoice(history: readonly ReleaseRecord[], fleetImages: readonly string[]): RollbackChoice {
  if (history.length === 0) return { ok: false, reason: "no release history is recorded on its machines" };
  const uniform = new Set(fleetImages).size === 1 ? fleetImages[0] : undefined;
  const current = currentRelease(history, fleetImages);
  const candidate = history.find(
    (r) => r.outcome === "good" && r.image !== uniform && (current === undefined || r.version < current.version),
  );
  if (!candidate) {
    const failed = history.filter((r) => r.outcome === "failed").length;
    return {
      ok: false,
      reason: `no good release before the current one (${history.length} recorded${failed ? `, ${failed} failed` : ""})`,
    };
  }
  return { ok: true, image: candidate.image, version: candidate.version };
}

/**
 * Writes the history onto every machine the run holds (metadata merge: other keys stay, no restart). Best
 * effort: a machine that misses it still has the earlier history, and any other machine has the new one.
 */
export async function writeReleases(
  client: FlyClient,
  app: string,
  lock: FleetLock,
  history: readonly ReleaseRecord[],
  output: Output,
): Promise<void> {
  const value = encodeReleases(history);
  await Promise.all(
    lock.members().map(async (id) => {
      try {
        await client.updateMetadata(app, id, { [RELEASES_KEY]: value }, { leaseNonce: await lock.nonce(id) });
      } catch (error) {
        output.warn(`could not record the release history on machine ${id}: ${describeError(error)}`);
      }
    }),
  );
}
