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
