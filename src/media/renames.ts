/**
 * Moving bytes to the NFC names migration 0003 gave their rows (src/db/nfc-paths.ts). Only the volume holding
 * a file renames it, at boot before the port opens and on every upkeep tick after (a volume whose machine was
 * stopped catches up when it runs), under the path's lock so an upload to the new name cannot interleave.
 *
 * When both names hold bytes (an upload to the new name since, or a leftover at it), the content hash in the
 * row decides which are the file's; the other copy goes. When neither matches, nothing is touched and the
 * rename stays pending, logged, for someone to look at: bytes are never dropped on a guess.
 *
 * Runs before the deletion drain in each upkeep tick (src/server.ts): deletion work recorded before 0003 names
 * the old path, and finds no row there once the row is renamed, so the bytes must have moved first. A file
 * deleted while its holder was stopped takes its rename with it (foreign key), leaving the old-named bytes on
 * that volume unreferenced: a space leak on one volume, never a wrong answer.
 * @module
 */
import type { Logger } from "../../lib/log.ts";
import type { FileRename } from "../db/renames-repository.ts";
import type { Repository } from "../db/repository.ts";
import type { MediaStore } from "./store.ts";

export interface RenameDeps {
  repo: Pick<Repository, "renames">;
  media: MediaStore;
  volumeId: string;
  logger: Logger;
}

export interface RenameResult {
  moved: number;
  /** Renames left pending: the bytes are in the way of something, or neither copy is the file's. */
  stuck: number;
}

export async function applyRenames({ repo, media, volumeId, logger }: RenameDeps): Promise<RenameResult> {
  const result: RenameResult = { moved: 0, stuck: 0 };
  for (const rename of await repo.renames.pendingOn(volumeId)) {
    const outcome = await media.exclusive(`${rename.projectId}/${rename.toPath}`, () => settle(media, rename));
    if (outcome === "stuck") {
      result.stuck++;
      logger.warn("a file's bytes could not take its NFC name; left as they are", {
        project_id: rename.projectId,
        file_id: rename.id,
      });
      continue;
    }
    await repo.renames.done(rename.id);
    if (outcome === "moved") result.moved++;
  }
  return result;
}

async function settle(media: MediaStore, r: FileRename): Promise<"moved" | "settled" | "stuck"> {
  const atOld = media.sizeNow(r.projectId, r.fromPath) !== undefined;
  const atNew = media.sizeNow(r.projectId, r.toPath) !== undefined;
  // Nothing under the old name: moved before a crash, or the content is missing either way (GET says so).
  if (!atOld) return "settled";
  if (!atNew) return (await media.move(r.projectId, r.fromPath, r.toPath)) === "moved" ? "moved" : "stuck";
  if ((await hashOf(media.location(r.projectId, r.toPath))) === r.sha256) {
    await media.remove(r.projectId, r.fromPath);
    return "settled";
  }
  if ((await hashOf(media.location(r.projectId, r.fromPath))) !== r.sha256) return "stuck";
  await media.remove(r.projectId, r.toPath);
  return (await media.move(r.projectId, r.fromPath, r.toPath)) === "moved" ? "moved" : "stuck";
}

async function hashOf(location: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(location).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}
