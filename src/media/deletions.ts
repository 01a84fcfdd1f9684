/**
 * Carrying out deletion work on this machine's volume. Each recorded deletion (src/db/deletions-repository.ts)
 * is done here once and receipted for this volume; the same row is done by every other volume on its own
 * machine, at boot and on every upkeep tick, so bytes of a deleted file or project leave every volume within a
 * tick of its machine running.
 *
 * A deletion is recorded before its subject's rows are deleted. Work that finds the subject still alive (the
 * project still exists, or the file's row places it on this very volume: re-uploaded since, or the delete has
 * not reached its row yet) removes nothing and stays pending; after ABANDON_AFTER_MS it is receipted as moot
 * (the request that recorded it failed before deleting the rows, or the path was legitimately written again).
 * @module
 */
import type { Logger } from "../../lib/log.ts";
import type { Deletion } from "../db/deletions-repository.ts";
import type { Repository } from "../db/repository.ts";
import type { MediaStore } from "./store.ts";

export const ABANDON_AFTER_MS = 10 * 60_000;
/** Deletion history is kept at least this long, and until every registered volume has done it. */
export const KEEP_DONE_DELETIONS_MS = 7 * 24 * 3600_000;
const BATCH = 200;

export interface DrainDeps {
  repo: Pick<Repository, "deletions" | "files">;
  media: MediaStore;
  volumeId: string;
  clock: () => number;
  logger: Logger;
}

export interface DrainResult {
  removed: number;
  moot: number;
  waiting: number;
}

export async function drainDeletions(deps: DrainDeps): Promise<DrainResult> {
  const result: DrainResult = { removed: 0, moot: 0, waiting: 0 };
  let after: string | undefined;
  for (;;) {
    const batch = await deps.repo.deletions.pending(deps.volumeId, BATCH, after);
    for (const deletion of batch) {
      const outcome = await carryOut(deps, deletion);
      result[outcome] += 1;
    }
    if (batch.length < BATCH) break;
    after = batch.at(-1)?.id;
  }
  if (result.removed + result.moot > 0)
    deps.logger.info("deletion work done on this volume", { volume_id: deps.volumeId, ...result });
  return result;
}

async function carryOut(deps: DrainDeps, deletion: Deletion): Promise<keyof DrainResult> {
  const { repo, media, volumeId } = deps;
  const now = deps.clock();
  const stillAlive = (alive: boolean): keyof DrainResult | undefined => {
    if (!alive) return undefined;
    return now - deletion.createdAt.getTime() < ABANDON_AFTER_MS ? "waiting" : "moot";
  };
  const finish = async (outcome: keyof DrainResult) => {
    if (outcome !== "waiting") await repo.deletions.receipt(deletion.id, volumeId, new Date(now));
    return outcome;
  };

  if (deletion.path === null) {
    const alive = stillAlive(await repo.deletions.projectExists(deletion.projectId));
    if (alive) return finish(alive);
    await media.removeProject(deletion.projectId);
    return finish("removed");
  }
  const path = deletion.path;
  // The same lock as uploads of this path on this machine: a row check and a removal cannot straddle a commit.
  return media.exclusive(`${deletion.projectId}/${path}`, async () => {
    const row = await repo.files.get(deletion.projectId, path);
    const alive = stillAlive(row !== undefined && row.volumeId === volumeId);
    if (alive) return finish(alive);
    await media.remove(deletion.projectId, path);
    return finish("removed");
  });
}

/** Upkeep: forgets deletions every volume has carried out (receipts go with them, by cascade). */
export function pruneDeletions(repo: Pick<Repository, "deletions">, clock: () => number): Promise<number> {
  return repo.deletions.prune(new Date(clock() - KEEP_DONE_DELETIONS_MS));
}
