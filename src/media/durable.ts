/**
 * fsync helpers. A rename is atomic but not durable until the directory holding the new entry is synced, and a
 * new directory is not durable until its parent is (POSIX rename(2) and fsync(2); ext4 on Fly volumes follows
 * them). Without these an acknowledged upload can vanish, or come back empty, after a crash.
 * @module
 */
import { open } from "node:fs/promises";
import { dirname, resolve, sep } from "node:path";

export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Syncs `dir` and every directory between it and `root`: after `mkdir -p`, each new directory's entry lives in
 * its parent. Only called when mkdir created something, so the usual write syncs one directory.
 */
export async function fsyncDirsUpTo(dir: string, root: string): Promise<void> {
  const top = resolve(root);
  let current = resolve(dir);
  for (;;) {
    await fsyncPath(current);
    if (current === top || !current.startsWith(top + sep)) return;
    current = dirname(current);
  }
}

/**
 * Group commit for directory syncs: one fsync of a directory makes durable every entry changed in it before that
 * fsync began, so concurrent uploads into one directory share syncs instead of queueing one each behind the
 * disk. A caller arriving while a sync runs cannot count on it (its rename may have come after it began): it
 * waits for the next one, which every caller arriving meanwhile shares.
 */
export function createDirectorySync(sync: (dir: string) => Promise<void> = fsyncPath): (dir: string) => Promise<void> {
  /** Per directory: the sync under way, and the one every later caller waits for. */
  interface DirectoryState {
    running: Promise<void>;
    next?: Promise<void>;
  }
  const states = new Map<string, DirectoryState>();
  const start = (dir: string): Promise<void> => {
    const running = sync(dir);
    const state: DirectoryState = { running };
    states.set(dir, state);
    const settle = () => {
      if (states.get(dir) === state && state.next === undefined) states.delete(dir);
    };
    running.then(settle, settle);
    return running;
  };
  return (dir) => {
    const state = states.get(dir);
    if (state === undefined) return start(dir);
    state.next ??= state.running.then(
      () => start(dir),
      () => start(dir),
    );
    return state.next;
  };
}

/** The process's shared directory syncs (see createDirectorySync). */
export const syncDirectory = createDirectorySync();
